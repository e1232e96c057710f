/** Axis ticks for the metric charts, without chart.js: x ticks per axis kind, and the log y labels. */
import type { XAxis } from '../../src/core/compare/protocol.ts';
import { niceTicks, timeTicks } from './format.ts';

/** Most x ticks aimed for (one per 90 px); a list may hold one more. */
export const MAX_X_TICKS = 8;

export function xTickTarget(width: number): number {
  return Math.max(2, Math.min(MAX_X_TICKS, Math.floor((width || 400) / 90)));
}

/** x tick values: whole steps, round durations (relative) or round local clock times (time). */
export function xTicks(axis: XAxis, min: number, max: number, width: number): number[] {
  const target = xTickTarget(width);
  return axis === 'step' ? niceTicks(min, max, target, true) : timeTicks(min, max, target, axis === 'time');
}

/** chart.js's y tick limit: a log axis gets all its 1..9 gridlines, labels only some. */
export function yTickLimit(logY: boolean): number {
  return logY ? 40 : 7;
}

/** On a log axis only 1, 2 and 5 times a power of ten get a label. */
export function logTickLabelled(v: number): boolean {
  const m = v / Math.pow(10, Math.floor(Math.log10(v)));
  const r = Math.round(m * 10) / 10;
  return r === 1 || r === 2 || r === 5;
}
