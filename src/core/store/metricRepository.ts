import type { Db } from './database.ts';
import type { MetricSummary } from '../types.ts';
import { CHUNK_SIZE, type Columns, concat, pack, slice, summarize, unpack } from './chunks.ts';

export type Axis = 'step' | 'time';

export interface DownsampleRequest {
  axis: Axis;
  /** Inclusive x range. */
  lo: number;
  hi: number;
  /** Usually the chart's width in pixels. */
  buckets: number;
}

/** Non-empty buckets only, in x order. x is the x of the bucket's last point. */
export interface Downsampled {
  x: Float64Array;
  last: Float64Array;
  min: Float64Array;
  max: Float64Array;
  count: Uint32Array;
}

const nanIfNull = (v: number | null) => (v === null ? NaN : v);

/** Metric points, kept in packed chunks, and their per-run summaries. */
export class MetricRepository {
  private readonly db: Db;
  private readonly keyIds = new Map<string, number>();
  private readonly q;

  constructor(db: Db) {
    this.db = db;
    this.q = {
      keyId: db.prepare<[string], { id: number }>('SELECT id FROM metric_keys WHERE name = ?'),
      addKey: db.prepare('INSERT OR IGNORE INTO metric_keys (name) VALUES (?)'),
      tail: db.prepare<[number, number], { seq: number; n: number; steps: Buffer; times: Buffer; vals: Buffer }>(
        'SELECT seq, n, steps, times, vals FROM metric_chunks WHERE run_id = ? AND key_id = ? ORDER BY seq DESC LIMIT 1'),
      putChunk: db.prepare(`INSERT OR REPLACE INTO metric_chunks
        (run_id, key_id, seq, n, step_lo, step_hi, step_last, time_lo, time_hi, v_min, v_max, v_last, steps, times, vals)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
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
      chunks: db.prepare<[number, number], { steps: Buffer; times: Buffer; vals: Buffer }>(
        'SELECT steps, times, vals FROM metric_chunks WHERE run_id = ? AND key_id = ? ORDER BY seq'),
      range: {
        step: this.rangeQuery('step'),
        time: this.rangeQuery('time'),
      },
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
    if (keyId === undefined) return { steps: new Float64Array(), times: new Float64Array(), values: new Float64Array() };
    let out: Columns = { steps: new Float64Array(), times: new Float64Array(), values: new Float64Array() };
    for (const c of this.q.chunks.iterate(runId, keyId)) {
      out = concat(out, { steps: unpack(c.steps), times: unpack(c.times), values: unpack(c.vals) });
    }
    return out;
  }

  summaries(runId: number): MetricSummary[] {
    return this.q.summaries.all(runId).map((r) => ({
      key: r.key, count: r.count, firstStep: r.first_step, lastStep: r.last_step,
      last: nanIfNull(r.last_value), min: r.min_value, max: r.max_value, lastTime: r.last_time,
    }));
  }

  /**
   * Per-bucket min / max / last over [lo, hi]. Chunks that lie inside one bucket are answered
   * from their stored summary; only chunks that cross a bucket edge are decoded. Every point
   * counts, so a one-step spike always shows in its bucket's max.
   */
  downsample(runId: number, key: string, req: DownsampleRequest): Downsampled {
    const { lo, hi } = req;
    const buckets = Math.max(1, Math.floor(req.buckets));
    const keyId = this.findKey(key);
    const min = new Float64Array(buckets).fill(NaN);
    const max = new Float64Array(buckets).fill(NaN);
    const last = new Float64Array(buckets).fill(NaN);
    const x = new Float64Array(buckets).fill(NaN);
    const count = new Uint32Array(buckets);
    if (keyId !== undefined && hi >= lo) {
      const width = hi > lo ? (hi - lo) / buckets : 1;
      const bucketOf = (v: number) => Math.min(buckets - 1, Math.floor((v - lo) / width));
      const take = (b: number, xv: number, vmin: number, vmax: number, vlast: number, n: number) => {
        if (vmin === vmin && !(vmin >= min[b]!)) min[b] = vmin; // NaN never wins; an empty bucket is NaN
        if (vmax === vmax && !(vmax <= max[b]!)) max[b] = vmax;
        last[b] = vlast;
        x[b] = xv;
        count[b]! += n;
      };
      const rows = this.q.range[req.axis].iterate({ run: runId, key: keyId, lo, hi, width, top: buckets - 1 });
      for (const r of rows as Iterable<RangeRow>) {
        if (r.vals === null) {
          take(bucketOf(r.x_lo), r.x_last, nanIfNull(r.v_min), nanIfNull(r.v_max), nanIfNull(r.v_last), r.n);
          continue;
        }
        const xs = unpack(r.xs!), vs = unpack(r.vals);
        for (let i = 0; i < vs.length; i++) {
          const xv = xs[i]!;
          if (xv < lo || xv > hi) continue;
          const v = vs[i]!;
          take(bucketOf(xv), xv, v, v, v, 1);
        }
      }
    }
    return compact({ x, last, min, max, count });
  }

  /** Chunks overlapping [lo, hi]; the point arrays come back only for chunks that cross a bucket edge. */
  private rangeQuery(axis: Axis) {
    const [xlo, xhi, xlast, xs] = axis === 'step'
      ? ['step_lo', 'step_hi', 'step_last', 'steps']
      : ['time_lo', 'time_hi', 'time_hi', 'times'];
    const crosses = `(${xlo} < :lo OR ${xhi} > :hi OR
      min(CAST((${xlo} - :lo) / :width AS INTEGER), :top) != min(CAST((${xhi} - :lo) / :width AS INTEGER), :top))`;
    return this.db.prepare(`SELECT n, ${xlo} AS x_lo, ${xlast} AS x_last, v_min, v_max, v_last,
        CASE WHEN ${crosses} THEN ${xs} END AS xs, CASE WHEN ${crosses} THEN vals END AS vals
      FROM metric_chunks WHERE run_id = :run AND key_id = :key AND ${xhi} >= :lo AND ${xlo} <= :hi ORDER BY seq`);
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
    let from = 0;
    if (tail && tail.n < CHUNK_SIZE) {
      // Top up the open chunk so chunks stay full; its earlier points are rewritten, never lost.
      from = Math.min(total, CHUNK_SIZE - tail.n);
      const old = { steps: unpack(tail.steps), times: unpack(tail.times), values: unpack(tail.vals) };
      this.putChunk(runId, keyId, seq, concat(old, slice(points, 0, from)));
    }
    for (; from < total; from += CHUNK_SIZE) {
      this.putChunk(runId, keyId, ++seq, slice(points, from, Math.min(total, from + CHUNK_SIZE)));
    }
    const s = summarize(points);
    this.q.summarize.run(runId, keyId, total, points.steps[0], s.stepLast, s.last, s.min, s.max, points.times[total - 1]);
  }

  private putChunk(runId: number, keyId: number, seq: number, c: Columns): void {
    const s = summarize(c);
    this.q.putChunk.run(runId, keyId, seq, s.n, s.stepLo, s.stepHi, s.stepLast, s.timeLo, s.timeHi,
      s.min, s.max, s.last, pack(c.steps), pack(c.times), pack(c.values));
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

interface SummaryRow {
  key: string; count: number; first_step: number; last_step: number; last_value: number | null;
  min_value: number | null; max_value: number | null; last_time: number;
}

interface RangeRow {
  n: number; x_lo: number; x_last: number; v_min: number | null; v_max: number | null; v_last: number | null;
  xs: Buffer | null; vals: Buffer | null;
}

function compact(d: Downsampled): Downsampled {
  const keep: number[] = [];
  for (let i = 0; i < d.count.length; i++) if (d.count[i]! > 0) keep.push(i);
  const pick = <T extends Float64Array | Uint32Array>(a: T, make: (n: number) => T) => {
    const out = make(keep.length);
    keep.forEach((k, j) => { out[j] = a[k]!; });
    return out;
  };
  const f = (n: number) => new Float64Array(n);
  return { x: pick(d.x, f), last: pick(d.last, f), min: pick(d.min, f), max: pick(d.max, f), count: pick(d.count, (n) => new Uint32Array(n)) };
}
