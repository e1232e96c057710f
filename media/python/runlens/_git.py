"""Commit, branch, dirty flag and patch of the repository holding a folder: the same git commands and
options as the extension's src/core/provenance/git.ts (captureGit, applyablePatch), so a run the
helper starts stores the same patch.diff as one the extension launches. Git missing, not a
repository or no commit yet: None, never an error.
"""

import os
import stat
import subprocess

from ._redact import is_secret_file

FILE_LIMIT = 256 * 1024  # untracked files larger than this are listed without content
TOTAL_LIMIT = 8 * 1024 * 1024
BINARY_SNIFF = 8192
DIFF = [
    "diff", "HEAD", "--binary", "--no-color", "--no-ext-diff", "--no-textconv", "--no-relative",
    "--src-prefix=a/", "--dst-prefix=b/",
]


class GitFailed(Exception):
    pass


def _start(cwd, args):
    env = dict(os.environ)
    env["LC_ALL"] = "C"
    return subprocess.Popen(
        ["git", "-c", "core.quotepath=off"] + args,
        cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )


def _wait(proc, ok=(0,)):
    try:
        out, _ = proc.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        raise GitFailed("git timed out")
    if proc.returncode not in ok:
        raise GitFailed("git exited with %s" % proc.returncode)
    return out.decode("utf-8", "replace")  # as Node's Buffer.toString('utf8')


def capture(cwd):
    """{'commit', 'branch', 'dirty', 'patch' (applyable, '' when clean), 'untracked'} or None."""
    try:
        # git.ts asks these two in two calls; one call gives the same answers (fails outside a work tree)
        inside, _, top = _wait(_start(cwd, ["rev-parse", "--is-inside-work-tree", "--show-toplevel"])).partition("\n")
        if inside.strip() != "true":
            return None
        top = top.strip()
        procs = [
            _start(top, ["rev-parse", "--verify", "-q", "HEAD^{commit}"]),
            _start(top, ["symbolic-ref", "-q", "--short", "HEAD"]),
            _start(top, DIFF),
            _start(top, ["ls-files", "--others", "--exclude-standard", "-z"]),
        ]
        try:
            commit = _wait(procs[0]).strip()
            branch = _wait(procs[1], (0, 1)).strip() or None  # 1: detached
            patch = _wait(procs[2])
            others = _wait(procs[3])
        finally:
            for p in procs:
                if p.poll() is None:
                    p.kill()
                    p.communicate()
    except (OSError, GitFailed):  # no git on PATH, not a repository, no commit yet
        return None
    paths = [p for p in others.split("\0") if p]
    untracked = _read_untracked(top, paths)
    return {
        "commit": commit,
        "branch": branch,
        "dirty": patch != "" or len(paths) > 0,
        "patch": applyable_patch(patch, untracked),
        "untracked": [{k: v for k, v in u.items() if k in ("path", "size", "skipped")} for u in untracked],
    }


def _read_untracked(top, paths):
    out = []
    used = 0
    full = False
    for path in paths:
        if path.endswith("/"):
            continue  # a nested repository: counts as dirty, has no file content
        abs_path = os.path.join(top, path)
        try:
            st = os.lstat(abs_path)
            if is_secret_file(path):
                out.append({"path": path, "size": st.st_size, "skipped": "secret"})
                continue
            if stat.S_ISLNK(st.st_mode):
                target = os.fsencode(os.readlink(abs_path)).decode("utf-8", "replace")
                out.append({"path": path, "size": len(target.encode("utf-8")), "content": target, "mode": "120000"})
                continue
            if not stat.S_ISREG(st.st_mode):
                continue
            entry = {"path": path, "size": st.st_size}
            if st.st_mode & 0o100:
                entry["mode"] = "100755"
            out.append(entry)
            if st.st_size > FILE_LIMIT:
                entry["skipped"] = "too-large"
                continue
            with open(abs_path, "rb") as f:
                text = _decode_text(f.read())
            if text is None:
                entry["skipped"] = "binary"
                continue
            if full or used + st.st_size > TOTAL_LIMIT:
                entry["skipped"] = "too-large"
                full = True
                continue
            used += st.st_size
            entry["content"] = text
        except OSError:
            pass  # removed or unreadable since ls-files: left out
    return out


def _decode_text(data):
    if b"\0" in data[:BINARY_SNIFF]:
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None


def applyable_patch(patch, untracked):
    """The tracked patch plus untracked text files as "new file" diffs (git.ts applyablePatch)."""
    out = patch
    if out and not out.endswith("\n"):
        out += "\n"
    for f in untracked:
        if "content" in f:
            out += _new_file_diff(f["path"], f["content"], f.get("mode", "100644"))
    return out


def _new_file_diff(path, content, mode):
    a, b = _quote_path("a/" + path), _quote_path("b/" + path)
    tab = "\t" if " " in path else ""  # like git, a tab ends a +++ name that contains a space
    out = "diff --git %s %s\nnew file mode %s\n" % (a, b, mode)
    if content == "":
        return out
    ends = content.endswith("\n")
    lines = (content[:-1] if ends else content).split("\n")
    out += "--- /dev/null\n+++ %s%s\n" % (b, tab)
    out += "@@ -0,0 +%s @@\n" % ("1" if len(lines) == 1 else "1,%d" % len(lines))
    out += "".join("+%s\n" % line for line in lines)
    if not ends:
        out += "\\ No newline at end of file\n"
    return out


_C_ESCAPES = {"\x07": "\\a", "\b": "\\b", "\t": "\\t", "\n": "\\n", "\v": "\\v", "\f": "\\f", "\r": "\\r", '"': '\\"', "\\": "\\\\"}


def _quote_path(p):
    """Git's C-style quoting, needed only for control characters, quotes and backslashes."""
    if not any(c < " " or c in '"\\\x7f' for c in p):
        return p
    body = "".join(_C_ESCAPES.get(c, "\\%03o" % ord(c)) if (c < " " or c in '"\\\x7f') else c for c in p)
    return '"%s"' % body
