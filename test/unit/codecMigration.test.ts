// A store written in the layout before compressed chunks (schema 7, raw float64 chunks) is converted in
// place: every point bit for bit, summaries untouched, in batches that report their progress.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import { Store } from '../../src/core/store/store.ts';
import { openDatabase } from '../../src/core/store/database.ts';
import { type Columns, pack } from '../../src/core/store/chunks.ts';
import { isRaw } from '../../src/core/store/codec.ts';
import { type ConversionProgress, convertBatch } from '../../src/core/store/codecMigration.ts';
import { compactStore } from '../../src/core/store/compact.ts';
import { SCHEMA_VERSION } from '../../src/core/store/migrations.ts';
import { prng } from '../../src/core/hparams/sweep.ts';
import { tempDir } from './helpers.ts';
import { writeOldStore } from './codecOldStore.ts';

const bits = (a: Float64Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);
const NAN_PAYLOAD = new Float64Array(new Uint32Array([0xdeadbeef, 0x7ff4beef]).buffer)[0]!;

/** Series of several shapes: a noisy float32 loss, odd values (NaN payloads, -0, denormals), a single point. */
function oldSeries(runs: number, seed = 1): [string, string, Columns][] {
  const rnd = prng(seed);
  const out: [string, string, Columns][] = [];
  for (let r = 0; r < runs; r++) {
    const make = (n: number, step: (i: number) => number, value: (i: number) => number): Columns => {
      const c: Columns = { steps: new Float64Array(n), times: new Float64Array(n), values: new Float64Array(n) };
      let t = 1.7e12 + r * 1e7;
      for (let i = 0; i < n; i++) [c.steps[i], c.times[i], c.values[i]] = [step(i), (t += 50 + rnd()), value(i)];
      return c;
    };
    out.push([`run-${r}`, 'loss', make(2000 + 37 * r, (i) => i, (i) => Math.fround(2 * Math.exp(-i / 500) * (1 + 0.05 * rnd())))]);
    out.push([`run-${r}`, 'odd', make(700, (i) => (i % 100 === 99 ? i - 50 : i), (i) => [NaN, NAN_PAYLOAD, -0, 5e-324, -Infinity, 1e308, rnd()][i % 7]!)]);
    out.push([`run-${r}`, 'one', make(1, () => 7, () => 0.25)]);
  }
  return out;
}

function assertPoints(store: Store, series: [string, string, Columns][]): void {
  const ids = new Map(store.runs.list({ limit: 1000 }).map((r) => [r.name, r.id]));
  for (const [run, key, c] of series) {
    const got = store.metrics.points(ids.get(run)!, key);
    for (const k of ['steps', 'times', 'values'] as const) assert.ok(bits(got[k]).equals(bits(c[k])), `${run} ${key} ${k} bit for bit`);
  }
}

const blobs = (file: string) => {
  const db = new Database(file, { readonly: true });
  const rows = db.prepare('SELECT data FROM metric_chunk_points').pluck().all() as Buffer[];
  db.close();
  return { raw: rows.filter(isRaw).length, compressed: rows.filter((b) => !isRaw(b)).length };
};
const summaries = (file: string) => {
  const db = new Database(file, { readonly: true });
  const rows = db.prepare('SELECT * FROM metric_chunks ORDER BY run_id, key_id, seq').all();
  db.close();
  return rows;
};

test('a store in the layout before is converted in place: every point bit for bit, summaries unchanged, progress to the end', () => {
  const dir = tempDir();
  const file = join(dir, 'runs.db');
  const series = oldSeries(4);
  writeOldStore(dir, series, 300);
  const before = summaries(file);
  assert.equal(blobs(file).compressed, 0, 'the fixture is all raw chunks');

  const store = Store.open(dir);
  const db = new Database(file, { readonly: true });
  assert.equal(db.pragma('user_version', { simple: true }), SCHEMA_VERSION, 'migrated to the current schema');
  db.close();
  const start = store.metrics.conversionProgress()!;
  assert.deepEqual(start, { done: 0, total: before.length, finished: false });
  assertPoints(store, series); // raw chunks still read

  const seen: ConversionProgress[] = [];
  for (let p = store.metrics.convertBatch(5); ; p = store.metrics.convertBatch(5)) {
    seen.push(p);
    if (p.finished) break;
  }
  assert.ok(seen.length >= before.length / 5, 'in batches of 5');
  seen.forEach((p, i) => {
    assert.equal(p.total, before.length);
    if (i > 0 && !p.finished) assert.ok(p.done > seen[i - 1]!.done, 'progress moves forward');
  });
  assert.equal(seen.at(-1)!.done, before.length);
  assert.equal(store.metrics.conversionProgress(), undefined, 'nothing left to convert');
  assertPoints(store, series);
  store.close();

  assert.deepEqual(summaries(file), before, 'chunk summaries as they were');
  assert.deepEqual(blobs(file), { raw: 0, compressed: before.length });
  const again = Store.open(dir);
  assert.equal(again.metrics.conversionProgress(), undefined);
  assertPoints(again, series);
  again.close();
});

test('a batch whose new blobs do not give back the old points is rolled back, and the old rows stay', () => {
  const dir = tempDir();
  const file = join(dir, 'runs.db');
  const series = oldSeries(2, 2);
  writeOldStore(dir, series);
  Store.open(dir).close(); // migrates to schema 8
  const db = openDatabase(file);
  const flipOneBit = (c: Columns) => {
    const values = Float64Array.from(c.values);
    values[values.length - 1] = values[values.length - 1]! + 1;
    return pack({ ...c, values });
  };
  assert.throws(() => convertBatch(db, 4, flipOneBit), /chunk conversion check failed/);
  const row = db.prepare('SELECT done, run_id, key_id, seq FROM chunk_conversion').get();
  db.close();
  assert.deepEqual(row, { done: 0, run_id: -1, key_id: -1, seq: -1 }, 'the cursor did not move');
  assert.equal(blobs(file).compressed, 0, 'no row was replaced');
  const store = Store.open(dir);
  assertPoints(store, series);
  store.close();
});

test('an append to a run whose open chunk is still raw tops it up compressed; the conversion then leaves it be', () => {
  const dir = tempDir();
  const series = oldSeries(1, 3);
  writeOldStore(dir, series);
  const store = Store.open(dir);
  const id = store.runs.list({ limit: 10 })[0]!.id;
  const loss = series[0]![2];
  const more: Columns = { steps: Float64Array.from([5000, 5001]), times: Float64Array.from([1.8e12, 1.8e12 + 1]), values: Float64Array.from([0.5, NaN]) };
  store.metrics.append(id, 'loss', more);
  for (let p = store.metrics.convertBatch(3); !p.finished; p = store.metrics.convertBatch(3));
  const got = store.metrics.points(id, 'loss');
  const want = { steps: [...loss.steps, 5000, 5001], times: [...loss.times, 1.8e12, 1.8e12 + 1], values: [...loss.values, 0.5, NaN] };
  for (const k of ['steps', 'times', 'values'] as const) assert.ok(bits(got[k]).equals(bits(Float64Array.from(want[k]))), k);
  assert.equal(store.metrics.summaries(id).find((s) => s.key === 'loss')!.count, loss.values.length + 2);
  store.close();
});

test('a store open read-only is not converted, and reads its raw chunks', () => {
  const dir = tempDir();
  const series = oldSeries(1, 5);
  writeOldStore(dir, series);
  Store.open(dir).close(); // migrated, nothing converted yet
  const store = Store.open(dir, { readonly: true });
  assert.equal(store.metrics.conversionProgress(), undefined, 'nothing it could convert');
  assertPoints(store, series);
  store.close();
  assert.equal(blobs(join(dir, 'runs.db')).compressed, 0);
});

test('a new store has nothing to convert', () => {
  const store = Store.open(tempDir());
  assert.equal(store.metrics.conversionProgress(), undefined);
  assert.deepEqual(store.metrics.convertBatch(), { done: 0, total: 0, finished: true });
  store.close();
});

test('Compact Store gives the space the conversion freed back to the disk and keeps every point', () => {
  const dir = tempDir();
  const file = join(dir, 'runs.db');
  const series = oldSeries(6, 4);
  writeOldStore(dir, series);
  const store = Store.open(dir);
  for (let p = store.metrics.convertBatch(); !p.finished; p = store.metrics.convertBatch());
  const { before, after } = compactStore(file);
  assert.ok(after < before / 2, `${before} -> ${after} bytes`);
  assertPoints(store, series); // the open connection reads on
  store.close();
});
