import Database from 'better-sqlite3';
import { accessSync, closeSync, constants, existsSync, fstatSync, mkdirSync, openSync, readFileSync, readSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { checkStore, checkSchema, migrate, SCHEMA_VERSION } from './migrations.ts';

export type Db = Database.Database;

/** What went wrong, for code that must react (the read-only fallback), not for users to read. */
export type StoreErrorKind = 'readonly' | 'busy' | 'corrupt' | 'newer' | 'foreign' | 'not-a-folder' | 'full' | 'other';

/** A store problem explained in words a user can act on. `cause` keeps the original error. */
export class StoreError extends Error {
  readonly kind: StoreErrorKind;
  constructor(message: string, options: { cause?: unknown; kind?: StoreErrorKind } = {}) {
    super(message, 'cause' in options ? { cause: options.cause } : undefined);
    this.name = 'StoreError';
    this.kind = options.kind ?? 'other';
  }
}

/** How long a writer waits for another window's transaction before giving up. */
export const BUSY_TIMEOUT_MS = 5000;

export interface OpenOptions {
  readonly?: boolean;
  /**
   * Another thread of this process (the ingest worker's parent) has the file open: it was checked
   * there, and it is not read here with plain file calls (the open count below is per thread).
   */
  alreadyOpen?: boolean;
}

/**
 * Opens (and creates, and migrates) the run database at `file`. Nothing is written until the file is
 * known to be empty or a RunLens store this version can use: a refused file is left byte for byte, with
 * no -wal, -shm or -journal beside it. WAL lets other windows read while one writes; synchronous=FULL
 * makes a commit durable.
 */
export function openDatabase(file: string, options: OpenOptions = {}): Db {
  let db: Db | undefined;
  const key = resolve(file);
  try {
    const folder = notAFolder(dirname(file));
    if (folder) throw folder;
    if (!options.readonly && !existsSync(dirname(file))) mkdirSync(dirname(file), { recursive: true });
    // Already open here: it was checked then, and reading it with plain file calls would drop the
    // open connection's locks. SQLite checks it again below either way.
    const openHere = options.alreadyOpen === true || (openConnections.get(key) ?? 0) > 0;
    const found = openHere ? undefined : inspectSteady(file);
    if (options.readonly) {
      db = openReadOnly(file, openHere || (found?.wal ?? false), openHere);
    } else {
      if (existsSync(file)) {
        accessSync(file, constants.W_OK); // else SQLite quietly opens it read-only
        accessSync(dirname(file), constants.W_OK); // for -wal and -shm
      }
      db = new Database(file, { timeout: BUSY_TIMEOUT_MS });
    }
    db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
    db.pragma('foreign_keys = ON');
    const version = checkStore(db, file); // again through SQLite: a WAL may hold what the file alone does not
    if (options.readonly) {
      if (version !== SCHEMA_VERSION) {
        throw new StoreError(`The RunLens store at ${file} is at schema ${version} and cannot be written, so it cannot be brought to schema ${SCHEMA_VERSION}. Open it once where it can be written, or choose another folder with the runlens.storeDir setting.`, { kind: 'readonly' });
      }
    } else {
      db.pragma('page_size = 8192'); // only takes effect on a new file; chunk blobs fit one page
      whileBusy(() => db!.pragma('journal_mode = WAL'));
      db.pragma('synchronous = FULL');
      db.pragma('cache_size = -65536'); // 64 MB: zoomed charts re-read the same chunk pages
      migrate(db);
    }
    return tracked(db, key);
  } catch (err) {
    db?.close();
    throw explain(err, file);
  }
}

/**
 * Connections this process has open, by file. Closing any descriptor of a database file releases
 * all of the process's POSIX locks on it (sqlite.org/howtocorrupt.html, 2.2): another process then
 * takes itself for the last connection and deletes the WAL under ours. So a file open here is never
 * read with plain file calls. The count is kept on globalThis, so bundles loaded side by side (the
 * extension and its tests) share it; a worker thread has its own, and must open a store only after
 * this thread did.
 */
const openConnections: Map<string, number> = ((globalThis as { [k: symbol]: unknown })[Symbol.for('runlens.openConnections')] ??= new Map()) as Map<string, number>;

function tracked(db: Db, key: string): Db {
  openConnections.set(key, (openConnections.get(key) ?? 0) + 1);
  const close = db.close.bind(db);
  db.close = () => {
    if (db.open) {
      const n = (openConnections.get(key) ?? 1) - 1;
      if (n > 0) openConnections.set(key, n);
      else openConnections.delete(key);
    }
    return close();
  };
  return db;
}

/** The error for a store folder that exists and is not a folder. */
export function notAFolder(dir: string): StoreError | undefined {
  try {
    if (statSync(dir).isDirectory()) return undefined;
  } catch {
    return undefined;
  }
  return new StoreError(`The RunLens store folder ${dir} is a file, not a folder: the runlens.storeDir setting points at a file. Set it to a folder.`, { kind: 'not-a-folder' });
}

/**
 * Opens a store without writing and without creating anything beside it. A WAL-mode file can only be
 * read in place with its -shm (better-sqlite3 takes no `immutable=1` URI), so when -wal and -shm are not
 * both there, it is read from a copy in memory, marked as rollback mode.
 */
function openReadOnly(file: string, wal: boolean, openHere: boolean): Db {
  if (!wal || openHere || (existsSync(`${file}-wal`) && existsSync(`${file}-shm`))) {
    try {
      return new Database(file, { readonly: true, fileMustExist: true, timeout: BUSY_TIMEOUT_MS });
    } catch (err) {
      if (!wal || openHere) throw err; // never a copy of a file open here (reading it would drop its locks)
    }
  }
  const copy = readFileSync(file);
  copy[18] = copy[19] = 1;
  return new Database(copy, { readonly: true });
}

/** What a database file holds, read with plain reads: no SQLite, no lock, no side file. */
export interface FileInfo {
  wal: boolean;
  userVersion: number;
  /** Table names; undefined when a -wal or -journal holds changes the file alone does not show. */
  tables?: string[];
}

const MAGIC = 'SQLite format 3\0';

/** A -wal or -journal with bytes in it: the main file alone may be behind or half-written. */
function pendingSideFile(file: string): boolean {
  return ['-wal', '-journal'].some((s) => {
    try {
      return statSync(file + s).size > 0;
    } catch {
      return false;
    }
  });
}

/**
 * Runs `fn` again while SQLite says busy, for up to BUSY_TIMEOUT_MS. Switching a new file to WAL needs
 * every other connection out of it, and SQLite answers busy at once there (no busy handler: it could
 * deadlock) while a second window is only reading the file's schema.
 */
function whileBusy<T>(fn: () => T): T {
  const deadline = Date.now() + BUSY_TIMEOUT_MS;
  for (let wait = 5; ; wait = Math.min(wait * 2, 100)) {
    try {
      return fn();
    } catch (err) {
      if ((err as { code?: string }).code !== 'SQLITE_BUSY' || Date.now() > deadline) throw err;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, wait);
    }
  }
}

/** The file and its WAL as they are now: size and change time (ns) of each. */
function stamp(file: string): string {
  return [file, `${file}-wal`].map((f) => {
    try {
      const st = statSync(f, { bigint: true });
      return `${st.size}:${st.mtimeNs}:${st.ctimeNs}`;
    } catch {
      return '-';
    }
  }).join('|');
}

/**
 * inspectFile and checkSchema on a file that held still while they read it. Another window may be
 * checkpointing its WAL into the file meanwhile (a header from before, a schema from after: tables
 * at user_version 0); then it is read again, a few times, before anything is refused.
 */
function inspectSteady(file: string): FileInfo | undefined {
  for (let attempt = 1; ; attempt++) {
    const before = stamp(file);
    let info: FileInfo | undefined, error: unknown;
    try {
      info = inspectFile(file);
      if (info?.tables) checkSchema(file, info.userVersion, info.tables);
    } catch (err) {
      error = err;
    }
    if (stamp(file) === before || attempt === 5) {
      if (error !== undefined) throw error;
      return info;
    }
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20);
  }
}

/** Reads the header and the schema table of `file` (format: sqlite.org/fileformat2.html). Undefined when missing or 0 bytes. */
export function inspectFile(file: string): FileInfo | undefined {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch (err) {
    if ((err as { code?: string }).code === 'ENOENT') return undefined;
    throw err;
  }
  const bad = (why: string) => new StoreError(`The RunLens store at ${file} is not a valid database (${why}). It was left untouched; move it aside to start a new store.`, { kind: 'corrupt' });
  try {
    const size = fstatSync(fd).size;
    if (size === 0) return undefined;
    const read = (pos: number, len: number): Buffer => {
      const b = Buffer.alloc(len);
      if (readSync(fd, b, 0, len, pos) !== len) throw bad('it ends early');
      return b;
    };
    if (size < 100) throw bad(`it has only ${size} bytes`);
    const head = read(0, 100);
    if (head.toString('latin1', 0, 16) !== MAGIC) throw bad('it does not start with the SQLite header');
    const pageSize = head.readUInt16BE(16) === 1 ? 65536 : head.readUInt16BE(16);
    if (pageSize < 512 || (pageSize & (pageSize - 1)) !== 0) throw bad(`its page size ${pageSize} is impossible`);
    const info: FileInfo = { wal: head[19] === 2, userVersion: head.readInt32BE(60) };
    if (pendingSideFile(file)) return info;
    try {
      if (size % pageSize !== 0) throw bad(`its ${size} bytes are not whole pages of ${pageSize}: it was cut short`);
      const pages = size / pageSize;
      const declared = head.readUInt32BE(28);
      if (head.readUInt32BE(24) === head.readUInt32BE(92) && declared > pages) throw bad(`it has ${pages} of its ${declared} pages: it was cut short`);
      info.tables = schemaTables(read, pageSize, pageSize - head[20]!, pages, head.readUInt32BE(56), bad);
      return info;
    } catch (err) {
      if (pendingSideFile(file)) return info; // another window began writing while we read
      throw err instanceof RangeError ? bad('its schema is damaged') : err;
    }
  } finally {
    closeSync(fd);
  }
}

/** Names of the tables in the schema b-tree rooted at page 1. Buffer reads past a page throw RangeError. */
function schemaTables(read: (pos: number, len: number) => Buffer, pageSize: number, usable: number, pages: number,
  encoding: number, bad: (why: string) => Error): string[] {
  const seen = new Set<number>();
  const page = (n: number): Buffer => {
    if (n < 1 || n > pages || seen.has(n)) throw bad(`its schema points at page ${n}`);
    seen.add(n);
    return read((n - 1) * pageSize, pageSize);
  };
  const payload = (p: Buffer, at: number): Buffer => {
    const [len, afterLen] = varint(p, at);
    const [, start] = varint(p, afterLen); // rowid
    if (len <= usable - 35) return p.subarray(start, start + len);
    const min = Math.floor(((usable - 12) * 32) / 255) - 23;
    const k = min + ((len - min) % (usable - 4));
    const local = k <= usable - 35 ? k : min;
    const parts = [p.subarray(start, start + local)];
    let got = local;
    for (let next = p.readUInt32BE(start + local); got < len; ) {
      const q = page(next);
      parts.push(q.subarray(4, 4 + Math.min(len - got, usable - 4)));
      got += usable - 4;
      next = q.readUInt32BE(0);
    }
    return Buffer.concat(parts);
  };
  const text = (b: Buffer): string => {
    if (encoding === 2) return b.toString('utf16le');
    if (encoding === 3) return Buffer.from(b).swap16().toString('utf16le');
    return b.toString('utf8');
  };
  const tables: string[] = [];
  const walk = (n: number): void => {
    const p = page(n);
    const h = n === 1 ? 100 : 0;
    const count = p.readUInt16BE(h + 3);
    if (p[h] === 5) {
      for (let i = 0; i < count; i++) walk(p.readUInt32BE(p.readUInt16BE(h + 12 + 2 * i)));
      walk(p.readUInt32BE(h + 8));
    } else if (p[h] === 13) {
      for (let i = 0; i < count; i++) {
        const rec = payload(p, p.readUInt16BE(h + 8 + 2 * i));
        const [headerLen, afterHeaderLen] = varint(rec, 0);
        const [typeSerial, afterType] = varint(rec, afterHeaderLen);
        const [nameSerial] = varint(rec, afterType);
        if (typeSerial < 13 || typeSerial % 2 === 0 || nameSerial < 13 || nameSerial % 2 === 0) throw bad('its schema is damaged');
        const typeLen = (typeSerial - 13) / 2;
        if (text(rec.subarray(headerLen, headerLen + typeLen)) === 'table') {
          tables.push(text(rec.subarray(headerLen + typeLen, headerLen + typeLen + (nameSerial - 13) / 2)));
        }
      }
    } else {
      throw bad(`its schema page ${n} has type ${p[h]}`);
    }
  };
  walk(1);
  return tables;
}

/** SQLite's big-endian varint: 7 bits a byte, the ninth byte all 8. Returns [value, next offset]. */
function varint(b: Buffer, at: number): [number, number] {
  let v = 0;
  for (let i = 0; i < 8; i++) {
    const c = b.readUInt8(at + i);
    v = v * 128 + (c & 0x7f);
    if (c < 0x80) return [v, at + i + 1];
  }
  return [v * 256 + b.readUInt8(at + 8), at + 9];
}

/** Turns SQLite and file system error codes into messages that say what to do. */
export function explain(err: unknown, file: string): Error {
  if (err instanceof StoreError) return err;
  const code = (err as { code?: string }).code ?? '';
  const msg = err instanceof Error ? err.message : String(err);
  if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS' || code.startsWith('SQLITE_READONLY') || code.startsWith('SQLITE_CANTOPEN')) {
    return new StoreError(`Cannot write the RunLens store at ${file}: the disk or folder is read-only (${msg}). Choose another folder with the runlens.storeDir setting.`, { cause: err, kind: 'readonly' });
  }
  if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')) {
    return new StoreError(`The RunLens store at ${file} is busy in another window; nothing was lost, try again (${msg}).`, { cause: err, kind: 'busy' });
  }
  if (code.startsWith('SQLITE_CORRUPT') || code === 'SQLITE_NOTADB') {
    return new StoreError(`The RunLens store at ${file} is not a valid database (${msg}). It was left untouched; move it aside to start a new store.`, { cause: err, kind: 'corrupt' });
  }
  if (code === 'SQLITE_FULL' || code === 'ENOSPC' || code === 'EDQUOT') {
    return new StoreError(`The disk holding the RunLens store at ${file} is full (${msg}). The last change was not saved; what was stored before is kept. Free some space and try again.`, { cause: err, kind: 'full' });
  }
  if (code === 'ENOTDIR' || code === 'EEXIST') {
    return new StoreError(`The RunLens store ${file} cannot be made: part of its folder path is a file (${msg}). Set the runlens.storeDir setting to a folder.`, { cause: err, kind: 'not-a-folder' });
  }
  return new StoreError(`RunLens store error at ${file}: ${msg}`, { cause: err });
}
