/**
 * Auto-fitting the metric charts' axes (scale afterDataLimits callbacks). User bounds (zoom) win.
 * - x: the extent of the visible runs' points, whatever the y zoom (chart.js would otherwise fit
 *   x to the points inside a zoomed y range, so a y-only zoom would also shrink x);
 * - y: the bands as well as the lines, so a spike only the band shows is not clipped, plus a
 *   little air.
 */
import type { Scale } from 'chart.js';
import { lineHosts } from './lineHost.ts';

export function fitX(scale: Scale): void {
  const host = lineHosts.get(scale.chart);
  if (!host) return;
  const { minDefined, maxDefined } = scale.getUserBounds();
  if (minDefined && maxDefined) return;
  let lo = Infinity;
  let hi = -Infinity;
  for (const ref of host.traces) {
    const t = ref.trace;
    if (!ref.visible || !t.length) continue;
    if (t.x[0]! < lo) lo = t.x[0]!;
    if (t.x[t.length - 1]! > hi) hi = t.x[t.length - 1]!;
  }
  if (!(hi >= lo)) return;
  if (hi === lo) {
    // One x for everything (a single logged step): centre it in a small window.
    const pad = host.axis === 'step' ? Math.max(1, Math.abs(lo) * 0.05) : 60_000;
    lo -= pad;
    hi += pad;
  }
  if (!minDefined) scale.min = lo;
  if (!maxDefined) scale.max = hi;
}

/**
 * y scale afterDataLimits: widen the auto range to the bands of the visible runs within the
 * visible x range, so a spike that only the band shows is not clipped. User (zoomed) bounds win.
 */
export function fitBands(scale: Scale): void {
  const chart = scale.chart;
  const host = lineHosts.get(chart);
  if (!host) return;
  const { minDefined, maxDefined } = scale.getUserBounds();
  if (minDefined && maxDefined) return;
  const xo = chart.options.scales?.x as { min?: number; max?: number } | undefined;
  const xmin = typeof xo?.min === 'number' ? xo.min : -Infinity;
  const xmax = typeof xo?.max === 'number' ? xo.max : Infinity;
  let lo = Infinity;
  let hi = -Infinity;
  const logY = host.logY;
  for (const ref of host.traces) {
    if (!ref.visible) continue;
    const t = ref.trace;
    const n = t.length;
    const a = xmin === -Infinity ? 0 : t.lowerBound(xmin);
    for (let i = a; i < n; i++) {
      if (t.x[i]! > xmax) break;
      if (t.count[i]! <= 1) continue;
      const mx = t.max[i];
      const mn = t.min[i];
      if (mx !== null && mx !== undefined && (!logY || mx > 0) && mx > hi) hi = mx;
      if (mn !== null && mn !== undefined && (!logY || mn > 0) && mn < lo) lo = mn;
    }
  }
  if (!maxDefined && hi > scale.max && Number.isFinite(hi)) scale.max = hi;
  if (!minDefined && lo < scale.min && Number.isFinite(lo)) scale.min = lo;
}

/**
 * y scale afterDataLimits: the bands (above), then a little air (3% each side) on a linear axis,
 * without pushing a non-negative series below zero. User (zoomed) bounds are left alone.
 */
export function fitY(scale: Scale): void {
  fitBands(scale);
  const host = lineHosts.get(scale.chart);
  if (!host || host.logY) return;
  const { minDefined, maxDefined } = scale.getUserBounds();
  const span = scale.max - scale.min;
  if (!(span > 0)) return;
  const pad = span * 0.03;
  if (!maxDefined) scale.max += pad;
  if (!minDefined) scale.min = scale.min >= 0 && scale.min - pad < 0 ? 0 : scale.min - pad;
}
