/**
 * Converts chunk blobs of the raw layout (format 0) to the compressed one, in place, after schema step 8.
 * Batches of chunks in key order, each its own transaction that also moves the cursor in chunk_conversion,
 * so a conversion killed at any point resumes where its last commit left it. Before a batch commits, the
 * rows as stored are read back and their decoded columns checked against the old ones: the same count of
 * points and the same checksum, else the batch rolls back and the old rows stay.
 */
import { crc32 } from 'node:zlib';
import type { Db } from './database.ts';
import { isRaw } from './codec.ts';
import { type Columns, pack, packRaw, unpack } from './chunks.ts';

export interface ConversionProgress {
  /** Chunks looked at so far, of total. */
  done: number;
  total: number;
  finished: boolean;
}

interface Row { run_id: number; key_id: number; seq: number; n: number; data: Buffer }

/** Where a conversion stands; undefined when there is nothing to convert (or the store is open read-only). */
export function conversionProgress(db: Db): ConversionProgress | undefined {
  if (db.readonly) return undefined;
  const row = db.prepare('SELECT total, done FROM chunk_conversion WHERE id = 1').get() as { total: number; done: number } | undefined;
  return row && { done: Math.min(row.done, row.total), total: row.total, finished: false };
}

/**
 * Converts the next `limit` chunks in one transaction. Safe beside other writers and other converters.
 * `encode` is the chunk packer (tests pass a broken one to see the check refuse it).
 */
export function convertBatch(db: Db, limit = 500, encode: (c: Columns) => Buffer = pack): ConversionProgress {
  return db.transaction((): ConversionProgress => {
    const at = db.prepare('SELECT total, done, run_id, key_id, seq FROM chunk_conversion WHERE id = 1').get() as
      { total: number; done: number; run_id: number; key_id: number; seq: number } | undefined;
    if (!at) return { done: 0, total: 0, finished: true };
    const batch = db.prepare(`SELECT p.run_id, p.key_id, p.seq, c.n, p.data FROM metric_chunk_points p
      JOIN metric_chunks c ON c.run_id = p.run_id AND c.key_id = p.key_id AND c.seq = p.seq
      WHERE (p.run_id, p.key_id, p.seq) > (?, ?, ?) ORDER BY p.run_id, p.key_id, p.seq LIMIT ?`);
    const rows = batch.all(at.run_id, at.key_id, at.seq, limit) as Row[];
    const put = db.prepare('UPDATE metric_chunk_points SET data = ? WHERE run_id = ? AND key_id = ? AND seq = ?');
    let points = 0, sum = 0;
    for (const r of rows) {
      if (!isRaw(r.data)) continue; // already converted (an append rewrote it)
      const cols = unpack(r.data);
      if (cols.values.length !== r.n) throw new Error(`chunk ${r.run_id}/${r.key_id}/${r.seq} holds ${cols.values.length} points, its summary says ${r.n}`);
      points += r.n;
      sum = crc32(r.data, sum);
      put.run(encode(cols), r.run_id, r.key_id, r.seq);
    }
    if (rows.length) {
      // read back what was stored and check it decodes to the same points
      const last = rows[rows.length - 1]!;
      let checkPoints = 0, checkSum = 0;
      const stored = db.prepare(`SELECT p.run_id, p.key_id, p.seq, p.data FROM metric_chunk_points p
        WHERE (p.run_id, p.key_id, p.seq) > (?, ?, ?) AND (p.run_id, p.key_id, p.seq) <= (?, ?, ?)
        ORDER BY p.run_id, p.key_id, p.seq`).all(at.run_id, at.key_id, at.seq, last.run_id, last.key_id, last.seq) as Row[];
      const wasRaw = new Set(rows.filter((r) => isRaw(r.data)).map((r) => `${r.run_id}/${r.key_id}/${r.seq}`));
      for (const r of stored) {
        if (!wasRaw.has(`${r.run_id}/${r.key_id}/${r.seq}`)) continue;
        const cols = unpack(r.data);
        checkPoints += cols.values.length;
        checkSum = crc32(packRaw(cols), checkSum);
      }
      if (checkPoints !== points || checkSum !== sum) {
        throw new Error(`chunk conversion check failed: ${points} points with checksum ${sum} became ${checkPoints} with ${checkSum}; nothing was changed`);
      }
      db.prepare('UPDATE chunk_conversion SET done = done + ?, run_id = ?, key_id = ?, seq = ? WHERE id = 1')
        .run(rows.length, last.run_id, last.key_id, last.seq);
    }
    const finished = rows.length < limit;
    if (finished) db.prepare('DELETE FROM chunk_conversion WHERE id = 1').run();
    return { done: finished ? at.total : Math.min(at.done + rows.length, at.total), total: at.total, finished };
  }).immediate();
}

/** Converts every remaining chunk, a batch at a time; calls onProgress after each batch. */
export function convertAll(db: Db, onProgress?: (p: ConversionProgress) => void, limit = 500): ConversionProgress {
  for (;;) {
    const p = convertBatch(db, limit);
    onProgress?.(p);
    if (p.finished) return p;
  }
}
