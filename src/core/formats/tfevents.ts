/**
 * TensorBoard event files (events.out.tfevents.*): TFRecord framing around Event protos.
 * Reads scalars (legacy simple_value, and one-element float/int tensors of the "scalars" plugin)
 * and the hparams plugin's session start info (PyTorch's add_hparams, TF's hp.hparams) as params.
 */
import type { ParamValue } from '../types.ts';
import { dataChecks, headerChecks } from './crc32c.ts';
import { FIXED32, FIXED64, LEN, ProtoError, ProtoReader, VARINT } from './protobuf.ts';
import type { ReadResult } from './types.ts';

export interface TfEventsResult extends ReadResult {
  /** Summary values that are not scalars (images, histograms, text...), skipped. */
  nonScalar: number;
}

// tensorflow/core/framework/types.proto
const DT_FLOAT = 1, DT_DOUBLE = 2, DT_INT32 = 3, DT_INT64 = 9, DT_BFLOAT16 = 14, DT_HALF = 19;

const HEADER = 12; // uint64 length + uint32 masked CRC of it
const FOOTER = 4; // uint32 masked CRC of the data

/**
 * Reads the records of `bytes` from `offset`. A torn last record is left for the next read:
 * continue at `offset + consumed`. A bad data CRC skips that record; a bad length CRC stops
 * the read there, since the framing after it cannot be trusted.
 */
export function readTfEvents(bytes: Uint8Array, offset = 0): TfEventsResult {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: TfEventsResult = { points: [], consumed: 0, problems: [], nonScalar: 0 };
  const plugins = new Map<string, string>();
  let pos = offset;
  while (bytes.length - pos >= HEADER) {
    const lenLo = view.getUint32(pos, true), lenHi = view.getUint32(pos + 4, true);
    if (!headerChecks(view, pos)) {
      out.problems.push(`bad length checksum at byte ${pos}; stopped reading`);
      break;
    }
    const len = lenHi * 2 ** 32 + lenLo;
    const start = pos + HEADER;
    if (bytes.length - start < len + FOOTER) break; // torn: wait for the rest
    const end = start + len;
    if (!dataChecks(view, start, end)) {
      out.problems.push(`bad data checksum in the record at byte ${pos}; skipped it`);
    } else {
      try {
        readEvent(new ProtoReader(bytes, start, end), plugins, out);
      } catch (err) {
        if (!(err instanceof ProtoError)) throw err;
        out.problems.push(`the record at byte ${pos} is not a valid Event (${err.message}); skipped it`);
      }
    }
    pos = end + FOOTER;
  }
  out.consumed = pos - offset;
  return out;
}

// tensorflow/core/util/event.proto: Event
function readEvent(r: ProtoReader, plugins: Map<string, string>, out: TfEventsResult): void {
  let time = 0, step = 0;
  let summary: ProtoReader | undefined;
  while (!r.done()) {
    const tag = r.tag();
    const field = tag >>> 3;
    if (field === 1 && (tag & 7) === FIXED64) time = r.double() * 1000;
    else if (field === 2 && (tag & 7) === VARINT) step = r.int64();
    else if (field === 5 && (tag & 7) === LEN) summary = r.sub();
    else r.skip(tag);
  }
  if (!summary) return; // file_version, graph, session log...
  // tensorflow/core/framework/summary.proto: Summary { repeated Value value = 1 }
  const found: [string, number][] = [];
  let nonScalar = 0;
  while (!summary.done()) {
    const tag = summary.tag();
    if (tag !== ((1 << 3) | LEN)) { summary.skip(tag); continue; }
    const v = readValue(summary.sub(), plugins, out);
    if (v) found.push(v);
    else nonScalar++;
  }
  out.nonScalar += nonScalar;
  for (const [key, value] of found) out.points.push({ key, step, time, value });
}

/** A summary value's tag and number, when it is a scalar. Hparams session info goes to out.params. */
function readValue(r: ProtoReader, plugins: Map<string, string>, out: TfEventsResult): [string, number] | undefined {
  let key = '', simple: number | undefined, tensor: ProtoReader | undefined, meta: Metadata | undefined;
  while (!r.done()) {
    const tag = r.tag();
    switch (tag) {
      case (1 << 3) | LEN: key = r.string(); break;
      case (2 << 3) | FIXED32: simple = r.float(); break;
      case (8 << 3) | LEN: tensor = r.sub(); break;
      case (9 << 3) | LEN: meta = metadata(r.sub()); break;
      default: r.skip(tag); // image, histo, audio...
    }
  }
  // Writers often send the metadata only with a tag's first value.
  let plugin = meta?.plugin;
  if (plugin !== undefined) plugins.set(key, plugin);
  else plugin = plugins.get(key);
  if (plugin === 'hparams' && meta?.content) readHparams(new ProtoReader(meta.content), out);
  let value = simple;
  if (value === undefined && tensor && (plugin === undefined || plugin === '' || plugin === 'scalars')) {
    value = tensorScalar(tensor);
  }
  return value === undefined ? undefined : [key, value];
}

interface Metadata { plugin: string; content: Uint8Array | undefined }

// SummaryMetadata { PluginData plugin_data = 1 { string plugin_name = 1; bytes content = 2 } }
function metadata(r: ProtoReader): Metadata {
  const m: Metadata = { plugin: '', content: undefined };
  while (!r.done()) {
    const tag = r.tag();
    if (tag !== ((1 << 3) | LEN)) { r.skip(tag); continue; }
    const data = r.sub();
    while (!data.done()) {
      const t = data.tag();
      if (t === ((1 << 3) | LEN)) m.plugin = data.string();
      else if (t === ((2 << 3) | LEN)) m.content = data.bytes();
      else data.skip(t);
    }
  }
  return m;
}

/**
 * tensorboard/plugins/hparams/plugin_data.proto: HParamsPluginData { session_start_info = 3 }, whose
 * SessionStartInfo { map<string, google.protobuf.Value> hparams = 1 } holds the params. Value
 * (struct.proto): number_value = 2, string_value = 3, bool_value = 4; lists and structs are skipped.
 */
function readHparams(r: ProtoReader, out: TfEventsResult): void {
  while (!r.done()) {
    const tag = r.tag();
    if (tag !== ((3 << 3) | LEN)) { r.skip(tag); continue; }
    const start = r.sub();
    while (!start.done()) {
      const t = start.tag();
      if (t !== ((1 << 3) | LEN)) { start.skip(t); continue; }
      const entry = start.sub();
      let name = '', value: ParamValue | undefined, other = '';
      while (!entry.done()) {
        const e = entry.tag();
        if (e === ((1 << 3) | LEN)) name = entry.string();
        else if (e === ((2 << 3) | LEN)) [value, other] = protoValue(entry.sub());
        else entry.skip(e);
      }
      if (value !== undefined) (out.params ??= {})[name] = value;
      else if (other) out.problems.push(`hparam ${JSON.stringify(name)} is a ${other}; skipped`);
    }
  }
}

/** A google.protobuf.Value as a param, or what it holds instead. */
function protoValue(r: ProtoReader): [ParamValue | undefined, string] {
  let value: ParamValue | undefined, other = '';
  while (!r.done()) {
    const tag = r.tag();
    switch (tag) {
      case (2 << 3) | FIXED64: value = r.double(); other = ''; break;
      case (3 << 3) | LEN: value = r.string(); other = ''; break;
      case (4 << 3) | VARINT: value = r.varint() !== 0; other = ''; break;
      case (5 << 3) | LEN: r.skip(tag); value = undefined; other = 'struct'; break;
      case (6 << 3) | LEN: r.skip(tag); value = undefined; other = 'list'; break;
      default: r.skip(tag); // null_value
    }
  }
  return [value, other];
}

/** The value of a one-element numeric TensorProto, or undefined. */
function tensorScalar(r: ProtoReader): number | undefined {
  let dtype = 0, elements = 1, count = 0, value = 0, from = 0;
  let content: Uint8Array | undefined;
  const add = (v: number, field: number) => { if (count++ === 0) { value = v; from = field; } };
  while (!r.done()) {
    const tag = r.tag();
    switch (tag >>> 3) {
      case 1: if (tag === (1 << 3)) dtype = r.int32(); else r.skip(tag); break;
      case 2: if (tag === ((2 << 3) | LEN)) elements = shapeElements(r.sub()); else r.skip(tag); break;
      case 4: if (tag === ((4 << 3) | LEN)) content = r.bytes(); else r.skip(tag); break;
      case 5: each(r, tag, FIXED32, () => add(r.float(), 5)); break;
      case 6: each(r, tag, FIXED64, () => add(r.double(), 6)); break;
      case 7: each(r, tag, VARINT, () => add(r.int32(), 7)); break;
      case 10: each(r, tag, VARINT, () => add(r.int64(), 10)); break;
      case 13: each(r, tag, VARINT, () => add(r.int32(), 13)); break; // half bits
      default: r.skip(tag);
    }
  }
  if (elements !== 1) return undefined;
  if (content !== undefined && content.length > 0) return fromContent(dtype, content);
  if (count !== 1) return undefined;
  // Each dtype keeps its values in one field (tensor.proto).
  if (from === 5 && dtype === DT_FLOAT) return value;
  if (from === 6 && dtype === DT_DOUBLE) return value;
  if (from === 7 && dtype === DT_INT32) return value;
  if (from === 10 && dtype === DT_INT64) return value;
  if (from === 13 && dtype === DT_HALF) return half(value);
  if (from === 13 && dtype === DT_BFLOAT16) return bfloat16(value);
  return undefined;
}

/** Reads a repeated scalar field, packed (one LEN run) or not (one value per tag). */
function each(r: ProtoReader, tag: number, wire: number, one: () => void): void {
  if ((tag & 7) === wire) { one(); return; }
  if ((tag & 7) !== LEN) { r.skip(tag); return; }
  const [start, end] = r.span();
  r.pos = start;
  while (r.pos < end) one();
  if (r.pos !== end) throw new ProtoError('packed field overruns its length');
}

// TensorShapeProto { repeated Dim dim = 2 { int64 size = 1 } }
function shapeElements(r: ProtoReader): number {
  let n = 1;
  while (!r.done()) {
    const tag = r.tag();
    if (tag !== ((2 << 3) | LEN)) { r.skip(tag); continue; }
    const dim = r.sub();
    let size = 0;
    while (!dim.done()) {
      const t = dim.tag();
      if (t === (1 << 3)) size = dim.int64();
      else dim.skip(t);
    }
    n *= size;
  }
  return n;
}

function fromContent(dtype: number, b: Uint8Array): number | undefined {
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  switch (dtype) {
    case DT_FLOAT: return b.length === 4 ? v.getFloat32(0, true) : undefined;
    case DT_DOUBLE: return b.length === 8 ? v.getFloat64(0, true) : undefined;
    case DT_INT32: return b.length === 4 ? v.getInt32(0, true) : undefined;
    case DT_INT64: return b.length === 8 ? Number(v.getBigInt64(0, true)) : undefined;
    case DT_HALF: return b.length === 2 ? half(v.getUint16(0, true)) : undefined;
    case DT_BFLOAT16: return b.length === 2 ? bfloat16(v.getUint16(0, true)) : undefined;
    default: return undefined;
  }
}

/** IEEE 754 binary16 bits to a number. */
export function half(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exp = (bits >>> 10) & 0x1f, frac = bits & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 0x1f) return frac ? NaN : sign * Infinity;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** bfloat16 bits (the top half of a float32) to a number. */
export function bfloat16(bits: number): number {
  u32[0] = (bits & 0xffff) << 16;
  return f32[0]!;
}
