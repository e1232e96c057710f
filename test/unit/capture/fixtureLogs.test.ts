/**
 * What real files tripped over (issue 18), on the files in test/unit/fixtures/logs (written by
 * make_fixtures.py with the formats' own layouts) and on MLflow databases built from MLflow's schema.
 */
import assert from 'node:assert/strict';
import { appendFileSync, cpSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import { Store } from '../../../src/core/store/store.ts';
import { FileCapture } from '../../../src/core/capture/fileCapture.ts';
import { importTensorBoard } from '../../../src/core/importers/importTensorBoard.ts';
import { importMlflowFrom } from '../../../src/core/importers/importMlflow.ts';
import { mlflowSource } from '../../../src/core/importers/mlflowSource.ts';
import { tempDir } from '../helpers.ts';
import { frameRecord, simpleValue, summaryEvent } from '../formats/tfeventsWriter.ts';
import { RUN_GONE, RUN_LIVE, buildMlflowDb, buildRegistryDb } from './mlflowDb.ts';

const LOGS = join(import.meta.dirname, '..', 'fixtures', 'logs');
const NOW = 1_800_000_000_000;
const T0 = 1_700_000_000;

/** A running run whose folder holds a copy of the fixture folder `name` (files new: they are the run's). */
function runWith(name: string) {
  const dir = tempDir();
  cpSync(join(LOGS, name), dir, { recursive: true });
  const store = Store.open(join(dir, '.runlens'));
  const run = store.runs.create({ name: 'r', status: 'running', startedAt: Date.now() - 1000 });
  return { dir, store, run };
}

function points(store: Store, runId: number, key: string) {
  const c = store.metrics.points(runId, key);
  return { steps: [...c.steps], times: [...c.times], values: [...c.values] };
}

test('DVCLive 3 (step and value, no timestamp) is captured, its header kept for later reads and after a reload', () => {
  const { dir, store, run } = runWith('dvclive3');
  let now = NOW;
  const capture = new FileCapture(store, run.id, [dir], { now: () => now, rescanMs: 0 });
  assert.equal(capture.poll(), 3);
  assert.deepEqual(points(store, run.id, 'train/loss'), { steps: [0, 1, 2], times: [NOW, NOW, NOW], values: [0.9, 0.5, 0.25] });
  assert.deepEqual(store.runs.params(run.id), { lr: 0.001, 'model.depth': 18 });
  const tsv = join(dir, 'dvclive', 'plots', 'metrics', 'train', 'loss.tsv');
  now += 1000;
  appendFileSync(tsv, '3\t0.125\n');
  assert.equal(capture.poll(), 1, 'a read after the header line');
  now += 1000;
  appendFileSync(tsv, '4\t0.0625\n');
  const reloaded = new FileCapture(store, run.id, [dir], { now: () => now, rescanMs: 0 });
  assert.equal(reloaded.poll(), 1, 'a reloaded window reads the header again');
  assert.deepEqual(points(store, run.id, 'train/loss'), { steps: [0, 1, 2, 3, 4], times: [NOW, NOW, NOW, NOW + 1000, NOW + 2000], values: [0.9, 0.5, 0.25, 0.125, 0.0625] });
  assert.deepEqual([...capture.stats.problems, ...reloaded.stats.problems], []);
  store.close();
});

test('DVCLive 0.x/1.x scalars/ (timestamp, step, value; \\r\\n) is found and captured; other scalars/ .tsv files are not', () => {
  const { dir, store, run } = runWith('dvclive1');
  write(join(dir, 'data', 'scalars', 'table.tsv'), 'name\tvalue\nx\t1\n');
  const capture = new FileCapture(store, run.id, [dir], { now: () => NOW, rescanMs: 0 });
  assert.equal(capture.poll(), 2);
  assert.deepEqual(points(store, run.id, 'acc'), { steps: [0, 1], times: [T0 * 1000, T0 * 1000 + 1000], values: [0.5, 0.75] });
  assert.deepEqual(capture.stats.files, ['dvclive/scalars/acc.tsv']);
  appendFileSync(join(dir, 'dvclive', 'scalars', 'acc.tsv'), `${T0 * 1000 + 2000}\t2\t0.875\r\n`);
  assert.equal(new FileCapture(store, run.id, [dir], { now: () => NOW, rescanMs: 0 }).poll(), 1);
  assert.deepEqual(points(store, run.id, 'acc').values, [0.5, 0.75, 0.875]);
  store.close();
});

test('a logger writing each key to metrics.csv and to an event file in one folder: every point once, from one file', () => {
  const { dir, store, run } = runWith('csv_and_events');
  const capture = new FileCapture(store, run.id, [dir], { now: () => NOW, rescanMs: 0 });
  assert.equal(capture.poll(), 6, 'train_loss and epoch at 3 steps, not 12 points');
  const third = Math.fround(1 / 3);
  assert.deepEqual(points(store, run.id, 'train_loss'), {
    steps: [0, 1, 2], times: [T0 * 1000, (T0 + 1) * 1000, (T0 + 2) * 1000], values: [1, 0.5, third],
  }, 'the event file sorts first, so it logged the keys first');
  assert.deepEqual(capture.stats.problems, [
    'version_0/metrics.csv: epoch, train_loss are taken from the TensorBoard event files, which logged them first; skipped here (one source per key)',
  ]);
  // After a reload the claim holds, even when the CSV has news first.
  const folder = join(dir, 'version_0');
  appendFileSync(join(folder, 'metrics.csv'), '0,3,0.25\n');
  const reloaded = new FileCapture(store, run.id, [dir], { now: () => NOW, rescanMs: 0 });
  assert.equal(reloaded.poll(), 0);
  appendFileSync(join(folder, 'events.out.tfevents.1700000000.host.4.0'), frameRecord(summaryEvent(3, T0 + 3, [simpleValue('train_loss', 0.25)])));
  assert.equal(reloaded.poll(), 1);
  assert.deepEqual(points(store, run.id, 'train_loss').steps, [0, 1, 2, 3]);
  assert.equal(reloaded.stats.problems.length, 1);
  store.close();
});

test('TensorBoard: hparams plugin records become params, a folder without scalars is left out and reported', async () => {
  const dir = tempDir();
  const logs = join(dir, 'tb');
  cpSync(join(LOGS, 'tensorboard'), logs, { recursive: true });
  const store = Store.open(join(dir, '.runlens'));
  const report = await importTensorBoard(store, logs);
  assert.deepEqual(report, {
    runs: 3, unchanged: 0, updated: 0, points: 6, models: 0, cancelled: false,
    skipped: [{ what: join(logs, 'no_scalars'), why: 'its event files hold no scalars and no hparams (only graphs, histograms, images or other plugins); not imported' }],
  });
  const byName = new Map(store.runs.list({}).map((r) => [r.name, r]));
  assert.deepEqual([...byName.keys()].sort(), ['pytorch_hparams', 'pytorch_hparams/1700000003.5', 'tf2_hparams']);
  assert.deepEqual(store.runs.params(byName.get('pytorch_hparams/1700000003.5')!.id), { lr: 0.01, optimizer: 'adam', use_amp: 1 });
  assert.deepEqual(points(store, byName.get('pytorch_hparams/1700000003.5')!.id, 'hparam/accuracy').values, [0.875]);
  assert.deepEqual(store.runs.params(byName.get('tf2_hparams')!.id), { augment: true, optimizer: 'sgd', units: 64 });
  assert.deepEqual(store.runs.params(byName.get('pytorch_hparams')!.id), {});
  const again = await importTensorBoard(store, logs);
  assert.deepEqual([again.runs, again.unchanged, again.points, again.skipped.length], [0, 3, 0, 1]);
  assert.equal(store.runs.count(), 3);
  store.close();
});

test('TensorBoard hparams are captured live as the run\'s params (the run\'s own win)', () => {
  const { dir, store, run } = runWith('tensorboard/tf2_hparams');
  store.runs.setParams(run.id, { units: 128 });
  const capture = new FileCapture(store, run.id, [dir], { rescanMs: 0 });
  assert.equal(capture.poll(), 2);
  assert.deepEqual(store.runs.params(run.id), { augment: true, optimizer: 'sgd', units: 128 });
  store.close();
});

test('an mlruns folder with a stray mlruns/ inside imports its runs and says what the stray one is', async () => {
  const dir = tempDir();
  const store = Store.open(join(dir, '.runlens'));
  const root = join(LOGS, 'mlflow_stray', 'mlruns');
  assert.deepEqual(mlflowSource(root), { kind: 'files', path: root, origin: `mlflow:${root}` });
  assert.deepEqual(mlflowSource(join(LOGS, 'mlflow_stray')), mlflowSource(root), 'its parent means the same store');
  const report = await importMlflowFrom(store, root);
  assert.equal(report.runs, 1);
  assert.equal(report.points, 2);
  assert.deepEqual(report.skipped, [{
    what: join(root, 'mlruns'), why: 'another MLflow file store inside this one (a stray mlruns folder?); not read: import it on its own',
  }]);
  store.close();
});

test('an MLflow database is found by its content, whatever its name; a folder with none says what it looked at', async () => {
  const dir = tempDir();
  const store = Store.open(join(dir, '.runlens'));
  const server = join(dir, 'server');
  mkdirSync(server);
  buildMlflowDb(join(server, 'backend.db'));
  new Database(join(server, 'cache.db')).exec('CREATE TABLE items (k, v)').close();
  writeFileSync(join(server, 'notes.txt'), 'not a database');
  const report = await importMlflowFrom(store, server);
  assert.equal(report.runs, 3);
  assert.equal(mlflowSource(server)?.path, join(server, 'backend.db'));
  assert.deepEqual(report.skipped.at(-1), { what: join(server, 'cache.db'), why: 'an SQLite database without MLflow\'s experiments and runs tables (its tables: items)' });

  const empty = join(dir, 'empty');
  mkdirSync(join(empty, 'mlruns'), { recursive: true });
  new Database(join(empty, 'cache.db')).exec('CREATE TABLE items (k, v)').close();
  const none = await importMlflowFrom(store, empty);
  assert.equal(none.runs, 0);
  assert.deepEqual(none.skipped.map((s) => s.what), [join(empty, 'cache.db'), empty]);
  assert.match(none.skipped[1]!.why, /^no MLflow store in it: no SQLite file with MLflow's tables \(experiments, runs\), and no file store/);

  const noRuns = join(dir, 'fresh', 'mlruns');
  write(join(noRuns, '0', 'meta.yaml'), "experiment_id: '0'\nlifecycle_stage: active\nname: Default\n");
  const fresh = await importMlflowFrom(store, noRuns);
  assert.deepEqual(fresh.skipped, [{ what: noRuns, why: 'an MLflow store with 1 experiment(s) and no runs' }]);
  store.close();
});

test('MLflow model versions keep their numbers; versions of a deleted run keep their run, tagged; new versions go on after them', async () => {
  const dir = tempDir();
  const file = join(dir, 'mlflow.db');
  buildRegistryDb(file);
  const store = Store.open(join(dir, '.runlens'));
  const report = await importMlflowFrom(store, file);
  assert.equal(report.runs, 2);
  assert.equal(report.models, 6);
  assert.deepEqual(report.skipped, [{
    what: 'deleted runs',
    why: '1 run(s) MLflow marks deleted were left out; 1 deleted run(s) were imported anyway, tagged mlflow.lifecycle_stage=deleted, since registered model versions were made by them',
  }]);
  const origin = mlflowSource(file)!.origin;
  const gone = store.runs.getByOrigin(`${origin}#${RUN_GONE}`)!;
  const live = store.runs.getByOrigin(`${origin}#${RUN_LIVE}`)!;
  assert.equal(store.runs.tags(gone.id)['mlflow.lifecycle_stage'], 'deleted');
  assert.equal(store.runs.tags(live.id)['mlflow.lifecycle_stage'], undefined);
  assert.deepEqual(store.runs.params(gone.id), { lr: 0.1 });
  const model = store.models.model('digits')!;
  assert.deepEqual(store.models.versions(model.id).reverse().map((v) => [v.version, v.runId]),
    [[5, gone.id], [6, gone.id], [7, live.id], [8, live.id], [9, live.id], [10, live.id]]);
  assert.equal(store.models.find('digits', 'champion')?.version, 7);
  const next = store.models.register({ model: 'digits', runId: live.id, artifactId: null, path: 'model.pkl', kind: 'pickle', digest: '', size: 0, fileCount: 0, params: {}, metrics: [] });
  assert.equal(next.version, 11, 'a version logged here comes after MLflow\'s');
  assert.throws(() => store.models.register({ ...next, model: 'digits', version: 7 }), /digits already has a version 7/);
  const again = await importMlflowFrom(store, file);
  assert.deepEqual([again.runs, again.models, again.unchanged], [0, 0, 2]);
  store.close();
});

test('an MLflow version whose number RunLens already uses gets the next free one, after all of MLflow\'s, and the report says so', async () => {
  const dir = tempDir();
  const file = join(dir, 'mlflow.db');
  buildRegistryDb(file);
  const store = Store.open(join(dir, '.runlens'));
  const local = store.runs.create({ name: 'here' });
  for (let i = 0; i < 7; i++) store.models.register({ model: 'digits', runId: local.id, artifactId: null, path: 'm', kind: 'pickle', digest: '', size: 0, fileCount: 0, params: {}, metrics: [] });
  const report = await importMlflowFrom(store, file);
  assert.equal(report.models, 6);
  const model = store.models.model('digits')!;
  const mlflow = store.models.versions(model.id).filter((v) => v.kind === 'mlflow').reverse()
    .map((v) => [(v.metadata as { mlflow: { version: number } }).mlflow.version, v.version]);
  assert.deepEqual(mlflow, [[8, 8], [9, 9], [10, 10], [5, 11], [6, 12], [7, 13]]);
  assert.deepEqual(report.skipped.map((s) => s.what), ['model digits version 5', 'model digits version 6', 'model digits version 7', 'deleted runs']);
  assert.match(report.skipped[0]!.why, /already has a version 5; registered as version 11/);
  assert.equal(store.models.find('digits', 'champion')?.version, 13, 'the alias follows MLflow\'s version 7');
  store.close();
});

function write(path: string, body: string): void {
  mkdirSync(join(path, '..'), { recursive: true });
  writeFileSync(path, body);
}
