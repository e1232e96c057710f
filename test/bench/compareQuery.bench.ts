// The Compare answer: per chart, per run, per pixel the min / max / last of one metric (querySeries),
// against decoding every point, and against the implementation before (kept below), in the same run.
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { cpus, loadavg } from 'node:os';
import { Store } from '../../src/core/store/store.ts';
import { type Columns, RAW_LAYOUT, slice, unpack } from '../../src/core/store/chunks.ts';
import type { Downsampled, DownsampleRequest } from '../../src/core/store/metricRepository.ts';
import { Extents, loadRuns, querySeries, querySeriesBy, toSeries } from '../../src/core/compare/compareData.ts';
import { QueryWorkers } from '../../src/core/compare/queryWorkers.ts';
import type { Run } from '../../src/core/types.ts';
import { shape } from './shapes.ts';
import { type Report, tempDir, timeIt } from './util.ts';

// BENCH_SCALE scales the number of runs: a run's points, and so which chunks a query decodes, stay as they are.
const scale = Number(process.env.BENCH_SCALE ?? 1);
const BIG_RUNS = Math.max(10, Math.round(100 * scale));
const BIG_POINTS = 1_000_000;
const ZOOM_RUNS = 10;
const WIDE_RUNS = Math.max(10, Math.round(1000 * scale));
const WIDE_POINTS = 10_000;
const BUCKETS = 1000;
const KEY = 'train/loss';

/** Runs of a noisy float32 loss (test/bench/shapes.ts), appended 50,000 points at a time. */
function fill(store: Store, runs: number, points: number, seed: number): Run[] {
  const ids: number[] = [];
  for (let r = 0; r < runs; r++) {
    const run = store.runs.create({ name: `run-${r}` });
    const c = shape('noisy', points, seed + r);
    for (let i = 0; i < points; i += 50_000) store.metrics.append(run.id, KEY, slice(c, i, Math.min(points, i + 50_000)));
    ids.push(run.id);
  }
  return loadRuns(store, ids);
}

/** The median number of points in a chunk of the store at `file`. */
function medianChunk(file: string): number {
  const db = new Database(file, { readonly: true });
  const count = db.prepare('SELECT count(*) FROM metric_chunks').pluck().get() as number;
  const n = db.prepare('SELECT n FROM metric_chunks ORDER BY n LIMIT 1 OFFSET ?').pluck().get(Math.floor(count / 2)) as number;
  db.close();
  return n;
}

type Range = [number, number] | null;
const chart = (store: Store, runs: Run[], range: Range) => querySeries(store, runs, { key: KEY, axis: 'step', range, buckets: BUCKETS });

/** querySeries on the step axis as it would be with the batched calls: every run's extent, then every run's buckets, at once. */
function chartBatched(store: Store, runs: Run[], range: Range) {
  const ids = runs.map((r) => r.id);
  let lo = Infinity, hi = -Infinity;
  for (const e of store.metrics.extents(ids, KEY, 'step')) if (e) [lo, hi] = [Math.min(lo, e[0]), Math.max(hi, e[1])];
  if (!(lo <= hi)) return { domain: null, series: [] };
  const [a, z] = range ?? [lo, hi];
  const answers = store.metrics.downsampleMany(KEY, ids.map((id) => [id, { axis: 'step', lo: a, hi: z, buckets: BUCKETS }]));
  return { domain: [lo, hi], series: answers.flatMap((d, i) => (d.x.length ? [toSeries(ids[i]!, d)] : [])) };
}

/** The naive answer: every point of every run decoded, then bucketed one by one. */
function decodeAll(store: Store, runs: Run[], range: Range): number {
  let kept = 0;
  const min = new Float64Array(BUCKETS), max = new Float64Array(BUCKETS), last = new Float64Array(BUCKETS);
  for (const run of runs) {
    const p = store.metrics.points(run.id, KEY);
    const [lo, hi] = range ?? [p.steps[0]!, p.steps[p.steps.length - 1]!];
    const width = (hi - lo) / BUCKETS;
    min.fill(NaN); max.fill(NaN); last.fill(NaN);
    for (let i = 0; i < p.values.length; i++) {
      const x = p.steps[i]!, v = p.values[i]!;
      if (!(x >= lo && x <= hi)) continue;
      const b = Math.min(BUCKETS - 1, Math.floor((x - lo) / width));
      if (!(v >= min[b]!)) min[b] = v;
      if (!(v <= max[b]!)) max[b] = v;
      last[b] = v;
      kept++;
    }
  }
  return kept;
}

/**
 * The query before this bench (metricRepository.ts at 429a6e6), with today's codec: each run's extent and
 * chunk summaries read by statements of their own, a row per chunk, whole chunks from their summaries, the
 * others decoded and added a point at a time. Also the reference the new answer must equal bit for bit.
 */
function previous(file: string) {
  const db = new Database(file, { readonly: true });
  const keyId = db.prepare('SELECT id FROM metric_keys WHERE name = ?').pluck().get(KEY) as number;
  const rowsOf = db.prepare(`SELECT seq, n, step_lo, step_hi, step_last, v_min, v_max, v_last FROM metric_chunks
    WHERE run_id = ? AND key_id = ? AND step_hi >= ? AND step_lo <= ? ORDER BY seq`).raw();
  const extent = db.prepare('SELECT min(step_lo), max(step_hi) FROM metric_chunks WHERE run_id = ? AND key_id = ?').raw();
  const points = db.prepare('SELECT data FROM metric_chunk_points WHERE run_id = ? AND key_id = ? AND seq BETWEEN ? AND ? ORDER BY seq').pluck();
  const nan = (v: number | null) => (v === null ? NaN : v);
  const downsample = (runId: number, req: DownsampleRequest): Downsampled => {
    const { lo, hi, buckets } = req;
    const width = hi > lo ? (hi - lo) / buckets : 1;
    const bucketOf = (v: number) => Math.min(buckets - 1, Math.floor((v - lo) / width));
    const b = { xFirst: new Float64Array(buckets).fill(NaN), x: new Float64Array(buckets).fill(NaN), last: new Float64Array(buckets).fill(NaN),
      min: new Float64Array(buckets).fill(NaN), max: new Float64Array(buckets).fill(NaN), count: new Uint32Array(buckets) };
    const add = (k: number, xFirst: number, xLast: number, vMin: number, vMax: number, vLast: number, n: number) => {
      if (vMin === vMin && !(vMin >= b.min[k]!)) b.min[k] = vMin;
      if (vMax === vMax && !(vMax <= b.max[k]!)) b.max[k] = vMax;
      if (!(xFirst >= b.xFirst[k]!)) b.xFirst[k] = xFirst;
      b.last[k] = vLast;
      b.x[k] = xLast;
      b.count[k]! += n;
    };
    type Row = [number, number, number, number, number, number | null, number | null, number | null];
    const rows = rowsOf.all(runId, keyId, lo, hi) as Row[];
    const whole = (r: Row) => r[2] >= lo && r[3] <= hi && r[3] - r[2] <= width;
    const decoded = new Map<number, Columns>();
    for (const r of rows) {
      if (!whole(r)) for (const data of points.iterate(runId, keyId, r[0], r[0])) decoded.set(r[0], unpack(data as Buffer, 'times'));
    }
    for (const r of rows) {
      const [seq, n, xLo, , xLast, vMin, vMax, vLast] = r;
      const p = decoded.get(seq);
      if (!p) { add(bucketOf(xLo), xLo, xLast, nan(vMin), nan(vMax), nan(vLast), n); continue; }
      for (let i = 0; i < p.values.length; i++) {
        const x = p.steps[i]!, v = p.values[i]!;
        if (x >= lo && x <= hi) add(bucketOf(x), x, x, v, v, v, 1);
      }
    }
    const keep: number[] = [];
    for (let i = 0; i < buckets; i++) if (b.count[i]! > 0) keep.push(i);
    const pick = (a: Float64Array) => Float64Array.from(keep, (k) => a[k]!);
    return { xFirst: pick(b.xFirst), x: pick(b.x), last: pick(b.last), min: pick(b.min), max: pick(b.max), count: Uint32Array.from(keep, (k) => b.count[k]!) };
  };
  /** The whole chart as before: each run's extent, then each run's downsample over the common range. */
  const answer = (runs: Run[], range: Range) => {
    let [lo, hi] = range ?? [Infinity, -Infinity];
    if (!range) {
      for (const run of runs) {
        const [a, z] = extent.get(run.id, keyId) as [number, number];
        lo = Math.min(lo, a);
        hi = Math.max(hi, z);
      }
    }
    return runs.map((run) => downsample(run.id, { axis: 'step', lo, hi, buckets: BUCKETS }));
  };
  return { answer, close: () => db.close() };
}

/** The new answer must be the one before, bucket for bucket and bit for bit. */
function checkSame(store: Store, runs: Run[], range: Range, before: ReturnType<typeof previous>): void {
  const got = chart(store, runs, range).series;
  const want = before.answer(runs, range);
  const fin = (v: number) => (Number.isFinite(v) ? v : null);
  runs.forEach((run, i) => {
    const g = got.find((s) => s.runId === run.id)!, w = want[i]!;
    const same = g.x.length === w.x.length && g.x.every((x, k) => x === w.x[k] && g.min[k] === fin(w.min[k]!)
      && g.max[k] === fin(w.max[k]!) && g.last[k] === fin(w.last[k]!) && g.count[k] === w.count[k]);
    if (!same) throw new Error(`run ${run.id}: the answer differs from the implementation before`);
  });
}

/**
 * CPU time (user + system) of fn in ms: what this process spent on it, whatever else the shared machine
 * runs. Wall time is kept beside it (wall), for the line that prints both.
 */
function cpuIt(fn: () => unknown, wall?: number[], i = 0): number {
  const c = process.cpuUsage(), t = timeIt(() => fn()), d = process.cpuUsage(c);
  if (wall) wall[i] = Math.min(wall[i] ?? Infinity, t);
  return (d.user + d.system) / 1000;
}

/** Each function in turn, one round to warm up then `n`; the best CPU time of each (and of wall time, in `wall`). */
function rounds(n: number, wall: number[], ...fns: (() => unknown)[]): number[] {
  const ms = fns.map(() => Infinity);
  wall.length = 0;
  for (let round = 0; round <= n; round++) {
    fns.forEach((fn, i) => {
      const t = cpuIt(fn, round > 0 ? wall : undefined, i);
      if (round > 0) ms[i] = Math.min(ms[i]!, t);
    });
  }
  return ms;
}

const load = () => loadavg()[0]!.toFixed(1);
const wallLine = (wall: number[], labels: string[]) =>
  console.log(`  wall clock, best of the same rounds: ${wall.map((w, i) => `${labels[i]} ${w.toFixed(1)} ms`).join(', ')} (load average ${load()} on ${cpus().length} cores)`);

export async function benchCompare(report: Report): Promise<void> {
  const dir = tempDir();
  let t = Date.now();
  const store = Store.open(join(dir, 'big'));
  const big = fill(store, BIG_RUNS, BIG_POINTS, 100);
  const zoomRuns = big.slice(0, ZOOM_RUNS);
  const raw = Store.open(join(dir, 'raw'));
  raw.metrics.layout = RAW_LAYOUT;
  const rawRuns = fill(raw, ZOOM_RUNS, BIG_POINTS, 100);
  const wideStore = Store.open(join(dir, 'wide'));
  const wide = fill(wideStore, WIDE_RUNS, WIDE_POINTS, 5000);
  const chunk = medianChunk(store.file), rawChunk = medianChunk(raw.file);
  console.log(`\n(Compare stores filled in ${((Date.now() - t) / 1000).toFixed(0)} s; median chunk ${chunk} points, ${rawChunk} in the layout before)`);

  const before = previous(store.file), wideBefore = previous(wideStore.file);
  const worst: Range = [0, (chunk - 6) * BUCKETS];
  const zoom: Range = [BIG_POINTS * 0.4, BIG_POINTS * 0.41];
  checkSame(store, big, null, before);
  checkSame(store, zoomRuns, worst, before);
  checkSame(store, zoomRuns, zoom, before);
  checkSame(wideStore, wide, null, wideBefore);
  for (const [s, runs, range] of [[store, big, null], [store, zoomRuns, worst], [wideStore, wide, null]] as const) {
    if (JSON.stringify(chartBatched(s, runs, range)) !== JSON.stringify(chart(s, runs, range))) throw new Error('the batched calls answer otherwise');
  }

  t = Date.now();
  const wall: number[] = [];
  console.log('\n(Figures are CPU time of this process, best of the rounds; wall clock below each.)');
  const [full, fullBefore, fullBatched] = rounds(5, wall, () => chart(store, big, null), () => before.answer(big, null), () => chartBatched(store, big, null));
  const fullWall = [...wall];
  const fullNaive = cpuIt(() => decodeAll(store, big, null));
  // The first answer after the store opens: every run's chunk summaries read from SQLite (then kept in memory).
  const cold = [0, 1, 2].map(() => {
    const fresh = Store.open(join(dir, 'big'));
    const ms = cpuIt(() => chart(fresh, big, null));
    fresh.close();
    return ms;
  }).sort((a, b) => a - b)[1]!;
  report(`Compare answer: ${BIG_RUNS} runs x ${BIG_POINTS.toLocaleString('en')} points, ${BUCKETS} buckets`, full!, 'ms', [
    ['the query before (a row per chunk summary, a point at a time; same codec)', fullBefore!], ['decoding every point', fullNaive],
  ], { higherIsBetter: false, target: '< 150 ms' });
  wallLine(fullWall, ['ours', 'before', 'batched']);
  console.log(`  with the batched calls (metrics.extents + downsampleMany, proposed for querySeries): ${fullBatched!.toFixed(1)} ms`);
  report('  the same, as the first answer after the store opens (chunk summaries not yet in memory; median of 3)', cold, 'ms', [
    ['the query before', fullBefore!],
  ], { higherIsBetter: false });

  const [w, wBefore, wRaw, wBatched] = rounds(5, wall, () => chart(store, zoomRuns, worst), () => before.answer(zoomRuns, worst),
    () => chart(raw, rawRuns, [0, (rawChunk - 6) * BUCKETS]), () => chartBatched(store, zoomRuns, worst));
  const wWall = [...wall];
  const wNaive = cpuIt(() => decodeAll(store, zoomRuns, worst));
  report(`Compare answer at the worst zoom: ${ZOOM_RUNS} runs, buckets of ${chunk - 6} points (just narrower than a chunk)`, w!, 'ms', [
    ['the query before (a row per chunk summary, a point at a time; same codec)', wBefore!], ['decoding every point', wNaive],
    [`the uncompressed layout before at its worst zoom (${rawChunk - 6} points a bucket)`, wRaw!],
  ], { higherIsBetter: false, target: '< 40 ms' });
  wallLine(wWall, ['ours', 'before', 'uncompressed', 'batched']);
  console.log(`  with the batched calls: ${wBatched!.toFixed(1)} ms`);

  const [z, zBefore, zRaw] = rounds(7, wall, () => chart(store, zoomRuns, zoom), () => before.answer(zoomRuns, zoom), () => chart(raw, rawRuns, zoom));
  report(`Compare answer zoomed to 1% of the range: ${ZOOM_RUNS} runs`, z!, 'ms', [
    ['the query before (a row per chunk summary, a point at a time; same codec)', zBefore!], ['the uncompressed layout before (raw chunks), same query', zRaw!],
  ], { higherIsBetter: false, target: 'no worse than the uncompressed layout' });
  wallLine(wall, ['ours', 'before', 'uncompressed']);

  const [wd, wdBefore, wdBatched] = rounds(5, wall, () => chart(wideStore, wide, null), () => wideBefore.answer(wide, null), () => chartBatched(wideStore, wide, null));
  const wdWall = [...wall];
  const wdNaive = cpuIt(() => decodeAll(wideStore, wide, null));
  // As the panel answers a chart of many ended runs: split between two query workers, this thread waiting.
  const pool = new QueryWorkers(new URL('../../src/core/tasks/taskWorker.ts', import.meta.url), 2);
  const pooled = () => querySeriesBy(wideStore, wide, { key: KEY, axis: 'step', range: null, buckets: BUCKETS }, new Extents(), (k, a) => pool.downsample(wideStore, k, a));
  if (JSON.stringify(await pooled()) !== JSON.stringify(chart(wideStore, wide, null))) throw new Error(`the query workers answer otherwise${pool.failure ? `: ${pool.failure}` : ''}`);
  let wdPooled = Infinity, wdPooledCpu = Infinity;
  for (let round = 0; round < 5; round++) {
    const c = process.cpuUsage(), t0 = performance.now();
    await pooled();
    const ms = performance.now() - t0, d = process.cpuUsage(c);
    if (ms < wdPooled) [wdPooled, wdPooledCpu] = [ms, (d.user + d.system) / 1000];
  }
  pool.dispose();
  report(`Compare answer: ${WIDE_RUNS} runs x ${WIDE_POINTS.toLocaleString('en')} points, ${BUCKETS} buckets, as the panel gets it (two query workers; wall clock)`, wdPooled, 'ms', [
    ['the same query on one thread (CPU time)', wd!], ['the query before (a row per chunk summary, a point at a time; same codec)', wdBefore!], ['decoding every point', wdNaive],
  ], { higherIsBetter: false, target: '< 300 ms' });
  console.log(`  CPU time of the process and its workers for that answer: ${wdPooledCpu.toFixed(1)} ms (load average ${load()} on ${cpus().length} cores)`);
  wallLine(wdWall, ['one thread', 'before', 'batched']);
  console.log(`  with the batched calls: ${wdBatched!.toFixed(1)} ms`);
  console.log(`  (measured in ${((Date.now() - t) / 1000).toFixed(0)} s; every answer equals the implementation before, bit for bit)`);

  for (const b of [before, wideBefore]) b.close();
  for (const s of [store, raw, wideStore]) s.close();
}
