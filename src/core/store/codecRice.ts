/**
 * Rice coding of integer residuals around their median: z = zigzag(r - center), then z >> k in unary and
 * the low k bits as they are; z >> k of ESCAPE or more is written as ESCAPE ones and z in `width` bits.
 * Near the entropy of bell-shaped noise (clock jitter, a noisy loss), where bit packing spends about a bit
 * more a value on the block's extremes.
 */
import { type Reader, Writer, peek32 } from './codecBits.ts';

export const ESCAPE = 20;
const LIMIT = 2 ** 52;
const TWO32 = 4294967296;

const sample = new Float64Array(33);
let zs = new Float64Array(256);
const rice = { center: 0, k: 0, width: 0 };

const bitLength = (v: number) => (v < TWO32 ? 32 - Math.clz32(v) : 64 - Math.clz32(v / TWO32));

/** Size in bits of row[from..to) Rice coded (Infinity when it cannot be); keeps what writeRice needs. */
export function riceCost(row: Float64Array, from: number, to: number): number {
  const m = to - from;
  if (m <= 0) return Infinity;
  if (zs.length < m) zs = new Float64Array(m);
  const s = Math.min(m, sample.length);
  for (let j = 0; j < s; j++) sample[j] = row[from + Math.floor((j * m) / s)]!;
  const center = sample.subarray(0, s).sort()[s >> 1]!;
  let sum = 0, maxZ = 0;
  for (let i = 0; i < m; i++) {
    const d = row[from + i]! - center;
    if (!(d > -LIMIT && d < LIMIT)) return Infinity;
    const z = d < 0 ? -2 * d - 1 : 2 * d;
    zs[i] = z;
    sum += z;
    if (z > maxZ) maxZ = z;
  }
  const width = bitLength(maxZ);
  // the best k is near log2 of the mean; try it and its neighbours
  const k0 = Math.max(0, Math.min(31, Math.floor(Math.log2(Math.max(1, (sum / m) * Math.LN2)))));
  // one pass sums z >> k for k0 - 1, k0 and k0 + 1, and counts escapes
  const k1 = Math.max(0, k0 - 1), k2 = k0, k3 = Math.min(31, k0 + 1);
  const f1 = 2 ** -k1, f2 = 2 ** -k2, f3 = 2 ** -k3; // exact: z * 2^-k, floored, is z >> k
  let s1 = 0, s2 = 0, s3 = 0, e1 = 0, e2 = 0, e3 = 0;
  for (let i = 0; i < m; i++) {
    const z = zs[i]!;
    const q1 = width <= 31 ? (z | 0) >>> k1 : Math.floor(z * f1);
    const q2 = width <= 31 ? (z | 0) >>> k2 : Math.floor(z * f2);
    const q3 = width <= 31 ? (z | 0) >>> k3 : Math.floor(z * f3);
    if (q1 < ESCAPE) s1 += q1; else e1++;
    if (q2 < ESCAPE) s2 += q2; else e2++;
    if (q3 < ESCAPE) s3 += q3; else e3++;
  }
  const bitsAt = (k: number, sum: number, escapes: number) => sum + (m - escapes) * (1 + k) + escapes * (ESCAPE + width);
  let best = bitsAt(k1, s1, e1), bestK = k1;
  if (bitsAt(k2, s2, e2) < best) [best, bestK] = [bitsAt(k2, s2, e2), k2];
  if (bitsAt(k3, s3, e3) < best) [best, bestK] = [bitsAt(k3, s3, e3), k3];
  rice.center = center;
  rice.k = bestK;
  rice.width = width;
  return best + 8 * 9;
}

/**
 * A column of more than BLOCK values (order 0) is written in blocks, with a table before its stream: log2 of
 * the block size, then per block the bits it takes and the smallest and largest residual (the largest as its
 * distance from the smallest), then the last residual. A chart bucket that covers a whole block reads it
 * from the table (codecRiceRuns.ts), so only the blocks at bucket edges are decoded.
 */
const LOG_BLOCK = 6;
const BLOCK = 1 << LOG_BLOCK;

/** Whether m residuals of order `order` are written in blocks. */
export const blocked = (order: number, m: number) => order === 0 && m > BLOCK;

/** Writes the residuals riceCost last looked at, in blocks when `inBlocks`. */
export function writeRice(w: Writer, m: number, inBlocks = false): void {
  const { center } = rice;
  w.svarint(center);
  w.byte(rice.k);
  w.byte(rice.width);
  if (!inBlocks) {
    writeStream(w, 0, m);
    w.endBits();
    return;
  }
  // the stream first, then its table (a few bytes) put before it
  const t = tableWriter, start = w.at;
  t.at = 0;
  t.byte(LOG_BLOCK);
  const small = rice.width <= 31; // every z an int32
  for (let from = 0, bit = 8 * start; from < m; from += BLOCK) {
    const to = Math.min(m, from + BLOCK);
    writeStream(w, from, to);
    let lo = Infinity, hi = -Infinity;
    for (let i = from; i < to; i++) {
      const z = zs[i]!;
      let d: number; // zigzag undone
      if (small) d = ((z >>> 1) ^ -(z & 1)) | 0;
      else {
        const half = Math.floor(z / 2);
        d = half * 2 === z ? half : -half - 1;
      }
      lo = Math.min(lo, d);
      hi = Math.max(hi, d);
    }
    t.varint(w.bitAt() - bit);
    bit = w.bitAt();
    t.svarint(lo);
    t.varint(hi - lo);
  }
  const z = zs[m - 1]!, half = Math.floor(z / 2);
  t.svarint(half * 2 === z ? half : -half - 1);
  w.endBits();
  w.room(t.at);
  w.bytes.copyWithin(start + t.at, start, w.at);
  w.bytes.set(t.result(), start);
  w.at += t.at;
}

const tableWriter = new Writer(256);

/** Writes zs[from..to) into the bit stream. */
function writeStream(w: Writer, from: number, to: number): void {
  const { k, width } = rice;
  const div = 2 ** k, mask = k === 0 ? 0 : (1 << k) - 1;
  for (let i = from; i < to; i++) {
    const z = zs[i]!;
    const q = Math.floor(z / div);
    if (q < ESCAPE) {
      // q ones, a zero, then the low k bits of z
      if (q + 1 + k <= 32) w.bits(((1 << q) - 1) | ((z & mask) << (q + 1)), q + 1 + k);
      else {
        w.bits((1 << q) - 1, q + 1);
        w.bits(z & mask, k);
      }
    } else {
      w.bits((1 << ESCAPE) - 1, ESCAPE);
      if (width <= 32) w.bits(z, width);
      else {
        w.bits(z >>> 0, 32);
        w.bits(Math.floor(z / TWO32), width - 32);
      }
    }
  }
}

/** A block table as read (see writeRice): block t's stream is bits at[t]..at[t + 1], its integers lo[t]..hi[t]. */
export const table = { log: 0, blocks: 0, at: new Float64Array(64), lo: new Float64Array(64), hi: new Float64Array(64), last: 0 };

/** Reads the block table of m residuals around `center` (their integers are center + residual). */
export function readTable(r: Reader, m: number, center: number): void {
  const log = r.byte();
  if (log < 4 || log > 16) throw new RangeError('chunk blob has a bad block table');
  const blocks = Math.ceil(m / (1 << log));
  const t = table;
  if (t.at.length <= blocks) [t.at, t.lo, t.hi] = [new Float64Array(blocks + 1), new Float64Array(blocks), new Float64Array(blocks)];
  t.log = log;
  t.blocks = blocks;
  t.at[0] = 0;
  for (let j = 0; j < blocks; j++) {
    t.at[j + 1] = t.at[j]! + r.varint();
    t.lo[j] = center + r.svarint();
    t.hi[j] = t.lo[j]! + r.varint();
  }
  t.last = center + r.svarint();
  if (t.at[blocks]! > 8 * (r.length - r.at)) throw new RangeError('chunk blob has a bad block table');
}

/** Reads residuals written by writeRice into x[from..to), each times `mul` (exact: a power of two, or 1). */
export function readRice(r: Reader, x: Float64Array, from: number, to: number, mul = 1, inBlocks = false): void {
  const center = r.svarint(), k = r.byte(), width = r.byte();
  if (k > 31 || width > 53) throw new RangeError('chunk blob has a bad Rice header');
  if (inBlocks) readTable(r, to - from, center);
  const div = 2 ** k, b = r.bytes, len = r.length, start = r.at, mask = k === 0 ? 0 : (1 << k) - 1;
  let bit = start * 8, i = from;
  if (width <= 31 && len - start > 8) {
    // all z below 2^31: int arithmetic, and the stream read in place, 32 bits at a time, while 4 bytes are left
    const view = new DataView(b.buffer, b.byteOffset, len);
    const end = (len - 4) * 8, wmask = (1 << width) - 1, most = Math.max(ESCAPE + k, ESCAPE + width); // bits a value takes at most
    for (let stop = Math.min(to, i + Math.floor((end - bit) / most)); i < stop; stop = Math.min(to, i + Math.floor((end - bit) / most))) {
      for (; i < stop; i++) {
        const sh = bit & 7;
        const v = view.getUint32(bit >>> 3, true) >>> sh; // 32 - sh >= 25 bits, ESCAPE ones and more
        const zeros = ~v | 0x80000000; // a zero at the top: 31 ones at most, an escape all the same
        const ones = 31 - Math.clz32(zeros & -zeros); // v's trailing ones
        let z: number;
        if (ones < ESCAPE) {
          const used = ones + 1 + k;
          z = ((used <= 32 - sh ? v >>> (ones + 1) : peek32(b, len, bit + ones + 1)) & mask) | (ones << k);
          bit += used;
        } else {
          bit += ESCAPE;
          z = peek32(b, len, bit) & wmask;
          bit += width;
        }
        x[i] = (center + ((z >>> 1) ^ -(z & 1))) * mul;
      }
    }
    for (; i < to; i++) {
      const zeros = ~peek32(b, len, bit);
      const ones = zeros === 0 ? 32 : 31 - Math.clz32(zeros & -zeros);
      let z: number;
      if (ones < ESCAPE) {
        bit += ones + 1;
        z = (peek32(b, len, bit) & mask) | (ones << k);
        bit += k;
      } else {
        bit += ESCAPE;
        z = peek32(b, len, bit) & wmask;
        bit += width;
      }
      x[i] = (center + ((z >>> 1) ^ -(z & 1))) * mul;
    }
  } else {
    for (; i < to; i++) {
      const v = peek32(b, len, bit);
      const zeros = ~v;
      const ones = zeros === 0 ? 32 : 31 - Math.clz32(zeros & -zeros);
      let z: number;
      if (ones < ESCAPE) {
        bit += ones + 1;
        z = ones * div + ((peek32(b, len, bit) & mask) >>> 0);
        bit += k;
      } else {
        bit += ESCAPE;
        const lo = peek32(b, len, bit);
        if (width <= 32) z = width === 32 ? lo >>> 0 : (lo & ((1 << width) - 1)) >>> 0;
        else z = (lo >>> 0) + (peek32(b, len, bit + 32) & ((1 << (width - 32)) - 1)) * TWO32;
        bit += width;
      }
      x[i] = (center + (z & 1 ? -(z + 1) / 2 : z / 2)) * mul; // & 1: the parity, also above 2^32
    }
  }
  bit -= start * 8;
  if (inBlocks && bit !== table.at[table.blocks]) throw new RangeError('chunk blob has a bad block table');
  r.at = start;
  r.skip(Math.ceil(bit / 8));
}
