/**
 * Event file records decoded straight into per-key float64 columns, for importing millions of
 * points quickly. The fast path takes the common scalar shapes (simple_value; a float or double
 * tensor holding one value); any other record goes whole through readTfEvents, so results match it.
 */
import type { ParamValue } from '../types.ts';
import { dataChecks, headerChecks } from '../formats/crc32c.ts';
import { readTfEvents } from '../formats/tfevents.ts';
import type { Columns } from '../store/chunks.ts';

export interface EventColumns {
  batch: [string, Columns][];
  /** Bytes of whole records read; a torn last record is not counted. */
  consumed: number;
  problems: string[];
  /** A length checksum is wrong at `consumed`: the framing after it cannot be trusted. */
  broken: boolean;
  /** The smallest and largest wall time of the points (ms); Infinity / -Infinity when none. */
  timeLo: number;
  timeHi: number;
  /** Hparams (TensorBoard's hparams plugin), when a record held them. */
  params?: { [key: string]: ParamValue };
}

const utf8 = new TextDecoder();
const DT_FLOAT = 1, DT_DOUBLE = 2;
const FALLBACK = Symbol('fallback');

class Series {
  steps = new Float64Array(1024);
  times = new Float64Array(1024);
  values = new Float64Array(1024);
  n = 0;
  push(step: number, time: number, value: number): void {
    if (this.n === this.values.length) {
      const grow = (a: Float64Array) => { const b = new Float64Array(a.length * 2); b.set(a); return b; };
      this.steps = grow(this.steps); this.times = grow(this.times); this.values = grow(this.values);
    }
    this.steps[this.n] = step;
    this.times[this.n] = time;
    this.values[this.n++] = value;
  }
}

interface Key {
  bytes: Uint8Array; name: string; series: Series; plugin: string | undefined;
  /**
   * A summary of this tag's value alone as a simple_value, as writers lay it out, up to the float:
   * 2a L+2 0a L 0a n <tag> 15 (L = n + 7); undefined for a tag too long for one-byte lengths.
   */
  simple: Uint8Array | undefined;
  /** simple's first and last four bytes as int32s, to turn most other tags away at once. */
  head: number; tail: number;
}

function simpleSummary(tag: Uint8Array): Uint8Array | undefined {
  const n = tag.length;
  if (n > 110) return undefined;
  return Uint8Array.of(0x2a, n + 9, 0x0a, n + 7, 0x0a, n, ...tag, 0x15);
}

const int32At = (b: Uint8Array, at: number) => b[at]! | (b[at + 1]! << 8) | (b[at + 2]! << 16) | (b[at + 3]! << 24);

/** Finds a tag's series by its bytes, without decoding the text again (writers repeat a few tags). */
class Keys {
  private readonly list: Key[] = [];
  private readonly byName = new Map<string, Key>();
  private last = 0;

  get(b: Uint8Array, s: number, e: number): Key {
    const n = this.list.length, len = e - s;
    if (n <= 16) {
      for (let k = 0; k < n; k++) {
        const i = (this.last + k) % n;
        const bytes = this.list[i]!.bytes;
        if (bytes.length !== len) continue;
        let j = 0;
        while (j < len && bytes[j] === b[s + j]) j++;
        if (j === len) { this.last = i; return this.list[i]!; }
      }
    }
    return this.named(utf8.decode(b.subarray(s, e)), Uint8Array.from(b.subarray(s, e))); // a copy: b may be a reused Buffer
  }

  named(name: string, bytes = new TextEncoder().encode(name)): Key {
    let key = this.byName.get(name);
    if (!key) {
      const simple = simpleSummary(bytes);
      const head = simple ? int32At(simple, 0) : 0, tail = simple ? int32At(simple, simple.length - 4) : 0;
      key = { bytes, name, series: new Series(), plugin: undefined, simple, head, tail };
      this.byName.set(name, key);
      this.list.push(key);
    }
    return key;
  }

  /** The key whose simple summary view[s..e) is, byte for byte (the last one found is tried first). */
  simple(b: Uint8Array, view: DataView, s: number, e: number): Key | undefined {
    const list = this.list, n = list.length, len = e - s;
    if (len < 7) return undefined;
    const head = view.getInt32(s, true), tail = view.getInt32(e - 4, true);
    for (let k = 0, i = this.last; k < n && k < 16; k++, i = i + 1 === n ? 0 : i + 1) {
      const key = list[i]!;
      if (key.head !== head || key.tail !== tail) continue;
      const t = key.simple!;
      if (t.length !== len) continue;
      let j = 4;
      while (j < len - 4 && t[j] === b[s + j]) j++;
      if (j === len - 4) { this.last = i; return key; }
    }
    return undefined;
  }

  /**
   * The points gathered since the last take, per key; the buffers are kept for the next decode. `lend`:
   * the columns are views of those buffers (no copy), good until the next decode.
   */
  take(prefix: string, lend: boolean): [string, Columns][] {
    const cut = (a: Float64Array, n: number) => (lend ? a.subarray(0, n) : a.slice(0, n));
    return this.list.filter((k) => k.series.n > 0).map((k) => {
      const s = k.series, n = s.n;
      s.n = 0;
      return [prefix + k.name, { steps: cut(s.steps, n), times: cut(s.times, n), values: cut(s.values, n) }];
    });
  }
}

/**
 * Decodes one event file's records, slice after slice: what it learnt (tags, plugins of tags
 * whose metadata came only with their first value) carries over to the next slice.
 */
export class EventDecoder {
  private readonly keys = new Keys();
  private readonly prefix: string;
  private readonly lend: boolean;

  /**
   * Keys get `prefix` (see tagPrefix). `lend`: a batch's columns are views of the decoder's buffers,
   * good until the next decode (saves a copy when each batch is stored before the next is read).
   */
  constructor(prefix = '', { lend = false } = {}) {
    this.prefix = prefix;
    this.lend = lend;
  }

  /**
   * Decodes the whole records of `bytes` (which starts at a record boundary). Same framing rules as
   * readTfEvents: a torn last record is left, a bad data checksum skips its record, a bad length
   * checksum stops.
   */
  decode(bytes: Uint8Array): EventColumns {
    return decode(bytes, this.keys, this.prefix, this.lend);
  }
}

/** decode() of a one-off EventDecoder. */
export const decodeEventColumns = (bytes: Uint8Array, prefix = '') => new EventDecoder(prefix).decode(bytes);

// The time range of the points added by fastEvent since the last decode() began (a typed array: a number
// kept in a module variable would be boxed anew at each change).
const timeRange = new Float64Array(2);

function decode(bytes: Uint8Array, keys: Keys, prefix: string, lend: boolean): EventColumns {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const problems: string[] = [];
  const n = bytes.length;
  let pos = 0, broken = false;
  let params: { [key: string]: ParamValue } | undefined;
  timeRange[0] = Infinity; timeRange[1] = -Infinity;
  while (n - pos >= 12) {
    if (!headerChecks(view, pos)) { broken = true; break; }
    const len = view.getInt32(pos, true); // an int32: offsets stay small ints (a double length makes every index a double)
    if (len < 0 || view.getInt32(pos + 4, true) !== 0) break; // 2 GB or more: never whole in a slice
    const start = pos + 12;
    if (n - start < len + 4) break; // torn: wait for the rest
    const end = start + len;
    if (!dataChecks(view, start, end)) {
      problems.push(`bad data checksum in the record at byte ${pos}; skipped it`);
    } else if (!simpleEvent(bytes, view, start, end, keys) && !fastEvent(bytes, view, start, end, keys)) {
      const r = readTfEvents(bytes.subarray(0, end + 4), pos); // this record alone, at its real offsets
      for (const p of r.points) {
        keys.named(p.key).series.push(p.step, p.time, p.value);
        if (p.time < timeRange[0]!) timeRange[0] = p.time;
        if (p.time > timeRange[1]!) timeRange[1] = p.time;
      }
      problems.push(...r.problems);
      if (r.params) params = { ...params, ...r.params };
    }
    pos = end + 4;
  }
  return { batch: keys.take(prefix, lend), consumed: pos, problems, broken, timeLo: timeRange[0]!, timeHi: timeRange[1]!, ...(params && { params }) };
}

// Pending values of one record: added only when the whole record decoded.
const pendKeys: Key[] = [];
const pendValues = new Float64Array(64);

/**
 * The commonest record, checked byte for byte: wall_time, step, then a summary of one known tag's
 * simple_value laid out as writers do (PyTorch's add_scalar, tf.summary v1). Adds what fastEvent would;
 * false for any other record.
 */
function simpleEvent(b: Uint8Array, view: DataView, start: number, end: number, keys: Keys): boolean {
  if (end - start < 22 || b[start] !== 0x09 || b[start + 9] !== 0x10) return false; // 22: the shortest such record
  let p = start + 10, c = b[p++]!, step = c & 0x7f;
  for (let mul = 128; c >= 0x80; mul *= 128) {
    if (p >= end || mul > 2 ** 42) return false; // 8+ bytes: negative or past 2^53
    c = b[p++]!;
    step += (c & 0x7f) * mul;
  }
  const key = keys.simple(b, view, p, end - 4);
  if (!key) return false;
  const time = view.getFloat64(start + 1, true) * 1000;
  key.series.push(step, time, view.getFloat32(end - 4, true));
  if (time < timeRange[0]!) timeRange[0] = time;
  if (time > timeRange[1]!) timeRange[1] = time;
  return true;
}

/** One Event (event.proto) on the fast path; false sends the record to readTfEvents. */
function fastEvent(b: Uint8Array, view: DataView, start: number, end: number, keys: Keys): boolean {
  let p = start, time = 0, step = 0, sumStart = -1, sumEnd = -1;
  while (p < end) {
    const tag = b[p++]!;
    if (tag === 0x09) { // wall_time, double
      if (p + 8 > end) return false;
      time = view.getFloat64(p, true) * 1000;
      p += 8;
    } else if (tag === 0x10) { // step, int64
      let v = 0, mul = 1, c: number;
      do {
        if (p >= end || mul > 2 ** 42) return false; // 8+ bytes: negative or past 2^53
        c = b[p++]!;
        v += (c & 0x7f) * mul;
        mul *= 128;
      } while (c >= 0x80);
      step = v;
    } else if (tag === 0x2a) { // summary
      const r = lenAt(b, p, end);
      if (r < 0) return false;
      sumStart = lenStart; sumEnd = r; p = r;
    } else {
      p = skip(b, p, end, tag);
      if (p < 0) return false;
    }
  }
  if (p !== end) return false;
  if (sumStart < 0) return true; // file_version, graph, session log...
  let count = 0;
  p = sumStart;
  while (p < sumEnd) {
    const tag = b[p++]!;
    if (tag !== 0x0a) { p = skip(b, p, sumEnd, tag); if (p < 0) return false; continue; }
    const vEnd = lenAt(b, p, sumEnd);
    if (vEnd < 0) return false;
    p = lenStart;
    let nameS = -1, nameE = -1, simple: number | undefined, tS = -1, tE = -1, plugin: string | undefined;
    while (p < vEnd) {
      const t = b[p++]!;
      if (t === 0x0a || t === 0x42 || t === 0x4a) {
        const e = lenAt(b, p, vEnd);
        if (e < 0) return false;
        if (t === 0x0a) { nameS = lenStart; nameE = e; }
        else if (t === 0x42) { tS = lenStart; tE = e; }
        else {
          const name = pluginName(b, lenStart, e);
          if (name === undefined || name === 'hparams') return false; // hparams: read by readTfEvents
          plugin = name;
        }
        p = e;
      } else if (t === 0x15) {
        if (p + 4 > vEnd) return false;
        simple = view.getFloat32(p, true);
        p += 4;
      } else {
        p = skip(b, p, vEnd, t);
        if (p < 0) return false;
      }
    }
    const key = nameS < 0 ? keys.named('') : keys.get(b, nameS, nameE);
    if (plugin !== undefined) key.plugin = plugin;
    else plugin = key.plugin;
    let value: number | undefined | typeof FALLBACK = simple;
    if (value === undefined && tS >= 0 && (plugin === undefined || plugin === '' || plugin === 'scalars')) value = tensorValue(b, view, tS, tE);
    if (value === FALLBACK) return false;
    if (value !== undefined) {
      if (count === pendValues.length) return false; // more values than a record usually has
      pendKeys[count] = key;
      pendValues[count++] = value;
    }
  }
  for (let i = 0; i < count; i++) pendKeys[i]!.series.push(step, time, pendValues[i]!);
  if (count) {
    if (time < timeRange[0]!) timeRange[0] = time;
    if (time > timeRange[1]!) timeRange[1] = time;
  }
  return true;
}

/** A rank-0 float or double tensor's one value; FALLBACK for any other tensor. */
function tensorValue(b: Uint8Array, view: DataView, s: number, e: number): number | typeof FALLBACK {
  let p = s, dtype = 0, count = 0, at = -1, width = 0;
  const one = (from: number, to: number) => { at = from; width = to - from; count++; p = to; };
  while (p < e) {
    const t = b[p++]!;
    if (t === 0x08) { // dtype
      if (p >= e || b[p]! >= 0x80) return FALLBACK;
      dtype = b[p++]!;
    } else if (t === 0x12) { // tensor_shape: only an empty one (rank 0) here
      const end = lenAt(b, p, e);
      if (end < 0 || end !== lenStart) return FALLBACK;
      p = end;
    } else if (t === 0x2d || t === 0x31) { // one float_val / double_val
      const to = p + (t === 0x2d ? 4 : 8);
      if (to > e) return FALLBACK;
      one(p, to);
    } else if (t === 0x2a || t === 0x32 || t === 0x22) { // packed float_val / double_val, tensor_content
      const end = lenAt(b, p, e);
      if (end < 0) return FALLBACK;
      if (end === lenStart) { p = end; continue; } // empty: nothing in it
      one(lenStart, end);
    } else {
      return FALLBACK;
    }
  }
  if (count !== 1) return FALLBACK;
  if (dtype === DT_FLOAT && width === 4) return view.getFloat32(at, true);
  if (dtype === DT_DOUBLE && width === 8) return view.getFloat64(at, true);
  return FALLBACK;
}

/** SummaryMetadata { plugin_data = 1 { plugin_name = 1 } }; undefined when it does not parse simply. */
function pluginName(b: Uint8Array, s: number, e: number): string | undefined {
  let p = s, name = '';
  while (p < e) {
    const t = b[p++]!;
    if (t === 0x0a) {
      const end = lenAt(b, p, e);
      if (end < 0) return undefined;
      let q = lenStart;
      while (q < end) {
        const u = b[q++]!;
        if (u === 0x0a) {
          const ne = lenAt(b, q, end);
          if (ne < 0) return undefined;
          name = utf8.decode(b.subarray(lenStart, ne));
          q = ne;
        } else {
          q = skip(b, q, end, u);
          if (q < 0) return undefined;
        }
      }
      p = end;
    } else {
      p = skip(b, p, e, t);
      if (p < 0) return undefined;
    }
  }
  return name;
}

/** Where the last lenAt's payload starts. */
let lenStart = 0;

/** Reads a length prefix at p; returns the payload's end (and sets lenStart), or -1. */
function lenAt(b: Uint8Array, p: number, end: number): number {
  let len = 0, mul = 1, c: number;
  do {
    if (p >= end || mul > 2 ** 28) return -1;
    c = b[p++]!;
    len += (c & 0x7f) * mul;
    mul *= 128;
  } while (c >= 0x80);
  lenStart = p;
  return p + len <= end ? p + len : -1;
}

/** Skips a field's value after its (one-byte) tag; -1 when it cannot. */
function skip(b: Uint8Array, p: number, end: number, tag: number): number {
  if (tag >= 0x80) return -1; // a field number past 15: leave it to the full decoder
  switch (tag & 7) {
    case 0: while (p < end && b[p]! >= 0x80) p++; return p < end ? p + 1 : -1;
    case 1: return p + 8 <= end ? p + 8 : -1;
    case 2: return lenAt(b, p, end);
    case 5: return p + 4 <= end ? p + 4 : -1;
    default: return -1;
  }
}
