/**
 * Exact integer sequences (|x| <= 2^53) in few bits: differences of order 0..3 (order 1 turns regular steps
 * into a constant, order 2 a steady clock, order 3 a smooth curve), then either frame of reference (the
 * smallest residual once, and each block of 32 residuals above it packed at its own bit width, so an
 * outlier widens one block only) or Rice coding (codecRice.ts), whichever is smaller.
 */
import { peek32, type Reader, type Writer } from './codecBits.ts';
import { blocked, readRice, riceCost, writeRice } from './codecRice.ts';

export const BLOCK = 32;
const LIMIT = 2 ** 53;
const TWO32 = 4294967296;

// Scratch, reused (encoding is synchronous): residual rows of orders 0..3 (order o at o * n), and per order
// its minimum and block tops.
let rows = new Float64Array(4 * 256);
let tops = new Float64Array(4 * 8);
const mins = new Float64Array(4);

/** Bits needed for 0 <= v < 2^53. */
const bitLength = (v: number) => (v < TWO32 ? 32 - Math.clz32(v) : 64 - Math.clz32(v / TWO32));

/** Bytes Writer.svarint takes for v. */
function svarintBytes(v: number): number {
  let m = Math.abs(v), n = 1;
  for (m = Math.floor(m / 64); m > 0; m = Math.floor(m / 128)) n++;
  return n;
}

export interface IntPlan {
  order: number;
  rice: boolean;
  /** Estimated size. */
  bits: number;
}

/**
 * Picks the order whose residuals pack smallest, trying higher orders while they keep helping (or takes
 * order `only`), then Rice or bit packing for it. writeInts then writes that plan.
 */
export function planInts(x: Float64Array, n: number, only?: number): IntPlan {
  if (rows.length < 4 * n) rows = new Float64Array(4 * n);
  const blocks = Math.ceil(n / BLOCK);
  if (tops.length < 4 * blocks) tops = new Float64Array(4 * blocks);
  const r = rows;
  r.set(x.subarray(0, n));
  const fixed = only !== undefined && only < n;
  let bestOrder = 0, bestBits = fixed && only > 0 ? Infinity : cost(r, 0, n), bestFirsts = 0, lastBits = bestBits, firsts = 0;
  for (let o = 1; o <= (fixed ? only : 3) && o < n; o++) {
    const prev = (o - 1) * n, at = o * n;
    firsts += 8 * svarintBytes(r[prev + o - 1]!);
    let fits = true;
    for (let i = o; i < n; i++) {
      const d = r[prev + i]! - r[prev + i - 1]!;
      if (!(d > -LIMIT && d < LIMIT)) { fits = false; break; }
      r[at + i] = d;
    }
    if (!fits) return fixed ? planInts(x, n) : { order: bestOrder, ...packing(r, n, bestOrder, bestBits, bestFirsts) };
    if (fixed && o < only) continue;
    const bits = firsts + cost(r, o, n);
    if (bits < bestBits) [bestOrder, bestBits, bestFirsts] = [o, bits, firsts];
    if (bits >= lastBits) break;
    lastBits = bits;
  }
  return { order: bestOrder, ...packing(r, n, bestOrder, bestBits, bestFirsts) };
}

/** Rice or bit packing for the residuals of `order`, given bit packing's size. */
function packing(r: Float64Array, n: number, order: number, packedBits: number, firsts: number): { rice: boolean; bits: number } {
  if (packedBits <= 16 + 2 * n) return { rice: false, bits: packedBits }; // Rice takes a bit a value at least
  // Rice's block table (codecRice.ts) is left out: it costs more bytes than bit packing at times, but
  // charts read blocked Rice fastest
  const riceBits = firsts + riceCost(r, order * n + order, order * n + n);
  return riceBits < packedBits ? { rice: true, bits: riceBits } : { rice: false, bits: packedBits };
}

/** Size in bits of the residuals of order `from` (rows[from * n + from..]); keeps their minimum and block tops for writeInts. */
function cost(row: Float64Array, from: number, n: number): number {
  if (from >= n) return 0;
  let min = Infinity, max = -Infinity;
  const base = from * Math.ceil(n / BLOCK), off = from * n, t = tops;
  for (let b = from, k = 0; b < n; b += BLOCK, k++) {
    const end = Math.min(n, b + BLOCK) + off;
    let lo = row[b + off]!, hi = lo;
    for (let i = b + off + 1; i < end; i++) {
      const r = row[i]!;
      if (r < lo) lo = r;
      else if (r > hi) hi = r;
    }
    t[base + k] = hi;
    if (lo < min) min = lo;
    if (hi > max) max = hi;
  }
  mins[from] = min;
  if (!(max - min < LIMIT)) return Infinity;
  let bits = 8 * svarintBytes(min) + 8;
  if (max === min) return bits;
  for (let b = from, k = 0; b < n; b += BLOCK, k++) bits += 8 + bitLength(t[base + k]! - min) * (Math.min(n, b + BLOCK) - b);
  return bits;
}

/** Writes the integers of the last planInts call as it planned (its residuals are still in scratch). */
export function writeInts(w: Writer, n: number, plan: IntPlan): void {
  const row = rows, order = plan.order, off = order * n;
  for (let j = 0; j < order; j++) w.svarint(row[j * n + j]!); // the leading diagonal
  if (order >= n) return;
  if (plan.rice) {
    writeRice(w, n - order, blocked(order, n - order));
    return;
  }
  const min = mins[order]!, base = order * Math.ceil(n / BLOCK);
  w.svarint(min);
  let maxWidth = 0, total = 0;
  const first = w.at + 1;
  w.byte(0);
  for (let b = order, k = 0; b < n; b += BLOCK, k++) {
    const width = bitLength(tops[base + k]! - min);
    w.byte(width);
    total += width * (Math.min(n, b + BLOCK) - b);
    if (width > maxWidth) maxWidth = width;
  }
  w.bytes[first - 1] = maxWidth;
  if (maxWidth === 0) {
    w.at = first;
    return;
  }
  w.room(Math.ceil(total / 8) + 8);
  const out = w.bytes;
  let at = w.at, word = 0, used = 0;
  for (let b = order, k = first; b < n; b += BLOCK, k++) {
    const end = Math.min(n, b + BLOCK), width = out[k]!;
    if (width === 0) continue;
    for (let i = b; i < end; i++) {
      let v = row[off + i]! - min;
      let left = width;
      if (width > 32) { // the low 32 bits first
        const lo = v >>> 0;
        v = (v - lo) / TWO32;
        word |= lo << used;
        out[at] = word; out[at + 1] = word >>> 8; out[at + 2] = word >>> 16; out[at + 3] = word >>> 24;
        at += 4;
        word = used === 0 ? 0 : lo >>> (32 - used);
        left = width - 32;
      }
      word |= v << used;
      used += left;
      if (used >= 32) {
        out[at] = word; out[at + 1] = word >>> 8; out[at + 2] = word >>> 16; out[at + 3] = word >>> 24;
        at += 4;
        used -= 32;
        word = used === 0 ? 0 : v >>> (left - used);
      }
    }
  }
  for (let u = 0; u < used; u += 8) out[at++] = word >>> u;
  w.at = at;
}

/**
 * Reads n integers written by writeInts into x, each stored as integer * mul / div (the column's scale);
 * `inBlocks`: Rice coded in blocks (codecRice.ts).
 */
export function readInts(r: Reader, x: Float64Array, n: number, order: number, rice: boolean, mul = 1, div = 1, inBlocks = false): void {
  for (let j = 0; j < order && j < n; j++) x[j] = r.svarint();
  if (order === 0 && rice && div === 1 && n > 0) {
    readRice(r, x, 0, n, mul, inBlocks); // scaled as read: (x * mul) / 1 is x * mul
    return;
  }
  if (order < n) {
    if (rice) readRice(r, x, order, n, 1, inBlocks);
    else readPacked(r, x, n, order);
  }
  undoDifferences(x, n, order);
  if (div !== 1) for (let i = 0; i < n; i++) x[i] = (x[i]! * mul) / div;
  else if (mul !== 1) for (let i = 0; i < n; i++) x[i] = x[i]! * mul; // the same as (x * mul) / 1
}

/**
 * x[j] holds the j-th difference at j (j < order), then order-th differences: undone in one pass, where
 * s<L> is the difference of order L at the point before (what the pass of level L leaves there).
 */
function undoDifferences(x: Float64Array, n: number, order: number): void {
  if (order === 1) {
    let s0 = x[0]!;
    for (let i = 1; i < n; i++) x[i] = s0 += x[i]!;
  } else if (order === 2 && n > 1) {
    let s0 = x[0]!, s1 = x[1]!;
    x[1] = s0 += s1;
    for (let i = 2; i < n; i++) {
      s1 += x[i]!;
      x[i] = s0 += s1;
    }
  } else if (order === 3 && n > 1) {
    let s0 = x[0]!, s1 = x[1]!, s2 = s1;
    x[1] = s0 += s1;
    if (n > 2) {
      s2 = x[2]!;
      s1 += s2;
      x[2] = s0 += s1;
    }
    for (let i = 3; i < n; i++) {
      s2 += x[i]!;
      s1 += s2;
      x[i] = s0 += s1;
    }
  }
}

function readPacked(r: Reader, x: Float64Array, n: number, order: number): void {
  const min = r.svarint();
  const maxWidth = r.byte();
  if (maxWidth > 53) throw new RangeError('chunk blob has a bad bit width');
  if (maxWidth === 0) x.fill(min, order, n);
  else {
    const blocks = Math.ceil((n - order) / BLOCK), first = r.at;
    let total = 0;
    for (let k = 0; k < blocks; k++) {
      const width = r.byte();
      if (width > maxWidth) throw new RangeError('chunk blob has a bad bit width');
      total += width * (Math.min(n, order + (k + 1) * BLOCK) - order - k * BLOCK);
    }
    const bytes = r.bytes, len = r.length, start = r.at;
    r.skip(Math.ceil(total / 8));
    const view = new DataView(bytes.buffer, bytes.byteOffset, len);
    let bit = start * 8;
    for (let b = order, k = first; b < n; b += BLOCK, k++) {
      const end = Math.min(n, b + BLOCK), width = bytes[k]!;
      if (width === 0) { x.fill(min, b, end); continue; }
      const mask = width >= 32 ? -1 : (1 << width) - 1;
      if (width <= 25 && ((bit + width * (end - b - 1)) >>> 3) + 4 <= len) {
        // the block's bits read in place, 32 at a time (from any bit of a byte, 25 are whole)
        for (let i = b; i < end; i++, bit += width) x[i] = min + ((view.getUint32(bit >>> 3, true) >>> (bit & 7)) & mask);
        continue;
      }
      for (let i = b; i < end; i++) {
        const v = peek32(bytes, len, bit);
        if (width <= 32) {
          x[i] = min + ((v & mask) >>> 0);
          bit += width;
          continue;
        }
        bit += 32;
        const hi = peek32(bytes, len, bit);
        x[i] = min + (hi & ((1 << (width - 32)) - 1)) * TWO32 + (v >>> 0);
        bit += width - 32;
      }
    }
  }
}
