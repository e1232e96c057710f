// Chooses and guards the metric point layout: packed chunks vs one row per point.
// Each figure is printed next to a baseline measured in the same run, as a ratio.
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { Store } from '../../src/core/store/store.ts';
import { RAW_LAYOUT, packRaw } from '../../src/core/store/chunks.ts';
import { type Report, timeIt, tempDir } from './util.ts';
import { loadRuns, querySeries } from '../../src/core/compare/compareData.ts';

const scale = Number(process.env.BENCH_SCALE ?? 1);
const INGEST_POINTS = Math.round(2_000_000 * scale);
const RUNS = 10;
const POINTS_PER_RUN = Math.round(1_000_000 * scale);
const BATCH = 10_000;
const BUCKETS = 1000;

function columns(from: number, n: number) {
  const steps = new Float64Array(n), times = new Float64Array(n), values = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    steps[i] = from + i;
    times[i] = 1.7e12 + (from + i) * 10;
    values[i] = Math.sin((from + i) / 1000) + ((from + i) % 7919 === 0 ? 50 : 0);
  }
  return { steps, times, values };
}

/** The naive layout: one indexed row per point, inserted with a prepared statement. */
function naiveDb(dir: string) {
  const db = new Database(join(dir, 'naive.db'));
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.exec(`CREATE TABLE points (run_id INTEGER, key_id INTEGER, step REAL, time REAL, value REAL,
    PRIMARY KEY (run_id, key_id, step)) WITHOUT ROWID`);
  const insert = db.prepare('INSERT INTO points VALUES (?, ?, ?, ?, ?)');
  const load = (runId: number, n: number) => {
    for (let from = 0; from < n; from += BATCH) {
      const c = columns(from, Math.min(BATCH, n - from));
      db.transaction(() => {
        for (let i = 0; i < c.values.length; i++) insert.run(runId, 1, c.steps[i], c.times[i], c.values[i]);
      })();
    }
  };
  return { db, load };
}

export function benchLayout(report: Report): void {
  const dir = tempDir();

  // 1. Ingest: our chunked store vs the naive loop vs raw packed chunk inserts.
  const naive = naiveDb(dir);
  const naiveMs = timeIt(() => naive.load(1, INGEST_POINTS));
  naive.db.close();

  const appendAll = (s: Store) => {
    const run = s.runs.create({ name: 'bench' });
    return timeIt(() => {
      for (let from = 0; from < INGEST_POINTS; from += BATCH) {
        s.metrics.append(run.id, 'loss', columns(from, Math.min(BATCH, INGEST_POINTS - from)));
      }
    });
  };
  // Both layouts in turn, each into a store of its own, three rounds: the best of each (the machine may be shared).
  const open = (name: string, raw: boolean) => {
    const s = Store.open(join(dir, name));
    if (raw) s.metrics.layout = RAW_LAYOUT;
    return s;
  };
  let beforeMs = Infinity, chunkedMs = Infinity;
  for (let round = 1; round < 3; round++) {
    const [b, c] = [open(`store-before-${round}`, true), open(`store-${round}`, false)];
    beforeMs = Math.min(beforeMs, appendAll(b));
    chunkedMs = Math.min(chunkedMs, appendAll(c));
    b.close();
    c.close();
  }
  const store = open('store', false), before = open('store-before', true);
  beforeMs = Math.min(beforeMs, appendAll(before));
  chunkedMs = Math.min(chunkedMs, appendAll(store));

  const raw = new Database(join(dir, 'raw.db'));
  raw.pragma('journal_mode = WAL');
  raw.exec('CREATE TABLE c (k INTEGER PRIMARY KEY, data BLOB)');
  const rawInsert = raw.prepare('INSERT INTO c VALUES (?, ?)');
  const rawMs = timeIt(() => {
    let k = 0;
    for (let from = 0; from < INGEST_POINTS; from += BATCH) {
      const c = columns(from, Math.min(BATCH, INGEST_POINTS - from));
      raw.transaction(() => {
        for (let i = 0; i < c.values.length; i += 256) {
          rawInsert.run(k++, packRaw({ steps: c.steps.subarray(i, i + 256), times: c.times.subarray(i, i + 256), values: c.values.subarray(i, i + 256) }));
        }
      })();
    }
  });
  raw.close();
  const rate = (ms: number) => INGEST_POINTS / (ms / 1000);
  report('store append (compressed chunks)', rate(chunkedMs), 'points/s', [
    ['the layout before (raw chunks), same appends', rate(beforeMs)],
    ['naive one-row-per-point insert', rate(naiveMs)],
    ['raw packed-blob insert (upper bound)', rate(rawMs)],
  ], { higherIsBetter: true, target: '>= 2,000,000 points/s, >= 2x naive, >= 0.7x the layout before' });

  // 2. Downsample: 10 runs x 1M points to 1000 buckets, vs a full scan of every point, in both layouts.
  const big = naiveDb(tempDir());
  const runsIn = (s: Store) => {
    const ids: number[] = [];
    for (let r = 0; r < RUNS; r++) {
      const rr = s.runs.create({ name: `run-${r}` });
      ids.push(rr.id);
      for (let from = 0; from < POINTS_PER_RUN; from += 100_000) {
        s.metrics.append(rr.id, 'val_loss', columns(from, Math.min(100_000, POINTS_PER_RUN - from)));
      }
    }
    return ids;
  };
  const ids = runsIn(store), beforeIds = runsIn(before);
  for (const id of ids) big.load(id, POINTS_PER_RUN);
  const width = POINTS_PER_RUN / BUCKETS;
  const scan = big.db.prepare(`SELECT CAST(step / ? AS INTEGER) AS b, min(value), max(value), count(*)
    FROM points WHERE run_id = ? AND key_id = 1 GROUP BY b`);
  const scanMs = best(2, () => { for (const id of ids) scan.all(width, id); });
  big.db.close();

  const req = { axis: 'step' as const, lo: 0, hi: POINTS_PER_RUN - 1, buckets: BUCKETS };
  const zoomReq = { axis: 'step' as const, lo: POINTS_PER_RUN * 0.4, hi: POINTS_PER_RUN * 0.41, buckets: BUCKETS };
  // The slowest zoom: buckets just narrower than a chunk, so every chunk in range is decoded. Compressed
  // chunks hold as many points as fit a quarter page (up to 768): their median here stands for "a chunk".
  const worstReq = (chunk: number) => ({ axis: 'step' as const, lo: 0, hi: Math.min(POINTS_PER_RUN - 1, (chunk - 6) * BUCKETS), buckets: BUCKETS });
  // Each query on both layouts in turn, seven rounds after one to warm the page cache and the JIT: the best
  // of each, so a change in the machine's load does not land on one layout only.
  const pair = (fn: (s: Store, runIds: number[], chunk: number) => void) => {
    const args: [Store, number[], number][] = [[store, ids, medianChunk(store.file)], [before, beforeIds, medianChunk(before.file)]];
    const ms = [Infinity, Infinity];
    for (let round = 0; round < 8; round++) {
      args.forEach((a, i) => {
        const t = timeIt(() => fn(...a));
        if (round > 0) ms[i] = Math.min(ms[i]!, t);
      });
    }
    return ms as [number, number];
  };
  const loaded = new Map<Store, ReturnType<typeof loadRuns>>([[store, loadRuns(store, ids)], [before, loadRuns(before, beforeIds)]]);
  // What the Compare panel's host does per chart: the query, plus the message as it is serialized.
  const [chart, chartBefore] = pair((s) => JSON.stringify(querySeries(s, loaded.get(s)!, { key: 'val_loss', axis: 'step', range: null, buckets: BUCKETS })));
  const [down, downBefore] = pair((s, runIds) => { for (const id of runIds) s.metrics.downsample(id, 'val_loss', req); });
  const [zoom, zoomBefore] = pair((s, runIds) => { for (const id of runIds) s.metrics.downsample(id, 'val_loss', zoomReq); });
  const [worst, worstBefore] = pair((s, runIds, chunk) => { for (const id of runIds) s.metrics.downsample(id, 'val_loss', worstReq(chunk)); });
  const now = { chart, down, zoom, worst, chunk: medianChunk(store.file) };
  const then = { chart: chartBefore, down: downBefore, zoom: zoomBefore, worst: worstBefore, chunk: medianChunk(before.file) };
  report(`Compare chart answer: ${RUNS} runs x ${POINTS_PER_RUN.toLocaleString('en')} points, ${BUCKETS} buckets, as the JSON message`, now.chart, 'ms', [
    ['the layout before (raw chunks)', then.chart], ['full scan (SQL GROUP BY over one row per point)', scanMs],
  ], { higherIsBetter: false, target: '< 100 ms, no worse than the layout before' });
  report(`downsample ${RUNS} runs x ${POINTS_PER_RUN.toLocaleString('en')} points to ${BUCKETS} buckets`, now.down, 'ms', [
    ['the layout before (raw chunks)', then.down], ['full scan (SQL GROUP BY over one row per point)', scanMs],
  ], { higherIsBetter: false, target: '< 100 ms' });
  report(`downsample zoomed to 1% of the range (${RUNS} runs)`, now.zoom, 'ms', [
    ['the layout before (raw chunks)', then.zoom], ['full scan', scanMs],
  ], { higherIsBetter: false });
  report(`downsample zoomed so buckets are just narrower than a chunk (worst case, ${RUNS} runs; ${now.chunk - 6} points a bucket)`, now.worst, 'ms', [
    [`the layout before at its worst zoom (${then.chunk - 6} points a bucket)`, then.worst], ['full scan', scanMs],
  ], { higherIsBetter: false });
  store.close();
  before.close();
}

/** The median number of points in a chunk of the store at `file`. */
function medianChunk(file: string): number {
  const db = new Database(file, { readonly: true });
  const count = db.prepare('SELECT count(*) FROM metric_chunks').pluck().get() as number;
  const n = db.prepare('SELECT n FROM metric_chunks ORDER BY n LIMIT 1 OFFSET ?').pluck().get(Math.floor(count / 2)) as number;
  db.close();
  return n;
}

function best(times: number, fn: () => void): number {
  let min = Infinity;
  for (let i = 0; i < times; i++) min = Math.min(min, timeIt(fn));
  return min;
}
