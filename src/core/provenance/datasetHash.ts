// Content hashes of datasets (one file or a directory tree), for run provenance.
//
// Digest rules:
// - A file: its sha256.
// - A directory: every regular file below it, sorted by relative path ('/' separators, Unicode
//   code point order = UTF-8 byte order, like `LC_ALL=C sort`), then the sha256 of the lines
//   "<sha256>  <relpath>\n", what `sha256sum` prints for those paths (it escapes names holding a
//   backslash or newline; this does not). An empty directory gets the sha256 of empty input.
// - Symlinks are followed only when they resolve to a regular file inside the dataset root; the
//   file is hashed under the link's path. Links that leave the root, dangling links and links to
//   directories are skipped, as are sockets, fifos and devices.
//
// Speed: the unchanged path only stats (sync calls, time-sliced so the event loop keeps running)
// and reuses cached hashes. Files to hash are read by a few concurrent workers; each reads in
// 1 MB slices with two buffers, so the next read runs in the thread pool while this one is hashed
// (measured: as fast as 256 KB, faster than 4-16 MB, whose buffers no longer fit the CPU cache).
//
// Profiles (HashOptions.profiles): a CSV or TSV file read for hashing is profiled from the same slices
// (drift/profile.ts). A cached file whose content has no profile yet is read once more, hashed again
// and profiled, so the profile is kept only for the content the cache named. A file that cannot be
// profiled (a row over 16 MB, too many columns) is skipped; its hash is not affected.
import { createHash } from 'node:crypto';
import { close, open, read, readdirSync, realpathSync, statSync, type BigIntStats } from 'node:fs';
import { basename, join, resolve, sep } from 'node:path';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { type TableProfile, TableProfiler, tabularDelimiter } from '../drift/profile.ts';

export interface FileStamp { dev: number; ino: number; size: number; mtimeNs: bigint }

/** A cache of per-file hashes keyed by absolute path + stamp (RunLens backs it with SQLite; tests can use a Map). */
export interface HashCache {
  get(path: string, stamp: FileStamp): string | undefined;
  set(path: string, stamp: FileStamp, sha256: string): void;
}

export interface DatasetFile { path: string /* relative, '/' separators */; sha256: string; size: number }

export interface DatasetHash {
  root: string;
  kind: 'file' | 'directory';
  digest: string; // sha256 hex
  files: DatasetFile[];
  fileCount: number;
  bytes: number;
  cachedFiles: number;
}

/** Where the profiles of tabular files go, by content (RunLens: store.profiles). */
export interface ProfileSink {
  /** Whether this content needs a profile; a cached file is read again only then. */
  wanted(sha256: string): boolean;
  put(sha256: string, profile: TableProfile, path: string): void;
  /** A file not profiled, and why (the hash goes on). */
  skipped?(path: string, reason: string): void;
}

export interface HashOptions {
  cache?: HashCache;
  signal?: AbortSignal;
  /** Bytes read so far and in all; cached files are not counted unless read for a profile. At most ~10 calls a second, plus a last one. */
  onProgress?: (doneBytes: number, totalBytes: number) => void;
  /** Profile CSV and TSV files while hashing them. */
  profiles?: ProfileSink;
}

const CHUNK = 1 << 20;
const WORKERS = 16; // callback fs calls: measured ~1.5x faster than FileHandle for small files
const SLICE_MS = 10; // sync work between event-loop turns
const PROFILE_PIECE = 128 << 10;
const PROGRESS_MS = 100;
// A file modified this recently may change again within the same mtime tick, so its hash is
// returned but not cached (the "racy git" problem); the next hash reads it again.
const RACY_NS = 2_000_000_000n;

interface Entry {
  rel: string; abs: string; stamp?: FileStamp; sha256?: string; size: number;
  /** Profile it while reading (a CSV or TSV file), and the profile or why there is none. */
  profile?: ',' | '\t'; table?: TableProfile; skipped?: string;
  /** The cached hash of a file read only to profile it. */
  cached?: string;
}

/** Hashes a file or a directory tree; see the rules at the top of this file. */
export async function hashDataset(path: string, options: HashOptions = {}): Promise<DatasetHash> {
  const { cache, signal, profiles } = options;
  const root = resolve(path);
  const slice = new Slicer(signal);
  slice.check();
  let rootStat: BigIntStats;
  try {
    rootStat = statSync(root, { bigint: true });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new Error(`dataset not found: ${root}`, { cause: err });
    throw readError(root, err);
  }
  const kind = rootStat.isFile() ? 'file' : rootStat.isDirectory() ? 'directory' : undefined;
  if (!kind) throw new Error(`dataset is not a file or directory: ${root}`);
  const files = kind === 'file' ? [{ rel: basename(root), abs: root, size: 0 }] : await listFiles(root, slice);

  // Stat every file; reuse cached hashes whose stamp is unchanged.
  const startNs = BigInt(Date.now()) * 1_000_000n;
  const todo: Entry[] = [];
  const reread: Entry[] = []; // cached, but read again to profile them
  for (const f of files) {
    let st: BigIntStats;
    try {
      st = statSync(f.abs, { bigint: true });
    } catch (err) {
      throw readError(f.abs, err);
    }
    if (!st.isFile()) throw new Error(`cannot read ${f.abs}: no longer a regular file`);
    f.stamp = { dev: Number(st.dev), ino: Number(st.ino), size: Number(st.size), mtimeNs: st.mtimeNs };
    f.size = f.stamp.size;
    const hit = cache?.get(f.abs, f.stamp);
    const delimiter = profiles ? tabularDelimiter(f.rel) : undefined;
    if (hit) f.sha256 = hit;
    if (delimiter && (!hit || wanted(profiles!, hit, f))) f.profile = delimiter;
    if (!hit) todo.push(f);
    else if (f.profile) { f.cached = hit; reread.push(f); }
    if (slice.due()) await slice.yield();
  }

  const reading = [...todo, ...reread];
  const progress = new Progress(reading.reduce((n, f) => n + f.size, 0), options.onProgress);
  await hashAll(reading, slice, progress);
  progress.finish();
  for (const f of reread) {
    if (f.sha256 !== f.cached) f.table = undefined; // changed since it was stat'ed: the profile is not of the cached content
    f.sha256 = f.cached;
    f.size = f.stamp!.size;
  }
  if (profiles) for (const f of reading) handOver(profiles, f);
  if (cache) {
    for (const f of todo) {
      if (f.size === f.stamp!.size && f.stamp!.mtimeNs < startNs - RACY_NS) cache.set(f.abs, f.stamp!, f.sha256!);
    }
  }

  const out = files.map((f) => ({ path: f.rel, sha256: f.sha256!, size: f.size }));
  let digest: string;
  if (kind === 'file') digest = out[0]!.sha256;
  else {
    const h = createHash('sha256');
    for (const f of out) h.update(`${f.sha256}  ${f.path}\n`);
    digest = h.digest('hex');
  }
  return {
    root, kind, digest, files: out, fileCount: out.length,
    bytes: out.reduce((n, f) => n + f.size, 0), cachedFiles: files.length - todo.length,
  };
}

/** Whether the sink wants a profile of this content (a sink that fails wants none). */
function wanted(profiles: ProfileSink, sha256: string, f: Entry): boolean {
  try {
    return profiles.wanted(sha256);
  } catch (err) {
    profiles.skipped?.(f.abs, (err as Error).message);
    return false;
  }
}

/** Hands a file's profile to the sink, when it was read whole and its content still needs one. */
function handOver(profiles: ProfileSink, f: Entry): void {
  if (f.skipped !== undefined) profiles.skipped?.(f.abs, f.skipped);
  if (!f.table || f.size !== f.stamp!.size || !wanted(profiles, f.sha256!, f)) return;
  try {
    profiles.put(f.sha256!, f.table, f.abs);
  } catch (err) {
    profiles.skipped?.(f.abs, (err as Error).message);
  }
}

/** Files added, removed and changed (by content) from `a` to `b`, by relative path. */
export function changedFiles(a: DatasetHash, b: DatasetHash): { added: string[]; removed: string[]; changed: string[] } {
  const before = new Map(a.files.map((f) => [f.path, f.sha256]));
  const after = new Set(b.files.map((f) => f.path));
  return {
    added: b.files.filter((f) => !before.has(f.path)).map((f) => f.path),
    removed: a.files.filter((f) => !after.has(f.path)).map((f) => f.path),
    changed: b.files.filter((f) => before.has(f.path) && before.get(f.path) !== f.sha256).map((f) => f.path),
  };
}

/** A Map-based HashCache, for tests and one-off use. */
export class MemoryHashCache implements HashCache {
  readonly entries = new Map<string, { stamp: string; sha256: string }>();

  get(path: string, stamp: FileStamp): string | undefined {
    const e = this.entries.get(path);
    return e && e.stamp === stampKey(stamp) ? e.sha256 : undefined;
  }

  set(path: string, stamp: FileStamp, sha256: string): void {
    this.entries.set(path, { stamp: stampKey(stamp), sha256 });
  }
}

const stampKey = (s: FileStamp) => `${s.dev}:${s.ino}:${s.size}:${s.mtimeNs}`;

/** Regular files below `root` (and symlinks to files inside it), sorted by relative path. */
async function listFiles(root: string, slice: Slicer): Promise<Entry[]> {
  const real = realpathSync(root);
  const inside = real.endsWith(sep) ? real : real + sep;
  const files: Entry[] = [];
  const dirs = [''];
  while (dirs.length) {
    const rel = dirs.pop()!;
    const dir = rel ? join(root, rel) : root;
    let entries;
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch (err) {
      throw readError(dir, err);
    }
    for (const d of entries) {
      const r = rel ? `${rel}/${d.name}` : d.name;
      if (d.isDirectory()) dirs.push(r);
      else if (d.isFile()) files.push({ rel: r, abs: join(dir, d.name), size: 0 });
      else if (d.isSymbolicLink()) {
        const target = linkTarget(join(dir, d.name), inside);
        if (target) files.push({ rel: r, abs: target, size: 0 });
      }
    }
    if (slice.due()) await slice.yield();
  }
  // JS `<` compares UTF-16 units, which differs from code point order only above U+D7FF.
  const fast = !files.some((f) => /[\ud800-\uffff]/.test(f.rel));
  return files.sort(fast ? (a, b) => (a.rel < b.rel ? -1 : a.rel > b.rel ? 1 : 0) : (a, b) => byCodePoint(a.rel, b.rel));
}

/** The real path of a symlink to a regular file under `inside`, else undefined. */
function linkTarget(link: string, inside: string): string | undefined {
  try {
    const target = realpathSync(link);
    return target.startsWith(inside) && statSync(target).isFile() ? target : undefined;
  } catch {
    return undefined; // dangling or looping
  }
}

function byCodePoint(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    let x = a.charCodeAt(i), y = b.charCodeAt(i);
    if (x === y) continue;
    if (x >= 0xd800 && y >= 0xd800) { // surrogates (astral chars) sort after U+E000..U+FFFF
      x = x >= 0xe000 ? x - 0x800 : x + 0x2000;
      y = y >= 0xe000 ? y - 0x800 : y + 0x2000;
    }
    return x - y;
  }
  return a.length - b.length;
}

/** Hashes `todo` with a few concurrent workers; the first error stops them all. */
async function hashAll(todo: Entry[], slice: Slicer, progress: Progress): Promise<void> {
  let next = 0;
  const worker = async () => {
    const bufs: Buffer[] = [];
    while (next < todo.length && slice.failure === undefined) {
      const f = todo[next++]!;
      try {
        await hashFile(f, bufs, slice, progress);
      } catch (err) {
        slice.failure ??= err;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(WORKERS, todo.length) }, worker));
  if (slice.failure !== undefined) throw slice.failure;
}

/** Reads up to the stat size in CHUNK slices, reading the next slice while hashing this one. */
async function hashFile(f: Entry, bufs: Buffer[], slice: Slicer, progress: Progress): Promise<void> {
  let fd: number;
  try {
    fd = await new Promise<number>((ok, fail) => open(f.abs, 'r', (err, fd) => (err ? fail(err) : ok(fd))));
  } catch (err) {
    throw readError(f.abs, err);
  }
  const hash = createHash('sha256');
  let profiler = f.profile ? new TableProfiler({ delimiter: f.profile, size: f.size }) : undefined;
  // Fed in smaller pieces than read, yielding between them: a fully parsed slice takes tens of ms.
  const profile = async (chunk: Buffer) => {
    for (let at = 0; at < chunk.length && profiler; at += PROFILE_PIECE) {
      try {
        profiler.update(chunk.subarray(at, at + PROFILE_PIECE));
      } catch (err) {
        profiler = undefined;
        f.skipped = (err as Error).message;
      }
      if (slice.due()) await slice.yield();
    }
  };
  let pos = 0, i = 0;
  let pending: Promise<number> | undefined;
  const next = () => {
    slice.check();
    const buf = (bufs[i] ??= Buffer.allocUnsafeSlow(CHUNK));
    const len = Math.min(CHUNK, f.size - pos);
    return new Promise<number>((ok, fail) => read(fd, buf, 0, len, pos, (err, n) => (err ? fail(err) : ok(n))));
  };
  try {
    pending = f.size > 0 ? next() : undefined;
    while (pending) {
      let n: number;
      try {
        n = await pending;
      } catch (err) {
        pending = undefined;
        throw readError(f.abs, err);
      }
      if (n === 0) break; // the file shrank; its stamp no longer matches, so it is not cached
      const buf = bufs[i]!;
      pos += n;
      i ^= 1;
      pending = pos < f.size ? next() : undefined;
      hash.update(buf.subarray(0, n));
      if (profiler) await profile(buf.subarray(0, n)); // buf is read into again only after the next slice
      progress.add(n);
    }
  } finally {
    await pending?.catch(() => undefined);
    await new Promise((done) => close(fd, done));
  }
  f.sha256 = hash.digest('hex');
  f.size = pos;
  if (profiler) {
    try {
      f.table = profiler.finish();
    } catch (err) {
      f.skipped = (err as Error).message;
    }
  }
}

/** Abort checks, the shared first error, and yields to the event loop every SLICE_MS of sync work. */
class Slicer {
  signal: AbortSignal | undefined;
  failure: unknown;
  last = performance.now();

  constructor(signal: AbortSignal | undefined) {
    this.signal = signal;
  }

  check(): void {
    if (this.signal?.aborted) throw Object.assign(new Error('hashing cancelled', { cause: this.signal.reason }), { name: 'AbortError' });
    if (this.failure !== undefined) throw this.failure;
  }

  due(): boolean {
    this.check();
    return performance.now() - this.last >= SLICE_MS;
  }

  async yield(): Promise<void> {
    await nextTurn();
    this.last = performance.now();
    this.check();
  }
}

class Progress {
  total: number;
  done = 0;
  last = 0;
  report: ((done: number, total: number) => void) | undefined;

  constructor(total: number, report: ((done: number, total: number) => void) | undefined) {
    this.total = total;
    this.report = report;
    report?.(0, total);
    this.last = performance.now();
  }

  add(n: number): void {
    this.done += n;
    if (this.report && performance.now() - this.last >= PROGRESS_MS) {
      this.last = performance.now();
      this.report(this.done, this.total);
    }
  }

  finish(): void {
    this.report?.(this.done, this.total);
  }
}

function readError(path: string, err: unknown): Error {
  const code = (err as NodeJS.ErrnoException).code;
  const why = code === 'EACCES' || code === 'EPERM' ? 'permission denied'
    : code === 'ENOENT' ? 'no such file or directory' : (err as Error).message;
  return Object.assign(new Error(`cannot read ${path}: ${why}`, { cause: err }), { code });
}
