/**
 * Gorilla-style XOR coding of float64 bit patterns (Pelkonen et al., VLDB 2015): each value is XORed with
 * the one before; a repeat costs 1 bit, a change that fits the previous window of meaningful bits 2 bits
 * plus the window, else 13 bits plus the meaningful bits. Works on any bits: NaN payloads, -0, denormals.
 */
import { peek32, type Reader, type Writer } from './codecBits.ts';

const ctz = (x: number) => 31 - Math.clz32(x & -x);

/** Writes the n values whose (lo, hi) words are u32[2i], u32[2i + 1]. */
export function writeXor(w: Writer, u32: Uint32Array, n: number): void {
  if (n === 0) return;
  let phi = u32[1]!, plo = u32[0]!;
  w.bits(plo, 32);
  w.bits(phi, 32);
  let lead = -1, trail = 0; // the current window; none yet
  for (let i = 1; i < n; i++) {
    const lo = u32[2 * i]!, hi = u32[2 * i + 1]!;
    const xlo = (lo ^ plo) >>> 0, xhi = (hi ^ phi) >>> 0;
    plo = lo;
    phi = hi;
    if (xlo === 0 && xhi === 0) {
      w.bits(0, 1);
      continue;
    }
    let l = xhi !== 0 ? Math.clz32(xhi) : 32 + Math.clz32(xlo);
    const t = xlo !== 0 ? ctz(xlo) : 32 + ctz(xhi);
    if (lead >= 0 && l >= lead && t >= trail) {
      w.bits(1, 2); // '1' then '0': same window
      meaningful(w, xlo, xhi, trail, 64 - lead - trail);
      continue;
    }
    if (l > 31) l = 31;
    lead = l;
    trail = t;
    const len = 64 - l - t; // 1..64, written as len - 1
    w.bits(3 | (l << 2) | ((len - 1) << 7), 13);
    meaningful(w, xlo, xhi, t, len);
  }
}

/** Writes bits trail..trail+len-1 of the 64-bit (hi, lo). */
function meaningful(w: Writer, lo: number, hi: number, trail: number, len: number): void {
  let mlo: number, mhi: number;
  if (trail === 0) { mlo = lo; mhi = hi; }
  else if (trail < 32) { mlo = ((lo >>> trail) | (hi << (32 - trail))) >>> 0; mhi = hi >>> trail; }
  else { mlo = hi >>> (trail - 32); mhi = 0; }
  if (len <= 32) w.bits(len === 32 ? mlo : mlo & ((1 << len) - 1), len);
  else {
    w.bits(mlo, 32);
    w.bits(mhi, len - 32);
  }
}

/** The w bits (w <= 32) at bit `pos` of b[0..len). */
function field(b: Uint8Array, len: number, pos: number, w: number): number {
  const v = peek32(b, len, pos);
  return w === 32 ? v >>> 0 : (v & ((1 << w) - 1)) >>> 0;
}

/** Reads n values into u32 (lo, hi word pairs). */
export function readXor(r: Reader, u32: Uint32Array, n: number): void {
  if (n === 0) return;
  const b = r.bytes, len = r.length;
  let bit = r.at * 8;
  let plo = field(b, len, bit, 32), phi = field(b, len, bit + 32, 32);
  bit += 64;
  u32[0] = plo;
  u32[1] = phi;
  let lead = 0, trail = 0;
  for (let i = 1; i < n; i++) {
    const head = peek32(b, len, bit);
    if ((head & 1) !== 0) {
      if ((head & 2) !== 0) {
        const h = (head >>> 2) & 2047;
        bit += 13;
        lead = h & 31;
        trail = 64 - lead - ((h >>> 5) + 1);
        if (trail < 0) throw new RangeError('chunk blob has a bad XOR window');
      } else bit += 2;
      const width = 64 - lead - trail;
      let mlo: number, mhi = 0;
      if (width <= 32) mlo = field(b, len, bit, width);
      else {
        mlo = field(b, len, bit, 32);
        mhi = field(b, len, bit + 32, width - 32);
      }
      bit += width;
      let xlo: number, xhi: number;
      if (trail === 0) { xlo = mlo; xhi = mhi; }
      else if (trail < 32) { xlo = mlo << trail; xhi = (mhi << trail) | (mlo >>> (32 - trail)); }
      else { xlo = 0; xhi = mlo << (trail - 32); }
      plo = (plo ^ xlo) >>> 0;
      phi = (phi ^ xhi) >>> 0;
    } else bit += 1;
    u32[2 * i] = plo;
    u32[2 * i + 1] = phi;
  }
  r.skip(Math.ceil(bit / 8) - r.at);
}
