// Validation of paths that come from logged data (`runlens.log_artifact(path)`, `log_model(name, path)`)
// or from `outputs:` in runlens.yaml, and of paths written out of the artifact store.
//
// Rules (the bug class behind MLflow CVE-2023-1177, -2356, -2780, CVE-2024-1560):
// - A path is relative, '/'-separated, and has no '..' segment at all (even `a/../b`), no NUL,
//   backslash or control character. "." (the whole run folder) is too broad and is rejected.
// - Reading: the target and every ancestor must resolve (through symlinks) inside the run folder.
// - Writing: no existing symlink is ever traversed or replaced, so nothing lands outside the root.
import { lstatSync, mkdirSync, realpathSync, statSync } from 'node:fs';
import { join, resolve, sep } from 'node:path';

export class PathError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'PathError';
  }
}

const show = (raw: unknown) => JSON.stringify(raw) ?? String(raw);

/** The normalized '/'-separated relative form of `raw`; throws PathError if it is unsafe. No file system access. */
export function checkRelativePath(raw: string, what = 'artifact path'): string {
  const fail = (why: string) => new PathError(`${what} ${show(raw)} ${why}`);
  if (typeof raw !== 'string') throw fail('is not a string');
  if (raw === '') throw new PathError(`${what} is empty`);
  if (raw.includes('\0')) throw fail('contains a NUL character');
  if (/[\x01-\x1f\x7f]/.test(raw)) throw fail('contains a control character');
  if (/^[\\/]/.test(raw) || /^[A-Za-z]:([\\/]|$)/.test(raw)) {
    throw fail("is absolute; log paths relative to the run's working directory");
  }
  if (raw.includes('\\')) throw fail('contains a backslash');
  const parts = raw.split('/').filter((p) => p !== '' && p !== '.');
  if (parts.includes('..')) {
    let depth = 0;
    for (const p of parts) if ((depth += p === '..' ? -1 : 1) < 0) throw fail('leaves the run folder');
    throw fail('contains a ".." segment; write it without ".."');
  }
  if (parts.length === 0) throw fail('names the whole run folder; log a file or a subfolder');
  return parts.join('/');
}

const isInside = (realRoot: string, p: string) =>
  p === realRoot || p.startsWith(realRoot.endsWith(sep) ? realRoot : realRoot + sep);

/**
 * The real absolute path of `raw` inside `root`. Throws PathError if the path is unsafe, does not
 * exist, or any symlink along it resolves outside realpath(root).
 */
export function resolveInside(root: string, raw: string, what = 'artifact path'): string {
  const rel = checkRelativePath(raw, what);
  let realRoot: string;
  try {
    realRoot = realpathSync(root);
  } catch (err) {
    throw new PathError(`the run folder ${root} does not exist`, { cause: err });
  }
  const missing = () => new PathError(`${what} ${show(raw)} does not exist in ${root}`);
  let cur = realRoot;
  let done = '';
  for (const part of rel.split('/')) {
    cur = join(cur, part);
    done = done ? `${done}/${part}` : part;
    let link: boolean;
    try {
      link = lstatSync(cur).isSymbolicLink();
    } catch {
      throw missing(); // ENOENT, or ENOTDIR when an ancestor is a file
    }
    if (!link) continue;
    let target: string;
    try {
      target = realpathSync(cur);
    } catch {
      throw new PathError(`${what} ${show(raw)} ${done === rel ? 'is' : `goes through ${show(done)},`} a broken symlink`);
    }
    if (!isInside(realRoot, target)) {
      throw outsideError(what, raw, done === rel ? 'is a symlink' : `goes through ${show(done)}, a symlink`, target);
    }
    cur = target;
  }
  if (cur === realRoot) throw new PathError(`${what} ${show(raw)} is a symlink to the whole run folder; log a file or a subfolder`);
  return cur;
}

/** The PathError for a symlink resolving to `target`, outside the run folder; `where` says how the path meets it. */
export function outsideError(what: string, raw: string, where: string, target: string): PathError {
  return new PathError(`${what} ${show(raw)} ${where} that points outside the run folder (to ${target})`);
}

/**
 * The absolute path for writing `rel` below `root`, making parent folders one at a time. Refuses
 * to go through any existing symlink or to replace one, so nothing is created outside `root`.
 * The file itself is not created.
 */
export function safeWritePath(root: string, rel: string, what = 'file path'): string {
  const clean = checkRelativePath(rel, what);
  const top = resolve(root);
  mkdirSync(top, { recursive: true });
  if (!statSync(top).isDirectory()) throw new PathError(`cannot write into ${top}: not a folder`);
  const parts = clean.split('/');
  let cur = top;
  let done = '';
  for (let i = 0; i < parts.length; i++) {
    cur = join(cur, parts[i]!);
    done = done ? `${done}/${parts[i]}` : parts[i]!;
    const last = i === parts.length - 1;
    let st = lstatOrUndefined(cur);
    if (!st && !last) {
      try {
        mkdirSync(cur);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
      st = lstatOrUndefined(cur);
    }
    if (st?.isSymbolicLink()) {
      throw new PathError(`${what} ${show(rel)} ${last ? 'is' : `goes through ${show(done)},`} an existing symlink in ${top}; refusing to write through it`);
    }
    if (!last && !st?.isDirectory()) throw new PathError(`${what} ${show(rel)}: ${show(done)} is not a folder in ${top}`);
  }
  return cur;
}

function lstatOrUndefined(p: string) {
  try {
    return lstatSync(p);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}
