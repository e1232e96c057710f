/**
 * Live updates for the Compare panel: remembers, per chart key, the last x each run's series had
 * when it was sent, and answers "what is new since then" with only the new points.
 */
import type { Store } from '../store/store.ts';
import type { Run } from '../types.ts';
import { type SeriesAnswer, toSeries } from './compareData.ts';
import type { Columns } from '../store/chunks.ts';
import type { Downsampled } from '../store/metricRepository.ts';
import type { SeriesData, XAxis } from './protocol.ts';

/** More new points than this per run are bucketed, so a burst never floods the webview. */
export const MAX_APPEND_POINTS = 500;

interface Followed {
  axis: XAxis;
  /** The runs the chart asked for. */
  runs: Set<number>;
  /** Per run id: how many points were sent (the series' count then), and the largest x sent. */
  sent: Map<number, { count: number; x: number }>;
}

/** More new points than this since the last update are read by x range instead (a burst, bucketed). */
const MAX_TAIL_POINTS = 100_000;

export class LiveTail {
  private readonly followed = new Map<string, Followed>();

  /** A chart asked for a whole series (range null) of these runs: follow them from what was sent. */
  follow(key: string, axis: XAxis, answer: SeriesAnswer, runs: Run[], store: Store): void {
    const sent = new Map<number, { count: number; x: number }>();
    for (const run of runs) {
      // what the answer held, which is everything logged up to that moment
      const e = store.metrics.extent(run.id, key, axis === 'step' ? 'step' : 'time');
      if (answer.series.some((s) => s.runId === run.id) && e) sent.set(run.id, { count: store.metrics.count(run.id, key), x: e[1] });
    }
    this.followed.set(key, { axis, runs: new Set(runs.map((r) => r.id)), sent });
  }

  /** A chart zoomed in, or went away: stop sending it live points. */
  unfollow(key: string): void {
    this.followed.delete(key);
  }

  clear(): void {
    this.followed.clear();
  }

  /**
   * New points of every followed key for the given (running) runs, as append messages: the points
   * logged since the last update, by log order, so a point logged again at a step already sent
   * (a restart from a checkpoint) arrives too.
   */
  collect(store: Store, runs: Run[]): { key: string; axis: XAxis; series: SeriesData[] }[] {
    const out: { key: string; axis: XAxis; series: SeriesData[] }[] = [];
    for (const [key, f] of this.followed) {
      const series: SeriesData[] = [];
      const raw = f.axis === 'step' ? 'step' : 'time';
      for (const run of runs) {
        if (!f.runs.has(run.id)) continue;
        const count = store.metrics.count(run.id, key);
        const sent = f.sent.get(run.id);
        if (count <= (sent?.count ?? 0)) continue;
        const fresh = count - (sent?.count ?? 0);
        const d = fresh > MAX_TAIL_POINTS
          ? burst(store, run.id, key, raw, sent?.x)
          : inLogOrder(store.metrics.lastPoints(run.id, key, fresh), raw);
        f.sent.set(run.id, { count, x: Math.max(sent?.x ?? -Infinity, ...(d.x.length ? [max(d.x)] : [])) });
        if (!d.x.length) continue;
        const shift = f.axis === 'relative' ? (run.startedAt ?? store.metrics.extent(run.id, key, 'time')?.[0] ?? 0) : 0;
        series.push(toSeries(run.id, d, shift));
      }
      if (series.length) out.push({ key, axis: f.axis, series });
    }
    return out;
  }
}

/** New points as at most MAX_APPEND_POINTS buckets of consecutive points (min / max / last of each). */
function inLogOrder(c: Columns, axis: 'step' | 'time'): Downsampled {
  const xs = axis === 'step' ? c.steps : c.times;
  const n = c.values.length;
  const size = Math.ceil(n / MAX_APPEND_POINTS);
  const buckets = Math.ceil(n / size);
  const d: Downsampled = {
    xFirst: new Float64Array(buckets), x: new Float64Array(buckets), last: new Float64Array(buckets),
    min: new Float64Array(buckets).fill(NaN), max: new Float64Array(buckets).fill(NaN), count: new Uint32Array(buckets),
  };
  for (let b = 0; b < buckets; b++) {
    const from = b * size, to = Math.min(n, from + size);
    d.xFirst[b] = xs[from]!;
    d.x[b] = xs[to - 1]!;
    d.last[b] = c.values[to - 1]!;
    d.count[b] = to - from;
    for (let i = from; i < to; i++) {
      const v = c.values[i]!;
      if (v === v && !(v >= d.min[b]!)) d.min[b] = v;
      if (v === v && !(v <= d.max[b]!)) d.max[b] = v;
    }
  }
  return d;
}

/** A burst too large to read point by point: the x range after the largest x sent, bucketed. */
function burst(store: Store, runId: number, key: string, axis: 'step' | 'time', after: number | undefined): Downsampled {
  const e = store.metrics.extent(runId, key, axis)!;
  return store.metrics.downsample(runId, key, { axis, lo: after ?? e[0], hi: e[1], buckets: MAX_APPEND_POINTS, afterLo: after !== undefined });
}

function max(xs: Float64Array): number {
  let m = -Infinity;
  for (const x of xs) if (x > m) m = x;
  return m;
}
