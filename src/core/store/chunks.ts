/**
 * Metric points are stored in chunks: packed float64 arrays of steps, times and values,
 * plus a summary (step range, time range, min, max, last) that range queries read instead of the points.
 */

/** Points per chunk. Small enough that a chart bucket usually holds whole chunks. */
export const CHUNK_SIZE = 256;

export interface Columns {
  steps: Float64Array;
  times: Float64Array;
  values: Float64Array;
}

export interface ChunkSummary {
  n: number;
  stepLo: number;
  stepHi: number;
  stepLast: number;
  timeLo: number;
  timeHi: number;
  /** null when every value is NaN. */
  min: number | null;
  max: number | null;
  /** null when the last value is NaN (SQLite has no NaN). */
  last: number | null;
}

/** Packs a chunk into one blob: n steps, n times, n values, as little-endian float64. */
export function pack(c: Columns): Buffer {
  const n = c.values.length;
  const out = new Float64Array(n * 3);
  out.set(c.steps, 0);
  out.set(c.times, n);
  out.set(c.values, 2 * n);
  return Buffer.from(out.buffer, out.byteOffset, out.byteLength);
}

/** Reads a packed chunk. Copies only when the blob is not 8-byte aligned. */
export function unpack(b: Uint8Array): Columns {
  let all: Float64Array;
  if (b.byteOffset % 8 === 0) all = new Float64Array(b.buffer, b.byteOffset, b.byteLength / 8);
  else {
    all = new Float64Array(b.byteLength / 8);
    new Uint8Array(all.buffer).set(b);
  }
  const n = all.length / 3;
  return { steps: all.subarray(0, n), times: all.subarray(n, 2 * n), values: all.subarray(2 * n) };
}

export function summarize(c: Columns, from = 0, to = c.values.length): ChunkSummary {
  let stepLo = Infinity, stepHi = -Infinity, timeLo = Infinity, timeHi = -Infinity;
  let min = Infinity, max = -Infinity, seen = false;
  const { steps, times, values } = c;
  for (let i = from; i < to; i++) {
    const s = steps[i]!, t = times[i]!, v = values[i]!;
    if (s < stepLo) stepLo = s;
    if (s > stepHi) stepHi = s;
    if (t < timeLo) timeLo = t;
    if (t > timeHi) timeHi = t;
    if (v === v) { // not NaN
      seen = true;
      if (v < min) min = v;
      if (v > max) max = v;
    }
  }
  const last = values[to - 1]!;
  return {
    n: to - from, stepLo, stepHi, stepLast: steps[to - 1]!, timeLo, timeHi,
    min: seen ? min : null, max: seen ? max : null, last: last === last ? last : null,
  };
}

/** Appends b to a (both columnar), returning new arrays. */
export function concat(a: Columns, b: Columns): Columns {
  const join = (x: Float64Array, y: Float64Array) => {
    const out = new Float64Array(x.length + y.length);
    out.set(x);
    out.set(y, x.length);
    return out;
  };
  return { steps: join(a.steps, b.steps), times: join(a.times, b.times), values: join(a.values, b.values) };
}

export function slice(c: Columns, from: number, to: number): Columns {
  return { steps: c.steps.subarray(from, to), times: c.times.subarray(from, to), values: c.values.subarray(from, to) };
}
