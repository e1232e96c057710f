// A content-addressed store of files: each object is named by the sha256 of its bytes, lives at
// <dir>/<first 2 hex>/<other 62 hex>, is read-only, and is stored once however often it is put.
// Writes go to <dir>/tmp/ first and appear under their final name atomically, after an fsync.
import { createHash, randomUUID } from 'node:crypto';
import { constants, statSync } from 'node:fs';
import { chmod, copyFile, link, lstat, mkdir, open, readdir, rename, rm, stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';

const CHUNK = 1 << 20;
const SHA = /^[0-9a-f]{64}$/;

export interface StoredObject { sha256: string; size: number; stored: boolean }

export class ObjectStore {
  readonly dir: string;

  constructor(dir: string) {
    this.dir = resolve(dir);
  }

  /** Where the object `sha256` lives (whether or not it is there). */
  path(sha256: string): string {
    if (typeof sha256 !== 'string' || !SHA.test(sha256)) throw new Error(`not a sha256 (64 lowercase hex digits): ${JSON.stringify(sha256)}`);
    return join(this.dir, sha256.slice(0, 2), sha256.slice(2));
  }

  has(sha256: string): boolean {
    try {
      return statSync(this.path(sha256)).isFile();
    } catch {
      return false;
    }
  }

  /** Copies the file at `abs` into the store; `stored` is false when those bytes were already there. */
  async putFile(abs: string, options: { signal?: AbortSignal } = {}): Promise<StoredObject> {
    const { signal } = options;
    signal?.throwIfAborted();
    let st;
    try {
      st = await stat(abs);
    } catch (err) {
      throw readError(abs, err);
    }
    if (!st.isFile()) throw new Error(`cannot store ${abs}: not a regular file`);
    await mkdir(join(this.dir, 'tmp'), { recursive: true });
    const tmp = join(this.dir, 'tmp', `${process.pid}-${randomUUID()}`);
    try {
      // A private copy (a reflink where the file system allows it), never a hard link to the
      // workspace file: training code that rewrites a file in place would change the stored object.
      // Hashing our copy also means the hash matches the stored bytes even if the source changes.
      try {
        await copyFile(abs, tmp, constants.COPYFILE_FICLONE);
      } catch (err) {
        throw readError(abs, err);
      }
      const { sha256, size } = await ObjectStore.hashFile(tmp, signal);
      await syncPath(tmp);
      await chmod(tmp, 0o444);
      const final = this.path(sha256);
      await mkdir(dirname(final), { recursive: true });
      // link() fails if the object exists, so two writers of the same bytes agree on who stored it.
      try {
        await link(tmp, final);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'EEXIST') return { sha256, size, stored: false };
        if (await exists(final)) return { sha256, size, stored: false };
        await rename(tmp, final); // a file system without hard links
      }
      await syncPath(dirname(final)).catch(() => undefined); // directories cannot be fsynced on Windows
      return { sha256, size, stored: true };
    } finally {
      await rm(tmp, { force: true });
    }
  }

  /** Re-hashes the object: 'missing' if absent, 'corrupt' if its bytes (or size) are not what its name says. */
  async verify(sha256: string, expectedSize?: number): Promise<'ok' | 'missing' | 'corrupt'> {
    const p = this.path(sha256);
    let h;
    try {
      h = await ObjectStore.hashFile(p);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 'missing';
      throw err;
    }
    return h.sha256 === sha256 && (expectedSize === undefined || h.size === expectedSize) ? 'ok' : 'corrupt';
  }

  /**
   * Writes object `sha256` to `dest` (validate it with safeWritePath first): a hard link where
   * possible (objects are read-only, so this is safe), else a copy. Fails if `dest` exists.
   */
  async materialize(sha256: string, dest: string): Promise<void> {
    const src = this.path(sha256);
    if (!(await exists(src))) throw new Error(`object ${sha256} is missing from the store`);
    try {
      await link(src, dest);
      return;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') throw new Error(`cannot write ${dest}: it already exists`, { cause: err });
    }
    try {
      await copyFile(src, dest, constants.COPYFILE_EXCL | constants.COPYFILE_FICLONE);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') throw new Error(`cannot write ${dest}: it already exists`, { cause: err });
      throw err;
    }
  }

  /** The sha256 of every object present, sorted. */
  async list(): Promise<string[]> {
    const out: string[] = [];
    for (const a of await readdir(this.dir).catch(() => [])) {
      if (!/^[0-9a-f]{2}$/.test(a)) continue; // tmp/ and anything else
      for (const b of await readdir(join(this.dir, a)).catch(() => [])) {
        if (/^[0-9a-f]{62}$/.test(b)) out.push(a + b);
      }
    }
    return out.sort();
  }

  /** The sha256 and size of a file, read in 1 MB slices. */
  static async hashFile(abs: string, signal?: AbortSignal): Promise<{ sha256: string; size: number }> {
    const fh = await open(abs, 'r');
    try {
      const hash = createHash('sha256');
      const buf = Buffer.allocUnsafeSlow(CHUNK);
      let size = 0;
      for (;;) {
        signal?.throwIfAborted();
        const { bytesRead } = await fh.read(buf, 0, CHUNK, size);
        if (bytesRead === 0) break;
        hash.update(buf.subarray(0, bytesRead));
        size += bytesRead;
      }
      return { sha256: hash.digest('hex'), size };
    } finally {
      await fh.close();
    }
  }
}

async function syncPath(p: string): Promise<void> {
  const fh = await open(p, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

async function exists(p: string): Promise<boolean> {
  try {
    await lstat(p);
    return true;
  } catch {
    return false;
  }
}

function readError(path: string, err: unknown): Error {
  const code = (err as NodeJS.ErrnoException).code;
  const why = code === 'EACCES' || code === 'EPERM' ? 'permission denied'
    : code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'not a regular file' : (err as Error).message;
  return Object.assign(new Error(`cannot store ${path}: ${why}`, { cause: err }), { code });
}
