import type { ParamValue } from '../types.ts';

/** A mistake in a sweep's values or configuration, worded for the person who wrote it. */
export class SweepError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SweepError';
  }
}

const MAX_VALUES = 10_000;
/** Rounds away float noise: 0.1 + 0.2 → 0.3. */
const tidy = (v: number) => Number(v.toPrecision(12));

function num(text: string, what: string, input: string): number {
  const v = Number(text.trim().replace(/_/g, ''));
  if (text.trim() === '' || !Number.isFinite(v)) throw new SweepError(`${what} in "${input}" must be a number, not "${text.trim()}"`);
  return v;
}

function scalar(raw: string): ParamValue {
  const s = raw.trim();
  if (/^"(?:[^"\\]|\\.)*"$/s.test(s)) return JSON.parse(s) as string;
  if (/^'[^']*'$/s.test(s)) return s.slice(1, -1);
  if (s === 'true' || s === 'True') return true;
  if (s === 'false' || s === 'False') return false;
  const n = Number(s.replace(/_/g, ''));
  return Number.isFinite(n) ? n : s;
}

/** Splits on commas outside quotes. */
function splitList(s: string): string[] {
  const parts: string[] = [];
  let cur = '', quote = '';
  for (const c of s) {
    if (quote) { cur += c; if (c === quote) quote = ''; continue; }
    if (c === '"' || c === "'") quote = c;
    if (c === ',') { parts.push(cur); cur = ''; } else cur += c;
  }
  if (quote) throw new SweepError(`unclosed ${quote} in "${s}"`);
  parts.push(cur);
  return parts;
}

/**
 * Values to sweep, from what a person types:
 * - a list: `1e-3, 3e-3, 1e-2` (brackets optional; quotes for strings with commas);
 * - a range `1..10` (step 1) or `start:stop:step` like `0:1:0.25` (stop included when a step lands on it);
 * - a log range `log(1e-4, 1e-1, 4)`: 4 values spaced evenly in log scale, both ends included.
 */
export function parseSweepValues(text: string): ParamValue[] {
  const s = text.trim();
  if (!s) throw new SweepError('no values: give a list like 1e-3, 3e-3, a range like 1..10 or 0:1:0.25, or log(1e-4, 1e-1, 4)');
  const log = /^log\s*\((.*)\)$/is.exec(s);
  if (log) {
    const args = log[1]!.split(',');
    if (args.length !== 3) throw new SweepError(`log(start, stop, count) takes 3 numbers, got "${s}"`);
    const [a, b] = [num(args[0]!, 'start', s), num(args[1]!, 'stop', s)];
    const n = num(args[2]!, 'count', s);
    if (a <= 0 || b <= 0) throw new SweepError(`log range "${s}" needs start and stop above 0`);
    if (!Number.isInteger(n) || n < 2) throw new SweepError(`log range "${s}" needs a whole count of at least 2`);
    if (n > MAX_VALUES) throw new SweepError(`log range "${s}" has more than ${MAX_VALUES} values`);
    return Array.from({ length: n }, (_, i) => tidy(a * (b / a) ** (i / (n - 1))));
  }
  const plain = !/[,"'[\]]/.test(s);
  if (plain && s.includes('..')) {
    const ends = s.split('..');
    if (ends.length !== 2) throw new SweepError(`a range is start..stop, like 1..10, not "${s}"`);
    return range(num(ends[0]!, 'start', s), num(ends[1]!, 'stop', s), 1, s);
  }
  if (plain && s.includes(':')) {
    const parts = s.split(':');
    if (parts.length !== 3) throw new SweepError(`a stepped range is start:stop:step, like 0:1:0.25, not "${s}" (quote a string that has a colon)`);
    return range(num(parts[0]!, 'start', s), num(parts[1]!, 'stop', s), num(parts[2]!, 'step', s), s);
  }
  const list = s.startsWith('[') && s.endsWith(']') ? s.slice(1, -1) : s;
  const parts = splitList(list);
  if (parts.some((p) => !p.trim())) throw new SweepError(`empty value in list "${s}"`);
  return parts.map(scalar);
}

function range(start: number, stop: number, step: number, input: string): number[] {
  if (step === 0) throw new SweepError(`range "${input}" has a step of 0`);
  if ((stop - start) * step < 0) throw new SweepError(`range "${input}" never reaches its stop: ${step > 0 ? 'start is above stop' : 'start is below stop'}`);
  const steps = (stop - start) / step;
  const n = Math.floor(steps + 1e-9) + 1;
  if (n > MAX_VALUES) throw new SweepError(`range "${input}" has more than ${MAX_VALUES} values`);
  return Array.from({ length: n }, (_, i) => tidy(start + i * step));
}

/** A continuous range for random search; `log` samples evenly in log scale, `int` rounds. */
export interface Continuous {
  min: number;
  max: number;
  log?: boolean;
  int?: boolean;
}

export type SweepSpace = { [key: string]: readonly ParamValue[] };
export type RandomSpace = { [key: string]: readonly ParamValue[] | Continuous };

/** Every combination, the first key varying slowest, values in the order given. */
export function gridSweep(space: SweepSpace): { [key: string]: ParamValue }[] {
  let out: { [key: string]: ParamValue }[] = [{}];
  for (const [key, values] of Object.entries(space)) {
    if (!values.length) throw new SweepError(`"${key}" has no values`);
    if (out.length * values.length > MAX_VALUES) throw new SweepError(`the grid has more than ${MAX_VALUES} combinations`);
    out = out.flatMap((p) => values.map((v) => ({ ...p, [key]: v })));
  }
  return out;
}

/** mulberry32: a small PRNG, the same sequence for the same seed on every platform. */
export function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `n` random points: lists are sampled uniformly, ranges continuously. Deterministic for a seed. */
export function randomSweep(space: RandomSpace, n: number, seed: number): { [key: string]: ParamValue }[] {
  if (!Number.isInteger(n) || n < 1) throw new SweepError(`the number of random trials must be a whole number above 0, not ${n}`);
  const rnd = prng(seed);
  const entries = Object.entries(space);
  for (const [key, dim] of entries) {
    if (Array.isArray(dim)) { if (!dim.length) throw new SweepError(`"${key}" has no values`); continue; }
    const c = dim as Continuous;
    if (!Number.isFinite(c.min) || !Number.isFinite(c.max) || c.min > c.max) throw new SweepError(`"${key}" needs numbers min ≤ max`);
    if (c.log && c.min <= 0) throw new SweepError(`"${key}" is sampled in log scale, so min must be above 0`);
  }
  return Array.from({ length: n }, () => {
    const point: { [key: string]: ParamValue } = {};
    for (const [key, dim] of entries) {
      const u = rnd();
      if (Array.isArray(dim)) { point[key] = dim[Math.min(dim.length - 1, Math.floor(u * dim.length))]!; continue; }
      const c = dim as Continuous;
      if (c.int) { point[key] = Math.min(Math.floor(c.max), Math.ceil(c.min) + Math.floor(u * (Math.floor(c.max) - Math.ceil(c.min) + 1))); continue; }
      point[key] = tidy(c.log ? Math.exp(Math.log(c.min) + u * (Math.log(c.max) - Math.log(c.min))) : c.min + u * (c.max - c.min));
    }
    return point;
  });
}

export interface CurvePoint {
  step: number;
  value: number;
}

/**
 * The median stopping rule (Golovin et al., "Google Vizier", KDD 2017, section 3.2.2): a member is
 * stopped when, at its recent evaluations, its best value so far is strictly worse than the median of
 * the other members' running averages up to the same step. Here "recent" means its last `patience`
 * evaluations at or before `step`, every one of them; only members that have reached that step count
 * as others, and an evaluation with no such others is not held against it. NaN counts as worst.
 * Returns the indexes of the members to stop; none before `minSteps`.
 */
export function medianStop(curves: readonly (readonly CurvePoint[])[], goal: 'min' | 'max', step: number, patience: number,
  options: { minSteps?: number } = {}): number[] {
  const worse = (a: number, b: number) => Number.isNaN(a) ? !Number.isNaN(b) : goal === 'max' ? a < b : a > b;
  const upTo = curves.map((c) => c.filter((p) => p.step <= step).sort((a, b) => a.step - b.step));
  /** The running average of one curve up to step t (NaN ignored), or undefined when it has not reached t. */
  const runningAverage = (points: CurvePoint[], t: number): number | undefined => {
    if (!points.length || points[points.length - 1]!.step < t) return undefined;
    let sum = 0, n = 0;
    for (const p of points) { if (p.step > t) break; if (!Number.isNaN(p.value)) { sum += p.value; n++; } }
    return n ? sum / n : undefined;
  };
  const stop: number[] = [];
  upTo.forEach((points, m) => {
    if (patience < 1 || points.length < patience) return;
    if (points[points.length - 1]!.step < (options.minSteps ?? 0)) return;
    let best = NaN;
    const bad: boolean[] = [];
    for (const p of points) {
      if (Number.isNaN(best) || (!Number.isNaN(p.value) && worse(best, p.value))) best = p.value;
      const others = upTo.flatMap((o, j) => {
        const avg = j === m ? undefined : runningAverage(o, p.step);
        return avg === undefined ? [] : [avg];
      }).sort((a, b) => a - b);
      if (!others.length) { bad.push(false); continue; }
      const mid = others.length >> 1;
      const median = others.length % 2 ? others[mid]! : (others[mid - 1]! + others[mid]!) / 2;
      bad.push(worse(best, median));
    }
    if (bad.slice(-patience).every(Boolean)) stop.push(m);
  });
  return stop;
}
