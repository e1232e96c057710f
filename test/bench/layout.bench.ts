// Chooses and guards the metric point layout: packed chunks vs one row per point.
// Each figure is printed next to a baseline measured in the same run, as a ratio.
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { Store } from '../../src/core/store/store.ts';
import { CHUNK_SIZE, pack } from '../../src/core/store/chunks.ts';
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

  const store = Store.open(join(dir, 'store'));
  const run = store.runs.create({ name: 'bench' });
  const chunkedMs = timeIt(() => {
    for (let from = 0; from < INGEST_POINTS; from += BATCH) {
      store.metrics.append(run.id, 'loss', columns(from, Math.min(BATCH, INGEST_POINTS - from)));
    }
  });

  const raw = new Database(join(dir, 'raw.db'));
  raw.pragma('journal_mode = WAL');
  raw.exec('CREATE TABLE c (k INTEGER PRIMARY KEY, data BLOB)');
  const rawInsert = raw.prepare('INSERT INTO c VALUES (?, ?)');
  const rawMs = timeIt(() => {
    let k = 0;
    for (let from = 0; from < INGEST_POINTS; from += BATCH) {
      const c = columns(from, Math.min(BATCH, INGEST_POINTS - from));
      raw.transaction(() => {
        for (let i = 0; i < c.values.length; i += CHUNK_SIZE) {
          rawInsert.run(k++, pack({ steps: c.steps.subarray(i, i + CHUNK_SIZE), times: c.times.subarray(i, i + CHUNK_SIZE), values: c.values.subarray(i, i + CHUNK_SIZE) }));
        }
      })();
    }
  });
  raw.close();
  const rate = (ms: number) => INGEST_POINTS / (ms / 1000);
  report('store append (chunked layout)', rate(chunkedMs), 'points/s', [
    ['naive one-row-per-point insert', rate(naiveMs)],
    ['raw packed-blob insert (upper bound)', rate(rawMs)],
  ], { higherIsBetter: true, target: '>= 2,000,000 points/s and >= 2x naive' });

  // 2. Downsample: 10 runs x 1M points to 1000 buckets, vs a full scan of every point.
  const ids: number[] = [];
  const big = naiveDb(tempDir());
  for (let r = 0; r < RUNS; r++) {
    const rr = store.runs.create({ name: `run-${r}` });
    ids.push(rr.id);
    for (let from = 0; from < POINTS_PER_RUN; from += 100_000) {
      store.metrics.append(rr.id, 'val_loss', columns(from, Math.min(100_000, POINTS_PER_RUN - from)));
    }
    big.load(rr.id, POINTS_PER_RUN);
  }
  const req = { axis: 'step' as const, lo: 0, hi: POINTS_PER_RUN - 1, buckets: BUCKETS };
  for (const id of ids) store.metrics.downsample(id, 'val_loss', req); // warm the page cache
  const downMs = best(5, () => { for (const id of ids) store.metrics.downsample(id, 'val_loss', req); });

  const width = POINTS_PER_RUN / BUCKETS;
  const scan = big.db.prepare(`SELECT CAST(step / ? AS INTEGER) AS b, min(value), max(value), count(*)
    FROM points WHERE run_id = ? AND key_id = 1 GROUP BY b`);
  const scanMs = best(2, () => { for (const id of ids) scan.all(width, id); });
  const zoomReq = { axis: 'step' as const, lo: POINTS_PER_RUN * 0.4, hi: POINTS_PER_RUN * 0.41, buckets: BUCKETS };
  const zoomMs = best(5, () => { for (const id of ids) store.metrics.downsample(id, 'val_loss', zoomReq); });
  // The slowest zoom: buckets just narrower than a chunk, so every chunk in range is decoded.
  const worstReq = { axis: 'step' as const, lo: 0, hi: Math.min(POINTS_PER_RUN - 1, (CHUNK_SIZE - 6) * BUCKETS), buckets: BUCKETS };
  const worstMs = best(5, () => { for (const id of ids) store.metrics.downsample(id, 'val_loss', worstReq); });
  // What the Compare panel's host does per chart: the query, plus the message as it is serialized.
  const runs = loadRuns(store, ids);
  const chartMs = best(5, () => JSON.stringify(querySeries(store, runs, { key: 'val_loss', axis: 'step', range: null, buckets: BUCKETS })));
  big.db.close();
  report(`Compare chart answer: ${RUNS} runs x ${POINTS_PER_RUN.toLocaleString('en')} points, ${BUCKETS} buckets, as the JSON message`, chartMs, 'ms', [
    ['full scan (SQL GROUP BY over one row per point)', scanMs],
  ], { higherIsBetter: false, target: '< 100 ms' });
  report(`downsample ${RUNS} runs x ${POINTS_PER_RUN.toLocaleString('en')} points to ${BUCKETS} buckets`, downMs, 'ms', [
    ['full scan (SQL GROUP BY over one row per point)', scanMs],
  ], { higherIsBetter: false, target: '< 100 ms' });
  report(`downsample zoomed to 1% of the range (${RUNS} runs)`, zoomMs, 'ms', [
    ['full scan', scanMs],
  ], { higherIsBetter: false });
  report(`downsample zoomed so buckets are just narrower than a chunk (worst case, ${RUNS} runs)`, worstMs, 'ms', [
    ['full scan', scanMs],
  ], { higherIsBetter: false });
  store.close();
}

function best(times: number, fn: () => void): number {
  let min = Infinity;
  for (let i = 0; i < times; i++) min = Math.min(min, timeIt(fn));
  return min;
}
