/**
 * Run-health rules, evaluated incrementally: each call sees only the points just ingested, and the small
 * state left by the calls before (plain JSON, stored with the run, so a run resumed after a reload goes on).
 */
import type { Columns } from '../store/chunks.ts';
import { duration, metricValue } from '../format.ts';
import { type HealthRules, type RuleName, isLossName } from './rules.ts';

export type Severity = 'error' | 'warning' | 'info';

export interface Alert {
  /** A run-health rule, or 'degradation': an evaluation of a model version fell (models/evaluations.ts). */
  rule: RuleName | 'degradation';
  /** The metric key; null for the run as a whole (stall, slow). */
  key: string | null;
  step: number | null;
  value: number | null;
  /** Milliseconds since the epoch: the point's time, or when the check ran. */
  time: number;
  severity: Severity;
  message: string;
}

const SEVERITY: { [R in RuleName]: Severity } = { nan: 'error', divergence: 'error', stall: 'warning', plateau: 'info', slow: 'info' };

/** Rules already raised for a key, as bits; a raised rule stays quiet until it re-arms (plateau: on improvement). */
const NAN = 1, DIVERGED = 2, PLATEAU = 4;

/** One key's state. */
export interface KeyState {
  n: number;
  fired: number;
  /** Divergence: the debiased moving average (sum and weight), and its lowest value from the warm-up on. */
  ema: number;
  emaW: number;
  low: number | null;
  /** Plateau: the best value, the step and point count when it last improved by more than epsilon. */
  best: number | null;
  bestStep: number;
  sinceBest: number;
}

/** Gaps between activity, counted in power-of-two buckets of milliseconds: bucket i holds [2^i, 2^(i+1)). */
const GAP_BUCKETS = 32;

/** The run's own state (stored under the key ''). */
export interface RunState {
  /** The latest activity: a point's time, or output seen (ms). */
  last: number | null;
  gaps: number[];
  /** Pace: the first point from the warm-up on, and the highest step with its time. */
  s0: number | null;
  t0: number | null;
  maxStep: number | null;
  maxTime: number | null;
  /** Milliseconds per step once measurable (read by other runs of the experiment for their median). */
  pace: number | null;
  /** The activity time a stall was raised for (a stall re-arms when something newer comes). */
  stallAt: number | null;
  slow: boolean;
}

export interface RunHealth {
  run: RunState;
  keys: { [key: string]: KeyState };
}

export const newKeyState = (): KeyState => ({ n: 0, fired: 0, ema: 0, emaW: 0, low: null, best: null, bestStep: 0, sinceBest: 0 });
export const newRunState = (): RunState => ({
  last: null, gaps: new Array<number>(GAP_BUCKETS).fill(0), s0: null, t0: null, maxStep: null, maxTime: null, pace: null, stallAt: null, slow: false,
});
export const newRunHealth = (): RunHealth => ({ run: newRunState(), keys: {} });

/** Which rules watch a key. */
function watching(rules: HealthRules, key: string): { divergence: boolean; plateau: boolean } {
  const d = rules.divergence;
  const divergence = d.enabled && (d.metrics ? d.metrics.includes(key) : isLossName(key) || (rules.primary?.goal === 'min' && rules.primary.name === key));
  return { divergence, plateau: rules.plateau.enabled && rules.plateau.metric === key };
}

/**
 * Evaluates `key`'s new points (columns from..to, in log order) and updates `state`. Returns the alerts
 * raised. `experimentPace`: the median ms per step of the experiment's other runs, when known (slow rule).
 */
export function evaluate(state: RunHealth, rules: HealthRules, key: string, c: Columns,
  options: { from?: number; to?: number; experimentPace?: { median: number; runs: number } } = {}): Alert[] {
  const alerts: Alert[] = [];
  const k = (state.keys[key] ??= newKeyState());
  const run = state.run, gaps = run.gaps;
  const { steps, times, values } = c;
  const from = options.from ?? 0, to = options.to ?? values.length;
  const watch = watching(rules, key);
  const nan = rules.nan.enabled;
  const div = rules.divergence, pl = rules.plateau, sl = rules.slow;
  const smooth = div.smoothing, maxGoal = pl.goal === 'max';
  // The state in locals for the loop, written back after it.
  let last = run.last ?? -Infinity, maxStep = run.maxStep ?? -Infinity, maxTime = run.maxTime ?? 0;
  let s0 = run.s0 ?? NaN, t0 = run.t0 ?? NaN;
  let { n, fired, ema, emaW, bestStep, sinceBest } = k;
  let low = k.low ?? NaN, best = k.best ?? NaN;
  for (let i = from; i < to; i++) {
    const v = values[i]!, step = steps[i]!, time = times[i]!;
    if (time > last) {
      if (last !== -Infinity) gaps[gapBucket(time - last)]!++;
      last = time;
    }
    if (step > maxStep) { maxStep = step; maxTime = time; }
    if (s0 !== s0 && step >= sl.warmup) { s0 = step; t0 = time; }
    if (v - v !== 0) { // NaN or ±Inf
      if (nan && !(fired & NAN)) {
        fired |= NAN;
        alerts.push(alert('nan', key, step, v, time, `${key} is ${metricValue(v)} at step ${step}`));
      }
      continue;
    }
    n++;
    if (watch.divergence) {
      ema = smooth * ema + (1 - smooth) * v;
      emaW = smooth * emaW + (1 - smooth);
      if (step >= div.warmup) {
        const sm = ema / emaW;
        if (low !== low || sm < low) low = sm;
        else if (low > 0 && sm > div.factor * low && !(fired & DIVERGED)) {
          fired |= DIVERGED;
          alerts.push(alert('divergence', key, step, v, time,
            `${key} rose to ${metricValue(sm)} at step ${step}, above ${div.factor} × its best ${metricValue(low)}${smooth ? ' (smoothed)' : ''}`));
        }
      }
    }
    if (watch.plateau) {
      if (best !== best || (maxGoal ? v > best + pl.epsilon : v < best - pl.epsilon)) {
        best = v; bestStep = step; sinceBest = 0; fired &= ~PLATEAU;
      } else if (++sinceBest >= pl.points && step - bestStep >= pl.steps && !(fired & PLATEAU)) {
        fired |= PLATEAU;
        alerts.push(alert('plateau', key, step, v, time,
          `${key} has not improved${pl.epsilon ? ` by more than ${metricValue(pl.epsilon)}` : ''} in ${step - bestStep} steps (best ${metricValue(best)} at step ${bestStep})`));
      }
    }
  }
  Object.assign(k, { n, fired, ema, emaW, bestStep, sinceBest, low: low === low ? low : null, best: best === best ? best : null });
  if (last !== -Infinity) run.last = last;
  if (maxStep !== -Infinity) { run.maxStep = maxStep; run.maxTime = maxTime; }
  if (s0 === s0) { run.s0 = s0; run.t0 = t0; }
  if (run.s0 !== null && run.maxStep! - run.s0 >= 20 && run.maxTime! - run.t0! >= 30_000) run.pace = (run.maxTime! - run.t0!) / (run.maxStep! - run.s0);
  const pace = options.experimentPace;
  if (sl.enabled && !run.slow && run.pace !== null && pace && pace.runs >= sl.runs && pace.median > 0 && run.pace > sl.factor * pace.median) {
    run.slow = true;
    alerts.push(alert('slow', null, run.maxStep, run.pace / 1000, run.maxTime!,
      `${duration(run.pace)} per step, ${metricValue(run.pace / pace.median, { digits: 2 })}× the median of ${pace.runs} other runs of the experiment (${duration(pace.median)})`));
  }
  return alerts;
}

/** Output (or any other sign of life) seen at `time`: the stall clock starts again. */
export function noteActivity(run: RunState, time: number): void {
  if (run.last !== null && time > run.last) run.gaps[gapBucket(time - run.last)]!++;
  if (run.last === null || time > run.last) run.last = time;
}

/** How long a silence may last before it is a stall, in ms; the run's usual interval is its gaps' 90th percentile. */
export function stallAfter(run: RunState, rules: HealthRules): number {
  const floor = rules.stall.floor * 1000;
  const usual = usualGap(run);
  return usual === null ? 3 * floor : Math.max(floor, rules.stall.factor * usual);
}

/** The 90th percentile of the gaps between activity (the upper edge of its bucket), or null before 5 gaps. */
export function usualGap(run: RunState): number | null {
  const total = run.gaps.reduce((a, b) => a + b, 0);
  if (total < 5) return null;
  let seen = 0;
  for (let i = 0; i < run.gaps.length; i++) {
    seen += run.gaps[i]!;
    if (seen >= 0.9 * total) return 2 ** (i + 1);
  }
  return 2 ** run.gaps.length;
}

/**
 * The stall rule, checked on a timer while the process is alive. `paused` (a debugger at a breakpoint)
 * counts as activity: nothing is raised, and the clock starts again when it goes on. `since`: when the
 * run started, for a run that has shown nothing yet.
 */
export function checkStall(run: RunState, rules: HealthRules, now: number, signals: { alive: boolean; paused?: boolean; since?: number }): Alert[] {
  if (!rules.stall.enabled || !signals.alive) return [];
  if (signals.paused) { noteActivity(run, now); return []; }
  const last = run.last ?? signals.since;
  if (last === undefined || last === null) return [];
  if (run.stallAt !== null && run.stallAt >= last) return [];
  const silent = now - last, limit = stallAfter(run, rules);
  if (silent <= limit) return [];
  run.stallAt = last;
  const usual = usualGap(run);
  return [alert('stall', null, run.maxStep, silent / 1000, now,
    `no new points or output for ${duration(silent)}${usual === null ? '' : ` (usually within ${duration(usual)})`}`)];
}

/** floor(log2(ms)), 0 below 2 ms, at most GAP_BUCKETS − 1. */
function gapBucket(ms: number): number {
  return ms >= 2 ** 31 ? GAP_BUCKETS - 1 : ms < 1 ? 0 : 31 - Math.clz32(ms);
}

function alert(rule: RuleName, key: string | null, step: number | null, value: number | null, time: number, message: string): Alert {
  return { rule, key, step, value, time, severity: SEVERITY[rule], message };
}
