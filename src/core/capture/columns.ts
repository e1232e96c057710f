/** Turning decoded points into the store's per-key float64 columns. */
import type { ScalarPoint } from '../formats/types.ts';
import type { Columns } from '../store/chunks.ts';

/** Decides whether a point is stored. */
export type Keep = (key: string, step: number, value: number) => boolean;

/**
 * Groups points by key (optionally renamed by `keyOf`), keeping each key's points in log order.
 * `keep` may drop points (it sees the final key). Two passes: count, then fill exact-size arrays.
 */
export function groupPoints(
  points: readonly ScalarPoint[],
  keyOf: (key: string) => string = (k) => k,
  keep?: Keep,
): [string, Columns][] {
  const counts = new Map<string, number>();
  const names = new Map<string, string>();
  const kept = keep ? new Uint8Array(points.length) : undefined;
  for (let i = 0; i < points.length; i++) {
    const p = points[i]!;
    let name = names.get(p.key);
    if (name === undefined) names.set(p.key, (name = keyOf(p.key)));
    if (kept) {
      if (!keep!(name, p.step, p.value)) continue;
      kept[i] = 1;
    }
    counts.set(name, (counts.get(name) ?? 0) + 1);
  }
  const out = new Map<string, Columns & { n: number }>();
  for (const [name, n] of counts) {
    out.set(name, { steps: new Float64Array(n), times: new Float64Array(n), values: new Float64Array(n), n: 0 });
  }
  for (let i = 0; i < points.length; i++) {
    if (kept && !kept[i]) continue;
    const p = points[i]!;
    const c = out.get(names.get(p.key)!)!;
    c.steps[c.n] = p.step;
    c.times[c.n] = p.time;
    c.values[c.n++] = p.value;
  }
  return [...out].map(([name, c]) => [name, { steps: c.steps, times: c.times, values: c.values }]);
}

/** How many points a batch holds. */
export const countPoints = (batch: readonly [string, Columns][]) => batch.reduce((n, [, c]) => n + c.values.length, 0);

/** The time range of a batch, or undefined when it is empty. */
export function timeRange(batch: readonly [string, Columns][]): [number, number] | undefined {
  let lo = Infinity, hi = -Infinity;
  for (const [, c] of batch) {
    for (let i = 0; i < c.times.length; i++) {
      const t = c.times[i]!;
      if (t < lo) lo = t;
      if (t > hi) hi = t;
    }
  }
  return lo <= hi ? [lo, hi] : undefined;
}

/** The points of a batch that `keep` keeps, in the same order. */
export function filterBatch(batch: [string, Columns][], keep: Keep): [string, Columns][] {
  const out: [string, Columns][] = [];
  for (const [key, c] of batch) {
    const idx: number[] = [];
    for (let i = 0; i < c.values.length; i++) if (keep(key, c.steps[i]!, c.values[i]!)) idx.push(i);
    if (idx.length === c.values.length) { out.push([key, c]); continue; }
    if (!idx.length) continue;
    const pick = (a: Float64Array) => Float64Array.from(idx, (i) => a[i]!);
    out.push([key, { steps: pick(c.steps), times: pick(c.times), values: pick(c.values) }]);
  }
  return out;
}
