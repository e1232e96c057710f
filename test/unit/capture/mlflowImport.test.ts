import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import { Store } from '../../../src/core/store/store.ts';
import { readMlflowSqlite } from '../../../src/core/importers/mlflowSqlite.ts';
import { importMlflow, importMlflowFrom } from '../../../src/core/importers/importMlflow.ts';
import { mlflowSource } from '../../../src/core/importers/mlflowSource.ts';
import { paramValue } from '../../../src/core/importers/report.ts';
import { tempDir } from '../helpers.ts';
import { COMMIT, RUN_A, RUN_B, RUN_C, T, buildMlflowDb } from './mlflowDb.ts';

function points(store: Store, runId: number, key: string) {
  const c = store.metrics.points(runId, key);
  return { steps: [...c.steps], times: [...c.times], values: [...c.values] };
}

test('readMlflowSqlite reads experiments, runs, NaN metrics, dataset inputs and the registry; deleted things are left out', () => {
  const file = join(tempDir(), 'mlflow.db');
  buildMlflowDb(file);
  const exp = readMlflowSqlite(file);
  assert.deepEqual(exp.problems, []);
  assert.deepEqual(exp.experiments, [{ id: '0', name: 'Default' }, { id: '1', name: 'mnist' }]);
  assert.deepEqual(exp.runs.map((r) => [r.id, r.name, r.status, r.experimentId]), [
    [RUN_A, 'brave-owl', 'FINISHED', '1'], [RUN_B, 'calm-fox', 'FAILED', '1'], [RUN_C, 'quick-ant', 'KILLED', '0'],
  ]);
  const a = exp.runs[0]!;
  assert.deepEqual(a.params, { lr: '0.001', optimizer: 'adam', shuffle: 'True' });
  assert.equal(a.gitCommit, COMMIT);
  assert.deepEqual(a.metrics.filter((p) => p.key === 'loss').map((p) => [p.step, p.time, p.value]),
    [[0, T + 1000, 1.5], [1, T + 2000, 1.25], [2, T + 3000, NaN], [3, T + 4000, 0.5]]);
  assert.deepEqual(a.datasets, [{ name: 'mnist-train', digest: 'a1b2c3d4', source: '{"uri": "/data/mnist"}', sourceType: 'local' }]);
  assert.equal(exp.runs[1]!.datasets, undefined);
  assert.deepEqual(exp.models, [{ name: 'digits', description: 'a digit classifier', createdAt: T }]);
  assert.deepEqual(exp.versions?.map((v) => [v.model, v.version, v.runId, v.source, v.stage]), [
    ['digits', 1, RUN_A, `runs:/${RUN_A}/model`, 'None'], ['digits', 2, RUN_B, `runs:/${RUN_B}/model`, 'Production'],
  ]);
  assert.deepEqual(exp.aliases, [{ model: 'digits', alias: 'champion', version: 1 }, { model: 'digits', alias: 'v2', version: 2 }]);
});

test('an MLflow database is imported exactly: runs, params, tags, git, metrics with NaN, datasets, model versions, aliases', async () => {
  const dir = tempDir();
  const file = join(dir, 'mlflow.db');
  buildMlflowDb(file);
  const store = Store.open(join(dir, '.runlens'));
  const progress: [number, number][] = [];
  const report = await importMlflowFrom(store, file, { onProgress: (d, t) => progress.push([d, t]) });
  assert.deepEqual(report, {
    runs: 3, unchanged: 0, updated: 0, points: 7, models: 2, cancelled: false,
    skipped: [
      { what: 'alias digits@v2', why: '"v2" would be read as a version; choose another alias.' },
      { what: 'deleted runs', why: '2 run(s) MLflow marks deleted were left out' },
    ],
  });
  assert.deepEqual(progress, [[1, 3], [2, 3], [3, 3]]);
  const origin = mlflowSource(file)!.origin;
  assert.equal(origin, `mlflow:sqlite:///${file}`);
  assert.deepEqual(mlflowSource(dir), { kind: 'sqlite', path: file, origin }, 'a folder with mlflow.db');
  assert.deepEqual(mlflowSource(`sqlite:///${file}`), { kind: 'sqlite', path: file, origin });
  const a = store.runs.getByOrigin(`${origin}#${RUN_A}`)!;
  assert.equal(a.name, 'brave-owl');
  assert.equal(a.experiment, 'mnist');
  assert.equal(a.status, 'finished');
  assert.equal(a.startedAt, T);
  assert.equal(a.endedAt, T + 60_000);
  assert.deepEqual(a.git, { commit: COMMIT, branch: 'main', dirty: false });
  assert.deepEqual(store.runs.params(a.id), { lr: 0.001, optimizer: 'adam', shuffle: true });
  assert.deepEqual(store.runs.tags(a.id), {
    'mlflow.runName': 'brave-owl', 'mlflow.source.git.branch': 'main', 'mlflow.source.git.commit': COMMIT,
    'runlens.origin': `${origin}#${RUN_A}`, team: 'vision',
  });
  assert.deepEqual(points(store, a.id, 'loss'), { steps: [0, 1, 2, 3], times: [T + 1000, T + 2000, T + 3000, T + 4000], values: [1.5, 1.25, NaN, 0.5] });
  assert.deepEqual(points(store, a.id, 'acc'), { steps: [3], times: [T + 4000], values: [0.75] });
  assert.deepEqual(store.provenance.datasets(a.id), [{ path: 'mnist-train', kind: 'file', digest: 'a1b2c3d4', fileCount: 0, bytes: 0, files: [] }]);

  const b = store.runs.getByOrigin(`${origin}#${RUN_B}`)!;
  assert.equal(b.status, 'failed');
  assert.deepEqual(store.runs.params(b.id), { lr: 0.1, seed: '007' });
  assert.equal(b.git?.branch, null);
  assert.deepEqual(points(store, b.id, 'val/loss').values, [3]);
  const c = store.runs.getByOrigin(`${origin}#${RUN_C}`)!;
  assert.equal(c.status, 'stopped');
  assert.equal(c.experiment, 'Default');
  assert.equal(c.git, null);

  const model = store.models.model('digits')!;
  const versions = store.models.versions(model.id).reverse();
  assert.deepEqual(versions.map((v) => [v.version, v.runId, v.path, v.kind, v.digest, v.size, v.fileCount, v.artifactId, v.description]), [
    [1, a.id, `runs:/${RUN_A}/model`, 'mlflow', '', 0, 0, null, 'first'],
    [2, b.id, `runs:/${RUN_B}/model`, 'mlflow', '', 0, 0, null, ''],
  ]);
  assert.deepEqual(versions[0]!.params, { lr: 0.001, optimizer: 'adam', shuffle: true });
  assert.deepEqual(versions[0]!.metrics.map((m) => [m.key, m.count, m.last]), [['acc', 1, 0.75], ['loss', 4, 0.5]]);
  assert.deepEqual(versions[1]!.metadata, { mlflow: { version: 2, stage: 'Production', status: 'READY', createdAt: T + 140_000 } });
  assert.equal(store.models.find('digits', 'champion')?.version, 1);

  // Importing again adds nothing.
  const again = await importMlflowFrom(store, file);
  assert.deepEqual({ ...again, skipped: again.skipped.length }, { runs: 0, unchanged: 3, updated: 0, points: 0, models: 0, cancelled: false, skipped: 2 });
  assert.equal(store.runs.count(), 3);
  assert.equal(store.models.versions(model.id).length, 2);
  assert.equal(store.metrics.points(a.id, 'loss').values.length, 4);
  store.close();
});

test('a run still going in MLflow is brought up to date by the next import; a moved alias is left alone', async () => {
  const dir = tempDir();
  const file = join(dir, 'mlflow.db');
  buildMlflowDb(file);
  const db = new Database(file);
  db.prepare("UPDATE runs SET status = 'RUNNING', end_time = NULL WHERE run_uuid = ?").run(RUN_B);
  db.close();
  const store = Store.open(join(dir, '.runlens'));
  await importMlflowFrom(store, file);
  const origin = `${mlflowSource(file)!.origin}#${RUN_B}`;
  assert.equal(store.runs.getByOrigin(origin)?.status, 'running');
  const db2 = new Database(file);
  db2.prepare("UPDATE runs SET status = 'FINISHED', end_time = ? WHERE run_uuid = ?").run(T + 150_000, RUN_B);
  db2.prepare('INSERT INTO metrics VALUES (?, ?, ?, ?, ?, ?)').run('loss', 2.0, T + 140_000, RUN_B, 1, 0);
  db2.prepare("UPDATE registered_model_aliases SET version = 2 WHERE alias = 'champion'").run();
  db2.close();
  const report = await importMlflowFrom(store, file);
  assert.equal(report.updated, 1);
  assert.equal(report.unchanged, 2);
  assert.equal(report.points, 1);
  const b = store.runs.getByOrigin(origin)!;
  assert.equal(b.status, 'finished');
  assert.equal(b.endedAt, T + 150_000);
  assert.deepEqual(points(store, b.id, 'loss').values, [2.5, 2.0]);
  assert.deepEqual(report.skipped.map((s) => s.what), ['alias digits@champion', 'alias digits@v2', 'deleted runs']);
  assert.match(report.skipped[0]!.why, /already points at version 1 in RunLens/);
  store.close();
});

test('a corrupt database file is reported, not thrown', async () => {
  const dir = tempDir();
  const file = join(dir, 'mlflow.db');
  writeFileSync(file, Buffer.alloc(8192, 7));
  const exp = readMlflowSqlite(file);
  assert.deepEqual(exp.runs, []);
  assert.equal(exp.problems.length, 1);
  assert.match(exp.problems[0]!, /mlflow\.db: not a readable MLflow database \(file is not a database\); nothing imported from it/);
  const store = Store.open(join(dir, '.runlens'));
  const report = await importMlflowFrom(store, file);
  assert.equal(report.runs, 0);
  assert.deepEqual(report.skipped, [{ what: file, why: 'not an SQLite database (no "SQLite format 3" header), so not an MLflow database' }]);
  // A database without MLflow's tables says so.
  const other = join(dir, 'other.db');
  new Database(other).exec('CREATE TABLE x (y)').close();
  assert.match(readMlflowSqlite(other).problems[0]!, /it has no experiments table/);
  store.close();
});

test('an import can be cancelled between runs', async () => {
  const dir = tempDir();
  const file = join(dir, 'mlflow.db');
  buildMlflowDb(file);
  const store = Store.open(join(dir, '.runlens'));
  const abort = new AbortController();
  const report = await importMlflowFrom(store, file, { signal: abort.signal, onProgress: (done) => { if (done === 1) abort.abort(); } });
  assert.equal(report.cancelled, true);
  assert.equal(report.runs, 1);
  assert.equal(report.models, 0);
  assert.equal(store.runs.count(), 1);
  const rest = await importMlflowFrom(store, file);
  assert.deepEqual([rest.runs, rest.unchanged, rest.models], [2, 1, 2]);
  store.close();
});

test('MLflow params: numbers and Python booleans are typed, other text stays text', () => {
  assert.deepEqual(['0.001', '1e-5', '-3', '32', 'True', 'false', 'adam', '007', 'nan', ' 5 ', '[1, 2]'].map(paramValue),
    [0.001, 1e-5, -3, 32, true, false, 'adam', '007', 'nan', 5, '[1, 2]']);
});

/** An mlruns/ folder as MLflow's file store writes it. */
function buildFileStore(root: string): void {
  const put = (rel: string, body: string) => {
    const p = join(root, 'mlruns', rel);
    mkdirSync(dirname(p), { recursive: true });
    writeFileSync(p, body);
  };
  put('0/meta.yaml', 'artifact_location: file:///x/mlruns/0\nexperiment_id: \'0\'\nlifecycle_stage: active\nname: Default\n');
  put('0/r1/meta.yaml', 'run_id: r1\nrun_name: first\nexperiment_id: \'0\'\nstatus: 3\nstart_time: 1700000000000\nend_time: 1700000005000\nlifecycle_stage: active\n');
  put('0/r1/params/lr', '0.01');
  put('0/r1/tags/mlflow.source.git.commit', COMMIT);
  put('0/r1/metrics/loss', '1700000001000 0.5 0\n1700000002000 0.25 1\n');
  put('0/r1/metrics/train/acc', '1700000001000 0.9 0\n');
  put('0/r2/meta.yaml', 'run_id: r2\nrun_name: second\nexperiment_id: \'0\'\nstatus: 4\nstart_time: 1700000010000\nlifecycle_stage: active\n');
  put('0/r2/metrics/loss', '1700000011000 nan 0\n');
  put('0/r3/meta.yaml', 'run_id: [r3\nstatus: {{{\n'); // corrupt
  put('0/r3/metrics/loss', '1700000021000 1 0\n');
}

test('an MLflow file store is imported; a corrupt meta.yaml is skipped with a reason; importing again adds nothing', async () => {
  const dir = tempDir();
  buildFileStore(dir);
  const store = Store.open(join(dir, '.runlens'));
  const report = await importMlflowFrom(store, dir);
  assert.equal(report.runs, 2);
  assert.equal(report.points, 4);
  assert.equal(report.skipped.length, 1);
  assert.equal(report.skipped[0]!.what, join(dir, 'mlruns', '0', 'r3', 'meta.yaml'));
  assert.match(report.skipped[0]!.why, /skipped$/);
  const origin = mlflowSource(dir)!.origin;
  assert.equal(origin, `mlflow:${join(dir, 'mlruns')}`);
  const r1 = store.runs.getByOrigin(`${origin}#r1`)!;
  assert.deepEqual([r1.name, r1.experiment, r1.status, r1.startedAt, r1.endedAt, r1.git?.commit], ['first', 'Default', 'finished', 1.7e12, 1.7e12 + 5000, COMMIT]);
  assert.deepEqual(points(store, r1.id, 'train/acc'), { steps: [0], times: [1.7e12 + 1000], values: [0.9] });
  const r2 = store.runs.getByOrigin(`${origin}#r2`)!;
  assert.equal(r2.status, 'failed');
  assert.deepEqual(points(store, r2.id, 'loss').values, [NaN]);
  const again = await importMlflow(store, (await import('../../../src/core/formats/mlflowFileStore.ts')).readMlflowFileStore(dir), origin);
  assert.deepEqual([again.runs, again.points, again.unchanged], [0, 0, 2]);
  assert.equal(store.runs.count(), 2);
  store.close();
});
