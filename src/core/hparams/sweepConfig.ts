import type { ParamValue } from '../types.ts';
import { type Continuous, SweepError, gridSweep, parseSweepValues } from './sweep.ts';

/** One sweep from the `sweeps:` section of runlens.yaml. */
export interface SweepConfig {
  name: string;
  /** The run configuration each trial runs, with the trial's params as overrides. */
  run: string;
  method: 'grid' | 'random';
  /** Per key: the values to try, or (random only) a continuous range. */
  params: { [key: string]: ParamValue[] | Continuous };
  /** Random: how many trials. */
  count?: number;
  /** Random: the PRNG seed (default 0). */
  seed?: number;
  /** How many trials run at once (default 1). */
  concurrency?: number;
  /** The median stopping rule on the primary metric (see medianStop). */
  earlyStop?: { patience: number; minSteps: number };
}

/** A mistake, with the path to it under `sweeps:` (e.g. ['lr-search', 'params', 'train.lr']). */
export interface SweepProblem {
  path: string[];
  message: string;
}

const KEYS = ['run', 'method', 'params', 'count', 'seed', 'concurrency', 'early_stop'];

const isObject = (v: unknown): v is { [k: string]: unknown } => v !== null && typeof v === 'object' && !Array.isArray(v);
const isScalar = (v: unknown): v is ParamValue => typeof v === 'string' || typeof v === 'boolean' || (typeof v === 'number' && Number.isFinite(v));
const wholeAtLeast = (v: unknown, min: number): v is number => typeof v === 'number' && Number.isInteger(v) && v >= min;

/**
 * Reads the (already YAML-parsed) `sweeps:` section: a mapping of sweep name to sweep. Problems are
 * returned, never thrown; a sweep with a problem is left out. `runNames` (when given) are the run
 * configurations a sweep may name.
 */
export function parseSweepConfig(section: unknown, runNames?: readonly string[]): { sweeps: SweepConfig[]; problems: SweepProblem[] } {
  const sweeps: SweepConfig[] = [];
  const problems: SweepProblem[] = [];
  if (section === null || section === undefined) return { sweeps, problems };
  if (!isObject(section)) {
    problems.push({ path: [], message: '`sweeps` must map sweep names to sweeps' });
    return { sweeps, problems };
  }
  for (const [name, body] of Object.entries(section)) {
    const before = problems.length;
    const problem = (path: string[], message: string) => problems.push({ path: [name, ...path], message: `sweep "${name}": ${message}` });
    const sweep = readSweep(name, body, problem, runNames);
    if (sweep && problems.length === before) sweeps.push(sweep);
  }
  return { sweeps, problems };
}

function readSweep(name: string, body: unknown, problem: (path: string[], message: string) => void, runNames?: readonly string[]): SweepConfig | undefined {
  if (!isObject(body)) { problem([], 'must be a mapping with `run` and `params`'); return undefined; }
  for (const k of Object.keys(body)) if (!KEYS.includes(k)) problem([k], `unknown key \`${k}\`; expected one of ${KEYS.join(', ')}`);
  const { run, method = 'grid', params, count, seed, concurrency, early_stop: earlyStop } = body;
  if (typeof run !== 'string' || !run.trim()) problem(['run'], '`run` must name a run configuration from `runs:`');
  else if (runNames && !runNames.includes(run)) problem(['run'], `no run configuration named "${run}" (there are: ${runNames.join(', ') || 'none'})`);
  if (method !== 'grid' && method !== 'random') { problem(['method'], '`method` must be grid or random'); return undefined; }
  const out: SweepConfig = { name, run: String(run), method, params: {} };

  if (!isObject(params) || !Object.keys(params).length) problem(['params'], '`params` must map param keys to values to try');
  else for (const [key, spec] of Object.entries(params)) {
    const at = ['params', key];
    try {
      if (Array.isArray(spec)) {
        if (!spec.length || !spec.every(isScalar)) throw new SweepError('a list of values must hold numbers, strings or booleans, at least one');
        out.params[key] = spec;
      } else if (typeof spec === 'string') out.params[key] = parseSweepValues(spec);
      else if (isScalar(spec)) out.params[key] = [spec];
      else if (isObject(spec)) {
        if (method === 'grid') throw new SweepError('a grid needs a list of values; a { min, max } range is for method: random');
        const { min, max, log = false, int = false, ...rest } = spec;
        if (Object.keys(rest).length) throw new SweepError(`unknown key \`${Object.keys(rest)[0]}\` in a range; expected min, max, log, int`);
        if (typeof min !== 'number' || typeof max !== 'number' || !(min <= max)) throw new SweepError('a range needs numbers `min` ≤ `max`');
        if (typeof log !== 'boolean' || typeof int !== 'boolean') throw new SweepError('`log` and `int` are true or false');
        if (log && min <= 0) throw new SweepError('a log range needs `min` above 0');
        out.params[key] = { min, max, ...(log ? { log } : {}), ...(int ? { int } : {}) };
      } else throw new SweepError('give a list, a range like "1..10", "0:1:0.25" or "log(1e-4, 1e-1, 4)", or { min, max }');
    } catch (err) {
      if (!(err instanceof SweepError)) throw err;
      problem(at, `${key}: ${err.message}`);
    }
  }

  if (method === 'random') {
    if (!wholeAtLeast(count, 1)) problem(['count'], 'a random sweep needs `count`: how many trials, a whole number from 1');
    else out.count = count;
    if (seed !== undefined && !wholeAtLeast(seed, 0)) problem(['seed'], '`seed` must be a whole number from 0');
    out.seed = (seed as number | undefined) ?? 0;
  } else {
    if (count !== undefined) problem(['count'], '`count` is for random sweeps; a grid runs every combination');
    if (seed !== undefined) problem(['seed'], '`seed` is for random sweeps');
    try { gridSweep(out.params as { [key: string]: ParamValue[] }); } catch (err) { problem(['params'], (err as Error).message); }
  }
  if (concurrency !== undefined && !wholeAtLeast(concurrency, 1)) problem(['concurrency'], '`concurrency` must be a whole number from 1');
  out.concurrency = (concurrency as number | undefined) ?? 1;

  if (earlyStop === true) out.earlyStop = { patience: 3, minSteps: 0 };
  else if (isObject(earlyStop)) {
    const { patience = 3, min_steps: minSteps = 0, ...rest } = earlyStop;
    if (Object.keys(rest).length) problem(['early_stop'], `unknown key \`${Object.keys(rest)[0]}\` in early_stop; expected patience, min_steps`);
    if (!wholeAtLeast(patience, 1)) problem(['early_stop', 'patience'], '`patience` must be a whole number from 1');
    if (typeof minSteps !== 'number' || !(minSteps >= 0)) problem(['early_stop', 'min_steps'], '`min_steps` must be a number from 0');
    out.earlyStop = { patience: patience as number, minSteps: minSteps as number };
  } else if (earlyStop !== undefined && earlyStop !== false) problem(['early_stop'], '`early_stop` is true, false, or { patience, min_steps }');
  return out;
}
