import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Store } from '../../src/core/store/store.ts';
import { CHUNK_SIZE } from '../../src/core/store/chunks.ts';
import { tempDir, series } from './helpers.ts';

function setup() {
  const store = Store.open(tempDir());
  const run = store.runs.create({ name: 'r' });
  return { store, runId: run.id };
}

test('points appended in uneven batches come back exactly, in order, with no gaps or duplicates', () => {
  const { store, runId } = setup();
  const total = CHUNK_SIZE * 3 + 17;
  for (let from = 0; from < total; from += 7) {
    store.metrics.append(runId, 'loss', series(from, Math.min(7, total - from), (s) => 1 / (s + 1)));
  }
  const got = store.metrics.points(runId, 'loss');
  assert.equal(got.values.length, total);
  for (let i = 0; i < total; i++) {
    assert.equal(got.steps[i], i);
    assert.equal(got.values[i], 1 / (i + 1));
    assert.equal(got.times[i], 1_700_000_000_000 + i * 1000);
  }
  store.close();
});

test('NaN and ±Inf are kept as such; summaries ignore NaN for min and max', () => {
  const { store, runId } = setup();
  const values = [0.5, NaN, Infinity, -Infinity, 0.25, NaN];
  store.metrics.append(runId, 'loss', series(0, values.length, (s) => values[s]!));
  const got = Array.from(store.metrics.points(runId, 'loss').values);
  assert.deepEqual(got.map(String), values.map(String));
  const [summary] = store.metrics.summaries(runId);
  assert.equal(summary!.count, 6);
  assert.equal(summary!.min, -Infinity);
  assert.equal(summary!.max, Infinity);
  assert.ok(Number.isNaN(summary!.last));
  assert.equal(summary!.lastStep, 5);
  store.close();
});

test('summaries track count, first/last step, last value, min and max across appends', () => {
  const { store, runId } = setup();
  store.metrics.append(runId, 'acc', series(0, 10, (s) => s / 10));
  store.metrics.appendMany(runId, [['acc', series(10, 5, () => 0.05)], ['loss', series(0, 3, (s) => 3 - s)]]);
  const byKey = Object.fromEntries(store.metrics.summaries(runId).map((s) => [s.key, s]));
  assert.deepEqual(Object.keys(byKey), ['acc', 'loss']);
  assert.equal(byKey.acc!.count, 15);
  assert.equal(byKey.acc!.firstStep, 0);
  assert.equal(byKey.acc!.lastStep, 14);
  assert.equal(byKey.acc!.last, 0.05);
  assert.equal(byKey.acc!.min, 0);
  assert.equal(byKey.acc!.max, 0.9);
  assert.equal(byKey.loss!.min, 1);
  store.close();
});

test('a batch with mismatched columns is refused and nothing of it is stored', () => {
  const { store, runId } = setup();
  const bad = series(0, 5, (s) => s);
  assert.throws(() => store.metrics.appendMany(runId, [['ok', series(0, 3, (s) => s)], ['bad', { ...bad, times: bad.times.subarray(0, 2) }]]), /differ in length/);
  assert.equal(store.metrics.points(runId, 'ok').values.length, 0);
  store.close();
});

/** The reference for zoomed-in views: every point assigned to its bucket by brute force. */
function bruteForce(steps: number[], values: number[], lo: number, hi: number, buckets: number) {
  const w = (hi - lo) / buckets;
  const out = new Map<number, { min: number; max: number; last: number; count: number }>();
  steps.forEach((s, i) => {
    if (s < lo || s > hi) return;
    const b = Math.min(buckets - 1, Math.floor((s - lo) / w));
    const v = values[i]!;
    const cur = out.get(b) ?? { min: NaN, max: NaN, last: NaN, count: 0 };
    if (!Number.isNaN(v)) {
      cur.min = Number.isNaN(cur.min) ? v : Math.min(cur.min, v);
      cur.max = Number.isNaN(cur.max) ? v : Math.max(cur.max, v);
    }
    cur.last = v;
    cur.count++;
    out.set(b, cur);
  });
  return [...out.entries()].sort((a, b) => a[0] - b[0]).map(([, v]) => v);
}

function noisySeries(store: Store, runId: number, n: number) {
  let seed = 7;
  const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  const values = Array.from({ length: n }, (_, i) => (i % 97 === 0 ? NaN : Math.sin(i / 50) + rand()));
  store.metrics.append(runId, 'v', series(0, n, (s) => values[s]!));
  return values;
}

test('zoomed in (buckets narrower than a chunk), downsampling equals a brute-force scan', () => {
  const { store, runId } = setup();
  const n = 5000;
  const values = noisySeries(store, runId, n);
  const steps = Array.from({ length: n }, (_, i) => i);
  for (const [lo, hi, buckets] of [[0, n - 1, 100], [123.5, 4000, 333], [1000, 1300, 1000], [0, n - 1, 4999], [2500, 2500, 10]] as const) {
    const got = store.metrics.downsample(runId, 'v', { axis: 'step', lo, hi, buckets });
    const want = bruteForce(steps, values, lo, hi, buckets);
    assert.equal(got.count.length, want.length, `bucket count for ${lo}..${hi}/${buckets}`);
    want.forEach((w, i) => {
      assert.equal(got.count[i], w.count);
      assert.equal(String(got.min[i]), String(w.min));
      assert.equal(String(got.max[i]), String(w.max));
      assert.equal(String(got.last[i]), String(w.last));
    });
  }
  store.close();
});

test('zoomed out, every point is in exactly one bucket, inside its min..max, and buckets stay within a pixel of their place', () => {
  const { store, runId } = setup();
  const n = 20_000;
  const values = noisySeries(store, runId, n);
  for (const [lo, hi, buckets] of [[0, n - 1, 7], [0, n - 1, 60], [1234, 17_000.5, 50]] as const) {
    const got = store.metrics.downsample(runId, 'v', { axis: 'step', lo, hi, buckets });
    const width = (hi - lo) / buckets;
    const inRange = values.map((v, s) => [s, v] as const).filter(([s]) => s >= lo && s <= hi);
    assert.equal(got.count.reduce((a, b) => a + b, 0), inRange.length, 'every point counted once');
    for (let b = 0; b < got.count.length; b++) {
      assert.ok(got.x[b]! - got.xFirst[b]! <= 2 * width, 'a bucket spans at most two nominal widths');
      if (b > 0) assert.ok(got.xFirst[b]! > got.x[b - 1]!, 'buckets do not overlap');
      assert.equal(String(got.last[b]), String(values[got.x[b]!]), 'last is the value at the bucket\'s last x');
    }
    let b = 0;
    for (const [s, v] of inRange) {
      while (s > got.x[b]!) b++;
      assert.ok(s >= got.xFirst[b]!, `step ${s} lies in a bucket`);
      if (!Number.isNaN(v)) assert.ok(v >= got.min[b]! && v <= got.max[b]!, `value at ${s} within its bucket band`);
    }
    const finite = inRange.map(([, v]) => v).filter((v) => !Number.isNaN(v));
    assert.equal(Math.min(...got.min), Math.min(...finite));
    assert.equal(Math.max(...got.max), Math.max(...finite));
  }
  store.close();
});

test('a one-step spike among 200,000 points shows in its bucket max at a 500-pixel width', () => {
  const { store, runId } = setup();
  const n = 200_000;
  store.metrics.append(runId, 'loss', series(0, n, (s) => (s === 123_457 ? 1e6 : 1)));
  const got = store.metrics.downsample(runId, 'loss', { axis: 'step', lo: 0, hi: n - 1, buckets: 500 });
  assert.equal(got.count.length, 500);
  assert.equal(got.count.reduce((a, b) => a + b, 0), n, 'every point counted once');
  const spiky = [...got.max].filter((m) => m === 1e6);
  assert.equal(spiky.length, 1);
  assert.ok(got.last.every((v) => v === 1), 'the line through last stays at 1');
  store.close();
});

test('downsampling by wall time uses timestamps, and an unknown key is empty', () => {
  const { store, runId } = setup();
  store.metrics.append(runId, 'acc', series(0, 1000, (s) => s));
  const t0 = 1_700_000_000_000;
  const got = store.metrics.downsample(runId, 'acc', { axis: 'time', lo: t0 + 100_000, hi: t0 + 199_999, buckets: 10 });
  assert.equal(got.count.length, 10);
  assert.equal(got.min[0], 100);
  assert.equal(got.max[9], 199);
  assert.equal(got.x[9], t0 + 199_000);
  assert.equal(store.metrics.downsample(runId, 'nope', { axis: 'step', lo: 0, hi: 10, buckets: 5 }).count.length, 0);
  store.close();
});
