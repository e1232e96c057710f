/** A minimal protobuf wire-format reader: enough to decode messages field by field. */

export class ProtoError extends Error {}

export const VARINT = 0, FIXED64 = 1, LEN = 2, START_GROUP = 3, END_GROUP = 4, FIXED32 = 5;

const TWO_53 = 2 ** 53;
const utf8 = new TextDecoder();

export class ProtoReader {
  readonly buf: Uint8Array;
  readonly end: number;
  pos: number;
  private view: DataView | undefined;

  constructor(buf: Uint8Array, start = 0, end = buf.length) {
    this.buf = buf;
    this.pos = start;
    this.end = end;
  }

  done(): boolean {
    return this.pos >= this.end;
  }

  /** The next field's tag: field number is `tag >>> 3`, wire type `tag & 7`. */
  tag(): number {
    const t = this.varint();
    if (t >>> 3 === 0) throw new ProtoError(`field number 0 at byte ${this.pos}`);
    return t;
  }

  /** An unsigned varint as a number (exact below 2^53). */
  varint(): number {
    let result = 0, mul = 1;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) throw new ProtoError('truncated varint');
      const b = this.buf[this.pos++]!;
      result += (b & 0x7f) * mul;
      if (b < 0x80) return result;
      mul *= 128;
    }
    throw new ProtoError('varint longer than 10 bytes');
  }

  /** An unsigned varint, exactly. */
  varint64(): bigint {
    let result = 0n, shift = 0n;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) throw new ProtoError('truncated varint');
      const b = this.buf[this.pos++]!;
      result |= BigInt(b & 0x7f) << shift;
      if (b < 0x80) return BigInt.asUintN(64, result);
      shift += 7n;
    }
    throw new ProtoError('varint longer than 10 bytes');
  }

  /** An int64 varint (two's complement) as a number. */
  int64(): number {
    const start = this.pos;
    const v = this.varint();
    if (v < TWO_53) return v;
    this.pos = start;
    return Number(BigInt.asIntN(64, this.varint64()));
  }

  /** An int32 or enum varint. */
  int32(): number {
    return this.int64() | 0;
  }

  private dv(): DataView {
    return this.view ??= new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.byteLength);
  }

  private need(n: number): number {
    const at = this.pos;
    if (at + n > this.end) throw new ProtoError(`truncated: ${n} bytes wanted at byte ${at}`);
    this.pos += n;
    return at;
  }

  fixed32(): number { return this.dv().getUint32(this.need(4), true); }
  float(): number { return this.dv().getFloat32(this.need(4), true); }
  double(): number { return this.dv().getFloat64(this.need(8), true); }
  fixed64(): bigint { return this.dv().getBigUint64(this.need(8), true); }

  /** A length-delimited field's bounds, as [start, end). */
  span(): [number, number] {
    const n = this.varint();
    const at = this.need(n);
    return [at, at + n];
  }

  bytes(): Uint8Array {
    const [s, e] = this.span();
    return this.buf.subarray(s, e);
  }

  string(): string {
    return utf8.decode(this.bytes());
  }

  /** A reader over an embedded message (or a packed repeated field). */
  sub(): ProtoReader {
    const [s, e] = this.span();
    return new ProtoReader(this.buf, s, e);
  }

  /** Skips the value of a field whose tag was just read; groups included. */
  skip(tag: number): void {
    switch (tag & 7) {
      case VARINT: this.varint(); return;
      case FIXED64: this.need(8); return;
      case LEN: this.span(); return;
      case FIXED32: this.need(4); return;
      case START_GROUP: {
        for (;;) {
          const t = this.tag();
          if ((t & 7) === END_GROUP) {
            if (t >>> 3 !== tag >>> 3) throw new ProtoError('mismatched end of group');
            return;
          }
          this.skip(t);
        }
      }
      default: throw new ProtoError(`unexpected wire type ${tag & 7}`);
    }
  }
}
