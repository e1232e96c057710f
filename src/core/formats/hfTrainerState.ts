/** Hugging Face Trainer's trainer_state.json: `log_history` holds one object per logging or eval step. */
import type { ParamValue } from '../types.ts';
import { byteLength } from './delimited.ts';
import type { ReadResult, ScalarPoint } from './types.ts';

/** Top-level fields worth keeping as params. */
const PARAM_KEYS = ['train_batch_size', 'num_train_epochs', 'max_steps', 'logging_steps', 'eval_steps', 'save_steps'];

const isObject = (v: unknown): v is { [k: string]: unknown } => v !== null && typeof v === 'object' && !Array.isArray(v);

/**
 * Every number in a log_history entry except `step` becomes a point at that step (`epoch` too).
 * The file has no times, so every point gets `time`. A file that does not parse (perhaps being
 * rewritten) gives a problem and consumed = 0.
 */
export function readHfTrainerState(text: string, time: number): ReadResult {
  let state: unknown;
  try {
    state = parseJson(text);
  } catch (err) {
    return { points: [], consumed: 0, problems: [`trainer_state.json is not valid JSON: ${(err as Error).message}`] };
  }
  const points: ScalarPoint[] = [];
  const problems: string[] = [];
  if (!isObject(state) || !Array.isArray(state.log_history)) {
    return { points, consumed: byteLength(text), problems: ['trainer_state.json has no log_history list'] };
  }
  let noStep = 0;
  // Train and eval entries at one step both carry `epoch`: a repeated value at the same step is one point.
  const last = new Map<string, ScalarPoint>();
  for (const entry of state.log_history as unknown[]) {
    if (!isObject(entry) || typeof entry.step !== 'number' || !Number.isFinite(entry.step)) {
      noStep++;
      continue;
    }
    for (const key in entry) {
      const value = entry[key];
      if (key === 'step' || typeof value !== 'number') continue;
      const prev = last.get(key);
      if (prev && prev.step === entry.step && Object.is(prev.value, value)) continue;
      const p = { key, step: entry.step, time, value };
      points.push(p);
      last.set(key, p);
    }
  }
  if (noStep) problems.push(`skipped ${noStep} log_history entr${noStep === 1 ? 'y' : 'ies'} without a numeric step`);
  const params: { [key: string]: ParamValue } = {};
  for (const k of PARAM_KEYS) {
    const v = state[k];
    if (typeof v === 'number' || typeof v === 'string' || typeof v === 'boolean') params[k] = v;
  }
  if (isObject(state.trial_params)) {
    for (const [k, v] of Object.entries(state.trial_params)) {
      if (typeof v === 'number' || typeof v === 'string' || typeof v === 'boolean') params[k] = v;
    }
  }
  return { points, params, consumed: byteLength(text), problems };
}

const SPECIAL: { [k: string]: number } = { NaN: NaN, Infinity: Infinity, '-Infinity': -Infinity };
const MARK = '\ue000runlens:'; // a private-use character: JSON strings may not hold control characters

/** JSON.parse, plus the bare NaN / Infinity / -Infinity that Python's json module writes. */
function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    if (!/NaN|Infinity/.test(text)) throw err;
  }
  // Quote the bare tokens outside strings, then turn them back into numbers.
  const quoted = text.replace(/"(?:[^"\\]|\\.)*"|-?Infinity|NaN/g, (m) => (m[0] === '"' ? m : `"${MARK}${m}"`));
  return JSON.parse(quoted, (_, v) => (typeof v === 'string' && v.startsWith(MARK) ? SPECIAL[v.slice(MARK.length)] : v));
}
