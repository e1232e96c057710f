// The chunk codec keeps every bit: random and adversarial series round-trip bit for bit, at every size
// around the block and chunk edges; blobs of the layout before still decode.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodeChunk, encodeChunk, encodeRaw, isRaw } from '../../src/core/store/codec.ts';
import { type Columns, CHUNK_SIZE } from '../../src/core/store/chunks.ts';
import { prng } from '../../src/core/hparams/sweep.ts';

type Rnd = () => number;
const int = (rnd: Rnd, lo: number, hi: number) => lo + Math.floor(rnd() * (hi - lo + 1));
const pick = <T>(rnd: Rnd, xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;

/** A float64 from two 32-bit words (lo, hi): any bit pattern, NaN payloads included. */
function fromBits(lo: number, hi: number): number {
  const u = new Uint32Array([lo >>> 0, hi >>> 0]);
  return new Float64Array(u.buffer)[0]!;
}
const bits = (a: Float64Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);

const NAN_PAYLOADS = [
  fromBits(0, 0x7ff80000), fromBits(1, 0x7ff00000), fromBits(0xdeadbeef, 0x7ff4beef), fromBits(0xffffffff, 0xffffffff),
  fromBits(0, 0xfff80000), fromBits(12345, 0xfff00001),
];
const SPECIAL = [0, -0, Infinity, -Infinity, NaN, ...NAN_PAYLOADS, 5e-324, -5e-324, 2.2250738585072014e-308, 2.225073858507201e-308,
  Number.MAX_VALUE, -Number.MAX_VALUE, 2 ** 53, -(2 ** 53), 2 ** 53 - 1, -(2 ** 53 - 1), 2 ** 53 + 2, 2 ** 63, 1e300, -1e-300, 0.1, 1 / 3, Math.fround(0.1)];

/** One value of a kind, given the one before (for smooth and repeated kinds). */
function value(rnd: Rnd, kind: string, i: number, prev: number): number {
  switch (kind) {
    case 'bits': return fromBits(rnd() * 2 ** 32, rnd() * 2 ** 32);
    case 'special': return pick(rnd, SPECIAL);
    case 'denormal': return fromBits(rnd() * 2 ** 32, rnd() * 0x100000) * (rnd() < 0.5 ? -1 : 1);
    case 'repeat': return rnd() < 0.9 && i > 0 ? prev : pick(rnd, [1, NaN, -0, 0.5, 1e308]);
    case 'float32': return Math.fround((rnd() - 0.5) * 10 ** int(rnd, -30, 30));
    case 'noisy': return Math.fround(0.7 * (1 + 0.04 * (rnd() + rnd() + rnd() - 1.5))); // a float32 loss: Rice coded in blocks
    case 'decimal': return Math.round((rnd() - 0.5) * 1e6) / 10 ** int(rnd, 0, 8);
    case 'int': return Math.round((rnd() - 0.5) * 2 ** int(rnd, 1, 54));
    case 'smooth': return Math.cos(i / 100) * 1e-3;
    case 'clock': return 1.7e12 + i * 50 + rnd() * 3; // epoch ms with fractions
    case 'steps': return i;
    case 'extremes': return pick(rnd, EXTREMES); // integers at the edge of exact: differences overflow 2^53
    case 'mixed': return value(rnd, pick(rnd, ['bits', 'special', 'float32', 'int', 'decimal', 'smooth']), i, prev);
    default: throw new Error(kind);
  }
}

const EXTREMES = [2 ** 53, -(2 ** 53), 2 ** 53 - 1, -(2 ** 53 - 1), 2 ** 52 + 1, -(2 ** 52) - 3, 0, 1];
const KINDS = ['extremes', 'bits', 'special', 'denormal', 'repeat', 'float32', 'noisy', 'decimal', 'int', 'smooth', 'clock', 'steps', 'mixed'];
const SIZES = [0, 1, 2, 3, 4, 5, 31, 32, 33, 34, 63, 64, 65, 127, 128, 129, 130, 255, 256, 257, 511, 512, CHUNK_SIZE - 1, CHUNK_SIZE];

function series(rnd: Rnd, n: number): { cols: Columns; desc: string } {
  const kinds = [pick(rnd, KINDS), pick(rnd, KINDS), pick(rnd, KINDS)];
  const cols: Columns = { steps: new Float64Array(n), times: new Float64Array(n), values: new Float64Array(n) };
  const arrays = [cols.steps, cols.times, cols.values];
  arrays.forEach((a, c) => {
    let prev = 0;
    for (let i = 0; i < n; i++) a[i] = prev = value(rnd, kinds[c]!, i, prev);
    // now and then a series that goes back (a restart from a checkpoint, a clock set back)
    if (n > 4 && rnd() < 0.3) a.copyWithin(int(rnd, 1, n - 1), 0, int(rnd, 1, n - 1));
  });
  return { cols, desc: `n=${n} steps=${kinds[0]} times=${kinds[1]} values=${kinds[2]}` };
}

/** The format bytes seen: both versions must be (2 when a column is Rice coded in blocks). */
const formats = new Set<number>();

function assertRoundTrip(cols: Columns, desc: string): Buffer {
  const blob = encodeChunk(cols);
  assert.ok(blob[0] === 1 || blob[0] === 2, `${desc}: the blob starts with its format byte`);
  formats.add(blob[0]!);
  assert.ok(!isRaw(blob), `${desc}: a compressed blob never looks like the raw layout`);
  const back = decodeChunk(blob);
  for (const k of ['steps', 'times', 'values'] as const) {
    assert.ok(bits(back[k]).equals(bits(cols[k])), `${desc}: ${k} come back bit for bit`);
  }
  for (const skip of ['steps', 'times'] as const) {
    const part = decodeChunk(blob, skip);
    assert.equal(part[skip].length, 0, `${desc}: ${skip} left out`);
    assert.ok(bits(part.values).equals(bits(cols.values)), `${desc}: values without ${skip}`);
  }
  return blob;
}

test('random and adversarial series round-trip bit for bit at every size around block and chunk edges', () => {
  const rnd = prng(20260615);
  let cases = 0;
  for (const n of SIZES) {
    for (let round = 0; round < 40; round++) {
      const { cols, desc } = series(rnd, n);
      assertRoundTrip(cols, desc);
      cases++;
    }
  }
  assert.ok(cases >= 800);
  assert.deepEqual([...formats].sort(), [1, 2], 'both format versions were written');
});

test('a part of the chunk encoded before, encoded again with its codings, round-trips too; so does any series after any other', () => {
  const rnd = prng(11);
  for (let round = 0; round < 300; round++) {
    const { cols, desc } = series(rnd, pick(rnd, SIZES.filter((n) => n > 1)));
    encodeChunk(cols);
    const k = int(rnd, 1, cols.values.length - 1);
    const part: Columns = { steps: cols.steps.subarray(0, k), times: cols.times.subarray(0, k), values: cols.values.subarray(0, k) };
    const back = decodeChunk(encodeChunk(part, true));
    for (const c of ['steps', 'times', 'values'] as const) assert.ok(bits(back[c]).equals(bits(part[c])), `${desc}: first ${k} again, ${c}`);
    const other = series(rnd, pick(rnd, SIZES));
    const back2 = decodeChunk(encodeChunk(other.cols, true));
    for (const c of ['steps', 'times', 'values'] as const) assert.ok(bits(back2[c]).equals(bits(other.cols[c])), `${other.desc} after ${desc}: ${c}`);
  }
});

test('every special value, alone and in every column, keeps its bits (NaN payloads, ±0, ±Inf, denormals, huge)', () => {
  for (const v of SPECIAL) {
    for (const n of [1, 2, 33, 256]) {
      const filled = new Float64Array(n).fill(v);
      assertRoundTrip({ steps: filled, times: filled, values: filled }, `all ${String(v)} n=${n}`);
      const around = Float64Array.from({ length: n }, (_, i) => (i % 3 === 1 ? v : i * 0.5));
      assertRoundTrip({ steps: around, times: around, values: around }, `${String(v)} among halves n=${n}`);
    }
  }
});

test('integers at the edge of exact precision, alternating, at small sizes', () => {
  for (const a of EXTREMES) {
    for (const b of EXTREMES) {
      for (const n of [2, 3, 4, 5, 9]) {
        const col = Float64Array.from({ length: n }, (_, i) => (i % 2 ? b : a));
        assertRoundTrip({ steps: col, times: col, values: col }, `${a}, ${b} alternating, n=${n}`);
      }
    }
  }
});

test('typical columns compress: regular steps, a jittered clock, float32 noise', () => {
  const rnd = prng(7);
  const n = 512;
  const cols: Columns = { steps: new Float64Array(n), times: new Float64Array(n), values: new Float64Array(n) };
  let ns = 1_700_000_000e9;
  for (let i = 0; i < n; i++) {
    cols.steps[i] = i;
    cols.times[i] = ((ns += Math.round(50e6 + (rnd() - 0.5) * 2e6)) / 1e9) * 1000; // time.time() * 1000
    cols.values[i] = Math.fround(0.5 * (1 + 0.04 * (rnd() - 0.5)));
  }
  const blob = assertRoundTrip(cols, 'typical');
  assert.ok(blob.length / n < 6, `${(blob.length / n).toFixed(2)} bytes a point`);
});

test('blobs of the layout before (raw float64, no format byte) still decode', () => {
  const rnd = prng(3);
  for (const n of [1, 2, 255, 256]) {
    const { cols, desc } = series(rnd, n);
    const raw = encodeRaw(cols);
    assert.ok(isRaw(raw), desc);
    const back = decodeChunk(raw);
    for (const k of ['steps', 'times', 'values'] as const) assert.ok(bits(back[k]).equals(bits(cols[k])), `${desc}: ${k}`);
  }
});

test('a cut, lengthened or unknown blob is refused, never read as other points', () => {
  const rnd = prng(5);
  for (let round = 0; round < 30; round++) {
    const { cols, desc } = series(rnd, pick(rnd, [1, 40, 300]));
    const blob = encodeChunk(cols);
    for (let len = 1; len < blob.length; len++) {
      if (len % 24 === 0) continue; // that length is the raw layout's
      assert.throws(() => decodeChunk(blob.subarray(0, len)), RangeError, `${desc}: cut at ${len} of ${blob.length}`);
    }
    const longer = Buffer.concat([blob, Buffer.from([7])]);
    if (longer.length % 24 !== 0) assert.throws(() => decodeChunk(longer), /bytes after its points/, `${desc}: a byte too many`);
    const newer = Buffer.from(blob);
    newer[0] = 3;
    assert.throws(() => decodeChunk(newer), /format 3 is unknown/);
  }
});

test('columns of different lengths are refused', () => {
  assert.throws(() => encodeChunk({ steps: new Float64Array(2), times: new Float64Array(3), values: new Float64Array(3) }), RangeError);
});
