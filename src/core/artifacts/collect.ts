// Collects a logged artifact (a file or a folder inside the run folder) into the object store.
//
// The digest follows the dataset rule in ../provenance/datasetHash.ts, so a folder artifact has
// the same digest as the dataset digest of the same folder: a file's sha256; for a folder, the
// sha256 of "<sha256>  <relpath>\n" lines for its regular files in code point order.
// Symlinks inside a folder: to a regular file inside the folder → stored under the link's path;
// pointing outside the run folder → the whole artifact is rejected before anything is stored;
// otherwise (dangling, loops, folders, files elsewhere in the run folder) skipped, like fifos,
// sockets and names with a backslash or control character (they could not be restored safely).
import { createHash } from 'node:crypto';
import { readdir, realpath, stat } from 'node:fs/promises';
import { basename, join, sep } from 'node:path';
import { ObjectStore } from './objectStore.ts';
import { checkRelativePath, outsideError, PathError, resolveInside } from './safePath.ts';

export interface ArtifactFile { path: string /* relative inside the artifact, '/' separators; for a single file: its basename */; sha256: string; size: number }

export interface CollectedArtifact {
  path: string; // normalized relative path, as validated
  kind: 'file' | 'directory';
  digest: string;
  size: number;
  fileCount: number;
  files: ArtifactFile[];
  skipped: string[]; // relative inside the artifact: dangling links, fifos, sockets…
}

const BAD_NAME = /[\\\x00-\x1f\x7f]/; // what checkRelativePath rejects in a name
const WORKERS = 8; // each put ends in an fsync, so a few at once

export async function collectArtifact(
  objects: ObjectStore, root: string, raw: string, options: { what?: string; signal?: AbortSignal } = {},
): Promise<CollectedArtifact> {
  const { what = 'artifact path', signal } = options;
  const rel = checkRelativePath(raw, what);
  const abs = resolveInside(root, raw, what);
  const st = await stat(abs);
  if (st.isFile()) {
    const put = await objects.putFile(abs, { signal });
    const file = { path: basename(rel), sha256: put.sha256, size: put.size };
    return { path: rel, kind: 'file', digest: put.sha256, size: put.size, fileCount: 1, files: [file], skipped: [] };
  }
  if (!st.isDirectory()) throw new PathError(`${what} ${JSON.stringify(raw)} is not a file or folder`);

  // Walk everything first, so a link leaving the run folder rejects the artifact before any write.
  const { found, skipped } = await walk(abs, await realpath(root), rel, raw, what);
  signal?.throwIfAborted();
  const files: ArtifactFile[] = new Array(found.length);
  let next = 0;
  const worker = async () => {
    while (next < found.length) {
      const i = next++;
      const put = await objects.putFile(found[i]!.abs, { signal });
      files[i] = { path: found[i]!.rel, sha256: put.sha256, size: put.size };
    }
  };
  await Promise.all(Array.from({ length: Math.min(WORKERS, found.length) }, worker));
  const h = createHash('sha256');
  for (const f of files) h.update(`${f.sha256}  ${f.path}\n`);
  return {
    path: rel, kind: 'directory', digest: h.digest('hex'), size: files.reduce((n, f) => n + f.size, 0),
    fileCount: files.length, files, skipped,
  };
}

/** Regular files below `dir` (a real path) sorted by relative path, and what was skipped. */
async function walk(dir: string, realRoot: string, rel: string, raw: string, what: string) {
  const inside = (p: string, top: string) => p.startsWith(top.endsWith(sep) ? top : top + sep);
  const found: { rel: string; abs: string }[] = [];
  const skipped: string[] = [];
  const dirs = [''];
  while (dirs.length) {
    const sub = dirs.pop()!;
    for (const d of await readdir(sub ? join(dir, sub) : dir, { withFileTypes: true })) {
      const r = sub ? `${sub}/${d.name}` : d.name;
      const abs = join(dir, r);
      if (BAD_NAME.test(d.name)) skipped.push(r); // could not be restored safely, nor listed in the digest
      else if (d.isDirectory()) dirs.push(r);
      else if (d.isFile()) found.push({ rel: r, abs });
      else if (!d.isSymbolicLink()) skipped.push(r);
      else {
        const target = await realpath(abs).catch(() => undefined); // undefined: dangling or looping
        if (target !== undefined && target !== realRoot && !inside(target, realRoot)) {
          throw outsideError(what, raw, `contains ${JSON.stringify(`${rel}/${r}`)}, a symlink`, target);
        }
        if (target !== undefined && inside(target, dir) && (await stat(target)).isFile()) found.push({ rel: r, abs: target });
        else skipped.push(r);
      }
    }
  }
  const utf8 = (s: string) => Buffer.from(s); // UTF-8 byte order = code point order
  found.sort((a, b) => Buffer.compare(utf8(a.rel), utf8(b.rel)));
  return { found, skipped: skipped.sort() };
}
