/**
 * Chunk summaries kept in memory, per series, as typed arrays: what range queries read instead of asking
 * SQLite for thousands of rows each time. Each use first checks the series against the store (its run's
 * uid and its point count, for many runs in one statement): chunks are only ever appended, the last one
 * topped up, so a grown series reads only its chunks from the last one cached on, and writes by another
 * window or a worker thread are seen too. The least recently used series go first past CAPACITY chunks.
 */
import type { Db } from './database.ts';

/** Chunks kept in all (10 float64 each: about 32 MB). */
export const CAPACITY = 400_000;

const COLUMNS = ['seq', 'n', 'stepLo', 'stepHi', 'stepLast', 'timeLo', 'timeHi', 'vMin', 'vMax', 'vLast'] as const;
type Column = (typeof COLUMNS)[number];

/** One series' chunk summaries in seq order; a null min, max or last is NaN. */
export type ChunkIndex = { [C in Column]: Float64Array } & { length: number; uid: string; points: number };

type Row = [number, number, number, number, number, number, number, number | null, number | null, number | null];

export class ChunkIndexes {
  private readonly cache = new Map<string, ChunkIndex>();
  private chunks = 0;
  private readonly q;

  constructor(db: Db) {
    this.q = {
      check: db.prepare(`SELECT s.run_id, r.uid, s.count FROM metric_summaries s JOIN runs r ON r.id = s.run_id
        WHERE s.key_id = ? AND s.run_id IN (SELECT value FROM json_each(?))`).raw(),
      checkOne: db.prepare(`SELECT s.run_id, r.uid, s.count FROM metric_summaries s JOIN runs r ON r.id = s.run_id
        WHERE s.key_id = ? AND s.run_id = ?`).raw(),
      rows: db.prepare(`SELECT seq, n, step_lo, step_hi, step_last, time_lo, time_hi, v_min, v_max, v_last FROM metric_chunks
        WHERE run_id = ? AND key_id = ? AND seq >= ? ORDER BY seq`).raw(),
    };
  }

  /** The up-to-date index of each run's series of the key (undefined: the run has no such series). */
  get(runIds: readonly number[], keyId: number): (ChunkIndex | undefined)[] {
    const found = new Map<number, [string, number]>();
    const rows = (runIds.length === 1 ? this.q.checkOne.all(keyId, runIds[0]) : this.q.check.all(keyId, JSON.stringify(runIds))) as
      [number, string, number][];
    for (const [runId, uid, count] of rows) found.set(runId, [uid, count]);
    const out = runIds.map((runId) => {
      const key = `${runId}:${keyId}`;
      const now = found.get(runId);
      let index = this.cache.get(key);
      if (index) {
        this.cache.delete(key); // to the end: most recently used
        if (!now || now[0] !== index.uid || now[1] < index.points) {
          this.chunks -= index.length;
          index = undefined;
        }
      }
      if (!now) return undefined;
      if (!index || now[1] !== index.points) index = this.load(runId, keyId, now[0], now[1], index);
      this.cache.set(key, index);
      return index;
    });
    for (const [key, index] of this.cache) {
      if (this.chunks <= CAPACITY || this.cache.size <= runIds.length) break;
      this.cache.delete(key);
      this.chunks -= index.length;
    }
    return out;
  }

  /** Reads the chunks from the last one of `had` on (it may have been topped up), or all of them. */
  private load(runId: number, keyId: number, uid: string, points: number, had?: ChunkIndex): ChunkIndex {
    const keep = had?.length ? had.length - 1 : 0;
    const rows = this.q.rows.all(runId, keyId, had?.length ? had.seq[keep]! : -1) as Row[];
    const length = keep + rows.length;
    let index: ChunkIndex;
    if (had && had.seq.length >= length) index = had;
    else {
      const cap = had ? Math.max(length, 2 * had.seq.length) : length;
      index = { length: 0, uid, points: 0 } as ChunkIndex;
      for (const c of COLUMNS) {
        index[c] = new Float64Array(cap);
        if (had) index[c].set(had[c].subarray(0, keep));
      }
    }
    const { seq, n, stepLo, stepHi, stepLast, timeLo, timeHi, vMin, vMax, vLast } = index;
    for (let i = 0, at = keep; i < rows.length; i++, at++) {
      const r = rows[i]!;
      seq[at] = r[0]; n[at] = r[1]; stepLo[at] = r[2]; stepHi[at] = r[3]; stepLast[at] = r[4]; timeLo[at] = r[5]; timeHi[at] = r[6];
      vMin[at] = r[7] ?? NaN; vMax[at] = r[8] ?? NaN; vLast[at] = r[9] ?? NaN;
    }
    this.chunks += length - (had ? had.length : 0);
    index.length = length;
    index.uid = uid;
    index.points = points;
    return index;
  }
}
