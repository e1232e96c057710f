// valueRuns (codec.ts): the min, max and last of runs of a chunk's values, read without decoding them into
// an array, must be what decoding them gives, or n = -1 (then the caller decodes).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { type RunsAsk, decodeChunk, encodeChunk, valueRuns } from '../../src/core/store/codec.ts';

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
