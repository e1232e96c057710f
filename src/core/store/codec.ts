/**
 * The chunk blob format. Version 1: a format byte (1), the point count, then steps, times and values, each
 * coded on its own by the smallest of
 * - ints: every value is an integer times 2^-k (steps, integer counters, float32 values, epoch ms times
 *   with fractional ms) or times 10^-d (short decimals), with the odd one out (NaN, ±Inf, -0, a value off
 *   the scale) kept raw as an exception; the integers go through codecInts (differences, bit packing);
 * - xor: Gorilla XOR of the bit patterns (codecXor);
 * - raw: 8 bytes a value.
 * Every mapping is checked value by value while encoding, so decoding gives back every bit.
 * Version 0 (before this format): n steps, n times, n values as float64 with no header. Its length is
 * always a multiple of 24; a version 1 blob never is (a pad byte is added when it would be).
 */
import { Reader, Writer } from './codecBits.ts';
import { type IntPlan, planInts, readInts, writeInts } from './codecInts.ts';
import { readXor, writeXor } from './codecXor.ts';
import type { Columns } from './chunks.ts';

export const FORMAT = 1;

const RAW = 0, BINARY = 1, DECIMAL = 2, XOR = 3;
/** Above this many bits a value, ints also try the other codings. */
const GOOD_ENOUGH = 28;
const POW10 = Array.from({ length: 23 }, (_, d) => 10 ** d);

/** True for a blob of the old raw layout (version 0). */
export const isRaw = (b: Uint8Array) => b.length % 24 === 0;

export function encodeChunk(c: Columns): Buffer {
  const n = c.values.length;
  if (c.steps.length !== n || c.times.length !== n) throw new RangeError('steps, times and values differ in length');
  const w = writer;
  w.at = 0;
  encodeColumn(w, c.steps, n);
  const stepsEnd = w.at;
  encodeColumn(w, c.times, n);
  const timesEnd = w.at;
  encodeColumn(w, c.values, n);
  const head = header;
  head.at = 0;
  head.byte(FORMAT);
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

/** Decodes a chunk blob of either format; with `skip`, leaves that column out (empty) when it can. */
export function decodeChunk(b: Uint8Array, skip?: 'steps' | 'times'): Columns {
  if (isRaw(b)) return decodeRaw(b);
  const r = new Reader(b, b.length);
  const version = r.byte();
  if (version !== FORMAT) throw new RangeError(`chunk blob format ${version} is unknown`);
  const n = r.varint();
  if (n > 1 << 24) throw new RangeError('chunk blob has a bad point count');
  const stepsLength = r.varint(), timesLength = r.varint();
  const all = alloc((skip ? 2 : 3) * n);
  const out = skip === 'steps' ? { steps: NONE, times: all.subarray(0, n), values: all.subarray(n) }
    : skip === 'times' ? { steps: all.subarray(0, n), times: NONE, values: all.subarray(n) }
    : { steps: all.subarray(0, n), times: all.subarray(n, 2 * n), values: all.subarray(2 * n) };
  const start = r.at;
  if (skip === 'steps') r.skip(stepsLength);
  else decodeColumn(r, out.steps, n);
  if (r.at !== start + stepsLength) throw new RangeError('chunk blob has a bad column length');
  if (skip === 'times') r.skip(timesLength);
  else decodeColumn(r, out.times, n);
  if (r.at !== start + stepsLength + timesLength) throw new RangeError('chunk blob has a bad column length');
  decodeColumn(r, out.values, n);
  if (r.at < b.length - 1 || (r.at === b.length - 1 && b[r.at] !== 0)) throw new RangeError('chunk blob has bytes after its points');
  return out;
}

const NONE = new Float64Array(0);

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
let ints = new Float64Array(256);
let exceptions: number[] = [];

function encodeColumn(w: Writer, col: Float64Array, n: number): void {
  if (progression(w, col, n)) return;
  if (ints.length < n) ints = new Float64Array(n);
  const u32 = new Uint32Array(col.buffer, col.byteOffset, 2 * n);
  let best = -1, bestBits = Infinity, bestPlan: IntPlan | undefined, bestScale = 0;
  const k = binaryScale(u32, n);
  const plan = planMapped(col, n, BINARY, k);
  if (plan) [best, bestBits, bestPlan, bestScale] = [BINARY, plan.bits, plan, k];
  let planned = best; // whose integers the scratch holds
  if (bestBits > GOOD_ENOUGH * n) {
    const d = decimalScale(col, n);
    if (d !== undefined) {
      const plan = planMapped(col, n, DECIMAL, d);
      planned = DECIMAL;
      if (plan && plan.bits < bestBits) [best, bestBits, bestPlan, bestScale] = [DECIMAL, plan.bits, plan, d];
    }
    trial.at = 0;
    writeXor(trial, u32, n);
    trial.endBits();
    if (trial.at * 8 < bestBits) [best, bestBits] = [XOR, trial.at * 8];
    if (64 * n <= bestBits) best = RAW;
  }
  if (best === BINARY || best === DECIMAL) {
    if (planned !== best) bestPlan = planMapped(col, n, best, bestScale)!;
    w.byte(best | (bestPlan!.order << 2) | (bestPlan!.rice ? 16 : 0));
    w.svarint(bestScale);
    w.varint(exceptions.length);
    let prev = -1;
    for (const i of exceptions) {
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
    readInts(r, out, n, (tag >>> 2) & 3, (tag & 16) !== 0);
    if (mode === BINARY) {
      const f = 2 ** -scale;
      if (f !== 1) for (let i = 0; i < n; i++) out[i] = out[i]! * f;
    } else {
      const p = POW10[scale]!;
      if (p !== 1) for (let i = 0; i < n; i++) out[i] = out[i]! / p;
    }
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

/**
 * Maps the column to integers at the scale into `ints`, the values that do not map exactly into
 * `exceptions` (their slots repeat the integer before), and plans their coding. Undefined when most do not map.
 */
function planMapped(col: Float64Array, n: number, mode: number, scale: number) {
  exceptions = [];
  const binary = mode === BINARY;
  const toInt = binary ? 2 ** scale : POW10[scale]!, fromInt = 2 ** -scale;
  let last = NaN;
  for (let i = 0; i < n; i++) {
    const v = col[i]!;
    const x = binary ? v * toInt : Math.round(v * toInt);
    const back = binary ? x * fromInt : x / toInt; // exactly what decoding computes
    if (x === Math.floor(x) && Math.abs(x) <= 2 ** 53 && back === v && (v !== 0 || 1 / v > 0)) {
      ints[i] = x;
      if (last !== last) for (let j = 0; j < i; j++) ints[j] = x; // leading exceptions repeat the first integer
      last = x;
    } else {
      exceptions.push(i);
      ints[i] = last === last ? last : 0;
    }
  }
  if (exceptions.length > n / 2) return undefined;
  const plan = planInts(ints, n);
  plan.bits += exceptions.length * 80;
  return plan;
}

const ctz = (x: number) => 31 - Math.clz32(x & -x);

/**
 * The scale k that makes every finite, nonzero value an integer times 2^-k below 2^53, from its exponent
 * and trailing zero bits; when one k cannot do all, the one that leaves fewer out.
 */
function binaryScale(u32: Uint32Array, n: number): number {
  let need = -Infinity, fit = Infinity;
  for (let i = 0; i < n; i++) {
    const hi = u32[2 * i + 1]!, field = (hi >>> 20) & 0x7ff;
    if (field === 0 || field === 0x7ff) continue; // zero, denormal, NaN, Inf
    const lo = u32[2 * i]!, frac = hi & 0xfffff, e = field - 1023;
    const t = lo !== 0 ? ctz(lo) : frac !== 0 ? 32 + ctz(frac) : 52;
    if (52 - e - t > need) need = 52 - e - t;
    if (52 - e < fit) fit = 52 - e;
  }
  if (need === -Infinity) return 0;
  if (need <= fit) return need;
  let outNeed = 0, outFit = 0; // values left out at k = need, and at k = fit
  for (let i = 0; i < n; i++) {
    const hi = u32[2 * i + 1]!, field = (hi >>> 20) & 0x7ff;
    if (field === 0 || field === 0x7ff) continue;
    const lo = u32[2 * i]!, frac = hi & 0xfffff, e = field - 1023;
    const t = lo !== 0 ? ctz(lo) : frac !== 0 ? 32 + ctz(frac) : 52;
    if (52 - e < need) outNeed++;
    if (52 - e - t > fit) outFit++;
  }
  return outNeed <= outFit ? need : fit;
}

/** The number of decimals d (0..17) that gives back sampled values as integer / 10^d; undefined when none does. */
function decimalScale(col: Float64Array, n: number): number | undefined {
  let d = 0;
  const samples = Math.min(n, 8);
  for (let s = 0; s < samples; s++) {
    const v = col[Math.floor((s * n) / samples)]!;
    if (!Number.isFinite(v) || v === 0) continue;
    let found = -1;
    for (let e = d; e <= 17; e++) {
      const x = Math.round(v * POW10[e]!);
      if (Math.abs(x) <= 2 ** 53 && x / POW10[e]! === v) { found = e; break; }
    }
    if (found < 0) return undefined;
    d = found;
  }
  return d;
}
