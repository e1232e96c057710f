/**
 * Metric points are stored in chunks: steps, times and values compressed into one blob (codec.ts),
 * plus a summary (step range, time range, min, max, last) that range queries read instead of the points.
 */
import { decodeChunk, encodeChunk, encodeRaw } from './codec.ts';

/** The most points in a chunk. Small enough that a chart bucket usually holds whole chunks. */
export const CHUNK_SIZE = 768;

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

/** Packs a chunk into one compressed blob (format 1). */
export const pack: (c: Columns, again?: boolean) => Buffer = encodeChunk;

/** Packs a chunk in the layout before compression (format 0: n steps, n times, n values as float64). */
export const packRaw: (c: Columns) => Buffer = encodeRaw;

/** Reads a chunk blob of either format; `skip` may leave the steps or the times out (then empty). */
export const unpack: (b: Uint8Array, skip?: 'steps' | 'times') => Columns = decodeChunk;

/** How chunks are cut and written. */
export interface ChunkLayout {
  /** `again`: the points are a part of the last chunk packed (see encodeChunk). */
  pack: (c: Columns, again?: boolean) => Buffer;
  maxPoints: number;
  /** The largest blob: a chunk closes when the next point would make it bigger. */
  maxBytes: number;
}

/**
 * Compressed chunks of up to CHUNK_SIZE points, cut so each blob stays in its row's b-tree page: a row
 * of a WITHOUT ROWID table bigger than about a quarter page spills to an overflow page of its own, mostly
 * empty. Blobs just under that size also fill pages evenly, four rows a page.
 */
export function compressedLayout(pageSize: number): ChunkLayout {
  const maxLocal = Math.floor(((pageSize - 12) * 64) / 255) - 23; // sqlite.org/fileformat2.html, index b-tree cells
  return { pack, maxPoints: CHUNK_SIZE, maxBytes: maxLocal - 32 }; // 32: the row's key and record header
}

/** The layout before compression (format 0, 256 points a chunk), for benchmarks and migration tests. */
export const RAW_LAYOUT: ChunkLayout = { pack: packRaw, maxPoints: 256, maxBytes: Infinity };

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
