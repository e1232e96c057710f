/**
 * Live updates for the Compare panel: remembers, per chart key, the last x each run's series had
 * when it was sent, and answers "what is new since then" with only the new points.
 */
import type { Store } from '../store/store.ts';
import type { Run } from '../types.ts';
import { type SeriesAnswer, toSeries } from './compareData.ts';
import type { SeriesData, XAxis } from './protocol.ts';

/** More new points than this per run are bucketed, so a burst never floods the webview. */
export const MAX_APPEND_POINTS = 500;

interface Followed {
  axis: XAxis;
  /** Last x sent per run id (raw axis units: step, or epoch ms for both time axes). */
  sent: Map<number, number>;
}

export class LiveTail {
  private readonly followed = new Map<string, Followed>();

  /** A chart asked for a whole series (range null): follow it from what was sent. */
  follow(key: string, axis: XAxis, answer: SeriesAnswer, runs: Run[], store: Store): void {
    const sent = new Map<number, number>();
    for (const run of runs) {
      const e = store.metrics.extent(run.id, key, axis === 'step' ? 'step' : 'time');
      // what the answer held, which is everything up to the extent at that moment
      if (answer.series.some((s) => s.runId === run.id) && e) sent.set(run.id, e[1]);
    }
    this.followed.set(key, { axis, sent });
  }

  /** A chart zoomed in, or went away: stop sending it live points. */
  unfollow(key: string): void {
    this.followed.delete(key);
  }

  clear(): void {
    this.followed.clear();
  }

  /** New points of every followed key for the given (running) runs, as append messages. */
  collect(store: Store, runs: Run[]): { key: string; axis: XAxis; series: SeriesData[] }[] {
    const out: { key: string; axis: XAxis; series: SeriesData[] }[] = [];
    for (const [key, f] of this.followed) {
      const series: SeriesData[] = [];
      const raw = f.axis === 'step' ? 'step' : 'time';
      for (const run of runs) {
        const e = store.metrics.extent(run.id, key, raw);
        if (!e) continue;
        const from = f.sent.get(run.id);
        if (from !== undefined && e[1] <= from) continue;
        const lo = from ?? e[0];
        const d = store.metrics.downsample(run.id, key, {
          axis: raw, lo, hi: e[1], buckets: MAX_APPEND_POINTS, afterLo: from !== undefined,
        });
        f.sent.set(run.id, e[1]);
        if (!d.x.length) continue;
        const shift = f.axis === 'relative' ? (run.startedAt ?? store.metrics.extent(run.id, key, 'time')?.[0] ?? 0) : 0;
        series.push(toSeries(run.id, d, shift));
      }
      if (series.length) out.push({ key, axis: f.axis, series });
    }
    return out;
  }
}
