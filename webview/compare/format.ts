/** Axis labels and nice tick positions for the charts. No DOM. Values, durations, dates: src/core/format.ts. */
import type { XAxis } from '../../src/core/compare/protocol.ts';
import { dateTime, duration, trimZeros } from '../../src/core/format.ts';

const SI = [
  { v: 1e12, s: 'T' },
  { v: 1e9, s: 'G' },
  { v: 1e6, s: 'M' },
  { v: 1e3, s: 'k' },
];

/** Axis ticks: compact (12k, 1.5M, 0.25, 1e-5). */
export function formatCompact(v: number): string {
  if (!Number.isFinite(v)) return '';
  if (v === 0) return '0';
  const a = Math.abs(v);
  for (const { v: base, s } of SI) {
    if (a >= base) return trimZeros((v / base).toFixed(a / base >= 100 ? 0 : a / base >= 10 ? 1 : 2)) + s;
  }
  if (a < 1e-3) return v.toExponential(1).replace('e+', 'e').replace('.0e', 'e');
  return trimZeros(v.toPrecision(3));
}

/** A step with thousands separators: 73,421. */
export function formatStep(v: number): string {
  return Math.round(v).toLocaleString('en-US');
}

const monthDay = new Intl.DateTimeFormat(undefined, { month: 'short', day: 'numeric' });
const p2 = (n: number) => String(n).padStart(2, '0');

/** A wall-clock tick label; `span` (ms) decides the precision. */
export function formatClock(ms: number, span: number): string {
  const d = new Date(ms);
  const hm = `${p2(d.getHours())}:${p2(d.getMinutes())}`;
  if (span < 10 * 60_000) return `${hm}:${p2(d.getSeconds())}`;
  if (span < 86_400_000) return hm;
  const day = monthDay.format(d);
  if (span < 10 * 86_400_000) return d.getHours() === 0 && d.getMinutes() === 0 ? day : `${day} ${hm}`;
  return day;
}

/** The hovered x as the tooltip's title. */
export function formatX(axis: XAxis, x: number): string {
  if (axis === 'step') return `Step ${formatStep(x)}`;
  if (axis === 'time') return dateTime(x);
  return `+${duration(x)}`;
}

/** Tick label for the x axis; span is the visible range in axis units. */
export function formatXTick(axis: XAxis, x: number, span: number): string {
  if (axis === 'step') return formatCompact(x);
  if (axis === 'time') return formatClock(x, span);
  return duration(x);
}

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const TIME_STEPS = [
  1, 2, 5, 10, 20, 50, 100, 200, 500,
  SECOND, 2 * SECOND, 5 * SECOND, 10 * SECOND, 15 * SECOND, 30 * SECOND,
  MINUTE, 2 * MINUTE, 5 * MINUTE, 10 * MINUTE, 15 * MINUTE, 30 * MINUTE,
  HOUR, 2 * HOUR, 3 * HOUR, 6 * HOUR, 12 * HOUR,
  DAY, 2 * DAY, 7 * DAY, 14 * DAY, 30 * DAY, 90 * DAY, 365 * DAY,
];

/**
 * Tick values at round durations (relative axis) or round local clock times (time axis),
 * about `target` of them between min and max.
 */
export function timeTicks(min: number, max: number, target: number, clock: boolean): number[] {
  if (!(max > min) || !Number.isFinite(min) || !Number.isFinite(max)) return Number.isFinite(min) ? [min] : [];
  const raw = (max - min) / Math.max(1, target);
  const step = TIME_STEPS.find((s) => s >= raw) ?? Math.ceil(raw / (365 * DAY)) * 365 * DAY;
  // Local time alignment for clock ticks (whole hours/days fall on local midnights).
  const offset = clock && step >= MINUTE ? -new Date(min).getTimezoneOffset() * MINUTE : 0;
  const first = Math.ceil((min + offset) / step) * step - offset;
  const ticks: number[] = [];
  for (let v = first; v <= max + 1e-9 && ticks.length < 1000; v += step) ticks.push(v);
  return ticks;
}

/** A param value as text (null: the run has no such param). */
export function formatParam(v: number | string | boolean | null | undefined): string {
  if (v === null || v === undefined) return '—';
  return String(v);
}

/** The metric filter: a case-insensitive regex, or plain text when it is not a valid regex. */
export function keyMatcher(search: string): (key: string) => boolean {
  const q = search.trim();
  if (!q) return () => true;
  try {
    const re = new RegExp(q, 'i');
    return (k) => re.test(k);
  } catch {
    const lower = q.toLowerCase();
    return (k) => k.toLowerCase().includes(lower);
  }
}

/** Round tick values (1, 2, 2.5, 5 × 10^k apart) within [min, max], about `target` of them. */
export function niceTicks(min: number, max: number, target: number, integer = false): number[] {
  if (!Number.isFinite(min) || !Number.isFinite(max)) return [];
  if (!(max > min)) return [min];
  const raw = (max - min) / Math.max(1, target);
  const mag = Math.pow(10, Math.floor(Math.log10(raw)));
  let step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag;
  if (integer) step = Math.max(1, Math.round(step));
  const first = Math.ceil(min / step - 1e-9) * step;
  const ticks: number[] = [];
  for (let i = 0; ticks.length < 200; i++) {
    const v = first + i * step;
    if (v > max + step * 1e-9) break;
    ticks.push(Math.abs(v) < step * 1e-9 ? 0 : Number(v.toPrecision(12)));
  }
  return ticks;
}

/**
 * A y tick label, consistent along one axis: exponents when the axis is all tiny or huge. `step`,
 * the distance between ticks, gives small numbers enough decimals that ticks never read the same
 * (10.55 and 10.6, not 10.6 twice).
 */
export function formatTick(v: number, axisMaxAbs: number, step?: number): string {
  if (!Number.isFinite(v)) return '';
  if (v === 0) return '0';
  if (axisMaxAbs < 1e-2 || axisMaxAbs >= 1e9) return v.toExponential(1).replace('e+', 'e').replace('.0e', 'e');
  if (step && step > 0 && Math.abs(v) < 1e3) {
    const digits = String(Number(step.toPrecision(6))).split('.')[1]?.length ?? 0;
    if (digits > 0 && !/e/.test(String(step))) return trimZeros(v.toFixed(Math.min(10, digits)));
  }
  return formatCompact(v);
}
