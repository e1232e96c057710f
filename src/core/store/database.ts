import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { migrate } from './migrations.ts';

export type Db = Database.Database;

/** A store problem explained in words a user can act on. `cause` keeps the original error. */
export class StoreError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StoreError';
  }
}

/** How long a writer waits for another window's transaction before giving up. */
export const BUSY_TIMEOUT_MS = 5000;

/**
 * Opens (and creates, and migrates) the run database at `file`.
 * WAL lets other windows read while one writes; synchronous=FULL makes a commit durable.
 */
export function openDatabase(file: string, options: { readonly?: boolean } = {}): Db {
  let db: Db | undefined;
  try {
    if (!options.readonly) mkdirSync(dirname(file), { recursive: true });
    db = new Database(file, { readonly: options.readonly ?? false, fileMustExist: options.readonly ?? false, timeout: BUSY_TIMEOUT_MS });
    db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
    db.pragma('foreign_keys = ON');
    if (!options.readonly) {
      db.pragma('page_size = 8192'); // only takes effect on a new file; chunk blobs fit one page
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = FULL');
      migrate(db);
    }
    return db;
  } catch (err) {
    db?.close();
    throw explain(err, file);
  }
}

/** Turns SQLite error codes into messages that say what to do. */
export function explain(err: unknown, file: string): Error {
  if (err instanceof StoreError) return err;
  const code = (err as { code?: string }).code ?? '';
  const msg = err instanceof Error ? err.message : String(err);
  if (code === 'EACCES' || code === 'EROFS' || code.startsWith('SQLITE_READONLY') || code === 'SQLITE_CANTOPEN') {
    return new StoreError(`Cannot write the RunLens store at ${file}: the disk or folder is read-only (${msg}). Choose another folder with the runlens.storeDir setting.`, { cause: err });
  }
  if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')) {
    return new StoreError(`The RunLens store at ${file} is busy in another window; nothing was lost, try again (${msg}).`, { cause: err });
  }
  if (code === 'SQLITE_CORRUPT' || code === 'SQLITE_NOTADB') {
    return new StoreError(`The RunLens store at ${file} is not a valid database (${msg}). It was left untouched; move it aside to start a new store.`, { cause: err });
  }
  return new StoreError(`RunLens store error at ${file}: ${msg}`, { cause: err });
}
