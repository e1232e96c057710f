import type { Db } from './database.ts';
import type { MetricSummary } from '../types.ts';
import { type ChunkLayout, type Columns, compressedLayout, concat, slice, summarize, unpack } from './chunks.ts';
import { type ConversionProgress, conversionProgress, convertBatch } from './codecMigration.ts';
import { ChunkIndexes } from './chunkIndex.ts';
import { type Axis, type DownsampleRequest, type Downsampled, StaleRead, downsampleSeries } from './downsample.ts';

export type { Axis, DownsampleRequest, Downsampled } from './downsample.ts';

/** Chunks not asked for that blobs() reads rather than start another statement. */
const GAP = 8;

const nanIfNull = (v: number | null) => (v === null ? NaN : v);
const EMPTY: Columns = { steps: new Float64Array(), times: new Float64Array(), values: new Float64Array() };

/** Metric points, kept in packed chunks, and their per-run summaries. */
export class MetricRepository {
  /** How chunks are cut and written; the benches swap in RAW_LAYOUT, the layout before compression, as a baseline. */
  layout: ChunkLayout;
  private readonly db: Db;
  private readonly keyIds = new Map<string, number>();
  private readonly indexes: ChunkIndexes;
  /** Runs fn in a read transaction: what it reads is one state of the store. */
  private readonly snapshot: <T>(fn: () => T) => T;
  private readonly q;

  constructor(db: Db) {
    this.db = db;
    this.layout = compressedLayout(db.pragma('page_size', { simple: true }) as number);
    this.indexes = new ChunkIndexes(db);
    const tx = db.transaction((fn: () => unknown) => fn());
    this.snapshot = <T>(fn: () => T) => tx(fn) as T;
    this.q = {
      keyId: db.prepare<[string], { id: number }>('SELECT id FROM metric_keys WHERE name = ?'),
      addKey: db.prepare('INSERT OR IGNORE INTO metric_keys (name) VALUES (?)'),
      tail: db.prepare<[number, number], { seq: number; n: number; data: Buffer }>(
        `SELECT c.seq, c.n, p.data FROM metric_chunks c JOIN metric_chunk_points p
          ON p.run_id = c.run_id AND p.key_id = c.key_id AND p.seq = c.seq
          WHERE c.run_id = ? AND c.key_id = ? ORDER BY c.seq DESC LIMIT 1`),
      putSummary: db.prepare(`INSERT OR REPLACE INTO metric_chunks
        (run_id, key_id, seq, n, step_lo, step_hi, step_last, time_lo, time_hi, v_min, v_max, v_last)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
      putPoints: db.prepare('INSERT OR REPLACE INTO metric_chunk_points (run_id, key_id, seq, data) VALUES (?, ?, ?, ?)'),
      summarize: db.prepare(`INSERT INTO metric_summaries
        (run_id, key_id, count, first_step, last_step, last_value, min_value, max_value, last_time)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
        ON CONFLICT (run_id, key_id) DO UPDATE SET
          count = count + excluded.count,
          last_step = excluded.last_step,
          last_value = excluded.last_value,
          last_time = excluded.last_time,
          min_value = min(coalesce(min_value, excluded.min_value), coalesce(excluded.min_value, min_value)),
          max_value = max(coalesce(max_value, excluded.max_value), coalesce(excluded.max_value, max_value))`),
      summaries: db.prepare<[number], SummaryRow>(`SELECT k.name AS key, s.count, s.first_step, s.last_step, s.last_value,
        s.min_value, s.max_value, s.last_time FROM metric_summaries s JOIN metric_keys k ON k.id = s.key_id
        WHERE s.run_id = ? ORDER BY k.name`),
      count: db.prepare('SELECT count FROM metric_summaries WHERE run_id = ? AND key_id = ?').pluck(),
      newest: db.prepare('SELECT seq, n FROM metric_chunks WHERE run_id = ? AND key_id = ? ORDER BY seq DESC').raw(),
      points: db.prepare<[number, number, number, number]>(
        'SELECT data FROM metric_chunk_points WHERE run_id = ? AND key_id = ? AND seq BETWEEN ? AND ? ORDER BY seq').pluck(),
      bestChunk: {
        min: db.prepare(`SELECT seq FROM metric_chunks WHERE run_id = ? AND key_id = ? AND v_min IS NOT NULL
          ORDER BY v_min, seq LIMIT 1`).pluck(),
        max: db.prepare(`SELECT seq FROM metric_chunks WHERE run_id = ? AND key_id = ? AND v_max IS NOT NULL
          ORDER BY v_max DESC, seq LIMIT 1`).pluck(),
      },
      // the newest chunk that starts at or before the step
      chunkAtStep: db.prepare(`SELECT seq FROM metric_chunks WHERE run_id = ? AND key_id = ? AND step_lo <= ?
        ORDER BY seq DESC LIMIT 1`).pluck(),
      // chunks that may hold the step itself, newest first (more than one after a restart from a checkpoint)
      chunksHolding: db.prepare(`SELECT seq FROM metric_chunks WHERE run_id = ? AND key_id = ? AND step_lo <= ? AND step_hi >= ?
        ORDER BY seq DESC`).pluck(),
      // contiguous chunks' blobs as one (a row each costs more than reading them), with each one's seq and length
      blobs: db.prepare(`SELECT CAST(group_concat(data, X'') AS BLOB), group_concat(seq || ',' || length(data))
        FROM metric_chunk_points WHERE run_id = ? AND key_id = ? AND seq BETWEEN ? AND ?`).raw(),
    };
  }

  /** Appends points for several keys of one run in a single transaction. */
  appendMany(runId: number, series: Iterable<[key: string, points: Columns]>): void {
    try {
      this.db.transaction(() => {
        for (const [key, points] of series) this.appendOne(runId, key, points);
      }).immediate();
    } catch (err) {
      this.keyIds.clear(); // a rolled-back key insert must not stay cached
      throw err;
    }
  }

  append(runId: number, key: string, points: Columns): void {
    this.appendMany(runId, [[key, points]]);
  }

  /** Every point of one series, in log order. */
  points(runId: number, key: string): Columns {
    const keyId = this.findKey(key);
    if (keyId === undefined) return EMPTY;
    const chunks: Columns[] = [];
    for (const data of this.q.points.iterate(runId, keyId, 0, Number.MAX_SAFE_INTEGER)) chunks.push(unpack(data as Buffer));
    return chunks.length ? joinChunks(chunks) : EMPTY;
  }

  /** How many points one series has (0 when it has none). */
  count(runId: number, key: string): number {
    const keyId = this.findKey(key);
    return keyId === undefined ? 0 : (this.q.count.get(runId, keyId) as number | undefined) ?? 0;
  }

  /** The last `n` points of one series in log order (fewer when it has fewer); decodes only the chunks that hold them. */
  lastPoints(runId: number, key: string, n: number): Columns {
    const keyId = this.findKey(key);
    if (keyId === undefined || n <= 0) return EMPTY;
    const seqs: number[] = [];
    let have = 0;
    for (const [seq, count] of this.q.newest.iterate(runId, keyId) as Iterable<[number, number]>) {
      seqs.unshift(seq);
      have += count;
      if (have >= n) break;
    }
    const decoded = this.decode(runId, keyId, seqs);
    const out = joinChunks(seqs.map((s) => decoded.get(s)!));
    return slice(out, Math.max(0, out.values.length - n), out.values.length);
  }

  summaries(runId: number): MetricSummary[] {
    return this.q.summaries.all(runId).map((r) => ({
      key: r.key, count: r.count, firstStep: r.first_step, lastStep: r.last_step,
      last: nanIfNull(r.last_value), min: r.min_value, max: r.max_value, lastTime: r.last_time,
    }));
  }

  /** Per-bucket min / max / last over [lo, hi] (downsample.ts). */
  downsample(runId: number, key: string, req: DownsampleRequest): Downsampled {
    return this.downsampleMany(key, [[runId, req]])[0]!;
  }

  /**
   * downsample() for many runs' series of one key: one statement checks the chunk summaries kept in memory
   * (chunkIndex.ts) for every run, then only the chunks a summary cannot answer are read. Should another
   * connection write in between (a chunk read is not the one summed up), it is all read again in a transaction.
   */
  downsampleMany(key: string, asks: readonly [runId: number, req: DownsampleRequest][]): Downsampled[] {
    const keyId = this.findKey(key);
    const answer = () => {
      const indexes = keyId === undefined ? [] : this.indexes.get(asks.map((a) => a[0]), keyId);
      return asks.map(([runId, req], i) => downsampleSeries(indexes[i], req, (seqs) => this.blobs(runId, keyId!, seqs)));
    };
    try {
      return answer();
    } catch (err) {
      if (!(err instanceof StaleRead) || this.db.inTransaction) throw err;
      return this.snapshot(answer);
    }
  }

  /** extent() of many runs' series of one key (undefined for a run without it), from the summaries kept in memory. */
  extents(runIds: readonly number[], key: string, axis: Axis): ([number, number] | undefined)[] {
    const keyId = this.findKey(key);
    if (keyId === undefined) return runIds.map(() => undefined);
    const indexes = this.indexes.get(runIds, keyId);
    return indexes.map((index) => {
      if (!index?.length) return undefined;
      const los = axis === 'step' ? index.stepLo : index.timeLo, his = axis === 'step' ? index.stepHi : index.timeHi;
      let lo = Infinity, hi = -Infinity;
      for (let c = 0; c < index.length; c++) {
        if (los[c]! < lo) lo = los[c]!;
        if (his[c]! > hi) hi = his[c]!;
      }
      return [lo, hi];
    });
  }

  /** The smallest and largest x of one series on an axis, or undefined when it has no points. */
  extent(runId: number, key: string, axis: Axis): [number, number] | undefined {
    return this.extents([runId], key, axis)[0];
  }

  /**
   * The point where a series is best (lowest for 'min', highest for 'max'); the earliest one on a tie.
   * Reads chunk summaries, then decodes only the chunk that holds the best value.
   */
  best(runId: number, key: string, goal: 'min' | 'max'): { step: number; value: number } | undefined {
    const keyId = this.findKey(key);
    if (keyId === undefined) return undefined;
    const seq = this.q.bestChunk[goal].get(runId, keyId) as number | undefined;
    if (seq === undefined) return undefined;
    const c = this.decode(runId, keyId, [seq], 'times').get(seq)!;
    let at = -1;
    for (let i = 0; i < c.values.length; i++) {
      const v = c.values[i]!;
      if (v !== v) continue;
      if (at < 0 || (goal === 'min' ? v < c.values[at]! : v > c.values[at]!)) at = i;
    }
    return at < 0 ? undefined : { step: c.steps[at]!, value: c.values[at]! };
  }

  /** The value logged (last) at a step, or else the last one logged at a step before it (NaN stays NaN). */
  valueAt(runId: number, key: string, step: number): number | undefined {
    const keyId = this.findKey(key);
    if (keyId === undefined) return undefined;
    // The step itself, logged last (a run resumed from a checkpoint logs some steps twice).
    for (const at of this.q.chunksHolding.iterate(runId, keyId, step, step) as Iterable<number>) {
      const c = this.decode(runId, keyId, [at], 'times').get(at)!;
      for (let i = c.steps.length - 1; i >= 0; i--) if (c.steps[i] === step) return c.values[i]!;
    }
    const seq = this.q.chunkAtStep.get(runId, keyId, step) as number | undefined;
    if (seq === undefined) return undefined;
    const c = this.decode(runId, keyId, [seq], 'times').get(seq)!;
    let found: number | undefined;
    for (let i = 0; i < c.steps.length; i++) if (c.steps[i]! <= step) found = c.values[i]!;
    return found;
  }

  /** How far the conversion of chunks in the raw layout of before schema 8 is; undefined when none are left. */
  conversionProgress(): ConversionProgress | undefined {
    return conversionProgress(this.db);
  }

  /** Converts the next `limit` raw-layout chunks in one transaction (codecMigration.ts). */
  convertBatch(limit?: number): ConversionProgress {
    return convertBatch(this.db, limit);
  }

  /** Decodes the given chunks, reading each contiguous run of sequence numbers with one range scan; `skip` leaves a column out. */
  private decode(runId: number, keyId: number, seqs: number[], skip?: 'steps' | 'times'): Map<number, Columns> {
    const out = new Map<number, Columns>();
    for (let i = 0; i < seqs.length;) {
      let j = i;
      while (j + 1 < seqs.length && seqs[j + 1] === seqs[j]! + 1) j++;
      let seq = seqs[i]!;
      for (const data of this.q.points.iterate(runId, keyId, seqs[i]!, seqs[j]!)) out.set(seq++, unpack(data as Buffer, skip));
      i = j + 1;
    }
    return out;
  }

  /**
   * The blobs of the given chunks, in order. Sequence numbers close together are read as one blob, the
   * chunks between them too (a statement costs more than a few blobs more), and those not asked for passed over.
   */
  private blobs(runId: number, keyId: number, seqs: number[]): Uint8Array[] {
    const out: Uint8Array[] = [];
    for (let i = 0; i < seqs.length;) {
      let j = i;
      while (j + 1 < seqs.length && seqs[j + 1]! > seqs[j]! && seqs[j + 1]! - seqs[j]! <= GAP && seqs[j + 1]! - seqs[i]! < 4096) j++;
      const [data, list] = this.q.blobs.get(runId, keyId, seqs[i], seqs[j]) as [Buffer | null, string | null];
      const parts = list ? list.split(',') : [];
      const from = out.length;
      let want = i, at = 0, prev = -Infinity;
      for (let k = 0; k < parts.length && want <= j; k += 2) {
        const seq = Number(parts[k]), end = at + Number(parts[k + 1]);
        if (!(seq > prev)) break; // not in seq order (SQLite does not promise it): a row each
        prev = seq;
        if (seq === seqs[want]) {
          out.push(new Uint8Array(data!.buffer, data!.byteOffset + at, end - at)); // a view: cheaper than a Buffer's subarray
          want++;
        }
        at = end;
      }
      if (want <= j) {
        out.length = from;
        for (let k = i; k <= j; k++) for (const blob of this.q.points.iterate(runId, keyId, seqs[k], seqs[k])) out.push(blob as Buffer);
        if (out.length - from !== j - i + 1) throw new StaleRead(`chunks ${seqs[i]}..${seqs[j]} of run ${runId} are gone`);
      }
      i = j + 1;
    }
    return out;
  }

  private appendOne(runId: number, key: string, points: Columns): void {
    const total = points.values.length;
    if (total === 0) return;
    if (points.steps.length !== total || points.times.length !== total) {
      throw new RangeError(`metric ${key}: steps, times and values differ in length`);
    }
    const keyId = this.keyId(key);
    const tail = this.q.tail.get(runId, keyId);
    let seq = tail ? tail.seq : -1;
    let from = 0, perPoint = 0; // bytes a point took in the last chunk, to size the next
    if (tail && tail.n < this.layout.maxPoints && tail.data.length < this.layout.maxBytes * 0.9) {
      // Top up the open chunk so chunks stay full; its earlier points are rewritten, never lost.
      perPoint = tail.data.length / tail.n;
      const filled = this.fill(unpack(tail.data), points, 0, perPoint);
      if (filled) {
        this.putChunk(runId, keyId, seq, filled.cols, filled.blob);
        from = filled.taken;
        perPoint = filled.blob.length / filled.cols.values.length;
      }
    }
    while (from < total) {
      const filled = this.fill(EMPTY, points, from, perPoint)!;
      this.putChunk(runId, keyId, ++seq, filled.cols, filled.blob);
      from += filled.taken;
      perPoint = filled.blob.length / filled.taken;
    }
    const s = summarize(points);
    this.q.summarize.run(runId, keyId, total, points.steps[0], s.stepLast, s.last, s.min, s.max, points.times[total - 1]);
  }

  /**
   * `head` and as many of points[from..] as fit one chunk: at most layout.maxPoints, in a blob of at most
   * layout.maxBytes. Sized from the bytes a point took before, then shrunk if the blob came out too big.
   * Undefined when not one more point fits after `head`.
   */
  private fill(head: Columns, points: Columns, from: number, perPoint: number) {
    const { pack, maxPoints, maxBytes } = this.layout;
    const had = head.values.length;
    const room = Math.min(maxPoints - had, points.values.length - from);
    let k = perPoint > 0 ? Math.floor((0.98 * maxBytes) / perPoint) - had : room;
    k = Math.max(1, Math.min(room, k));
    for (let tries = 0; ; tries++) {
      const cols = had ? concat(head, slice(points, from, from + k)) : slice(points, from, from + k);
      const blob = pack(cols, tries > 0);
      if (blob.length <= maxBytes || (k === 1 && !had)) return { cols, blob, taken: k };
      if (k === 1) return undefined;
      k = Math.max(1, Math.min(k - 1, Math.floor(((had + k) * 0.97 * maxBytes) / blob.length) - had));
    }
  }

  private putChunk(runId: number, keyId: number, seq: number, c: Columns, blob: Buffer): void {
    const s = summarize(c);
    this.q.putSummary.run(runId, keyId, seq, s.n, s.stepLo, s.stepHi, s.stepLast, s.timeLo, s.timeHi, s.min, s.max, s.last);
    this.q.putPoints.run(runId, keyId, seq, blob);
  }

  private findKey(key: string): number | undefined {
    const cached = this.keyIds.get(key);
    if (cached !== undefined) return cached;
    const id = this.q.keyId.get(key)?.id;
    if (id !== undefined) this.keyIds.set(key, id);
    return id;
  }

  private keyId(key: string): number {
    const found = this.findKey(key);
    if (found !== undefined) return found;
    this.q.addKey.run(key);
    return this.findKey(key)!;
  }
}

/** Chunks in log order as one set of columns: one copy into arrays of the final size (chunk by chunk would be quadratic). */
function joinChunks(chunks: Columns[]): Columns {
  const n = chunks.reduce((a, c) => a + c.values.length, 0);
  const out: Columns = { steps: new Float64Array(n), times: new Float64Array(n), values: new Float64Array(n) };
  let at = 0;
  for (const c of chunks) {
    out.steps.set(c.steps, at);
    out.times.set(c.times, at);
    out.values.set(c.values, at);
    at += c.values.length;
  }
  return out;
}

interface SummaryRow {
  key: string; count: number; first_step: number; last_step: number; last_value: number | null;
  min_value: number | null; max_value: number | null; last_time: number;
}
