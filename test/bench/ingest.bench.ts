// Ingest end to end: JSONL lines on disk -> store, against a naive one-row-per-point loop.
import Database from 'better-sqlite3';
import { createWriteStream } from 'node:fs';
import { join } from 'node:path';
import { Store } from '../../src/core/store/store.ts';
import { RAW_LAYOUT } from '../../src/core/store/chunks.ts';
import { JsonlIngestor } from '../../src/core/ingest/jsonlIngestor.ts';
import { type Report, tempDir, timeIt } from './util.ts';

const scale = Number(process.env.BENCH_SCALE ?? 1);
const POINTS = Math.round(4_000_000 * scale);
const KEYS = 2;

type Format = 'columns' | 'batch' | 'lines';

async function writeLines(file: string, format: Format): Promise<void> {
  const out = createWriteStream(file);
  const steps = POINTS / KEYS;
  const t0 = 1_700_000_000;
  const b64 = (f: (i: number) => number, from: number, n: number) => Buffer.from(Float64Array.from({ length: n }, (_, j) => f(from + j)).buffer).toString('base64');
  if (format === 'columns') {
    for (let from = 0; from < steps; from += 2000) {
      const n = Math.min(2000, steps - from);
      const line = JSON.stringify({ t: t0 + from / 100, columns: { n, step: b64((i) => i, from, n), time: b64((i) => t0 + i / 100, from, n),
        values: { loss: b64((i) => Math.exp(-i / 1e5), from, n), acc: b64((i) => 1 - Math.exp(-i / 1e5), from, n) } } });
      if (!out.write(`${line}\n`)) await new Promise<void>((r) => out.once('drain', () => r()));
    }
  } else if (format === 'batch') {
    for (let from = 0; from < steps; from += 2000) {
      const entries: string[] = [];
      for (let i = from; i < Math.min(steps, from + 2000); i++) entries.push(`[${i},${t0 + i / 100},{"loss":${Math.exp(-i / 1e5)},"acc":${1 - Math.exp(-i / 1e5)}}]`);
      if (!out.write(`{"t":${t0 + from / 100},"batch":[${entries.join(',')}]}\n`)) await new Promise<void>((r) => out.once('drain', () => r()));
    }
  } else {
    for (let i = 0; i < steps; i++) {
      const line = `{"t":${t0 + i / 100},"step":${i},"metrics":{"loss":${Math.exp(-i / 1e5)},"acc":${1 - Math.exp(-i / 1e5)}}}\n`;
      if (!out.write(line)) await new Promise<void>((r) => out.once('drain', () => r()));
    }
  }
  await new Promise<void>((r) => out.end(r));
}

export async function benchIngest(report: Report): Promise<void> {
  const dir = tempDir();
  // Baseline: the naive prepared-insert loop, one row per point (values already in memory).
  const db = new Database(join(dir, 'naive.db'));
  db.pragma('journal_mode = WAL');
  db.exec('CREATE TABLE points (run_id INTEGER, key_id INTEGER, step REAL, time REAL, value REAL, PRIMARY KEY (run_id, key_id, step)) WITHOUT ROWID');
  const insert = db.prepare('INSERT INTO points VALUES (?, ?, ?, ?, ?)');
  const naiveMs = timeIt(() => {
    for (let from = 0; from < POINTS / KEYS; from += 10_000) {
      db.transaction(() => {
        for (let i = from; i < Math.min(POINTS / KEYS, from + 10_000); i++) {
          insert.run(1, 1, i, 1.7e12 + i * 10, Math.exp(-i / 1e5));
          insert.run(1, 2, i, 1.7e12 + i * 10, 1 - Math.exp(-i / 1e5));
        }
      })();
    }
  });
  db.close();

  const results: [Format, number][] = [];
  const labels: Record<Format, string> = {
    columns: 'columnar lines (what the Python helper writes)', batch: 'batch lines', lines: 'one line per step',
  };
  const ingest = (file: string, folder: string, raw: boolean): number => {
    const store = Store.open(join(dir, folder));
    if (raw) store.metrics.layout = RAW_LAYOUT;
    const run = store.runs.create({ name: 'bench' });
    const ingestor = new JsonlIngestor(store, run.id, file);
    let points = 0;
    const ms = timeIt(() => { points = ingestor.poll(); });
    if (points !== POINTS) throw new Error(`ingested ${points} points, expected ${POINTS}`);
    store.close();
    return POINTS / (ms / 1000);
  };
  let columnsBefore = 0;
  for (const format of ['columns', 'batch', 'lines'] as Format[]) {
    const file = join(dir, `metrics-${format}.jsonl`);
    await writeLines(file, format);
    if (format !== 'columns') {
      results.push([format, ingest(file, `store-${format}`, false)]);
      continue;
    }
    ingest(file, 'store-warmup', false); // the first pass compiles the parser and the codec
    // both layouts in turn, twice: the best of each (the machine may be shared)
    let rate = 0;
    for (const round of [1, 2]) {
      columnsBefore = Math.max(columnsBefore, ingest(file, `store-columns-before-${round}`, true));
      rate = Math.max(rate, ingest(file, `store-columns-${round}`, false));
    }
    results.push([format, rate]);
  }
  const naive = POINTS / (naiveMs / 1000);
  for (const [format, rate] of results) {
    const baselines: [string, number][] = [['naive one-row-per-point insert loop (no parsing)', naive]];
    if (format === 'columns') baselines.unshift(['the same lines into the layout before (raw chunks)', columnsBefore]);
    report(`ingest ${labels[format]}: JSONL on disk -> store`, rate, 'points/s', baselines,
      { higherIsBetter: true, target: format === 'columns' ? '>= 3,000,000 points/s and >= 0.7x the layout before' : '>= 2,000,000 points/s and >= 2x naive' });
  }
}
