import { statSync } from 'node:fs';
import { openDatabase } from './database.ts';

/** Bytes the store takes on disk: runs.db and its write-ahead log. */
export function storeBytes(file: string): number {
  let bytes = 0;
  for (const f of [file, `${file}-wal`]) {
    try {
      bytes += statSync(f).size;
    } catch {
      // not there
    }
  }
  return bytes;
}

/**
 * Rewrites the store without its free pages (VACUUM), then folds the log back into runs.db and empties it,
 * which gives the space back to the disk. Through a connection of its own, so it waits for other writers;
 * their next reads see the same data.
 */
export function compactStore(file: string): { before: number; after: number } {
  const before = storeBytes(file);
  const db = openDatabase(file);
  try {
    db.exec('VACUUM');
    db.pragma('wal_checkpoint(TRUNCATE)');
  } finally {
    db.close();
  }
  return { before, after: storeBytes(file) };
}
