/**
 * The chunk blob format. Version 1: a format byte (1), the point count, then steps, times and values, each
 * coded on its own by the smallest of
 * - ints: every value is an integer times 2^-k (steps, integer counters, float32 values, epoch ms times
 *   with fractional ms) or times 10^-d (short decimals), with the odd one out (NaN, ±Inf, -0, a value off
 *   the scale) kept raw as an exception; the integers go through codecInts (differences, bit packing);
 * - xor: Gorilla XOR of the bit patterns (codecXor);
 * - raw: 8 bytes a value.
 * Every mapping is checked value by value while encoding, so decoding gives back every bit.
 * Version 2 is version 1 where a Rice coded column of order 0 may be written in blocks, with each block's
 * min and max beside it (codecRice.ts): charts read those instead of decoding (codecRiceRuns.ts). Both are read.
 * Version 0 (before this format): n steps, n times, n values as float64 with no header. Its length is
 * always a multiple of 24; a version 1 blob never is (a pad byte is added when it would be).
 */
import { Reader, Writer } from './codecBits.ts';
import { type IntPlan, readInts, writeInts } from './codecInts.ts';
import { POW10, binaryScale, decimalScale, mapped, planMapped } from './codecScale.ts';
import { readXor, writeXor } from './codecXor.ts';
import { blocked } from './codecRice.ts';
import { readRiceRuns } from './codecRiceRuns.ts';
import type { Columns } from './chunks.ts';

export const FORMAT = 1;
/** Version 2: version 1, and a Rice coded column may be written in blocks (tag bit BLOCKS, codecRice.ts). */
export const FORMAT_BLOCKS = 2;

const RAW = 0, BINARY = 1, DECIMAL = 2, XOR = 3, RICE = 16, BLOCKS = 32;
/** Above this many bits a value, ints also try the other codings. */
const GOOD_ENOUGH = 28;

/** True for a blob of the old raw layout (version 0). */
export const isRaw = (b: Uint8Array) => b.length % 24 === 0;

/**
 * Encodes a chunk. `again`: the points are a part of the last chunk encoded (cut to fit a page), so each
 * column takes the coding it chose then instead of trying them all.
 */
export function encodeChunk(c: Columns, again = false): Buffer {
  const n = c.values.length;
  if (c.steps.length !== n || c.times.length !== n) throw new RangeError('steps, times and values differ in length');
  const w = writer;
  w.at = 0;
  inBlocks = false;
  encodeColumn(w, c.steps, n, chosen[0]!, again);
  const stepsEnd = w.at;
  encodeColumn(w, c.times, n, chosen[1]!, again);
  const timesEnd = w.at;
  encodeColumn(w, c.values, n, chosen[2]!, again);
  const head = header;
  head.at = 0;
  head.byte(inBlocks ? FORMAT_BLOCKS : FORMAT);
  head.varint(n);
  head.varint(stepsEnd);
  head.varint(timesEnd - stepsEnd);
  const pad = (head.at + w.at) % 24 === 0 ? 1 : 0;
  const out = Buffer.allocUnsafe(head.at + w.at + pad);
  out.set(head.result(), 0);
  out.set(w.result(), head.at);
  if (pad) out[out.length - 1] = 0;
  return out;
}

/**
 * Decodes a chunk blob of either format; with `skip`, leaves that column out (empty) when it can, or both
 * ('x'). The columns are views into `into` when it is big enough (the caller's to reuse), else into memory
 * of their own.
 */
export function decodeChunk(b: Uint8Array, skip?: 'steps' | 'times' | 'x', into?: Float64Array): Columns {
  if (isRaw(b)) return decodeRaw(b);
  const r = new Reader(b, b.length);
  const version = r.byte();
  if (version !== FORMAT && version !== FORMAT_BLOCKS) throw new RangeError(`chunk blob format ${version} is unknown`);
  const n = r.varint();
  if (n > 1 << 24) throw new RangeError('chunk blob has a bad point count');
  const stepsLength = r.varint(), timesLength = r.varint();
  const need = (skip === 'x' ? 1 : skip ? 2 : 3) * n;
  const all = into && into.length >= need ? into.subarray(0, need) : alloc(need);
  const out = skip === 'x' ? { steps: NONE, times: NONE, values: all }
    : skip === 'steps' ? { steps: NONE, times: all.subarray(0, n), values: all.subarray(n) }
    : skip === 'times' ? { steps: all.subarray(0, n), times: NONE, values: all.subarray(n) }
    : { steps: all.subarray(0, n), times: all.subarray(n, 2 * n), values: all.subarray(2 * n) };
  const start = r.at;
  if (skip === 'steps' || skip === 'x') r.skip(stepsLength);
  else decodeColumn(r, out.steps, n);
  if (r.at !== start + stepsLength) throw new RangeError('chunk blob has a bad column length');
  if (skip === 'times' || skip === 'x') r.skip(timesLength);
  else decodeColumn(r, out.times, n);
  if (r.at !== start + stepsLength + timesLength) throw new RangeError('chunk blob has a bad column length');
  decodeColumn(r, out.values, n);
  if (r.at < b.length - 1 || (r.at === b.length - 1 && b[r.at] !== 0)) throw new RangeError('chunk blob has bytes after its points');
  return out;
}

const NONE = new Float64Array(0);

/** A chunk whose values valueRuns reads by runs (see RiceRuns): what it asks, and `n`, what it got. */
export interface RunsAsk {
  blob: Uint8Array;
  /** Run j is [cuts[j], cuts[j + 1]), j < runs. */
  cuts: Int32Array;
  runs: number;
  /** Each run's smallest, largest and last value at 3j, 3j + 1, 3j + 2. */
  out: Float64Array;
  /** The chunk's point count; -1 when it is not of the kind read so (then decode it). */
  n: number;
}

/**
 * The smallest, largest and last value of runs of a chunk's values, read without decoding the values into
 * an array, for the values column most loss curves get (integers times 2^-k, Rice coded, no exceptions).
 * A chunk of another kind, or whose run may hold a zero (±0 ties), gets n = -1: decode it instead.
 */
export function valueRuns(ask: RunsAsk): void {
  const b = ask.blob;
  ask.n = -1;
  if (isRaw(b)) return;
  const r = new Reader(b, b.length);
  const version = r.byte();
  if (version !== FORMAT && version !== FORMAT_BLOCKS) return;
  const n = r.varint();
  if (n > 1 << 24) return;
  r.skip(r.varint() + r.varint());
  const tag = r.byte(), scale = r.svarint();
  // order 0, Rice, no exceptions, and 2^-scale a normal number, which maps no integer but 0 to 0
  if ((tag & ~BLOCKS) !== (BINARY | RICE) || r.varint() !== 0 || !(scale >= -900 && scale <= 1000)) return;
  if (!readRiceRuns(r, n, ask.cuts, ask.runs, ask.out, (tag & BLOCKS) !== 0)) return;
  if (r.at < b.length - 1 || (r.at === b.length - 1 && b[r.at] !== 0)) throw new RangeError('chunk blob has bytes after its points');
  const mul = 2 ** -scale; // exact, and in the same order as the values
  for (let j = 0; j < 3 * ask.runs; j++) ask.out[j] = ask.out[j]! * mul;
  ask.n = n;
}

/**
 * The steps of a blob of two points or more that are `first + i * d` (regular steps: what progression()
 * writes, or any column coded the same way), read from its header without decoding; else undefined.
 */
export function stepProgression(b: Uint8Array): [first: number, d: number] | undefined {
  if (isRaw(b)) return undefined;
  const r = new Reader(b, b.length);
  const version = r.byte();
  if (version !== FORMAT && version !== FORMAT_BLOCKS) return undefined;
  const n = r.varint();
  r.varint();
  r.varint();
  // binary at scale 0, no exceptions, differences of order 1 bit packed: the first step, then the smallest
  // difference, and a widest block of 0 bits (every difference is the smallest)
  if (n < 2 || r.byte() !== (BINARY | (1 << 2)) || r.svarint() !== 0 || r.varint() !== 0) return undefined;
  const first = r.svarint(), d = r.svarint();
  return r.byte() === 0 ? [first, d] : undefined;
}

/** The old layout. Copies only when the blob is not 8-byte aligned. */
export function decodeRaw(b: Uint8Array): Columns {
  let all: Float64Array;
  if (b.byteOffset % 8 === 0) all = new Float64Array(b.buffer, b.byteOffset, b.byteLength / 8);
  else {
    all = new Float64Array(b.byteLength / 8);
    new Uint8Array(all.buffer).set(b);
  }
  const n = all.length / 3;
  return { steps: all.subarray(0, n), times: all.subarray(n, 2 * n), values: all.subarray(2 * n) };
}

/** The old layout: n steps, n times, n values as little-endian float64. */
export function encodeRaw(c: Columns): Buffer {
  const n = c.values.length;
  const out = new Float64Array(n * 3);
  out.set(c.steps, 0);
  out.set(c.times, n);
  out.set(c.values, 2 * n);
  return Buffer.from(out.buffer, out.byteOffset, out.byteLength);
}

// Decoded chunks are views into shared slabs, as Node's Buffer pool does: a typed array of its own
// costs an off-heap allocation and a GC finalizer, more than decoding a chunk does.
let slab = new Float64Array(0);
let slabAt = 0;
function alloc(n: number): Float64Array {
  if (slabAt + n > slab.length) {
    slab = new Float64Array(Math.max(1 << 16, n));
    slabAt = 0;
  }
  slabAt += n;
  return slab.subarray(slabAt - n, slabAt);
}

// Scratch space, reused: encoding is synchronous and never reentrant.
const writer = new Writer(8192);
const header = new Writer(32);
const trial = new Writer(8192);

/** What each column chose the last time. */
interface Choice { mode: number; scale: number; order: number }
const chosen: Choice[] = [0, 1, 2].map(() => ({ mode: -1, scale: 0, order: 0 }));
const PROGRESSION = 4; // a mode of Choice only: written as BINARY
/** Whether a column of the chunk being encoded is written in blocks (then the chunk is of version 2). */
let inBlocks = false;

function encodeColumn(w: Writer, col: Float64Array, n: number, choice: Choice, again: boolean): void {
  const hint = again ? choice.mode : -1;
  if ((hint < 0 || hint === PROGRESSION) && progression(w, col, n)) {
    choice.mode = PROGRESSION;
    return;
  }
  const u32 = new Uint32Array(col.buffer, col.byteOffset, 2 * n);
  let best = -1, bestBits = Infinity, bestPlan: IntPlan | undefined, bestScale = 0;
  // again: the coding chosen before, when it still works (then no other is tried)
  if (hint === BINARY || hint === DECIMAL) {
    const plan = planMapped(col, n, hint === BINARY, choice.scale, choice.order);
    if (plan && plan.bits < Infinity) [best, bestBits, bestPlan, bestScale] = [hint, plan.bits, plan, choice.scale];
  } else if (hint === XOR || hint === RAW) {
    best = hint;
    if (hint === XOR) {
      trial.at = 0;
      writeXor(trial, u32, n);
      trial.endBits();
    }
  }
  const hinted = best >= 0;
  if (best < 0) {
    const k = binaryScale(u32, n);
    const plan = planMapped(col, n, true, k);
    if (plan) [best, bestBits, bestPlan, bestScale] = [BINARY, plan.bits, plan, k];
  }
  let planned = best; // whose integers the scratch holds
  if (bestBits > GOOD_ENOUGH * n && !hinted) {
    const d = decimalScale(col, n);
    if (d !== undefined) {
      const plan = planMapped(col, n, false, d);
      planned = DECIMAL;
      if (plan && plan.bits < bestBits) [best, bestBits, bestPlan, bestScale] = [DECIMAL, plan.bits, plan, d];
    }
    trial.at = 0;
    writeXor(trial, u32, n);
    trial.endBits();
    if (trial.at * 8 < bestBits) [best, bestBits] = [XOR, trial.at * 8];
    if (64 * n <= bestBits) best = RAW;
  }
  choice.mode = best;
  choice.scale = bestScale;
  choice.order = bestPlan?.order ?? 0;
  if (best === BINARY || best === DECIMAL) {
    if (planned !== best) bestPlan = planMapped(col, n, best === BINARY, bestScale, bestPlan!.order)!;
    const blocks = bestPlan!.rice && blocked(bestPlan!.order, n);
    inBlocks ||= blocks;
    w.byte(best | (bestPlan!.order << 2) | (bestPlan!.rice ? RICE : 0) | (blocks ? BLOCKS : 0));
    w.svarint(bestScale);
    w.varint(mapped.exceptions.length);
    let prev = -1;
    for (const i of mapped.exceptions) {
      w.varint(i - prev - 1);
      w.f64le(col[i]!);
      prev = i;
    }
    writeInts(w, n, bestPlan!);
  } else if (best === XOR) {
    w.byte(XOR);
    w.room(trial.at);
    w.bytes.set(trial.result(), w.at);
    w.at += trial.at;
  } else {
    w.byte(RAW);
    for (let i = 0; i < n; i++) w.f64le(col[i]!);
  }
}

/**
 * Regular steps, a clock of whole milliseconds: integers that go up (or down) by the same integer each
 * time. Written as what writeInts writes for them at order 1 (the first, then one residual, width 0),
 * without planning. False, and nothing written, for any other column.
 */
function progression(w: Writer, col: Float64Array, n: number): boolean {
  if (n < 2) return false;
  const first = col[0]!, d = col[1]! - first;
  if (!(Math.abs(first) <= 2 ** 53 && first === Math.floor(first) && Math.abs(d) < 2 ** 53 && d === Math.floor(d))) return false;
  for (let i = 1; i < n; i++) {
    const v = col[i]!;
    if (v !== col[i - 1]! + d || (v === 0 && 1 / v < 0) || !(Math.abs(v) <= 2 ** 53)) return false;
  }
  if (first === 0 && 1 / first < 0) return false;
  w.byte(BINARY | (1 << 2));
  w.svarint(0); // scale
  w.varint(0); // exceptions
  w.svarint(first);
  w.svarint(d);
  w.byte(0); // every residual is d
  return true;
}

function decodeColumn(r: Reader, out: Float64Array, n: number): void {
  const tag = r.byte();
  const mode = tag & 3;
  if (mode === RAW) {
    for (let i = 0; i < n; i++) out[i] = r.f64le();
  } else if (mode === XOR) {
    readXor(r, new Uint32Array(out.buffer, out.byteOffset, 2 * n), n);
  } else {
    const scale = r.svarint();
    const count = r.varint();
    if (count > n || (mode === DECIMAL && !(scale >= 0 && scale < POW10.length))) throw new RangeError('chunk blob has a bad column header');
    const from = r.at;
    for (let j = 0; j < count; j++) { r.varint(); r.skip(8); } // exceptions: read after the integers
    // integer * 2^-k, or integer / 10^d: exactly what encoding checked
    const order = (tag >>> 2) & 3, rice = (tag & RICE) !== 0, blocks = (tag & BLOCKS) !== 0;
    if (tag >= 64 || (blocks && !(rice && blocked(order, n)))) throw new RangeError('chunk blob has a bad column header');
    readInts(r, out, n, order, rice, mode === BINARY ? 2 ** -scale : 1, mode === BINARY ? 1 : POW10[scale]!, blocks);
    if (count > 0) {
      const end = r.at;
      r.at = from;
      for (let j = 0, i = -1; j < count; j++) {
        i += r.varint() + 1;
        if (i >= n) throw new RangeError('chunk blob has a bad exception');
        out[i] = r.f64le();
      }
      r.at = end;
    }
  }
}
