/**
 * Writes TensorBoard event files for tests and benchmarks, straight from the documented format:
 * tensorflow/core/util/event.proto, framework/summary.proto and framework/tensor.proto, in TFRecord framing.
 */
import { maskedCrc32c } from '../../../src/core/formats/crc32c.ts';

const VARINT = 0, FIXED64 = 1, LEN = 2, FIXED32 = 5;

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) { out.set(p, at); at += p.length; }
  return out;
}

/** Varint bytes; negative numbers as 64-bit two's complement (10 bytes), as for int64. */
export function varint(n: number | bigint): Uint8Array {
  let v = BigInt.asUintN(64, BigInt(n));
  const out: number[] = [];
  while (v >= 0x80n) { out.push(Number(v & 0x7fn) | 0x80); v >>= 7n; }
  out.push(Number(v));
  return Uint8Array.from(out);
}

const key = (field: number, wire: number) => varint((field << 3) | wire);
export const fVarint = (field: number, n: number | bigint) => concat([key(field, VARINT), varint(n)]);
export const fBytes = (field: number, b: Uint8Array) => concat([key(field, LEN), varint(b.length), b]);
export const fString = (field: number, s: string) => fBytes(field, new TextEncoder().encode(s));
export const fMessage = (field: number, ...parts: Uint8Array[]) => fBytes(field, concat(parts));

export function float32(x: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setFloat32(0, x, true);
  return b;
}
export function float64(x: number): Uint8Array {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setFloat64(0, x, true);
  return b;
}
export const fFloat = (field: number, x: number) => concat([key(field, FIXED32), float32(x)]);
export const fDouble = (field: number, x: number) => concat([key(field, FIXED64), float64(x)]);

/** A repeated field, packed (one LEN run) or one tag per value. */
function repeated(field: number, values: number[], wire: number, packed: boolean): Uint8Array {
  const one = (v: number) => wire === FIXED32 ? float32(v) : wire === FIXED64 ? float64(v) : varint(v);
  if (packed) return fBytes(field, concat(values.map(one)));
  return concat(values.map((v) => concat([key(field, wire), one(v)])));
}

export const DT = { FLOAT: 1, DOUBLE: 2, INT32: 3, STRING: 7, INT64: 9, BFLOAT16: 14, HALF: 19 };

export interface Tensor {
  dtype: number;
  /** Dimension sizes; [] (or absent) is rank 0. */
  shape?: number[];
  content?: Uint8Array;
  floatVal?: number[];
  doubleVal?: number[];
  intVal?: number[];
  int64Val?: number[];
  halfVal?: number[];
  stringVal?: string[];
  packed?: boolean;
}

export function tensorProto(t: Tensor): Uint8Array {
  const packed = t.packed ?? true;
  const parts = [fVarint(1, t.dtype), fMessage(2, ...(t.shape ?? []).map((size) => fMessage(2, fVarint(1, size))))];
  if (t.content) parts.push(fBytes(4, t.content));
  if (t.floatVal) parts.push(repeated(5, t.floatVal, FIXED32, packed));
  if (t.doubleVal) parts.push(repeated(6, t.doubleVal, FIXED64, packed));
  if (t.intVal) parts.push(repeated(7, t.intVal, VARINT, packed));
  for (const s of t.stringVal ?? []) parts.push(fString(8, s));
  if (t.int64Val) parts.push(repeated(10, t.int64Val, VARINT, packed));
  if (t.halfVal) parts.push(repeated(13, t.halfVal, VARINT, packed));
  return concat(parts);
}

const metadata = (plugin: string) => fMessage(9, fMessage(1, fString(1, plugin)));

/** Summary.Value holding a tensor, with SummaryMetadata naming its plugin unless plugin is null. */
export const tensorValue = (tag: string, t: Tensor, plugin: string | null = 'scalars') =>
  concat([fString(1, tag), ...(plugin === null ? [] : [metadata(plugin)]), fMessage(8, tensorProto(t))]);
export const simpleValue = (tag: string, v: number) => concat([fString(1, tag), fFloat(2, v)]);
/** Summary.Value with an Image (field 4): height, width, colorspace, encoded bytes. */
export const imageValue = (tag: string) => concat([fString(1, tag), fMessage(4, fVarint(1, 2), fVarint(2, 2), fVarint(3, 3), fBytes(4, Uint8Array.of(0x89, 0x50)))]);
/** Summary.Value with a HistogramProto (field 5): min, max, num, sum, bucket limits and counts. */
export const histogramValue = (tag: string) => concat([fString(1, tag), fMessage(5, fDouble(1, 0), fDouble(2, 1), fDouble(3, 4), fDouble(4, 2),
  repeated(6, [0.5, 1], FIXED64, true), repeated(7, [2, 2], FIXED64, true))]);
/** A text summary: a string tensor under the "text" plugin. */
export const textValue = (tag: string, s: string) => tensorValue(tag, { dtype: DT.STRING, stringVal: [s] }, 'text');

/** An Event with a Summary of the given Summary.Value messages. */
export const summaryEvent = (step: number, wallTime: number, values: Uint8Array[]) =>
  concat([fDouble(1, wallTime), fVarint(2, step), fMessage(5, ...values.map((v) => fBytes(1, v)))]);

/** The Event every writer puts first. */
export const fileVersionEvent = (wallTime: number) => concat([fDouble(1, wallTime), fString(3, 'brain.Event:2')]);

export interface EventSpec {
  step: number;
  /** Seconds since the Unix epoch. */
  wallTime: number;
  scalars: { [tag: string]: number };
  mode: 'simple' | 'tensor-float' | 'tensor-double' | 'tensor-content';
  /** Repeated values packed (the default, as proto3 writes them) or one tag each. */
  packed?: boolean;
  /** Whether tensor values carry SummaryMetadata (plugin "scalars"). Default true. */
  metadata?: boolean;
}

export function encodeTfEvent(e: EventSpec): Uint8Array {
  const plugin = e.metadata === false ? null : 'scalars';
  const values = Object.entries(e.scalars).map(([tag, v]) => {
    switch (e.mode) {
      case 'simple': return simpleValue(tag, v);
      case 'tensor-float': return tensorValue(tag, { dtype: DT.FLOAT, floatVal: [v], packed: e.packed }, plugin);
      case 'tensor-double': return tensorValue(tag, { dtype: DT.DOUBLE, doubleVal: [v], packed: e.packed }, plugin);
      case 'tensor-content': return tensorValue(tag, { dtype: DT.DOUBLE, content: float64(v) }, plugin);
    }
  });
  return summaryEvent(e.step, e.wallTime, values);
}

/** TFRecord framing: uint64 length, masked CRC-32C of it, the data, masked CRC-32C of the data (all little-endian). */
export function frameRecord(data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length + 4);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(data.length), true);
  view.setUint32(8, maskedCrc32c(out, 0, 8), true);
  out.set(data, 12);
  view.setUint32(12 + data.length, maskedCrc32c(data), true);
  return out;
}

/** A whole event file: the file_version record, then one record per event. */
export const eventFile = (events: Uint8Array[], wallTime = 1_700_000_000) =>
  concat([frameRecord(fileVersionEvent(wallTime)), ...events.map(frameRecord)]);

export { concat };
