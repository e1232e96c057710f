/** CRC-32C (Castagnoli), slice-by-16 (then by 8 and 4), as TFRecord files use it. */

const POLY = 0x82f63b78; // reversed 0x1EDC6F41

// T[k * 256 + b]: the CRC of byte b followed by k zero bytes (signed: int32 all the way, no boxing)
const T = new Int32Array(16 * 256);
for (let n = 0; n < 256; n++) {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ POLY : c >>> 1;
  T[n] = c;
}
for (let n = 0; n < 256; n++) {
  for (let k = 1; k < 16; k++) {
    const prev = T[(k - 1) * 256 + n]!;
    T[k * 256 + n] = (prev >>> 8) ^ T[prev & 0xff]!;
  }
}

/** The CRC register after buf[start, end), from ~0; not yet inverted. Reads four bytes at a time through `v`. */
function update(v: DataView, i: number, end: number): number {
  let c = -1;
  for (; i + 16 <= end; i += 16) {
    const a = c ^ v.getInt32(i, true), b = v.getInt32(i + 4, true), d = v.getInt32(i + 8, true), e = v.getInt32(i + 12, true);
    c = T[0xf00 + (a & 0xff)]! ^ T[0xe00 + ((a >>> 8) & 0xff)]! ^ T[0xd00 + ((a >>> 16) & 0xff)]! ^ T[0xc00 + (a >>> 24)]!
      ^ T[0xb00 + (b & 0xff)]! ^ T[0xa00 + ((b >>> 8) & 0xff)]! ^ T[0x900 + ((b >>> 16) & 0xff)]! ^ T[0x800 + (b >>> 24)]!
      ^ T[0x700 + (d & 0xff)]! ^ T[0x600 + ((d >>> 8) & 0xff)]! ^ T[0x500 + ((d >>> 16) & 0xff)]! ^ T[0x400 + (d >>> 24)]!
      ^ T[0x300 + (e & 0xff)]! ^ T[0x200 + ((e >>> 8) & 0xff)]! ^ T[0x100 + ((e >>> 16) & 0xff)]! ^ T[e >>> 24]!;
  }
  if (i + 8 <= end) {
    const a = c ^ v.getInt32(i, true), b = v.getInt32(i + 4, true);
    c = T[0x700 + (a & 0xff)]! ^ T[0x600 + ((a >>> 8) & 0xff)]! ^ T[0x500 + ((a >>> 16) & 0xff)]! ^ T[0x400 + (a >>> 24)]!
      ^ T[0x300 + (b & 0xff)]! ^ T[0x200 + ((b >>> 8) & 0xff)]! ^ T[0x100 + ((b >>> 16) & 0xff)]! ^ T[b >>> 24]!;
    i += 8;
  }
  if (i + 4 <= end) {
    const a = c ^ v.getInt32(i, true);
    c = T[0x300 + (a & 0xff)]! ^ T[0x200 + ((a >>> 8) & 0xff)]! ^ T[0x100 + ((a >>> 16) & 0xff)]! ^ T[a >>> 24]!;
    i += 4;
  }
  for (; i < end; i++) c = T[(c ^ v.getUint8(i)) & 0xff]! ^ (c >>> 8);
  return c;
}

const viewOf = (buf: Uint8Array) => new DataView(buf.buffer, buf.byteOffset, buf.byteLength);

/** TFRecord's mask of a CRC register (not yet inverted): invert, rotate right by 15, add a constant; as an int32. */
const mask = (c: number) => ((((~c >>> 15) | (~c << 17)) + 0xa282ead8) | 0);

/**
 * CRC-32C of buf[start, end), as an unsigned 32-bit number. `view`, a DataView of buf's bytes (the same
 * offsets), saves making one: pass one when checking many short records of one buffer.
 */
export function crc32c(buf: Uint8Array, start = 0, end = buf.length, view?: DataView): number {
  return ~update(view ?? viewOf(buf), start, end) >>> 0;
}

/** The masked CRC TFRecord stores: rotate right by 15, plus a constant. */
export function maskedCrc32c(buf: Uint8Array, start = 0, end = buf.length, view?: DataView): number {
  return mask(update(view ?? viewOf(buf), start, end)) >>> 0;
}

/** Whether the masked CRC of view[start, end) is the uint32 stored right after it (a TFRecord's data). */
export function dataChecks(view: DataView, start: number, end: number): boolean {
  return view.getInt32(end, true) === mask(update(view, start, end));
}

// The last TFRecord header (length lo, length hi, masked CRC) that checked out: records of one length repeat it.
// It starts as the header of a length 0 (never all zeros, which would let a zeroed header through).
const lastHeader = Int32Array.of(0, 0, mask(update(new DataView(new ArrayBuffer(8)), 0, 8)));

/** Whether the masked CRC of a TFRecord header's uint64 length at `pos` is the uint32 stored after it. */
export function headerChecks(view: DataView, pos: number): boolean {
  const lo = view.getInt32(pos, true), hi = view.getInt32(pos + 4, true), stored = view.getInt32(pos + 8, true);
  if (lo === lastHeader[0] && hi === lastHeader[1] && stored === lastHeader[2]) return true;
  const a = ~lo;
  const c = T[0x700 + (a & 0xff)]! ^ T[0x600 + ((a >>> 8) & 0xff)]! ^ T[0x500 + ((a >>> 16) & 0xff)]! ^ T[0x400 + (a >>> 24)]!
    ^ T[0x300 + (hi & 0xff)]! ^ T[0x200 + ((hi >>> 8) & 0xff)]! ^ T[0x100 + ((hi >>> 16) & 0xff)]! ^ T[hi >>> 24]!;
  if (stored !== mask(c)) return false;
  lastHeader[0] = lo; lastHeader[1] = hi; lastHeader[2] = stored;
  return true;
}
