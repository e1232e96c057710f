/** CRC-32C (Castagnoli), slice-by-16 (then by 8 and 4), as TFRecord files use it. */

const POLY = 0x82f63b78; // reversed 0x1EDC6F41

// T[k * 256 + b]: the CRC of byte b followed by k zero bytes
const T = new Uint32Array(16 * 256);
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

/**
 * CRC-32C of buf[start, end), as an unsigned 32-bit number. `view`, a DataView of buf's bytes (the same
 * offsets), lets it read four bytes at a time: pass one when checking many short records of one buffer.
 */
export function crc32c(buf: Uint8Array, start = 0, end = buf.length, view?: DataView): number {
  if (!view) {
    if (end - start < 64) return crc32cBytes(buf, start, end);
    view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }
  const v = view;
  let c = ~0;
  let i = start;
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
  for (; i < end; i++) c = T[(c ^ buf[i]!) & 0xff]! ^ (c >>> 8);
  return ~c >>> 0;
}

/** crc32c without a DataView: slice-by-8 over single bytes, for short inputs. */
function crc32cBytes(buf: Uint8Array, start: number, end: number): number {
  let c = ~0;
  let i = start;
  for (; i + 8 <= end; i += 8) {
    const lo = c ^ (buf[i]! | (buf[i + 1]! << 8) | (buf[i + 2]! << 16) | (buf[i + 3]! << 24));
    c = T[0x700 + (lo & 0xff)]! ^ T[0x600 + ((lo >>> 8) & 0xff)]! ^ T[0x500 + ((lo >>> 16) & 0xff)]! ^ T[0x400 + (lo >>> 24)]!
      ^ T[0x300 + buf[i + 4]!]! ^ T[0x200 + buf[i + 5]!]! ^ T[0x100 + buf[i + 6]!]! ^ T[buf[i + 7]!]!;
  }
  for (; i < end; i++) c = T[(c ^ buf[i]!) & 0xff]! ^ (c >>> 8);
  return ~c >>> 0;
}

/** The masked CRC TFRecord stores: rotate right by 15, plus a constant. */
export function maskedCrc32c(buf: Uint8Array, start = 0, end = buf.length, view?: DataView): number {
  const c = crc32c(buf, start, end, view);
  return (((c >>> 15) | (c << 17)) + 0xa282ead8) >>> 0;
}
