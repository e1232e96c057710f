/**
 * Rice coding of integer residuals around their median: z = zigzag(r - center), then z >> k in unary and
 * the low k bits as they are; z >> k of ESCAPE or more is written as ESCAPE ones and z in `width` bits.
 * Near the entropy of bell-shaped noise (clock jitter, a noisy loss), where bit packing spends about a bit
 * more a value on the block's extremes.
 */
import { peek32, type Reader, type Writer } from './codecBits.ts';

const ESCAPE = 20;
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

/** Writes the residuals riceCost last looked at. */
export function writeRice(w: Writer, m: number): void {
  const { center, k, width } = rice;
  w.svarint(center);
  w.byte(k);
  w.byte(width);
  const div = 2 ** k, mask = k === 0 ? 0 : (1 << k) - 1;
  for (let i = 0; i < m; i++) {
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
  w.endBits();
}

/** Reads residuals written by writeRice into x[from..to), each times `mul` (exact: a power of two, or 1). */
export function readRice(r: Reader, x: Float64Array, from: number, to: number, mul = 1): void {
  const center = r.svarint(), k = r.byte(), width = r.byte();
  if (k > 31 || width > 53) throw new RangeError('chunk blob has a bad Rice header');
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
  r.at = start;
  r.skip(Math.ceil(bit / 8));
}

/**
 * readRice for order 0 at scale 1 (x = center + residual), read only for what a chart needs: run j of the
 * values is [cuts[j], cuts[j + 1]) (j < runs, cuts[runs] <= n; values outside the runs are read and passed
 * over), and out gets its smallest, largest and last integer at 3j, 3j + 1, 3j + 2, each computed as
 * readRice computes it. False, with r where it was, when the stream is not of the kind read 32 bits at a
 * time, its integers may not be int32s, or a run's integers may hold a zero (±0 ties in a chart's min and
 * max: the caller decodes the values instead).
 */
export function readRiceRuns(r: Reader, n: number, cuts: Int32Array, runs: number, out: Float64Array): boolean {
  const from = r.at;
  const center = r.svarint(), k = r.byte(), width = r.byte();
  const b = r.bytes, len = r.length, start = r.at;
  // |center| <= 2^30 and |residual| <= 2^30: the integers are int32s
  if (k > 31 || width > 31 || len - start <= 8 || !(Math.abs(center) <= 2 ** 30)) {
    r.at = from;
    return false;
  }
  const view = new DataView(b.buffer, b.byteOffset, len);
  const end = (len - 4) * 8, wmask = (1 << width) - 1, mask = k === 0 ? 0 : (1 << k) - 1, most = Math.max(ESCAPE + k, ESCAPE + width);
  const INT_MAX = 2 ** 31 - 1, INT_MIN = -(2 ** 31);
  let bit = start * 8, i = 0, j = 0, edge = runs > 0 ? cuts[0]! : n, min = INT_MAX, max = INT_MIN, q = 0;
  let safe = 0; // the values before it are sure to have 4 bytes from where they start
  while (i < n || i === edge) {
    if (i === edge) { // a run ends or starts here
      if (j > 0) {
        if (min <= 0 && max >= 0) {
          r.at = from;
          return false;
        }
        out[3 * j - 3] = min; out[3 * j - 2] = max; out[3 * j - 1] = q;
      }
      min = INT_MAX; max = INT_MIN;
      edge = ++j <= runs ? cuts[j]! : n + 1;
      continue;
    }
    if (i >= safe) safe = i + Math.floor((end - bit) / most);
    if (safe <= i) { // fewer than 4 bytes left: one value as readRice's last loop reads it
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
      q = (center + ((z >>> 1) ^ -(z & 1))) | 0;
      min = Math.min(min, q);
      max = Math.max(max, q);
      i++;
      continue;
    }
    const stop = Math.min(edge, n, safe);
    for (; i < stop; i++) { // as readRice's loop for z below 2^31
      const sh = bit & 7;
      const v = view.getUint32(bit >>> 3, true) >>> sh;
      const zeros = ~v | 0x80000000;
      const ones = 31 - Math.clz32(zeros & -zeros);
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
      q = (center + ((z >>> 1) ^ -(z & 1))) | 0;
      min = Math.min(min, q);
      max = Math.max(max, q);
    }
  }
  bit -= start * 8;
  r.at = start;
  r.skip(Math.ceil(bit / 8));
  return true;
}
