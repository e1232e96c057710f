/** Byte and bit streams for the chunk codec. Little-endian; bits fill bytes from the low end. */

/** The 32 bits from bit `pos` of b[0..len), low first; zeros past len. */
export function peek32(b: Uint8Array, len: number, pos: number): number {
  const p = pos >>> 3, sh = pos & 7;
  if (p + 4 < len) {
    const v = (b[p]! | (b[p + 1]! << 8) | (b[p + 2]! << 16) | (b[p + 3]! << 24)) >>> sh;
    return sh === 0 ? v : v | (b[p + 4]! << (32 - sh));
  }
  let lo = 0, top = 0;
  for (let j = 0; j < 4; j++) if (p + j < len) lo |= b[p + j]! << (8 * j);
  if (p + 4 < len) top = b[p + 4]!;
  const v = lo >>> sh;
  return sh === 0 ? v : v | (top << (32 - sh));
}

const f64 = new Float64Array(1);
const f64Bytes = new Uint8Array(f64.buffer);


/** A growable byte buffer: bytes, varints, raw float64s, and bit fields of up to 32 bits. */
export class Writer {
  bytes: Uint8Array;
  at = 0;
  private word = 0; // pending bits, low first
  private used = 0;

  constructor(capacity = 2048) {
    this.bytes = new Uint8Array(capacity);
  }

  room(n: number): void {
    if (this.at + n <= this.bytes.length) return;
    const bigger = new Uint8Array(Math.max(this.bytes.length * 2, this.at + n));
    bigger.set(this.bytes.subarray(0, this.at));
    this.bytes = bigger;
  }

  byte(v: number): void {
    this.room(1);
    this.bytes[this.at++] = v;
  }

  /** An unsigned integer up to 2^53, 7 bits a byte. */
  varint(v: number): void {
    this.room(8);
    while (v >= 128) {
      this.bytes[this.at++] = (v % 128) | 128;
      v = Math.floor(v / 128);
    }
    this.bytes[this.at++] = v;
  }

  /** A signed integer of magnitude up to 2^53: sign in the low bit of the first byte, then the magnitude. */
  svarint(v: number): void {
    const m = Math.abs(v);
    const more = m >= 64;
    this.byte((v < 0 ? 1 : 0) | ((m % 64) << 1) | (more ? 128 : 0));
    if (more) this.varint(Math.floor(m / 64));
  }

  f64le(v: number): void {
    this.room(8);
    f64[0] = v;
    this.bytes.set(f64Bytes, this.at);
    this.at += 8;
  }

  /** Appends v (0 <= v < 2^w) in w bits, w <= 32. */
  bits(v: number, w: number): void {
    if (w === 0) return;
    const free = 32 - this.used;
    this.word |= v << this.used;
    if (w < free) {
      this.used += w;
      return;
    }
    this.room(4);
    const b = this.bytes, word = this.word;
    b[this.at] = word;
    b[this.at + 1] = word >>> 8;
    b[this.at + 2] = word >>> 16;
    b[this.at + 3] = word >>> 24;
    this.at += 4;
    this.word = free === 32 ? 0 : v >>> free;
    this.used = w - free;
  }

  /** Bits written so far, those of an unended bit stream included. */
  bitAt(): number {
    return this.at * 8 + this.used;
  }

  /** Ends a bit stream: its last bits padded to a whole byte. */
  endBits(): void {
    this.room(4);
    for (let u = 0; u < this.used; u += 8) this.bytes[this.at++] = this.word >>> u;
    this.word = 0;
    this.used = 0;
  }

  result(): Uint8Array {
    return this.bytes.subarray(0, this.at);
  }
}

/** Reads what Writer wrote from bytes[0..length); bit streams are read with peek32. Reading past the end throws. */
export class Reader {
  readonly bytes: Uint8Array;
  readonly length: number;
  at = 0;

  constructor(bytes: Uint8Array, length: number) {
    this.bytes = bytes;
    this.length = length;
  }

  skip(n: number): void {
    if (this.at + n > this.length) throw new RangeError('chunk blob ends early');
    this.at += n;
  }

  byte(): number {
    if (this.at >= this.length) throw new RangeError('chunk blob ends early');
    return this.bytes[this.at++]!;
  }

  varint(): number {
    let v = 0, scale = 1;
    for (;;) {
      const c = this.byte();
      v += (c & 127) * scale;
      if (c < 128) return v;
      scale *= 128;
      if (scale > 2 ** 56) throw new RangeError('chunk blob has a bad varint');
    }
  }

  /** The signed-magnitude varint of Writer.svarint. */
  svarint(): number {
    const first = this.byte();
    const m = ((first >>> 1) & 63) + (first & 128 ? this.varint() * 64 : 0);
    return first & 1 ? -m : m;
  }

  f64le(): number {
    this.skip(8);
    f64Bytes.set(this.bytes.subarray(this.at - 8, this.at));
    return f64[0]!;
  }
}
