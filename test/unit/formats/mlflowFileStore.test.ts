import assert from 'node:assert/strict';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { readMlflowFileStore } from '../../../src/core/formats/mlflowFileStore.ts';
import { tempDir } from '../helpers.ts';

/** Writes files (creating folders) under root. */
function files(root: string, tree: { [path: string]: string }): void {
  for (const [path, body] of Object.entries(tree)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), body);
  }
}

// As MLflow's FileStore writes them (yaml.safe_dump, sorted keys).
const experimentMeta = (id: string, name: string, stage = 'active') =>
  `artifact_location: file:///w/mlruns/${id}\ncreation_time: 1700000000000\nexperiment_id: '${id}'\nlast_update_time: 1700000000000\nlifecycle_stage: ${stage}\nname: ${name}\n`;

function runMeta(id: string, exp: string, more: { [k: string]: string } = {}): string {
  const fields: { [k: string]: string } = {
    artifact_uri: `file:///w/mlruns/${exp}/${id}/artifacts`, end_time: '1700000100000', entry_point_name: "''",
    experiment_id: `'${exp}'`, lifecycle_stage: 'active', run_id: id, run_name: 'bright-fox-1', run_uuid: id,
    source_name: "''", source_type: '4', source_version: "''", start_time: '1700000000000', status: '3', tags: '[]', user_id: 'ana', ...more,
  };
  return Object.entries(fields).map(([k, v]) => `${k}: ${v}`).join('\n') + '\n';
}

const RUN_A = 'a1b2c3d4e5f60718293a4b5c6d7e8f90';
const RUN_B = '0b2c3d4e5f60718293a4b5c6d7e8f901';

function fixture(): string {
  const dir = tempDir();
  const root = join(dir, 'mlruns');
  files(root, {
    '0/meta.yaml': experimentMeta('0', 'Default'),
    '0/tags/mlflow.note.content': 'experiment tags are not a run',
    [`0/${RUN_A}/meta.yaml`]: runMeta(RUN_A, '0'),
    [`0/${RUN_A}/metrics/loss`]: '1700000000000 0.5 0\n1700000001000 0.25 1\n1700000002000 nan 2\n1700000003000 -inf 3\n',
    [`0/${RUN_A}/metrics/train/acc`]: '1700000000500 0.75 10\n',
    [`0/${RUN_A}/metrics/legacy`]: '1700000000000 1.5\n',
    [`0/${RUN_A}/metrics/bad`]: 'garbage\n1700000000000 2 3\n1700000000000 x 4\n',
    [`0/${RUN_A}/params/lr`]: '0.01',
    [`0/${RUN_A}/params/model/depth`]: '18',
    [`0/${RUN_A}/params/note`]: 'two\nlines',
    [`0/${RUN_A}/tags/mlflow.source.git.commit`]: 'abc123',
    [`0/${RUN_A}/tags/mlflow.runName`]: 'tag-name',
    [`0/${RUN_A}/artifacts/model.pkl`]: 'x',
    '0/deleted-run/meta.yaml': runMeta('deleted-run', '0', { lifecycle_stage: 'deleted' }),
    '0/corrupt-run/meta.yaml': 'run_id: [unclosed\nstatus: 3\n',
    '0/corrupt-run/metrics/loss': '1700000000000 1 0\n',
    [`12/meta.yaml`]: experimentMeta('12', 'second exp'),
    [`12/${RUN_B}/meta.yaml`]: runMeta(RUN_B, '12', { status: 'RUNNING', end_time: 'null', run_name: "''" }),
    [`12/${RUN_B}/tags/mlflow.runName`]: 'from-tag',
    '5/meta.yaml': experimentMeta('5', 'gone', 'deleted'),
    '5/r/meta.yaml': runMeta('r', '5'),
    '7/meta.yaml': 'name: [broken\n',
    '7/r7/meta.yaml': runMeta('r7', '7', { status: '4' }),
    '.trash/9/meta.yaml': experimentMeta('9', 'trashed'),
    'models/m/meta.yaml': 'name: m\n',
    '../outside/secret': 'do not read',
    '../outside/meta.yaml': experimentMeta('99', 'outside'),
  });
  mkdirSync(join(root, `12/${RUN_B}/params`));
  symlinkSync(join(dir, 'outside/secret'), join(root, `12/${RUN_B}/params/leak`));
  symlinkSync(join(dir, 'outside'), join(root, `12/${RUN_B}/metrics`));
  symlinkSync(join(dir, 'outside'), join(root, '99'));
  return root;
}

test('experiments, runs, params, tags and metrics of an mlruns folder', () => {
  const root = fixture();
  const r = readMlflowFileStore(root);
  assert.deepEqual(r.experiments, [{ id: '0', name: 'Default' }, { id: '7', name: '7' }, { id: '12', name: 'second exp' }]);
  assert.deepEqual(r.runs.map((x) => x.id), [RUN_A, 'r7', RUN_B]);
  const a = r.runs[0]!;
  assert.deepEqual({ ...a, metrics: undefined }, {
    id: RUN_A, experimentId: '0', name: 'bright-fox-1', status: 'FINISHED', startTime: 1_700_000_000_000, endTime: 1_700_000_100_000,
    artifactUri: `file:///w/mlruns/0/${RUN_A}/artifacts`,
    params: { lr: '0.01', 'model/depth': '18', note: 'two\nlines' },
    tags: { 'mlflow.source.git.commit': 'abc123', 'mlflow.runName': 'tag-name' },
    metrics: undefined, gitCommit: 'abc123',
  });
  const byKey = (key: string) => a.metrics.filter((p) => p.key === key).map((p) => [p.step, p.time, p.value]);
  assert.deepEqual(byKey('loss'), [[0, 1_700_000_000_000, 0.5], [1, 1_700_000_001_000, 0.25], [2, 1_700_000_002_000, NaN], [3, 1_700_000_003_000, -Infinity]]);
  assert.deepEqual(byKey('train/acc'), [[10, 1_700_000_000_500, 0.75]]);
  assert.deepEqual(byKey('legacy'), [[0, 1_700_000_000_000, 1.5]], 'old files have no step column');
  assert.deepEqual(byKey('bad'), [[3, 1_700_000_000_000, 2]]);
  assert.equal(a.metrics.length, 7);

  const b = r.runs[2]!;
  assert.equal(b.name, 'from-tag');
  assert.equal(b.status, 'RUNNING');
  assert.equal(b.endTime, null);
  assert.equal(b.experimentId, '12');
  assert.equal(b.gitCommit, null);
  assert.deepEqual(b.params, {}, 'a symlinked param is not followed');
  assert.deepEqual(b.metrics, []);
  assert.equal(r.runs[1]!.status, 'FAILED');
  assert.equal(r.runs[1]!.experimentId, '7');
});

test('every problem names its path; nothing outside the folder is read', () => {
  const root = fixture();
  const { problems } = readMlflowFileStore(root);
  const has = (re: RegExp) => assert.ok(problems.some((p) => re.test(p)), `${re} in\n${problems.join('\n')}`);
  has(/corrupt-run[/\\]meta\.yaml: /);
  has(/[/\\]7[/\\]meta\.yaml: /);
  has(new RegExp(`${RUN_A}[/\\\\]metrics[/\\\\]bad:1: not "timestamp value step"`));
  has(new RegExp(`${RUN_A}[/\\\\]metrics[/\\\\]bad:3: `));
  has(/params[/\\]leak: a symlink; not followed/);
  has(new RegExp(`${RUN_B}[/\\\\]metrics: a symlink; not followed`));
  has(/[/\\]99: a symlink; not followed/);
  assert.equal(problems.length, 7, problems.join('\n'));
  assert.ok(!JSON.stringify(readMlflowFileStore(root).runs).includes('do not read'));
});

test('the parent of mlruns works too; a missing folder is a problem, not an exception', () => {
  const root = fixture();
  assert.deepEqual(readMlflowFileStore(dirname(root)).runs.map((x) => x.id), [RUN_A, 'r7', RUN_B]);
  const missing = readMlflowFileStore(join(root, 'nope'));
  assert.deepEqual(missing.runs, []);
  assert.equal(missing.problems.length, 1);
});

test('the file store model registry: versions with their run and source, aliases from aliases/ files; deleted versions left out', () => {
  const root = join(tempDir(), 'mlruns');
  const version = (n: number, run: string, stage = 'None', aliases = '[]') =>
    `aliases: ${aliases}\ncreation_timestamp: 170000000${n}000\ncurrent_stage: ${stage}\ndescription: v${n}\nlast_updated_timestamp: 1700000000000\n`
    + `name: digits\nrun_id: ${run}\nrun_link: ''\nsource: runs:/${run}/model\nstatus: READY\nstatus_message: ''\nuser_id: ana\nversion: ${n}\n`;
  files(root, {
    '0/meta.yaml': experimentMeta('0', 'Default'),
    'models/digits/meta.yaml': 'creation_timestamp: 1700000000000\ndescription: a digit classifier\nlast_updated_timestamp: 1700000000000\nname: digits\n',
    'models/digits/version-1/meta.yaml': version(1, RUN_A),
    'models/digits/version-2/meta.yaml': version(2, RUN_B, 'Production', '[old]'),
    'models/digits/version-3/meta.yaml': version(3, RUN_B, 'Deleted_Internal'),
    'models/digits/aliases/champion': '1',
    'models/digits/aliases/broken': 'x',
  });
  const r = readMlflowFileStore(root);
  assert.deepEqual(r.models, [{ name: 'digits', description: 'a digit classifier', createdAt: 1_700_000_000_000 }]);
  assert.deepEqual(r.versions?.map((v) => [v.model, v.version, v.runId, v.source, v.stage, v.status, v.description, v.createdAt]), [
    ['digits', 1, RUN_A, `runs:/${RUN_A}/model`, 'None', 'READY', 'v1', 1_700_000_001_000],
    ['digits', 2, RUN_B, `runs:/${RUN_B}/model`, 'Production', 'READY', 'v2', 1_700_000_002_000],
  ]);
  assert.deepEqual(r.aliases, [{ model: 'digits', alias: 'champion', version: 1 }, { model: 'digits', alias: 'old', version: 2 }]);
  assert.equal(r.problems.length, 1);
  assert.match(r.problems[0]!, /aliases[/\\]broken: not a version number/);
});

test('deleted runs are counted and left out, except one a registered version names: it comes flagged, with its deleted experiment', () => {
  const root = fixture();
  files(root, {
    'models/m/version-1/meta.yaml': 'current_stage: None\nname: m\nrun_id: deleted-run\nsource: runs:/deleted-run/model\nstatus: READY\nversion: 1\n',
    '.trash/9/r9/meta.yaml': runMeta('r9', '9'),
    'models/m/version-2/meta.yaml': 'current_stage: None\nname: m\nrun_id: r9\nsource: runs:/r9/model\nstatus: READY\nversion: 2\n',
  });
  const r = readMlflowFileStore(root);
  assert.deepEqual(r.runs.filter((x) => x.deleted).map((x) => [x.id, x.experimentId]), [['deleted-run', '0'], ['r9', '9']]);
  assert.equal(r.deletedRuns, 1, 'the run of the deleted experiment 5');
  assert.deepEqual(r.experiments.filter((e) => e.deleted), [{ id: '9', name: 'trashed', deleted: true }]);
  assert.deepEqual(r.versions?.map((v) => [v.version, v.runId]), [[1, 'deleted-run'], [2, 'r9']]);
});
