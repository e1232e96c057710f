// valueRuns (codec.ts): the min, max and last of runs of a chunk's values, read without decoding them into
// an array, must be what decoding them gives, or n = -1 (then the caller decodes).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { type RunsAsk, decodeChunk, encodeChunk, valueRuns } from '../../src/core/store/codec.ts';
import { Reader, Writer } from '../../src/core/store/codecBits.ts';

function noisy(n: number, seed: number, at = 1): Float64Array {
  let s = seed;
  const rnd = () => (s = (s * 1103515245 + 12345) % 2147483648) / 2147483648;
  const gauss = () => Math.sqrt(-2 * Math.log(1 - rnd())) * Math.cos(2 * Math.PI * rnd());
  return Float64Array.from({ length: n }, () => Math.fround(at * (1 + 0.04 * gauss()))); // a noisy float32 loss
}

function chunk(values: Float64Array): Uint8Array {
  const n = values.length;
  return encodeChunk({ steps: Float64Array.from({ length: n }, (_, i) => i), times: Float64Array.from({ length: n }, (_, i) => 1e12 + 50 * i), values });
}

/** Runs of random lengths over [from, to). */
function cutsOf(from: number, to: number, seed: number): Int32Array {
  const cuts = [from];
  let s = seed;
  while (cuts[cuts.length - 1]! < to) cuts.push(Math.min(to, cuts[cuts.length - 1]! + 1 + ((s = (s * 69069 + 1) % 4294967296) % 40)));
  return Int32Array.from(cuts);
}

function expected(values: Float64Array, cuts: Int32Array): number[] {
  const out: number[] = [];
  for (let j = 0; j + 1 < cuts.length; j++) {
    const run = values.subarray(cuts[j]!, cuts[j + 1]!);
    out.push(Math.min(...run), Math.max(...run), run[run.length - 1]!);
  }
  return out;
}

test('valueRuns gives each run the min, max and last that decoding gives', () => {
  let read = 0;
  for (let seed = 1; seed <= 60; seed++) {
    const n = 1 + (seed * 37) % 500;
    const values = noisy(n, seed, seed % 3 === 0 ? -2.5 : 0.7);
    const blob = chunk(values);
    assert.deepEqual(decodeChunk(blob, 'x').values, values);
    const from = seed % 5, to = Math.max(from, n - (seed % 7));
    const cuts = cutsOf(Math.min(from, to), to, seed);
    const ask: RunsAsk = { blob, cuts, runs: cuts.length - 1, out: new Float64Array(3 * cuts.length), n: 0 };
    valueRuns(ask);
    if (ask.n < 0) continue;
    read++;
    assert.equal(ask.n, n);
    assert.deepEqual(Array.from(ask.out.subarray(0, 3 * ask.runs)), expected(values, cuts));
  }
  assert.ok(read > 40, `read by runs: ${read} of 60`);
});

test('valueRuns leaves to decoding a run that may hold a zero, and columns of other codings', () => {
  const values = noisy(300, 7);
  values[100] = 0;
  const withZero = chunk(values);
  const ask: RunsAsk = { blob: withZero, cuts: Int32Array.from([0, 150, 300]), runs: 2, out: new Float64Array(6), n: 0 };
  valueRuns(ask);
  assert.equal(ask.n, -1);
  ask.cuts = Int32Array.from([150, 300]);
  ask.runs = 1;
  valueRuns(ask); // the zero is outside the runs
  const got: number = ask.n;
  assert.ok(got === 300 || got === -1);
  if (got === 300) assert.deepEqual(Array.from(ask.out.subarray(0, 3)), expected(values, ask.cuts));
  const smooth = Float64Array.from({ length: 300 }, (_, i) => 3e-4 * 0.5 * (1 + Math.cos((Math.PI * i) / 300)));
  const other: RunsAsk = { blob: chunk(smooth), cuts: Int32Array.from([0, 300]), runs: 1, out: new Float64Array(3), n: 0 };
  valueRuns(other);
  assert.equal(other.n, -1);
});

/** A chunk's run reading as decoding gives it, or n = -1. */
function check(blob: Uint8Array, values: Float64Array, cuts: Int32Array, desc: string): boolean {
  const ask: RunsAsk = { blob, cuts, runs: cuts.length - 1, out: new Float64Array(3 * cuts.length), n: 0 };
  valueRuns(ask);
  if (ask.n < 0) return false;
  assert.equal(ask.n, values.length, desc);
  assert.deepEqual(Array.from(ask.out.subarray(0, 3 * ask.runs)), expected(values, cuts), desc);
  return true;
}

/**
 * The blob as the format before blocks (version 1) writes it: the values' block table taken out (their
 * bit stream is the same). The blob itself when its values are not in blocks.
 */
function unblocked(blob: Uint8Array): Uint8Array {
  const r = new Reader(blob, blob.length);
  r.byte();
  const n = r.varint();
  r.skip(r.varint() + r.varint());
  const tagAt = r.at, tag = r.byte();
  if (!(tag & 32)) return blob;
  r.svarint();
  assert.equal(r.varint(), 0, 'no exceptions');
  r.svarint(); r.byte(); r.byte(); // Rice center, k, width
  const tableAt = r.at, log = r.byte();
  let bits = 0;
  for (let j = 0; j < Math.ceil(n / (1 << log)); j++) {
    bits += r.varint();
    r.svarint();
    r.varint();
  }
  r.svarint();
  const w = new Writer(blob.length);
  for (const b of blob.subarray(0, tableAt)) w.byte(b);
  w.bytes[0] = 1;
  w.bytes[tagAt] = tag & ~32;
  for (const b of blob.subarray(r.at, r.at + Math.ceil(bits / 8))) w.byte(b);
  if (w.at % 24 === 0) w.byte(0);
  return w.result().slice();
}

test('values in blocks: runs over whole blocks, cut at and beside block edges, to the chunk end, read as decoding gives them', () => {
  let blocked = 0;
  for (let seed = 1; seed <= 40; seed++) {
    const n = 129 + ((seed * 97) % 640);
    const values = noisy(n, seed, seed % 4 === 0 ? -1.5 : 0.9);
    const blob = chunk(values);
    if (blob[0] === 2) blocked++;
    const edges = [0, 63, 64, 65, 127, 128, 129, 192, n - 65, n - 64, n - 1].filter((c) => c > 0 && c < n);
    const cutSets = [
      [0, n], // one run: every block from the table
      [0, ...edges, n],
      [seed % 64, 64 * Math.floor(n / 128), n], // a run that ends on a block edge, then one to the end
      Array.from(cutsOf(seed % 3, n - (seed % 5), seed * 7)),
      [5, 6], [n - 1, n], [64, 128], [63, 129],
    ];
    for (const set of cutSets) {
      const cuts = Int32Array.from([...new Set(set)].sort((a, b) => a - b));
      const desc = `n=${n} seed=${seed} cuts=${cuts.join(',')}`;
      assert.ok(check(blob, values, cuts, desc), `${desc}: read by runs`);
    }
  }
  assert.ok(blocked > 30, `in blocks: ${blocked} of 40`);
});

test('chunks written before blocks (version 1) still decode and read by runs the same', () => {
  let old = 0, read = 0;
  for (let seed = 1; seed <= 30; seed++) {
    const n = 1 + ((seed * 53) % 768);
    const values = noisy(n, seed);
    const blob = unblocked(chunk(values));
    if (blob[0] === 1 && n > 64) old++;
    assert.deepEqual(decodeChunk(blob, 'x').values, values);
    assert.deepEqual(decodeChunk(blob).values, values);
    const cuts = cutsOf(seed % 4, n - (seed % 3), seed);
    if (cuts[cuts.length - 1]! > cuts[0]! && check(blob, values, cuts, `n=${n} seed=${seed}`)) read++;
  }
  assert.ok(old > 20, `version 1 chunks of more than a block: ${old}`);
  assert.ok(read > 20, `read by runs: ${read}`);
});

test('a block table that does not match its stream is refused', () => {
  const values = noisy(400, 3);
  const blob = Buffer.from(chunk(values));
  assert.equal(blob[0], 2);
  const r = new Reader(blob, blob.length);
  r.byte(); r.varint();
  r.skip(r.varint() + r.varint());
  r.byte(); r.svarint(); r.varint(); r.svarint(); r.byte(); r.byte(); r.byte(); // tag, scale, exceptions, Rice header, log
  const first = r.at; // the first block's bit count, a 2-byte varint
  assert.ok(blob[first]! >= 128);
  blob[first] = blob[first]! ^ 1;
  assert.throws(() => decodeChunk(blob), /block table/);
  // read on from block 0 into block 1: where block 1 starts is checked
  const ask: RunsAsk = { blob, cuts: Int32Array.from([10, 100]), runs: 1, out: new Float64Array(3), n: 0 };
  assert.throws(() => valueRuns(ask), /block table/);
});
