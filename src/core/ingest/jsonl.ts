import type { ParamValue } from '../types.ts';

/** One line of the metrics file, decoded (see FORMAT.md). */
export type Record =
  | { kind: 'metrics'; time: number; points: MetricRecord[]; skipped: string[] }
  | { kind: 'params'; time: number; params: { [key: string]: ParamValue } }
  | { kind: 'tags'; time: number; tags: { [key: string]: string } }
  | { kind: 'artifact'; time: number; path: string }
  | { kind: 'model'; time: number; name: string; path: string; metadata: unknown };

export interface MetricRecord { step: number | undefined; time: number; values: [string, number][] }

export class LineError extends Error {}

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

function flatten(value: unknown, prefix: string, out: { [key: string]: ParamValue }): void {
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    for (const [k, v] of Object.entries(value)) flatten(v, prefix ? `${prefix}.${k}` : k, out);
  } else if (typeof value === 'number' || typeof value === 'string' || typeof value === 'boolean') {
    out[prefix] = value;
  } else if (value !== null && value !== undefined) {
    out[prefix] = JSON.stringify(value);
  }
}

const isObject = (v: unknown): v is { [k: string]: unknown } => v !== null && typeof v === 'object' && !Array.isArray(v);

/** Receives metric points as they are decoded, without building a record per point. */
export interface MetricSink {
  point(key: string, step: number | undefined, time: number, value: number): void;
  skip(key: string): void;
}

/**
 * Decodes one line, sending metric points straight to `sink` (the fast path for large files).
 * Returns the record for params, tags, artifacts and models, or undefined for metrics.
 */
export function decodeInto(line: string, sink: MetricSink): Record | undefined {
  let obj: unknown;
  try {
    obj = parseLenient(line);
  } catch {
    throw new LineError('not valid JSON');
  }
  if (!isObject(obj)) throw new LineError('not a JSON object');
  const time = typeof obj.t === 'number' && Number.isFinite(obj.t) ? obj.t * 1000 : Date.now();
  const batch = obj.batch;
  if (Array.isArray(batch)) {
    for (let i = 0; i < batch.length; i++) {
      const entry = batch[i];
      if (!Array.isArray(entry) || entry.length !== 3 || !isObject(entry[2])) throw new LineError('a batch entry is not [step, t, {metrics}]');
      const step = entry[0] === null || entry[0] === undefined ? undefined : Number(entry[0]);
      if (step !== undefined && !Number.isFinite(step)) throw new LineError('a batch step is not a number');
      const t = typeof entry[1] === 'number' && Number.isFinite(entry[1]) ? entry[1] * 1000 : time;
      sendMetrics(entry[2], step, t, sink);
    }
    return undefined;
  }
  if (isObject(obj.metrics)) {
    const step = obj.step === undefined || obj.step === null ? undefined : Number(obj.step);
    if (step !== undefined && !Number.isFinite(step)) throw new LineError('step is not a number');
    sendMetrics(obj.metrics, step, time, sink);
    return undefined;
  }
  return decodeLine(line);
}

function sendMetrics(values: { [k: string]: unknown }, step: number | undefined, time: number, sink: MetricSink): void {
  for (const key in values) {
    const raw = values[key];
    const v = typeof raw === 'number' ? raw : metricNumber(raw);
    if (v === undefined) sink.skip(key);
    else sink.point(key, step, time, v);
  }
}

/** Decodes one line. Throws LineError with a short reason for a line that is not a valid record. */
export function decodeLine(line: string): Record {
  let obj: unknown;
  try {
    obj = parseLenient(line);
  } catch {
    throw new LineError('not valid JSON');
  }
  if (!isObject(obj)) throw new LineError('not a JSON object');
  const time = typeof obj.t === 'number' && Number.isFinite(obj.t) ? obj.t * 1000 : Date.now();
  if (isObject(obj.metrics)) {
    const step = obj.step === undefined || obj.step === null ? undefined : Number(obj.step);
    if (step !== undefined && !Number.isFinite(step)) throw new LineError('step is not a number');
    const skipped: string[] = [];
    return { kind: 'metrics', time, points: [{ step, time, values: metricEntries(obj.metrics, skipped) }], skipped };
  }
  if (Array.isArray(obj.batch)) {
    const skipped: string[] = [];
    const points = obj.batch.map((entry): MetricRecord => {
      if (!Array.isArray(entry) || entry.length !== 3 || !isObject(entry[2])) throw new LineError('a batch entry is not [step, t, {metrics}]');
      const [step, t, values] = entry as [unknown, unknown, { [k: string]: unknown }];
      const s = step === null || step === undefined ? undefined : Number(step);
      if (s !== undefined && !Number.isFinite(s)) throw new LineError('a batch step is not a number');
      return { step: s, time: typeof t === 'number' && Number.isFinite(t) ? t * 1000 : time, values: metricEntries(values, skipped) };
    });
    return { kind: 'metrics', time, points, skipped };
  }
  if (isObject(obj.params)) {
    const params: { [key: string]: ParamValue } = {};
    flatten(obj.params, '', params);
    return { kind: 'params', time, params };
  }
  if (isObject(obj.tags)) {
    return { kind: 'tags', time, tags: Object.fromEntries(Object.entries(obj.tags).map(([k, v]) => [k, String(v)])) };
  }
  if (isObject(obj.artifact) && typeof obj.artifact.path === 'string') return { kind: 'artifact', time, path: obj.artifact.path };
  if (isObject(obj.model) && typeof obj.model.name === 'string' && typeof obj.model.path === 'string') {
    return { kind: 'model', time, name: obj.model.name, path: obj.model.path, metadata: obj.model.metadata ?? null };
  }
  throw new LineError('no metrics, batch, params, tags, artifact or model');
}

/** Numeric metric entries; keys whose value is not a number go to `skipped`. */
function metricEntries(values: { [k: string]: unknown }, skipped: string[]): [string, number][] {
  const out: [string, number][] = [];
  for (const key in values) {
    const v = metricNumber(values[key]);
    if (v === undefined) skipped.push(key);
    else out.push([key, v]);
  }
  return out;
}
