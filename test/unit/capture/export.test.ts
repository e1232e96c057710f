import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync, symlinkSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { parse } from 'yaml';
import { Store } from '../../../src/core/store/store.ts';
import { exportRunsCsv } from '../../../src/core/export/csv.ts';
import { csvCell } from '../../../src/core/csvWriter.ts';
import { exportRunsJson } from '../../../src/core/export/json.ts';
import { exportMlflowLayout } from '../../../src/core/export/mlflowLayout.ts';
import { readMlflowFileStore } from '../../../src/core/formats/mlflowFileStore.ts';
import { importMlflowFrom } from '../../../src/core/importers/importMlflow.ts';
import { parseRows } from '../../../src/core/formats/delimited.ts';
import { tempDir } from '../helpers.ts';

const T = 1_700_000_000_000;
const COMMIT = 'abcdef0123456789abcdef0123456789abcdef01';

function fixture() {
  const dir = tempDir();
  let now = T;
  const store = Store.open(join(dir, '.runlens'), { now: () => now++ });
  const a = store.runs.create({
    name: 'alpha, "the first"', experiment: 'exp', status: 'finished', startedAt: T, git: { commit: COMMIT, branch: 'main', dirty: true },
    params: { lr: 0.01, opt: '=HYPERLINK("x")', deep: true }, tags: { note: '@me', 'team/area': 'vision' },
  });
  store.runs.update(a.id, { endedAt: T + 90_500 });
  const f = (xs: number[]) => Float64Array.from(xs);
  store.metrics.appendMany(a.id, [
    ['loss', { steps: f([0, 1, 2]), times: f([T + 1000, T + 2000, T + 3000]), values: f([-0.5, NaN, 0.25]) }],
    ['val/acc', { steps: f([2]), times: f([T + 3500]), values: f([0.875]) }],
  ]);
  const b = store.runs.create({ name: '-dash', experiment: 'exp', status: 'running', startedAt: T + 5000, params: { lr: 0.1, layers: 3 } });
  store.metrics.append(b.id, 'loss', { steps: f([0]), times: f([T + 6000]), values: f([Infinity]) });
  return { dir, store, a: store.runs.get(a.id)!, b: store.runs.get(b.id)! };
}

test('CSV: one row per run, params and metric last/min/max, RFC 4180 quoting, formulas defused only in text', () => {
  const { store, a, b } = fixture();
  const csv = exportRunsCsv(store, [a.id, b.id, 999]);
  const lines = csv.split('\r\n');
  assert.equal(lines.length, 4);
  assert.equal(lines[3], '');
  assert.equal(lines[0], 'name,uid,experiment,status,start,duration,param.deep,param.layers,param.lr,param.opt,'
    + 'loss.last,loss.min,loss.max,val/acc.last,val/acc.min,val/acc.max');
  assert.equal(lines[1], `"alpha, ""the first""",${a.uid},exp,finished,2023-11-14T22:13:20.000Z,90.5,true,,0.01,"'=HYPERLINK(""x"")",`
    + '0.25,-0.5,0.25,0.875,0.875,0.875');
  assert.equal(lines[2], `'-dash,${b.uid},exp,running,2023-11-14T22:13:25.000Z,,,3,0.1,,Infinity,Infinity,Infinity,,,`);
  const { rows } = parseRows(csv);
  assert.equal(rows[1]![0], 'alpha, "the first"');
  assert.equal(rows[1]![9], '\'=HYPERLINK("x")');
  assert.deepEqual(['-1', '+x', '@y', '\tz', 'a\nb', -1, NaN, null, false].map(csvCell), ["'-1", "'+x", "'@y", "'\tz", '"a\nb"', '-1', 'NaN', '', 'false']);
  store.close();
});

test('JSON: everything about the runs, with every point, NaN and infinities as strings', () => {
  const { store, a, b } = fixture();
  const patch = store.provenance.putBlob('diff --git a/x b/x\n');
  store.provenance.set(a.id, {
    gitRemote: 'git@example.com:x.git', patchSha256: patch, untracked: [], interpreter: '/usr/bin/python3', interpreterVersion: '3.12',
    os: 'linux', hostname: 'h', gpu: [], commandLine: 'python train.py', env: { HOME: '/h' },
  });
  store.provenance.setDataset(a.id, { path: 'data/train.csv', kind: 'file', digest: 'd1', fileCount: 1, bytes: 10, files: [{ path: 'data/train.csv', sha256: 'd1', size: 10 }] });
  const doc = JSON.parse(JSON.stringify(exportRunsJson(store, [a.id, b.id], T))) as { format: string; exportedAt: string; runs: { [k: string]: unknown }[] };
  assert.equal(doc.format, 'runlens-export/1');
  assert.equal(doc.exportedAt, '2023-11-14T22:13:20.000Z');
  assert.equal(doc.runs.length, 2);
  const ra = doc.runs[0]!;
  assert.equal(ra.uid, a.uid);
  assert.equal(ra.name, 'alpha, "the first"');
  assert.deepEqual(ra.git, { commit: COMMIT, branch: 'main', dirty: true });
  assert.deepEqual(ra.params, { deep: true, lr: 0.01, opt: '=HYPERLINK("x")' });
  assert.deepEqual(ra.tags, { note: '@me', 'team/area': 'vision' });
  assert.deepEqual(ra.metrics, {
    loss: { steps: [0, 1, 2], times: [T + 1000, T + 2000, T + 3000], values: [-0.5, 'NaN', 0.25] },
    'val/acc': { steps: [2], times: [T + 3500], values: [0.875] },
  });
  assert.equal((ra.provenance as { patch: string }).patch, 'diff --git a/x b/x\n');
  assert.equal((ra.provenance as { gitRemote: string }).gitRemote, 'git@example.com:x.git');
  assert.deepEqual(ra.datasets, [{ path: 'data/train.csv', kind: 'file', digest: 'd1', fileCount: 1, bytes: 10, files: [{ path: 'data/train.csv', sha256: 'd1', size: 10 }] }]);
  assert.deepEqual((doc.runs[1]!.metrics as { loss: { values: unknown[] } }).loss.values, ['Infinity']);
  assert.equal(doc.runs[1]!.provenance, null);
  store.close();
});

test('MLflow layout: export, then MLflow\'s file-store reader gives the same params, metrics and tags; importing it back matches', async () => {
  const { dir, store, a } = fixture();
  const out = join(dir, 'out');
  const r = exportMlflowLayout(store, a.id, out);
  assert.deepEqual(r.skipped, []);
  const id = a.uid.replaceAll('-', '');
  assert.equal(r.runId, id);
  assert.equal(r.dir, join(out, 'mlruns', '0', id));
  assert.equal(readFileSync(join(r.dir, 'metrics', 'loss'), 'utf8'), `${T + 1000} -0.5 0\n${T + 2000} nan 1\n${T + 3000} 0.25 2\n`);
  const meta = parse(readFileSync(join(r.dir, 'meta.yaml'), 'utf8'));
  assert.equal(meta.status, 3);
  assert.equal(meta.run_id, id);
  assert.equal(meta.end_time, T + 90_500);
  const exp = readMlflowFileStore(out);
  assert.deepEqual(exp.problems, []);
  assert.deepEqual(exp.experiments, [{ id: '0', name: 'Default' }]);
  assert.equal(exp.runs.length, 1);
  const run = exp.runs[0]!;
  assert.deepEqual([run.id, run.name, run.status, run.startTime, run.endTime, run.gitCommit], [id, a.name, 'FINISHED', T, T + 90_500, COMMIT]);
  assert.deepEqual(run.params, { deep: 'True', lr: '0.01', opt: '=HYPERLINK("x")' });
  assert.deepEqual(run.tags, {
    'mlflow.runName': a.name, 'mlflow.source.git.branch': 'main', 'mlflow.source.git.commit': COMMIT, note: '@me',
    'runlens.uid': a.uid, 'team/area': 'vision',
  });
  assert.deepEqual(run.metrics, [
    { key: 'loss', step: 0, time: T + 1000, value: -0.5 }, { key: 'loss', step: 1, time: T + 2000, value: NaN },
    { key: 'loss', step: 2, time: T + 3000, value: 0.25 }, { key: 'val/acc', step: 2, time: T + 3500, value: 0.875 },
  ]);
  // ...and back into a fresh store, typed again.
  const other = Store.open(join(dir, 'other'));
  const report = await importMlflowFrom(other, out);
  assert.equal(report.runs, 1);
  const back = other.runs.list({})[0]!;
  assert.deepEqual(other.runs.params(back.id), store.runs.params(a.id));
  assert.deepEqual([...other.metrics.points(back.id, 'loss').values], [...store.metrics.points(a.id, 'loss').values]);
  other.close();
  store.close();
});

test('MLflow layout: keys that would leave the run folder, or not read back the same, are left out and reported', () => {
  const { dir, store, a } = fixture();
  const evil = ['../../escape', '/etc/passwd', 'a\\b', 'nul\0key', 'a//b', './x', 'ok/..'];
  store.runs.setTags(a.id, Object.fromEntries(evil.map((k) => [k, 'x'])));
  store.runs.setParams(a.id, { '../p': 1 });
  store.metrics.append(a.id, '../../../m', { steps: Float64Array.of(0), times: Float64Array.of(T), values: Float64Array.of(1) });
  const out = join(dir, 'out');
  mkdirSync(join(out, 'mlruns', '0', a.uid.replaceAll('-', ''), 'tags'), { recursive: true });
  symlinkSync(dir, join(out, 'mlruns', '0', a.uid.replaceAll('-', ''), 'tags', 'link'));
  store.runs.setTags(a.id, { 'link/x': 'through a symlink' });
  const r = exportMlflowLayout(store, a.id, out);
  assert.deepEqual(r.skipped.map((s) => s.what).sort(), [
    'metrics/../../../m', 'params/../p', ...evil.map((k) => `tags/${k}`), 'tags/link/x',
  ].sort());
  assert.ok(r.skipped.every((s) => s.why.length > 10));
  assert.equal(existsSync(join(dir, 'escape')), false);
  assert.equal(existsSync(join(dir, 'x')), false, 'nothing written through the symlink');
  assert.deepEqual(readdirSync(join(r.dir, 'params')).sort(), ['deep', 'lr', 'opt']);
  assert.throws(() => exportMlflowLayout(store, a.id, out, '../1'), /experiment id/);
  store.close();
});
