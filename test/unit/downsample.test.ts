/**
 * downsample and downsampleMany equal, bit for bit, a brute-force answer computed from the plain arrays and
 * the store's chunk edges, on random series (NaN, ±Inf, -0, steps regular or not, times going back) and
 * random ranges and bucket counts around chunk edges; also after the series grows, after its run is deleted
 * and the id used again, and after another connection writes. Set RUNLENS_SEED to replay another seed.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import { Store } from '../../src/core/store/store.ts';
import type { Columns } from '../../src/core/store/chunks.ts';
import type { Axis, DownsampleRequest, Downsampled } from '../../src/core/store/metricRepository.ts';
import { prng } from '../../src/core/hparams/sweep.ts';
import { tempDir } from './helpers.ts';

const SEED = Number(process.env.RUNLENS_SEED ?? 715);
type Rnd = () => number;
const int = (rnd: Rnd, lo: number, hi: number) => lo + Math.floor(rnd() * (hi - lo + 1));
const pick = <T>(rnd: Rnd, xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
const SPECIAL = [NaN, Infinity, -Infinity, -0, 0, 1e308, -1e308, 5e-324];

function randomSeries(rnd: Rnd, n: number): Columns {
  const steps = new Float64Array(n), times = new Float64Array(n), values = new Float64Array(n);
  const stepMode = pick(rnd, ['regular', 'regular', 'stride', 'gaps', 'restart'] as const);
  const valueMode = pick(rnd, ['float32', 'special', 'nan', 'smooth'] as const);
  const stride = pick(rnd, [1, 2, 10, 1000]);
  let s = pick(rnd, [0, 0, 1, -50, 1e9]), t = 1.7e12 + rnd() * 1e6;
  for (let i = 0; i < n; i++) {
    if (i > 0) {
      if (stepMode === 'regular') s += 1;
      else if (stepMode === 'stride') s += stride;
      else if (stepMode === 'gaps') s += int(rnd, 0, 30);
      else s = rnd() < 0.01 ? s - int(rnd, 1, 300) : s + 1;
      t += rnd() < 0.02 ? -rnd() * 5000 : 50 + rnd() * 3;
    }
    steps[i] = s;
    times[i] = t;
    if (valueMode === 'float32') values[i] = Math.fround(2 * Math.exp(-i / 500) + 0.1 * rnd());
    else if (valueMode === 'special') values[i] = rnd() < 0.2 ? pick(rnd, SPECIAL) : (rnd() - 0.5) * 10 ** int(rnd, -5, 5);
    else if (valueMode === 'nan') values[i] = rnd() < 0.7 ? NaN : rnd();
    else values[i] = Math.sin(i / 40);
  }
  return { steps, times, values };
}

/** What SQLite gives back for a REAL: -0 as 0 (stored as the integer 0), NaN as NULL (read as NaN). */
const stored = (v: number) => (v === 0 ? 0 : v);

/** The chunk sizes of a series, in log order, as the store cut them. */
function chunkSizes(file: string, runId: number, key: string): number[] {
  const db = new Database(file, { readonly: true });
  try {
    return db.prepare(`SELECT c.n FROM metric_chunks c JOIN metric_keys k ON k.id = c.key_id WHERE c.run_id = ? AND k.name = ?
      ORDER BY c.seq`).pluck().all(runId, key) as number[];
  } finally {
    db.close();
  }
}

/**
 * The documented answer, by brute force over the arrays: a chunk narrower than a bucket, wholly in range,
 * goes whole to the bucket of its first x with its min, max and last; every other point in range to its own.
 */
function brute(c: Columns, sizes: number[], req: DownsampleRequest): Downsampled {
  const { lo, hi } = req;
  const buckets = Math.max(1, Math.floor(req.buckets));
  const acc = Array.from({ length: buckets }, () => ({ xFirst: NaN, x: NaN, last: NaN, min: NaN, max: NaN, count: 0 }));
  const add = (b: number, xFirst: number, xLast: number, vMin: number, vMax: number, vLast: number, n: number) => {
    const a = acc[b]!;
    if (!Number.isNaN(vMin) && !(vMin >= a.min)) a.min = vMin;
    if (!Number.isNaN(vMax) && !(vMax <= a.max)) a.max = vMax;
    if (!(xFirst >= a.xFirst)) a.xFirst = xFirst;
    a.last = vLast;
    a.x = xLast;
    a.count += n;
  };
  if (hi >= lo) {
    const width = hi > lo ? (hi - lo) / buckets : 1;
    const bucketOf = (x: number) => Math.min(buckets - 1, Math.floor((x - lo) / width));
    const xs = req.axis === 'step' ? c.steps : c.times, after = req.afterLo === true;
    let from = 0;
    for (const n of sizes) {
      const to = from + n;
      const pxs = [...xs.subarray(from, to)].map(stored), vs = c.values.subarray(from, to);
      const xLo = Math.min(...pxs), xHi = Math.max(...pxs);
      const xLast = req.axis === 'step' ? pxs[n - 1]! : xHi;
      if (xHi >= lo && xLo <= hi && (!after || xHi > lo)) {
        if ((after ? xLo > lo : xLo >= lo) && xHi <= hi && xHi - xLo <= width) {
          const finite = [...vs].filter((v) => !Number.isNaN(v));
          const vMin = finite.length ? stored(finite.reduce((m, v) => (v < m ? v : m))) : NaN;
          const vMax = finite.length ? stored(finite.reduce((m, v) => (v > m ? v : m))) : NaN;
          add(bucketOf(xLo), xLo, xLast, vMin, vMax, stored(vs[n - 1]!), n);
        } else {
          for (let i = 0; i < n; i++) {
            const x = xs[from + i]!;
            if ((after ? x > lo : x >= lo) && x <= hi) add(bucketOf(x), x, x, vs[i]!, vs[i]!, vs[i]!, 1);
          }
        }
      }
      from = to;
    }
  }
  const kept = acc.filter((a) => a.count > 0);
  const col = (f: (a: (typeof kept)[number]) => number) => Float64Array.from(kept, f);
  return { xFirst: col((a) => a.xFirst), x: col((a) => a.x), last: col((a) => a.last), min: col((a) => a.min), max: col((a) => a.max),
    count: Uint32Array.from(kept, (a) => a.count) };
}

function assertSame(got: Downsampled, want: Downsampled, what: string): void {
  for (const f of ['xFirst', 'x', 'last', 'min', 'max', 'count'] as const) {
    assert.equal(got[f].length, want[f].length, `${what}: ${f} has ${got[f].length} buckets, want ${want[f].length}`);
    for (let i = 0; i < want[f].length; i++) {
      if (!Object.is(got[f][i], want[f][i])) assert.fail(`${what}: bucket ${i} ${f} is ${got[f][i]}, want ${want[f][i]}`);
    }
  }
}

/** Ranges around the series' chunk edges, inside and outside it, and bucket counts from one to more than the points. */
function requests(rnd: Rnd, c: Columns, sizes: number[], axis: Axis): DownsampleRequest[] {
  const xs = axis === 'step' ? c.steps : c.times;
  const n = xs.length;
  const edges: number[] = [];
  let at = 0;
  for (const k of sizes) { edges.push(xs[at]!, xs[at + k - 1]!); at += k; }
  const lo0 = Math.min(...xs), hi0 = Math.max(...xs);
  const out: DownsampleRequest[] = [];
  for (let k = 0; k < 14; k++) {
    let lo = pick(rnd, [lo0, lo0 - 3, pick(rnd, edges), xs[int(rnd, 0, n - 1)]!]);
    let hi = pick(rnd, [hi0, hi0 + 7, pick(rnd, edges), xs[int(rnd, 0, n - 1)]!, lo + 0.5]);
    if (rnd() < 0.1) [lo, hi] = [hi, lo];
    // at most 5,000 buckets: a request of (hi - lo) / 300 over steps a billion apart would take gigabytes
    const buckets = Math.min(5000, pick(rnd, [1, 2, 7, 100, 1000, int(rnd, 1, 3000), (hi - lo) / pick(rnd, [1, 300, 700, 768])]));
    out.push({ axis, lo, hi, buckets, afterLo: rnd() < 0.25 });
  }
  return out;
}

function checkRuns(store: Store, rnd: Rnd, runs: [number, Columns][], what: string): void {
  const reqs = new Map<number, DownsampleRequest[]>();
  for (const [runId, c] of runs) {
    const sizes = chunkSizes(store.file, runId, 'v');
    for (const axis of ['step', 'time'] as const) {
      const asks = requests(rnd, c, sizes, axis);
      reqs.set(runId, asks);
      for (const req of asks) {
        assertSame(store.metrics.downsample(runId, 'v', req), brute(c, sizes, req), `${what} run ${runId} ${JSON.stringify(req)}`);
      }
      const xs = axis === 'step' ? c.steps : c.times;
      assert.deepEqual(store.metrics.extent(runId, 'v', axis), [stored(Math.min(...xs)), stored(Math.max(...xs))]);
    }
  }
  // many runs at once, one request each, as the Compare panel asks
  const many = runs.map(([runId]) => [runId, reqs.get(runId)![0]!] as [number, DownsampleRequest]);
  store.metrics.downsampleMany('v', many).forEach((d, i) => {
    const [runId, c] = runs[i]!;
    assertSame(d, brute(c, chunkSizes(store.file, runId, 'v'), many[i]![1]), `${what} downsampleMany run ${runId}`);
  });
}

const concat = (a: Columns, b: Columns): Columns => {
  const join = (x: Float64Array, y: Float64Array) => { const o = new Float64Array(x.length + y.length); o.set(x); o.set(y, x.length); return o; };
  return { steps: join(a.steps, b.steps), times: join(a.times, b.times), values: join(a.values, b.values) };
};
const part = (c: Columns, a: number, b: number): Columns =>
  ({ steps: c.steps.subarray(a, b), times: c.times.subarray(a, b), values: c.values.subarray(a, b) });

test('downsample equals a brute-force answer over random series, ranges and bucket edges, also as the series grows', () => {
  const rnd = prng(SEED);
  const store = Store.open(tempDir());
  const runs: [number, Columns][] = [];
  for (let r = 0; r < 6; r++) {
    const run = store.runs.create({ name: `r${r}` });
    const c = randomSeries(rnd, int(rnd, 1, 4000));
    for (let i = 0; i < c.values.length;) {
      const k = Math.min(c.values.length - i, pick(rnd, [c.values.length, int(rnd, 1, 900)]));
      store.metrics.append(run.id, 'v', part(c, i, i + k));
      i += k;
    }
    runs.push([run.id, c]);
  }
  checkRuns(store, rnd, runs, `seed ${SEED}`);
  // the series grow: the last chunk is topped up and new ones follow
  for (const entry of runs) {
    const more = randomSeries(rnd, int(rnd, 1, 1200));
    more.steps = more.steps.map((s) => s + entry[1].steps.at(-1)! + 1);
    store.metrics.append(entry[0], 'v', more);
    entry[1] = concat(entry[1], more);
  }
  checkRuns(store, rnd, runs, `seed ${SEED}, grown`);
  store.close();
});

test('downsample sees a run deleted and its id used again, and points another connection wrote', () => {
  const rnd = prng(SEED + 1);
  const dir = tempDir();
  const store = Store.open(dir);
  const a = store.runs.create({ name: 'a' });
  let b = store.runs.create({ name: 'b' });
  const ca = randomSeries(rnd, 2000), cb = randomSeries(rnd, 1500);
  store.metrics.append(a.id, 'v', ca);
  store.metrics.append(b.id, 'v', cb);
  checkRuns(store, rnd, [[a.id, ca], [b.id, cb]], 'before');
  // the newest run deleted: the next one gets its id, with other points of the same count
  store.runs.delete(b.id);
  const again = store.runs.create({ name: 'b again' });
  assert.equal(again.id, b.id, 'the id is used again');
  b = again;
  const cb2 = randomSeries(rnd, 1500);
  store.metrics.append(b.id, 'v', cb2);
  checkRuns(store, rnd, [[a.id, ca], [b.id, cb2]], 'id used again');
  // another connection (a worker thread, another window) appends
  const other = Store.open(dir);
  const more = randomSeries(rnd, 900);
  more.steps = more.steps.map((s) => s + ca.steps.at(-1)! + 1);
  other.metrics.append(a.id, 'v', more);
  other.close();
  checkRuns(store, rnd, [[a.id, concat(ca, more)], [b.id, cb2]], 'another connection wrote');
  store.runs.delete(b.id);
  assert.equal(store.metrics.downsample(b.id, 'v', { axis: 'step', lo: -1e12, hi: 1e12, buckets: 10 }).count.length, 0, 'a deleted run has no points');
  assert.equal(store.metrics.extent(b.id, 'v', 'step'), undefined);
  store.close();
});

test('a chunk topped up by another connection while a query reads it is read again', () => {
  const rnd = prng(SEED + 2);
  const dir = tempDir();
  const store = Store.open(dir);
  const run = store.runs.create({ name: 'live' });
  // small integers at regular steps and times: chunks close at 768 points, so the last one has room
  const c: Columns = { steps: new Float64Array(1000), times: new Float64Array(1000), values: new Float64Array(1000) };
  for (let i = 0; i < 1000; i++) [c.steps[i], c.times[i], c.values[i]] = [i, 1.7e12 + i * 1000, (i * 7) % 11];
  store.metrics.append(run.id, 'v', c);
  const req: DownsampleRequest = { axis: 'step', lo: 0, hi: 5000, buckets: 5000 }; // every chunk decoded
  assertSame(store.metrics.downsample(run.id, 'v', req), brute(c, chunkSizes(store.file, run.id, 'v'), req), 'before');
  // after the summaries are checked, and before the chunks are read, another connection tops up the last chunk
  const other = Store.open(dir);
  const more = randomSeries(rnd, 5);
  more.steps = more.steps.map((_, i) => 1000 + i);
  const indexes = (store.metrics as unknown as { indexes: { get: (...a: unknown[]) => unknown } }).indexes;
  const get = indexes.get.bind(indexes);
  let writes = 0;
  indexes.get = (...a: unknown[]) => {
    const got = get(...a);
    if (writes++ === 0) other.metrics.append(run.id, 'v', more);
    return got;
  };
  const got = store.metrics.downsample(run.id, 'v', req);
  assert.deepEqual(chunkSizes(store.file, run.id, 'v'), [768, 237], 'the last chunk was topped up');
  assertSame(got, brute(concat(c, more), [768, 237], req), 'read again');
  assert.equal(writes, 2, 'the query ran twice');
  other.close();
  store.close();
});
