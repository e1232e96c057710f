import type { ParamValue } from '../types.ts';
import { flatten } from '../flatten.ts';

/** One line of the metrics file, decoded (see FORMAT.md). */
export type Record =
  | { kind: 'metrics'; time: number; points: MetricRecord[]; skipped: string[] }
  | { kind: 'params'; time: number; params: { [key: string]: ParamValue } }
  | { kind: 'tags'; time: number; tags: { [key: string]: string } }
  | { kind: 'artifact'; time: number; path: string; sha256?: string }
  | { kind: 'model'; time: number; name: string; path: string; metadata: unknown; sha256?: string };

export interface MetricRecord { step: number | undefined; time: number; values: [string, number][] }

export class LineError extends Error {}

/** The most metric keys (or params) one line may hold; a wider line is skipped and counted. */
export const MAX_KEYS_PER_LINE = 10_000;

function checkWidth(n: number, what: string): void {
  if (n > MAX_KEYS_PER_LINE) throw new LineError(`${n} ${what} in one line; at most ${MAX_KEYS_PER_LINE} are read`);
}

const NON_FINITE: { [k: string]: number } = { NaN: NaN, Infinity: Infinity, '-Infinity': -Infinity, nan: NaN, inf: Infinity, '-inf': -Infinity };

/** A metric value as a number, or undefined when it is not one. */
export function metricNumber(v: unknown): number | undefined {
  if (typeof v === 'number') return v;
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (typeof v === 'string' && v in NON_FINITE) return NON_FINITE[v];
  return undefined;
}

/** Python's json.dumps writes bare NaN / Infinity / -Infinity; JSON.parse does not accept them. */
function parseLenient(line: string): unknown {
  try {
    return JSON.parse(line);
  } catch (err) {
    if (!/NaN|Infinity/.test(line)) throw err;
    // Quote the bare tokens that stand outside strings, then parse again.
    let out = '';
    let inString = false;
    for (let i = 0; i < line.length; i++) {
      const c = line[i]!;
      if (inString) {
        out += c;
        if (c === '\\') out += line[++i] ?? '';
        else if (c === '"') inString = false;
        continue;
      }
      if (c === '"') { inString = true; out += c; continue; }
      const m = /^(-?Infinity|NaN)/.exec(line.slice(i, i + 9));
      if (m) { out += `"${m[1]}"`; i += m[1]!.length - 1; continue; }
      out += c;
    }
    return JSON.parse(out);
  }
}

const isObject = (v: unknown): v is { [k: string]: unknown } => v !== null && typeof v === 'object' && !Array.isArray(v);

/** Receives metric points as they are decoded, without building a record per point. */
export interface MetricSink {
  point(key: string, step: number | undefined, time: number, value: number): void;
  /** A whole column of one key (from a `columns` record); times in ms. */
  column(key: string, steps: Float64Array, times: Float64Array, values: Float64Array): void;
  skip(key: string): void;
}

function parseLine(line: string): unknown {
  try {
    return parseLenient(line);
  } catch {
    throw new LineError('not valid JSON');
  }
}

/** n little-endian float64 values from base64. */
function float64s(b64: unknown, n: number, what: string): Float64Array {
  if (typeof b64 !== 'string') throw new LineError(`columns.${what} is not base64 text`);
  const bytes = Buffer.from(b64, 'base64');
  if (bytes.length !== n * 8) throw new LineError(`columns.${what} holds ${bytes.length / 8} values, not n = ${n}`);
  const out = new Float64Array(n);
  new Uint8Array(out.buffer).set(bytes);
  return out;
}

function stepOf(v: unknown, what: string): number | undefined {
  if (v === undefined || v === null) return undefined;
  const step = Number(v);
  if (!Number.isFinite(step)) throw new LineError(`${what} is not a number`);
  return step;
}

/**
 * Decodes one line, sending metric points straight to `sink` (the fast path for large files).
 * Returns the record for params, tags, artifacts and models, or undefined for metrics.
 * Throws LineError with a short reason for a line that is not a valid record.
 */
export function decodeInto(line: string, sink: MetricSink): Record | undefined {
  return decodeObject(parseLine(line), sink);
}

/** decodeInto for a line that is already parsed. */
export function decodeObject(obj: unknown, sink: MetricSink): Record | undefined {
  if (!isObject(obj)) throw new LineError('not a JSON object');
  const time = typeof obj.t === 'number' && Number.isFinite(obj.t) ? obj.t * 1000 : Date.now();
  if (isObject(obj.columns)) {
    const c = obj.columns;
    const n = Number(c.n);
    if (!Number.isInteger(n) || n < 0) throw new LineError('columns.n is not a count');
    const steps = float64s(c.step, n, 'step');
    const times = float64s(c.time, n, 'time');
    for (let i = 0; i < n; i++) times[i]! *= 1000;
    if (!isObject(c.values)) throw new LineError('columns.values is not an object');
    checkWidth(Object.keys(c.values).length, 'metric keys');
    for (const key in c.values) sink.column(key, steps, times, float64s(c.values[key], n, `values.${key}`));
    return undefined;
  }
  if (Array.isArray(obj.batch)) {
    for (const entry of obj.batch as unknown[]) {
      if (!Array.isArray(entry) || entry.length !== 3 || !isObject(entry[2])) throw new LineError('a batch entry is not [step, t, {metrics}]');
      checkWidth(Object.keys(entry[2]).length, 'metric keys');
      const t = typeof entry[1] === 'number' && Number.isFinite(entry[1]) ? entry[1] * 1000 : time;
      sendMetrics(entry[2], stepOf(entry[0], 'a batch step'), t, sink);
    }
    return undefined;
  }
  if (isObject(obj.metrics)) {
    checkWidth(Object.keys(obj.metrics).length, 'metric keys');
    sendMetrics(obj.metrics, stepOf(obj.step, 'step'), time, sink);
    return undefined;
  }
  if (isObject(obj.params)) {
    const params = flatten(obj.params);
    checkWidth(Object.keys(params).length, 'params');
    return { kind: 'params', time, params };
  }
  if (isObject(obj.tags)) {
    checkWidth(Object.keys(obj.tags).length, 'tags');
    return { kind: 'tags', time, tags: Object.fromEntries(Object.entries(obj.tags).map(([k, v]) => [k, String(v)])) };
  }
  if (isObject(obj.artifact) && typeof obj.artifact.path === 'string') {
    return { kind: 'artifact', time, path: obj.artifact.path, ...digestOf(obj.artifact) };
  }
  if (isObject(obj.model) && typeof obj.model.name === 'string' && typeof obj.model.path === 'string') {
    return { kind: 'model', time, name: obj.model.name, path: obj.model.path, metadata: obj.model.metadata ?? null, ...digestOf(obj.model) };
  }
  throw new LineError('no metrics, batch, params, tags, artifact or model');
}

/** The digest the helper took when the file was logged: 64 lowercase hex digits, or nothing (anything else is ignored). */
function digestOf(o: { [k: string]: unknown }): { sha256?: string } {
  return typeof o.sha256 === 'string' && /^[0-9a-f]{64}$/.test(o.sha256) ? { sha256: o.sha256 } : {};
}

/** Decodes one line into a record, metrics included (convenient for small inputs and tests). */
export function decodeLine(line: string): Record {
  const points: MetricRecord[] = [];
  const skipped: string[] = [];
  const point = (key: string, step: number | undefined, time: number, value: number) => {
    const same = points.find((p) => p.step === step && p.time === time);
    if (same) same.values.push([key, value]);
    else points.push({ step, time, values: [[key, value]] });
  };
  const record = decodeInto(line, {
    point,
    column(key, steps, times, values) { for (let i = 0; i < values.length; i++) point(key, steps[i], times[i]!, values[i]!); },
    skip(key) { skipped.push(key); },
  });
  return record ?? { kind: 'metrics', time: points[0]?.time ?? Date.now(), points, skipped };
}

function sendMetrics(values: { [k: string]: unknown }, step: number | undefined, time: number, sink: MetricSink): void {
  for (const key in values) {
    const raw = values[key];
    const v = typeof raw === 'number' ? raw : metricNumber(raw);
    if (v === undefined) sink.skip(key);
    else sink.point(key, step, time, v);
  }
}
