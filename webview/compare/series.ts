/**
 * One run's downsampled series in one chart, in the shapes chart.js draws without parsing:
 * `raw` ({x, y: last}) and `smooth` ({x, y: EMA}) arrays that are the datasets' data, kept in
 * place so live points are appended (chart.js sees the push) instead of rebuilt. No DOM.
 */
import type { SeriesData } from '../../src/core/compare/protocol.ts';
import { emaAppend, emaStart, type EmaState } from './smoothing.ts';

export interface XY {
  x: number;
  y: number | null;
}

function finite(v: number | null | undefined): number | null {
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}

export class RunTrace {
  readonly runId: number;
  x: number[] = [];
  last: (number | null)[] = [];
  min: (number | null)[] = [];
  max: (number | null)[] = [];
  count: number[] = [];
  /** Data of the raw line (log scale: non-positive values are gaps). */
  raw: XY[] = [];
  /** Data of the smoothed line; empty while smoothing is off. */
  smooth: XY[] = [];
  /** Non-positive `last` values hidden because the y axis is logarithmic. */
  dropped = 0;
  private ema: EmaState = emaStart();
  private smoothed: (number | null)[] = [];
  private weight = 0;
  private logY = false;

  constructor(runId: number) {
    this.runId = runId;
  }

  get length(): number {
    return this.x.length;
  }

  /** Replaces everything with a fresh answer. New arrays: the caller re-points the datasets. */
  set(s: SeriesData | null, weight: number, logY: boolean): void {
    this.x = [];
    this.last = [];
    this.min = [];
    this.max = [];
    this.count = [];
    this.raw = [];
    this.smooth = [];
    this.smoothed = [];
    this.ema = emaStart();
    this.dropped = 0;
    this.weight = weight;
    this.logY = logY;
    if (s) this.push(s);
  }

  /**
   * Appends live points (those not after the current last x are dropped: they are already here).
   * The arrays are extended in place. Returns how many points were added.
   */
  append(s: SeriesData): number {
    return this.push(s);
  }

  /** New smoothing weight or y scale: recompute the derived arrays (new arrays). */
  restyle(weight: number, logY: boolean): void {
    this.weight = weight;
    this.logY = logY;
    this.raw = [];
    this.smooth = [];
    this.smoothed = [];
    this.ema = emaStart();
    this.dropped = 0;
    this.derive(0);
  }

  /** Index of the point nearest to x (x is sorted); -1 when empty. */
  nearest(x: number): number {
    const xs = this.x;
    const n = xs.length;
    if (!n) return -1;
    let lo = 0;
    let hi = n - 1;
    if (x <= xs[0]!) return 0;
    if (x >= xs[hi]!) return hi;
    while (hi - lo > 1) {
      const mid = (lo + hi) >> 1;
      if (xs[mid]! <= x) lo = mid;
      else hi = mid;
    }
    return x - xs[lo]! <= xs[hi]! - x ? lo : hi;
  }

  /** First index with x >= v (n when none). */
  lowerBound(v: number): number {
    const xs = this.x;
    let lo = 0;
    let hi = xs.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (xs[mid]! < v) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  private push(s: SeriesData): number {
    const from = this.x.length;
    const lastX = from ? this.x[from - 1]! : -Infinity;
    const n = s.x.length;
    for (let i = 0; i < n; i++) {
      const x = s.x[i]!;
      if (!Number.isFinite(x) || x <= lastX) continue;
      if (this.x.length > from && x <= this.x[this.x.length - 1]!) continue;
      const last = finite(s.last[i]);
      const min = finite(s.min[i]);
      const max = finite(s.max[i]);
      this.x.push(x);
      this.last.push(last);
      this.min.push(min ?? last);
      this.max.push(max ?? last);
      this.count.push(s.count[i] ?? 1);
    }
    this.derive(from);
    return this.x.length - from;
  }

  private derive(from: number): void {
    const { x, last, raw, logY } = this;
    for (let i = from; i < x.length; i++) {
      const v = last[i] ?? null;
      let y = v;
      if (logY && v !== null && v <= 0) {
        y = null;
        this.dropped++;
      }
      raw.push({ x: x[i]!, y });
    }
    if (this.weight > 0) {
      emaAppend(last, this.weight, this.ema, this.smoothed, from);
      const sm = this.smooth;
      for (let i = from; i < x.length; i++) {
        const v = this.smoothed[i] ?? null;
        sm.push({ x: x[i]!, y: logY && v !== null && v <= 0 ? null : v });
      }
    }
  }
}
