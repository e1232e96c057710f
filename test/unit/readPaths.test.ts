/**
 * Exact reads of the metric store, checked against brute force over the plain arrays, on random
 * series whose lengths sit around chunk edges. Set RUNLENS_SEED to replay or explore other seeds.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import { Store } from '../../src/core/store/store.ts';
import { CHUNK_SIZE, type Columns } from '../../src/core/store/chunks.ts';
import type { Axis, Downsampled } from '../../src/core/store/metricRepository.ts';
import { querySeries } from '../../src/core/compare/compareData.ts';
import { LiveTail } from '../../src/core/compare/liveTail.ts';
import type { XAxis } from '../../src/core/compare/protocol.ts';
import { prng } from '../../src/core/hparams/sweep.ts';
import { tempDir } from './helpers.ts';

const SEED = Number(process.env.RUNLENS_SEED ?? 20240601);
const T0 = 1_700_000_000_000;
const LENGTHS = [0, 1, 255, 256, 257, 511, 512, 513, 767, 768, 769, 1000, 1535, 1536, 1537];
const BUCKETS = [1, 2, 7, 100, 1000];

type Rnd = () => number;
const int = (rnd: Rnd, lo: number, hi: number) => lo + Math.floor(rnd() * (hi - lo + 1));
const pick = <T>(rnd: Rnd, xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;

/** A NaN whose payload is not the canonical one. */
const ODD_NAN = new Float64Array(new Uint32Array([0xdead, 0x7ff80001]).buffer)[0]!;
const SPECIAL = [NaN, ODD_NAN, Infinity, -Infinity, -0, 0, 1e308, -1e308, Number.MAX_VALUE, 5e-324, -5e-324, 1e-300, 2 ** 53];

interface Case { desc: string; cols: Columns; appends: number[] }

/** A random series: steps regular / with gaps / repeated / restarting, times sometimes going back, odd values. */
function randomCase(rnd: Rnd, n: number, index: number): Case {
  const stepMode = (['regular', 'gaps', 'repeats', 'restart'] as const)[(index + Math.floor(index / LENGTHS.length)) % 4]!;
  const timeMode = pick(rnd, ['regular', 'regular', 'jitter', 'back'] as const);
  const valueMode = pick(rnd, ['smooth', 'special', 'ties', 'nan'] as const);
  const start = pick(rnd, [0, 0, 1, 7, 1000, 1e9]);
  const steps = new Float64Array(n), times = new Float64Array(n), values = new Float64Array(n);
  let s = start, t = T0 + rnd() * 1e6;
  for (let i = 0; i < n; i++) {
    if (i > 0) {
      if (stepMode === 'regular') s += 1;
      else if (stepMode === 'gaps') s += int(rnd, 1, 40);
      else if (stepMode === 'repeats') s += rnd() < 0.4 ? 0 : 1;
      else s = rnd() < 0.01 ? Math.max(start, s - int(rnd, 1, 300)) : s + 1; // a resume from a checkpoint
      if (timeMode === 'back' && rnd() < 0.02) t -= rnd() * 5000;
      else t += timeMode === 'jitter' ? rnd() * 3 : 1000;
    }
    steps[i] = s;
    times[i] = t;
    if (valueMode === 'smooth') values[i] = Math.sin(i / 40) + (rnd() < 0.01 ? 50 : rnd());
    else if (valueMode === 'special') values[i] = rnd() < 0.3 ? pick(rnd, SPECIAL) : (rnd() - 0.5) * 10 ** int(rnd, -300, 300);
    else if (valueMode === 'ties') values[i] = pick(rnd, [0, -0, 1, 2, 2, 3]);
    else values[i] = rnd() < 0.9 ? NaN : rnd();
  }
  // appends: one go, random sizes, or sizes that end exactly on chunk edges
  const appendMode = (['one', 'random', 'edges'] as const)[index % 3]!;
  const appends: number[] = [];
  for (let done = 0; done < n;) {
    let k = n - done;
    if (appendMode === 'random') k = Math.min(k, int(rnd, 1, 300));
    if (appendMode === 'edges') k = Math.min(k, CHUNK_SIZE - (done % CHUNK_SIZE) + pick(rnd, [0, 0, -1, 1]) || 1);
    appends.push(k);
    done += k;
  }
  return { desc: `n=${n} steps=${stepMode}@${start} times=${timeMode} values=${valueMode} appends=${appendMode}`,
    cols: { steps, times, values }, appends };
}

const slice = (c: Columns, a: number, b: number): Columns =>
  ({ steps: c.steps.subarray(a, b), times: c.times.subarray(a, b), values: c.values.subarray(a, b) });
const bytes = (a: Float64Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);
const sameValue = (a: number | undefined, b: number | undefined) => a === b || (Number.isNaN(a) && Number.isNaN(b));
const nonDecreasing = (xs: Float64Array) => xs.every((x, i) => i === 0 || x >= xs[i - 1]!);

/** Brute force, as documented: the value logged last at the step, else the last one logged at a step before it. */
function valueAtBrute(c: Columns, step: number): number | undefined {
  let at: number | undefined, before: number | undefined;
  for (let i = 0; i < c.steps.length; i++) {
    if (c.steps[i] === step) at = c.values[i];
    else if (c.steps[i]! < step) before = c.values[i];
  }
  return at !== undefined || c.steps.some((s) => s === step) ? at : before;
}

/** The earliest point with the lowest (highest) non-NaN value. */
function bestBrute(c: Columns, goal: 'min' | 'max') {
  let at = -1;
  c.values.forEach((v, i) => {
    if (!Number.isNaN(v) && (at < 0 || (goal === 'min' ? v < c.values[at]! : v > c.values[at]!))) at = i;
  });
  return at < 0 ? undefined : { step: c.steps[at]!, value: c.values[at]! };
}

/**
 * Where the store's chunks of one series start, as point indexes in log order. A chunk closes at
 * CHUNK_SIZE points or at its byte cap, so the edges depend on the data: read them, never assume them.
 */
function chunkStarts(store: Store, runId: number, key: string): number[] {
  const db = new Database(store.file, { readonly: true });
  try {
    const sizes = db.prepare(`SELECT c.n FROM metric_chunks c JOIN metric_keys k ON k.id = c.key_id
      WHERE c.run_id = ? AND k.name = ? ORDER BY c.seq`).pluck().all(runId, key) as number[];
    const starts: number[] = [];
    let at = 0;
    for (const n of sizes) { starts.push(at); at += n; }
    return starts;
  } finally {
    db.close();
  }
}

/** x values worth asking about: first and last point of each chunk, and around them. */
function edgeXs(xs: Float64Array, delta: number, starts: number[]): number[] {
  const out: number[] = [];
  starts.forEach((i, k) => {
    const j = (starts[k + 1] ?? xs.length) - 1;
    for (const x of [xs[i]!, xs[j]!]) out.push(x - delta, x, x + delta);
  });
  return out;
}

/** Ranges that start or end exactly on chunk edges, cross them, sit on one point, or reach outside. */
function ranges(rnd: Rnd, xs: Float64Array, starts: number[]): [number, number][] {
  if (!xs.length) return [[0, 10]];
  const lo = Math.min(...xs), hi = Math.max(...xs);
  const out: [number, number][] = [[lo, hi], [lo - 1, hi + 1], [hi, lo], [lo - 5, (lo + hi) / 2], [(lo + hi) / 2, hi + 5]];
  starts.forEach((i, k) => {
    const end = starts[k + 1] ?? xs.length;
    const first = xs[i]!, last = xs[end - 1]!;
    const next = xs[Math.min(xs.length - 1, end)]!;
    out.push([first, last], [last, next], [first - 10, first], [first, first], [last, hi]);
  });
  const a = xs[int(rnd, 0, xs.length - 1)]!, b = xs[int(rnd, 0, xs.length - 1)]!;
  out.push([Math.min(a, b), Math.max(a, b)]);
  const seen = new Set<string>();
  return out.filter((r) => !seen.has(String(r)) && seen.add(String(r)));
}

/** What a downsample of [lo, hi] must hold, by brute force: every point with lo <= x <= hi (x > lo with afterLo). */
function inRangeOf(xs: Float64Array, vs: Float64Array, lo: number, hi: number, after: boolean) {
  const idx: number[] = [];
  for (let i = 0; i < xs.length; i++) if ((after ? xs[i]! > lo : xs[i]! >= lo) && xs[i]! <= hi) idx.push(i);
  const finite = idx.map((i) => vs[i]!).filter((v) => !Number.isNaN(v));
  return {
    lo, hi, idx, values: new Set(idx.map((i) => vs[i]!)), xs: new Set(idx.map((i) => xs[i]!)),
    min: finite.length ? Math.min(...finite) : NaN, max: finite.length ? Math.max(...finite) : NaN,
  };
}

function checkDownsample(d: Downsampled, want: ReturnType<typeof inRangeOf>, xs: Float64Array, vs: Float64Array,
  monotone: boolean, buckets: number) {
  const inRange = want.idx;
  assert.equal(d.count.reduce((a, b) => a + b, 0), inRange.length, 'every point in range counted exactly once');
  assert.ok(d.x.length <= buckets, 'no more buckets than asked for');
  if (!inRange.length) return;
  // whole chunks go to the bucket where they start, points to their own: each bucket starts in its own slot
  const width = want.hi > want.lo ? (want.hi - want.lo) / buckets : 1;
  const slot = (x: number) => Math.min(buckets - 1, Math.floor((x - want.lo) / width));
  let min = NaN, max = NaN;
  for (let b = 0; b < d.x.length; b++) {
    assert.ok(d.count[b]! > 0, 'only non-empty buckets');
    if (b > 0) assert.ok(slot(d.xFirst[b]!) > slot(d.xFirst[b - 1]!), `bucket ${b} starts in a slot of its own`);
    for (const v of [d.min[b]!, d.max[b]!, d.last[b]!]) assert.ok(want.values.has(v), `bucket ${b} value ${v} is a real value in range`);
    assert.ok(want.xs.has(d.xFirst[b]!) && want.xs.has(d.x[b]!), `bucket ${b} x range [${d.xFirst[b]}, ${d.x[b]}] holds real points`);
    if (!Number.isNaN(d.min[b]) && !(d.min[b]! >= min)) min = d.min[b]!;
    if (!Number.isNaN(d.max[b]) && !(d.max[b]! <= max)) max = d.max[b]!;
  }
  // === on values: summaries keep no -0 (SQLite stores it as 0)
  assert.ok(sameValue(min, want.min), `global min ${min}, want ${want.min}`);
  assert.ok(sameValue(max, want.max), `global max ${max}, want ${want.max} (the spike shows)`);
  if (!monotone) return;
  const n = d.x.length;
  assert.ok(sameValue(d.last[n - 1], vs[inRange.at(-1)!]), 'the last bucket ends on the last point in range');
  for (let b = 0; b < n; b++) {
    assert.ok(d.xFirst[b]! <= d.x[b]!, 'a bucket\'s x range is in order');
    if (b + 1 < n) assert.ok(d.x[b]! <= d.xFirst[b + 1]!, 'buckets are in x order');
  }
  // every point lies in a bucket whose x range and min..max hold it
  let b = 0;
  for (const i of inRange) {
    const x = xs[i]!, v = vs[i]!;
    while (b < n && d.x[b]! < x) b++;
    let ok = false;
    for (let c = b; c < n && d.xFirst[c]! <= x && !ok; c++) ok = Number.isNaN(v) || (d.min[c]! <= v && v <= d.max[c]!);
    assert.ok(ok, `point #${i} (x ${x}, value ${v}) is inside some bucket's band`);
  }
}

function checkSeries(store: Store, runId: number, c: Case, rnd: Rnd) {
  const m = store.metrics;
  const { steps, times, values } = c.cols;
  const n = values.length;

  const got = m.points(runId, 'v');
  assert.ok(bytes(got.steps).equals(bytes(steps)), 'steps come back bit for bit');
  assert.ok(bytes(got.times).equals(bytes(times)), 'times come back bit for bit');
  assert.ok(bytes(got.values).equals(bytes(values)), 'values come back bit for bit (-0, NaN payloads)');

  for (const axis of ['step', 'time'] as const) {
    const xs = axis === 'step' ? steps : times;
    assert.deepEqual(m.extent(runId, 'v', axis), n ? [Math.min(...xs), Math.max(...xs)] : undefined, `${axis} extent`);
  }

  for (const goal of ['min', 'max'] as const) {
    const want = bestBrute(c.cols, goal), b = m.best(runId, 'v', goal);
    assert.equal(b?.step, want?.step, `best ${goal} step`);
    assert.ok(Object.is(b?.value, want?.value), `best ${goal} value ${b?.value} vs ${want?.value}`);
  }

  {
    const starts = chunkStarts(store, runId, 'v');
    const asks = [0, -1, ...edgeXs(steps, 1, starts), ...edgeXs(steps, 0.5, starts)];
    if (n) asks.push(steps[0]! - 1, steps[n - 1]! + 1, steps[n - 1]! * 2 + 5);
    for (let k = 0; k < 20 && n; k++) asks.push(steps[int(rnd, 0, n - 1)]!, steps[0]! + rnd() * (steps[n - 1]! - steps[0]! + 2));
    for (const s of asks) {
      const want = valueAtBrute(c.cols, s), v = m.valueAt(runId, 'v', s);
      assert.ok(Object.is(v, want), `valueAt(${s}) = ${v}, want ${want}`);
    }
  }

  for (const axis of ['step', 'time'] as Axis[]) {
    const xs = axis === 'step' ? steps : times;
    const monotone = nonDecreasing(xs);
    for (const [lo, hi] of ranges(rnd, xs, chunkStarts(store, runId, 'v'))) {
      for (const afterLo of [false, true]) {
        const want = inRangeOf(xs, values, lo, hi, afterLo);
        // 1 bucket (whole chunks), a few, and many (decoded chunks): all of BUCKETS over a series
        for (const buckets of [1, BUCKETS[int(rnd, 1, 2)]!, BUCKETS[int(rnd, 3, 4)]!]) {
          const d = m.downsample(runId, 'v', { axis, lo, hi, buckets, afterLo });
          try {
            checkDownsample(d, want, xs, values, monotone, buckets);
          } catch (err) {
            throw new Error(`downsample ${axis} [${lo}, ${hi}] buckets=${buckets} afterLo=${afterLo}: ${(err as Error).message}`);
          }
        }
      }
    }
  }
}

/** Runs fn, and on failure names the seed and case so it can be replayed. */
function withSeed(seed: number, desc: string, fn: () => void) {
  try {
    fn();
  } catch (err) {
    throw new Error(`RUNLENS_SEED=${SEED} case seed ${seed} (${desc}): ${(err as Error).message}`, { cause: err });
  }
}

test('points, valueAt, best, extent and downsample equal brute force on random series around chunk edges', () => {
  const store = Store.open(tempDir());
  const lengths = [...LENGTHS, ...LENGTHS, 300 + (SEED % 700), 1 + (SEED % 1500)];
  lengths.forEach((n, i) => {
    const seed = SEED + i;
    const rnd = prng(seed);
    const c = randomCase(rnd, n, i);
    withSeed(seed, c.desc, () => {
      const run = store.runs.create({ name: `r${i}` });
      let done = 0;
      for (const k of c.appends) store.metrics.append(run.id, 'v', slice(c.cols, done, (done += k)));
      checkSeries(store, run.id, c, rnd);
    });
  });
  store.close();
});

test('valueAt and downsample at the exact edge between two chunks', () => {
  const store = Store.open(tempDir());
  const run = store.runs.create({ name: 'r' });
  const n = 3 * CHUNK_SIZE;
  const cols: Columns = { steps: new Float64Array(n), times: new Float64Array(n), values: new Float64Array(n) };
  for (let i = 0; i < n; i++) [cols.steps[i], cols.times[i], cols.values[i]] = [i, T0 + i * 1000, i * 10];
  store.metrics.append(run.id, 'v', cols);
  const starts = chunkStarts(store, run.id, 'v');
  assert.ok(starts.length >= 2, `the series spans several chunks (${starts.length})`);
  const e = starts[1]!; // the first point of the second chunk
  assert.equal(store.metrics.valueAt(run.id, 'v', 0), 0);
  assert.equal(store.metrics.valueAt(run.id, 'v', e - 1), (e - 1) * 10);
  assert.equal(store.metrics.valueAt(run.id, 'v', e), e * 10);
  const d = store.metrics.downsample(run.id, 'v', { axis: 'step', lo: e - 1, hi: e + 9, buckets: 100 });
  assert.equal(d.count.reduce((a, b) => a + b, 0), 11);
  assert.equal(d.xFirst[0], e - 1);
  store.close();
});

/** Appends in steps, asking the live tail after each; every point must arrive exactly once. */
function checkLiveTail(store: Store, seed: number, axis: XAxis) {
  const rnd = prng(seed);
  const run = store.runs.create({ name: `live-${seed}`, status: 'running', startedAt: T0 });
  const runs = () => [store.runs.get(run.id)!];
  const n = int(rnd, 1, 1600);
  let t = T0;
  const cols: Columns = { steps: new Float64Array(n), times: new Float64Array(n), values: new Float64Array(n) };
  for (let i = 0; i < n; i++) [cols.steps[i], cols.times[i], cols.values[i]] = [i * 2 + 3, (t += 1 + rnd() * 100), rnd()];

  let done = int(rnd, 0, 2) * CHUNK_SIZE + pick(rnd, [0, 0, -1, 1, 17]);
  done = Math.max(0, Math.min(n, done));
  store.metrics.append(run.id, 'v', slice(cols, 0, done));
  const tail = new LiveTail();
  const answer = querySeries(store, runs(), { key: 'v', axis, range: null, buckets: 1000 });
  let delivered = answer.series.reduce((a, s) => a + s.count.reduce((x, y) => x + y, 0), 0);
  assert.equal(delivered, done, 'the first answer holds every point so far');
  tail.follow('v', axis, answer, runs(), store);
  const xs = axis === 'step' ? cols.steps : cols.times;
  while (done < n) {
    const edge = CHUNK_SIZE - (done % CHUNK_SIZE);
    const k = Math.min(n - done, rnd() < 0.5 ? edge + pick(rnd, [0, 0, -1, 1]) || 1 : int(rnd, 1, 700));
    store.metrics.append(run.id, 'v', slice(cols, done, done + k));
    const prevX = done ? xs[done - 1]! : -Infinity;
    const msgs = tail.collect(store, runs());
    const sent = msgs.flatMap((msg) => msg.series).reduce((a, s) => a + s.count.reduce((x, y) => x + y, 0), 0);
    assert.equal(sent, k, `after ${done} points, ${k} new ones arrive exactly once`);
    const shift = axis === 'relative' ? T0 : 0;
    for (const x of msgs.flatMap((msg) => msg.series.flatMap((s) => s.x))) {
      assert.ok(x + shift > prevX && x + shift <= xs[done + k - 1]!, `x ${x} is one of the new points`);
    }
    done += k;
    if (rnd() < 0.3) assert.deepEqual(tail.collect(store, runs()), [], 'nothing new, nothing sent');
    delivered += sent;
  }
  assert.equal(delivered, n);
}

test('live updates deliver every point exactly once, also when an update ends on a chunk edge', () => {
  const store = Store.open(tempDir());
  for (let i = 0; i < 12; i++) {
    const seed = SEED + 1000 + i;
    const axis = (['step', 'time', 'relative'] as const)[i % 3];
    withSeed(seed, `live tail on ${axis}`, () => checkLiveTail(store, seed, axis));
  }
  store.close();
});

// After a step restart (a resume from a checkpoint) the value logged at the step, not a later one below it.
test('valueAt after a step restart returns the value logged at the step', () => {
  const store = Store.open(tempDir());
  const run = store.runs.create({ name: 'resumed' });
  const cols = (steps: number[], values: number[]): Columns =>
    ({ steps: Float64Array.from(steps), times: Float64Array.from(steps, (s) => T0 + s), values: Float64Array.from(values) });
  store.metrics.append(run.id, 'loss', cols([0, 5, 10], [1, 0.5, 0.1]));
  store.metrics.append(run.id, 'loss', cols([5, 8], [0.55, 0.25])); // resumed at step 5
  assert.deepEqual(store.metrics.best(run.id, 'loss', 'min'), { step: 10, value: 0.1 });
  assert.equal(store.metrics.valueAt(run.id, 'loss', 10), 0.1);
  store.close();
});

// The live tail follows the log order: a point logged again at the last x sent arrives too.
test('a point logged at the step last sent still arrives live', () => {
  const store = Store.open(tempDir());
  const run = store.runs.create({ name: 'live', status: 'running', startedAt: T0 });
  const runs = () => [store.runs.get(run.id)!];
  const cols = (steps: number[]): Columns =>
    ({ steps: Float64Array.from(steps), times: Float64Array.from(steps, (s) => T0 + s), values: Float64Array.from(steps) });
  store.metrics.append(run.id, 'v', cols([0, 1, 2]));
  const tail = new LiveTail();
  tail.follow('v', 'step', querySeries(store, runs(), { key: 'v', axis: 'step', range: null, buckets: 100 }), runs(), store);
  store.metrics.append(run.id, 'v', cols([2, 3]));
  const [msg] = tail.collect(store, runs());
  assert.equal(msg?.series[0]?.count.reduce((a, b) => a + b, 0), 2);
  store.close();
});
