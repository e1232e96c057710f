"""Content hashes of datasets, the same digest as the extension's src/core/provenance/datasetHash.ts:

- a file: its sha256;
- a directory: every regular file below it, sorted by relative path ('/' separators, code point
  order), then the sha256 of the lines "<sha256>  <relpath>\\n" (UTF-8); an empty directory gets
  the sha256 of empty input;
- symlinks count only when they resolve to a regular file inside the dataset root (hashed under the
  link's path); links that leave the root, dangling links, links to directories, sockets, fifos and
  devices are skipped. Names that are not valid UTF-8 appear with U+FFFD, as Node reads them.

The artifact digest (src/core/artifacts/collect.ts, used for log_model / log_artifact) is the same
rule, except that entries whose name holds a backslash or a control character are skipped (folders
too, with all below them): hash_dataset(path, skip_unsafe_names=True).

Hashes the extension cached in its store (runs.db, table file_hash_cache, keyed by path and
dev/inode/size/mtime) are reused when the file is unchanged; the helper only reads that cache.
test/unit/helperDigest.test.ts checks that both sides give the same digest and per-file hashes.
"""

import hashlib
import os
import stat

CHUNK = 1 << 20


def _text(name):
    """A file name as Node's readdir gives it (invalid UTF-8 bytes become U+FFFD)."""
    try:
        name.encode("utf-8")
        return name
    except UnicodeEncodeError:
        return name.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def _unsafe(name):
    """A backslash or a control character: the artifact collector cannot restore such a name."""
    return any(c == "\\" or c < " " or c == "\x7f" for c in name)


def _list(root, skip_unsafe_names=False):
    """[(relpath, abspath)] of the files below the directory `root`, sorted by relpath."""
    real = os.path.realpath(root)
    inside = real if real.endswith(os.sep) else real + os.sep
    files = []
    dirs = [("", root)]
    while dirs:
        rel, path = dirs.pop()
        with os.scandir(path) as entries:
            for e in entries:
                name = _text(e.name)
                r = rel + "/" + name if rel else name
                if skip_unsafe_names and _unsafe(name):
                    continue
                if e.is_dir(follow_symlinks=False):
                    dirs.append((r, e.path))
                elif e.is_file(follow_symlinks=False):
                    files.append((r, e.path))
                elif e.is_symlink():
                    target = _link_target(e.path, inside)
                    if target:
                        files.append((r, target))
    files.sort(key=lambda f: f[0])
    return files


def _link_target(link, inside):
    try:
        target = os.path.realpath(link)
        if target.startswith(inside) and stat.S_ISREG(os.stat(target).st_mode):
            return target
    except (OSError, ValueError):
        pass
    return None


def _sha256(path, size, buf):
    """sha256 and byte count of the file's first `size` bytes (the stat size, as the extension reads)."""
    h = hashlib.sha256()
    view = memoryview(buf)
    done = 0
    with open(path, "rb", buffering=0) as f:
        while done < size:
            n = f.readinto(view[: min(CHUNK, size - done)])
            if not n:
                break
            h.update(view[:n])
            done += n
    return h.hexdigest(), done


def hash_dataset(path, cache=None, skip_unsafe_names=False):
    """{'kind', 'digest', 'fileCount', 'bytes', 'files': [{'path', 'sha256', 'size'}]} of a file or
    folder; raises OSError when it cannot be read. `cache(abs, st)` may return a known sha256.
    `skip_unsafe_names`: the artifact rule (names with a backslash or control character skipped)."""
    root = os.path.abspath(path)
    st = os.stat(root)
    if stat.S_ISREG(st.st_mode):
        kind, files = "file", [(_text(os.path.basename(root)), root)]
    elif stat.S_ISDIR(st.st_mode):
        kind, files = "directory", _list(root, skip_unsafe_names)
    else:
        raise OSError("dataset is not a file or directory: %s" % root)
    buf = bytearray(CHUNK)
    out = []
    for rel, abs_path in files:
        fst = os.stat(abs_path)
        if not stat.S_ISREG(fst.st_mode):
            raise OSError("cannot read %s: no longer a regular file" % abs_path)
        sha = cache(abs_path, fst) if cache else None
        size = fst.st_size
        if not sha:
            sha, size = _sha256(abs_path, fst.st_size, buf)
        out.append({"path": rel, "sha256": sha, "size": size})
    if kind == "file":
        digest = out[0]["sha256"]
    else:
        h = hashlib.sha256()
        for f in out:
            h.update(("%s  %s\n" % (f["sha256"], f["path"])).encode("utf-8", "surrogatepass"))
        digest = h.hexdigest()
    return {
        "kind": kind,
        "digest": digest,
        "fileCount": len(out),
        "bytes": sum(f["size"] for f in out),
        "files": out,
    }


def store_cache(store):
    """A lookup in the extension's hash cache (read-only), or None when it cannot be opened."""
    db = os.path.join(store, "runs.db")
    if not os.path.isfile(db):
        return None
    try:
        import sqlite3

        con = sqlite3.connect("file:%s?mode=ro" % _uri_path(db), uri=True, timeout=0.2, check_same_thread=False)
        con.execute("SELECT 1 FROM file_hash_cache LIMIT 1")
    except Exception:
        return None

    def get(path, st):
        try:
            row = con.execute("SELECT dev, ino, size, mtime_ns, sha256 FROM file_hash_cache WHERE path = ?", (path,)).fetchone()
        except Exception:
            return None
        if row and row[0] == st.st_dev and row[1] == st.st_ino and row[2] == st.st_size and row[3] == str(st.st_mtime_ns):
            return row[4]
        return None

    get.close = con.close
    return get


def _uri_path(path):
    from urllib.parse import quote

    return quote(os.path.abspath(path))
