import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { Store } from '../../src/core/store/store.ts';
import { checkAlias, checkModelName } from '../../src/core/store/modelRepository.ts';
import type { StoredDataset } from '../../src/core/store/provenanceRepository.ts';
import type { RunProvenance } from '../../src/core/store/provenanceRepository.ts';
import { ArtifactCollector } from '../../src/core/artifacts/collector.ts';
import { JsonlIngestor } from '../../src/core/ingest/jsonlIngestor.ts';
import { hashDataset } from '../../src/core/provenance/datasetHash.ts';
import { changedDataFiles, datasetDiff, lineage } from '../../src/core/models/lineage.ts';
import { modelCard } from '../../src/core/models/modelCard.ts';
import { LINEAGE_COMMANDS, lineagePage } from '../../src/core/models/lineagePage.ts';
import { tempDir } from './helpers.ts';

const sha = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');

/** A workspace folder with a store in `<ws>/.runlens`, a file writer, and a collector. */
function workspace(options: { now?: () => number } = {}) {
  const ws = tempDir();
  const storeDir = join(ws, '.runlens');
  const store = Store.open(storeDir, options);
  const file = (rel: string, content: string | Buffer) => {
    const p = join(ws, rel);
    mkdirSync(dirname(p), { recursive: true });
    writeFileSync(p, content);
    return p;
  };
  const collector = new ArtifactCollector(store, store.objects);
  return { ws, storeDir, store, file, collector };
}

/** Registers a version directly (no bytes), for registry behaviour that does not depend on collecting. */
function addVersion(store: Store, model: string, runId: number, digest = sha(`${model}-${Math.random()}`)) {
  return store.models.register({
    model, runId, artifactId: null, path: 'out/model.bin', kind: 'file', digest, size: 1, fileCount: 1,
    params: store.runs.params(runId), metrics: store.metrics.summaries(runId),
  });
}

/** Every object file under <storeDir>/objects/<2 hex>/<62 hex>. */
function objectFiles(storeDir: string): string[] {
  const dir = join(storeDir, 'objects');
  if (!existsSync(dir)) return [];
  return readdirSync(dir).filter((a) => /^[0-9a-f]{2}$/.test(a))
    .flatMap((a) => readdirSync(join(dir, a)).map((b) => a + b)).sort();
}

const asStored = (path: string, h: Awaited<ReturnType<typeof hashDataset>>): StoredDataset =>
  ({ path, kind: h.kind, digest: h.digest, fileCount: h.fileCount, bytes: h.bytes, files: h.files });

const provenance = (p: Partial<RunProvenance> = {}): RunProvenance => ({
  gitRemote: null, patchSha256: null, untracked: [], interpreter: null, interpreterVersion: null, os: null,
  hostname: null, gpu: [], commandLine: null, env: {}, ...p,
});

// ---------------------------------------------------------------- registry: versions and aliases

test('versions are numbered 1, 2, 3 per model, independently of other models', () => {
  const { store } = workspace();
  const a = store.runs.create({ name: 'a' });
  const b = store.runs.create({ name: 'b' });
  const seq = [addVersion(store, 'm', a.id), addVersion(store, 'other', b.id), addVersion(store, 'm', b.id),
    addVersion(store, 'm', a.id), addVersion(store, 'other', a.id)];
  assert.deepEqual(seq.map((v) => `${v.model} v${v.version}`), ['m v1', 'other v1', 'm v2', 'm v3', 'other v2']);

  const two = store.models.find('m', 2);
  assert.equal(two?.id, seq[2]!.id);
  assert.equal(two?.runId, b.id);
  assert.equal(store.models.find('m', 4), undefined);
  assert.equal(store.models.find('nope', 1), undefined);

  store.models.setAlias(seq[2]!.id, 'production');
  assert.equal(store.models.find('m', 'production')?.version, 2);
  assert.equal(store.models.find('other', 'production'), undefined, 'an alias belongs to one model');

  assert.deepEqual(store.models.models().map((m) => [m.name, m.versionCount, m.latestVersion]), [['m', 3, 3], ['other', 2, 2]]);
  const m = store.models.model('m')!;
  assert.deepEqual(store.models.versions(m.id).map((v) => v.version), [3, 2, 1], 'newest first');
  assert.deepEqual(store.models.versionsOfRun(a.id).map((v) => `${v.model} v${v.version}`), ['m v1', 'm v3', 'other v2']);

  store.models.setDescription(seq[0]!.id, 'baseline');
  assert.equal(store.models.find('m', 1)?.description, 'baseline');
  assert.throws(() => store.models.setDescription(9999, 'x'), /does not exist/);
  store.close();
});

test('an alias is unique per model: setting it on v2 moves it off v1; another model keeps its own', () => {
  let t = 1_700_000_000_000;
  const { store } = workspace({ now: () => (t += 1000) });
  const run = store.runs.create({ name: 'r' });
  const v1 = addVersion(store, 'm', run.id);
  const v2 = addVersion(store, 'm', run.id);
  const o1 = addVersion(store, 'other', run.id);
  const mId = v1.modelId;

  store.models.setAlias(v1.id, 'production');
  store.models.setAlias(o1.id, 'production');
  store.models.setAlias(v1.id, 'staging');
  store.models.setAlias(v2.id, 'production');
  store.models.setAlias(v2.id, 'production'); // again on the same version: nothing changes, no history entry

  assert.equal(store.models.find('m', 'production')?.version, 2);
  assert.deepEqual(store.models.version(v1.id)?.aliases, ['staging']);
  assert.deepEqual(store.models.version(v2.id)?.aliases, ['production']);
  assert.equal(store.models.find('other', 'production')?.id, o1.id, "moving m's alias leaves other's alone");

  assert.equal(store.models.removeAlias(mId, 'production'), true);
  assert.equal(store.models.removeAlias(mId, 'production'), false, 'already gone');
  assert.equal(store.models.find('m', 'production'), undefined);
  assert.equal(store.models.find('other', 'production')?.id, o1.id);

  const history = store.models.aliasHistory(mId);
  assert.deepEqual(history.map(({ alias, version, previous }) => ({ alias, version, previous })), [
    { alias: 'production', version: 1, previous: null },
    { alias: 'staging', version: 1, previous: null },
    { alias: 'production', version: 2, previous: 1 },
    { alias: 'production', version: null, previous: 2 },
  ]);
  for (let i = 1; i < history.length; i++) assert.ok(history[i]!.at > history[i - 1]!.at, 'history is in order of time');
  assert.deepEqual(store.models.aliasHistory(o1.modelId).map((h) => [h.alias, h.version, h.previous]), [['production', 1, null]]);
  store.close();
});

test('aliases that look like versions or are not names are rejected with a reason', () => {
  const { store } = workspace();
  const run = store.runs.create({ name: 'r' });
  const v1 = addVersion(store, 'm', run.id);
  for (const bad of ['v3', 'V12', 'latest', 'Latest', '1abc', 'a b', '', '-x', 'a/b', 'x'.repeat(65)]) {
    assert.ok(checkAlias(bad), `${JSON.stringify(bad)} is refused`);
    assert.throws(() => store.models.setAlias(v1.id, bad), (e: Error) => e.message.includes(`"${bad}"`) && /alias|version/.test(e.message), bad);
  }
  for (const good of ['production', 'staging', 'v3a', 'champion-2', 'A_b']) assert.equal(checkAlias(good), undefined, good);
  assert.deepEqual(store.models.version(v1.id)?.aliases, []);
  assert.deepEqual(store.models.aliasHistory(v1.modelId), [], 'nothing was recorded for refused aliases');
  assert.throws(() => store.models.setAlias(9999, 'production'), /does not exist/);
  store.close();
});

test('bad model names are rejected before anything is stored', () => {
  const { store } = workspace();
  const run = store.runs.create({ name: 'r' });
  for (const bad of ['', ' lead', 'trail ', '.hidden', '-x', 'a/b', '../x', 'a\\b', 'tab\tname', 'x'.repeat(129)]) {
    assert.ok(checkModelName(bad), `${JSON.stringify(bad)} is refused`);
    assert.throws(() => addVersion(store, bad, run.id), /is not a model name/, JSON.stringify(bad));
  }
  assert.deepEqual(store.models.models(), []);
  for (const good of ['clf', 'my model-2.1', 'Modèle_ü', '2024_resnet', 'x'.repeat(128)]) {
    assert.equal(checkModelName(good), undefined, good);
    assert.equal(addVersion(store, good, run.id).version, 1);
  }
  store.close();
});

// ---------------------------------------------------------------- runs that models come from

test('a run with a model version cannot be deleted, and its version survives', async () => {
  const { store, file, ws, collector } = workspace();
  const run = store.runs.create({ name: 'trained', cwd: ws, status: 'finished' });
  file('out/model.json', '{"w": [1, 2]}');
  const v = await collector.register(run.id, 'out/model.json', 'clf');
  assert.throws(() => store.runs.delete(run.id), (e: Error) => /clf v1/.test(e.message) && /lineage/.test(e.message));
  assert.equal(store.runs.get(run.id)?.name, 'trained');
  assert.equal(store.models.find('clf', 1)?.id, v.id);
  assert.equal(store.artifacts.list(run.id).length, 1, 'its artifact stays too');
  store.close();
});

test('a run without model versions deletes, and its artifacts and requests go with it', async () => {
  const { store, file, ws, collector } = workspace();
  const run = store.runs.create({ name: 'scratch', cwd: ws, status: 'running' });
  file('out/a.txt', 'a');
  store.artifacts.request(run.id, { kind: 'artifact', path: 'out/a.txt' });
  store.artifacts.request(run.id, { kind: 'output', path: 'out', afterEnd: true }); // still waiting
  await collector.drain();
  assert.equal(store.artifacts.list(run.id).length, 1);
  assert.equal(store.artifacts.objects().length, 1);
  assert.equal(store.artifacts.requests(run.id).length, 1);

  assert.equal(store.runs.delete(run.id), true);
  assert.equal(store.runs.get(run.id), undefined);
  assert.deepEqual(store.artifacts.list(run.id), []);
  assert.deepEqual(store.artifacts.objects(), [], 'its artifact files are no longer referenced');
  assert.deepEqual(store.artifacts.requests(run.id), []);
  assert.equal(store.runs.delete(run.id), false);
  store.close();
});

// ---------------------------------------------------------------- ingest → collect

test('a logged model goes from the metrics file to a version with its bytes, params and metrics', async () => {
  const { store, storeDir, ws, file, collector } = workspace();
  const run = store.runs.create({ name: 'train', cwd: ws, status: 'running' });
  const modelBytes = JSON.stringify({ weights: [0.1, 0.2, 0.3], bias: -1 });
  file('out/model.json', modelBytes);
  const metrics = file('metrics.jsonl', [
    '{"t": 1700000000, "params": {"lr": 0.01, "opt": {"name": "adam", "beta": 0.9}, "amp": true}}',
    '{"t": 1700000001, "step": 0, "metrics": {"loss": 0.9, "acc": 0.5}}',
    '{"t": 1700000002, "step": 1, "metrics": {"loss": 0.4, "acc": 0.75}}',
    '{"t": 1700000003, "model": {"name": "clf", "path": "out/model.json", "metadata": {"framework": "numpy", "classes": 3}}}',
  ].join('\n') + '\n');

  const ingest = new JsonlIngestor(store, run.id, metrics);
  ingest.poll();
  assert.equal(ingest.stats.malformed, 0);
  const pending = store.artifacts.pending();
  assert.equal(pending.length, 1);
  assert.deepEqual({ kind: pending[0]!.kind, path: pending[0]!.path, model: pending[0]!.model, error: pending[0]!.error },
    { kind: 'model', path: 'out/model.json', model: 'clf', error: null });
  assert.equal(collector.waiting(run.id), true);

  new JsonlIngestor(store, run.id, metrics).poll(); // a reload reads nothing twice
  assert.equal(store.artifacts.requests(run.id).length, 1, 'the request was committed with the offset');

  const done = await collector.drain();
  assert.equal(done.length, 1);
  const v = store.models.find('clf', 1)!;
  assert.ok(v, 'clf v1 exists');
  assert.equal(done[0]!.version?.id, v.id);
  assert.equal(v.runId, run.id);
  assert.equal(v.kind, 'file');
  assert.equal(v.path, 'out/model.json');
  assert.equal(v.digest, sha(modelBytes));
  assert.equal(v.size, Buffer.byteLength(modelBytes));
  assert.equal(v.fileCount, 1);
  assert.deepEqual(v.metadata, { framework: 'numpy', classes: 3 });
  assert.deepEqual(v.params, { amp: true, lr: 0.01, 'opt.beta': 0.9, 'opt.name': 'adam' });
  assert.deepEqual(v.params, store.runs.params(run.id));
  const loss = v.metrics.find((m) => m.key === 'loss');
  assert.equal(loss?.last, 0.4);
  assert.equal(loss?.count, 2);
  assert.equal(v.metrics.find((m) => m.key === 'acc')?.last, 0.75);

  // The bytes are in the object store at objects/<2>/<62>, read-only, and equal to the file.
  const obj = join(storeDir, 'objects', v.digest.slice(0, 2), v.digest.slice(2));
  assert.ok(existsSync(obj), obj);
  assert.equal(readFileSync(obj, 'utf8'), modelBytes);
  assert.equal(statSync(obj).mode & 0o222, 0, 'objects are read-only');
  assert.deepEqual(objectFiles(storeDir), [v.digest]);
  const art = store.artifacts.get(v.artifactId!)!;
  assert.deepEqual({ source: art.source, digest: art.digest, runId: art.runId }, { source: 'log_model', digest: v.digest, runId: run.id });
  assert.deepEqual(store.artifacts.files(art.id), [{ path: 'model.json', sha256: v.digest, size: v.size }]);

  assert.deepEqual(store.artifacts.pending(), []);
  assert.deepEqual(store.artifacts.requests(run.id), []);
  assert.equal(collector.waiting(run.id), false);
  assert.deepEqual(await collector.drain(), [], 'nothing is collected twice');
  assert.equal(store.models.model('clf')?.versionCount, 1);
  store.close();
});

test('logged paths that leave the run folder are refused: no version, no bytes, the reason kept', async () => {
  const { store, storeDir, ws, file, collector } = workspace();
  const run = store.runs.create({ name: 'evil', cwd: ws, status: 'running' });
  // A non-JSON line in the slice sends it down the line-by-line path; the requests must be queued there too.
  const metrics = file('metrics.jsonl', [
    '{"t": 1700000000, "model": {"name": "clf", "path": "../../etc/passwd"}}',
    'not json',
    '{"t": 1700000001, "model": {"name": "clf", "path": "/etc/passwd"}}',
    '{"t": 1700000002, "artifact": {"path": "../../etc/passwd"}}',
    '{"t": 1700000003, "artifact": {"path": "/etc/passwd"}}',
  ].join('\n') + '\n');
  new JsonlIngestor(store, run.id, metrics).poll();
  assert.equal(store.artifacts.pending().length, 4);

  assert.deepEqual(await collector.drain(), []);
  assert.deepEqual(store.models.models(), [], 'no model, no version');
  assert.deepEqual(store.artifacts.list(run.id), []);
  assert.deepEqual(objectFiles(storeDir), [], 'nothing was copied into the store');
  const kept = store.artifacts.requests(run.id);
  assert.deepEqual(kept.map((r) => [r.kind, r.path]), [
    ['model', '../../etc/passwd'], ['model', '/etc/passwd'], ['artifact', '../../etc/passwd'], ['artifact', '/etc/passwd'],
  ]);
  for (const r of kept) {
    assert.ok(r.error, `request for ${r.path} has a reason`);
    assert.ok(r.error.includes(r.path), `${JSON.stringify(r.error)} names ${r.path}`);
  }
  assert.match(kept[0]!.error!, /leaves the run folder/);
  assert.match(kept[1]!.error!, /absolute/);
  assert.equal(collector.waiting(run.id), false, 'failed requests do not hold the run');
  assert.deepEqual(store.artifacts.pending(), [], 'and are not retried');
  store.close();
});

test('a declared output waits while its run is running and is kept once it has ended', async () => {
  const { store, ws, file, collector } = workspace();
  const run = store.runs.create({ name: 'r', cwd: ws, status: 'running' });
  file('out/preds.csv', 'id,y\n1,0\n');
  file('out/report/summary.txt', 'ok\n');
  store.artifacts.request(run.id, { kind: 'output', path: 'out', afterEnd: true });

  assert.deepEqual(store.artifacts.pending(), []);
  assert.deepEqual(await collector.drain(), []);
  assert.equal(collector.waiting(run.id), true, 'the run is not settled while its output waits');
  assert.deepEqual(store.artifacts.list(run.id), []);

  store.runs.update(run.id, { status: 'finished', endedAt: Date.now() });
  assert.equal(store.artifacts.pending().length, 1);
  const done = await new ArtifactCollector(store, store.objects).drain();
  assert.equal(done.length, 1);
  assert.equal(done[0]!.version, undefined, 'an output is not a model version');
  const [art] = store.artifacts.list(run.id);
  assert.deepEqual({ path: art!.path, kind: art!.kind, source: art!.source, fileCount: art!.fileCount },
    { path: 'out', kind: 'directory', source: 'outputs', fileCount: 2 });
  assert.deepEqual(store.artifacts.files(art!.id).map((f) => f.path), ['preds.csv', 'report/summary.txt']);
  assert.equal(collector.waiting(run.id), false);
  assert.deepEqual(store.models.models(), []);
  store.close();
});

test('a failed run\'s outputs are collected too (only running and queued runs hold them back)', async () => {
  const { store, ws, file, collector } = workspace();
  const run = store.runs.create({ name: 'r', cwd: ws, status: 'queued' });
  file('out/partial.txt', 'half');
  store.artifacts.request(run.id, { kind: 'output', path: 'out/partial.txt', afterEnd: true });
  assert.deepEqual(await collector.drain(), []);
  store.runs.update(run.id, { status: 'failed' });
  assert.equal((await new ArtifactCollector(store, store.objects).drain()).length, 1);
  assert.equal(store.artifacts.list(run.id)[0]?.digest, sha('half'));
  store.close();
});

test('a collector whose drain() once found nothing still collects what is requested later', {
}, async () => {
  const { store, ws, file, collector } = workspace();
  const run = store.runs.create({ name: 'r', cwd: ws, status: 'running' });
  assert.deepEqual(await collector.drain(), [], 'nothing to do yet');
  file('out/a.txt', 'a');
  store.artifacts.request(run.id, { kind: 'model', path: 'out/a.txt', model: 'clf' });
  const done = await collector.drain();
  assert.equal(done.length, 1);
  assert.equal(store.models.find('clf', 1)?.digest, sha('a'));
  assert.deepEqual(store.artifacts.pending(), []);
  store.close();
});

test('a drain() called during a pass runs one more pass, which picks up what arrived meanwhile', async () => {
  const { store, ws, file, collector } = workspace();
  const run = store.runs.create({ name: 'r', cwd: ws, status: 'running' });
  file('out/a.txt', 'a');
  file('out/b.txt', 'b');
  store.artifacts.request(run.id, { kind: 'artifact', path: 'out/a.txt' });
  const first = collector.drain();
  store.artifacts.request(run.id, { kind: 'artifact', path: 'out/b.txt' }); // arrives while the pass runs
  const second = collector.drain();
  assert.equal(second, first, 'one pass at a time');
  assert.deepEqual((await first).map((c) => store.artifacts.get(c.artifactId)?.path), ['out/a.txt', 'out/b.txt']);
  assert.deepEqual(store.artifacts.pending(), []);
  store.close();
});

test('two windows draining the same store at once record each request exactly once', async () => {
  const { storeDir, store: a, ws, file } = workspace();
  const b = Store.open(storeDir);
  const run = a.runs.create({ name: 'r', cwd: ws, status: 'running' });
  const n = 6;
  for (let i = 0; i < n; i++) {
    file(`out/m${i}.bin`, `model ${i} `.repeat(1000));
    a.artifacts.request(run.id, { kind: 'model', path: `out/m${i}.bin`, model: 'clf' });
  }
  file('out/shared.txt', 'shared');
  a.artifacts.request(run.id, { kind: 'artifact', path: 'out/shared.txt' });

  const [da, db] = await Promise.all([new ArtifactCollector(a, a.objects).drain(), new ArtifactCollector(b, b.objects).drain()]);
  assert.equal(da.length + db.length, n + 1, 'each request was recorded by exactly one window');
  const versions = a.models.versions(a.models.model('clf')!.id);
  assert.equal(versions.length, n);
  assert.deepEqual(versions.map((v) => v.version).sort((x, y) => x - y), [1, 2, 3, 4, 5, 6]);
  assert.deepEqual(new Set(versions.map((v) => v.path)).size, n, 'one version per requested file');
  for (const v of versions) assert.equal(v.digest, sha(readFileSync(join(ws, v.path))));
  assert.equal(a.artifacts.list(run.id).length, n + 1, 'no duplicate artifacts');
  assert.deepEqual(a.artifacts.requests(run.id), []);
  assert.equal(objectFiles(storeDir).length, n + 1);
  assert.deepEqual(readdirSync(join(storeDir, 'objects', 'tmp')), [], 'no temporary files left behind');
  b.close();
  a.close();
});

test('drain() collects every ready request, even more than one page of them', {
}, async () => {
  const { store, ws, file, collector } = workspace();
  const run = store.runs.create({ name: 'many', cwd: ws, status: 'running' });
  file('out/a.txt', 'same bytes');
  for (let i = 0; i < 105; i++) store.artifacts.request(run.id, { kind: 'artifact', path: 'out/a.txt' });
  const done = await collector.drain();
  assert.equal(done.length, 105);
  assert.deepEqual(store.artifacts.pending(), []);
  store.close();
});

test('registering a folder makes a directory version whose digest is the folder\'s dataset digest', async () => {
  const { store, ws, file, collector } = workspace();
  const run = store.runs.create({ name: 'r', cwd: ws, status: 'finished', params: { depth: 4 } });
  // Names chosen so byte order matters: '-' < '.' < '/' and 'B' < 'a' < 'é'.
  file('out/a.txt', 'A');
  file('out/a-b', 'dash');
  file('out/a/b.txt', 'nested');
  file('out/B', 'upper');
  file('out/é.txt', 'accent');
  file('out/deep/er/x.bin', Buffer.from([0, 1, 2, 255]));
  mkdirSync(join(ws, 'out', 'empty'));

  const v = await collector.register(run.id, 'out', 'clf', { description: 'a folder model', metadata: { fmt: 'dir' } });
  const expected = await hashDataset(join(ws, 'out'));
  assert.equal(v.kind, 'directory');
  assert.equal(v.fileCount, 6);
  assert.equal(v.size, expected.bytes);
  assert.equal(v.digest, expected.digest);
  assert.equal(v.version, 1);
  assert.equal(v.description, 'a folder model');
  assert.deepEqual(v.metadata, { fmt: 'dir' });
  assert.deepEqual(v.params, { depth: 4 });
  assert.equal(store.artifacts.get(v.artifactId!)?.source, 'register');
  assert.deepEqual(store.artifacts.files(v.artifactId!).map((f) => [f.path, f.sha256]),
    expected.files.map((f) => [f.path, f.sha256]).sort((x, y) => (x[0]! < y[0]! ? -1 : 1)));
  assert.equal((await collector.register(run.id, 'out', 'clf')).version, 2);

  await assert.rejects(collector.register(run.id, '../x', 'clf'), /leaves the run folder/);
  await assert.rejects(collector.register(run.id, 'missing', 'clf'), /does not exist/);
  const noCwd = store.runs.create({ name: 'nowhere' });
  await assert.rejects(collector.register(noCwd.id, 'out', 'clf'), /no working directory/);
  assert.equal(store.models.model('clf')?.versionCount, 2);
  store.close();
});

// ---------------------------------------------------------------- lineage

/** A run with git state, a stored patch, two datasets and a model version; the workspace files are real. */
async function trainedRun(options: { name?: string; paramNote?: string } = {}) {
  const w = workspace();
  const { store, ws, file, collector } = w;
  file('data/train.csv', 'x,y\n1,2\n3,4\n');
  file('data/test.csv', 'x,y\n5,6\n');
  file('labels.txt', 'cat\ndog\n');
  file('out/model.json', '{"w": 1}');
  const patch = 'diff --git a/train.py b/train.py\n-lr = 0.1\n+lr = 0.01\n';
  const commit = 'a1b2c3d4e5f60718293a4b5c6d7e8f9012345678';
  const run = store.runs.create({
    name: options.name ?? 'baseline', cwd: ws, status: 'running', git: { commit, branch: 'main', dirty: true },
    params: { lr: 0.01, layers: 3, note: options.paramNote ?? 'plain' },
  });
  store.provenance.set(run.id, provenance({
    gitRemote: 'git@example.com:team/repo.git', patchSha256: store.provenance.putBlob(patch), untracked: [{ path: 'scratch.py', size: 12 }],
    interpreter: '/usr/bin/python3', interpreterVersion: 'Python 3.12.1', os: 'Linux 6.8', hostname: 'box', gpu: ['NVIDIA A100'],
    commandLine: 'python train.py --lr 0.01', env: { HOME: '/home/u' }, launchEnv: { SEED: '1' },
  }));
  store.provenance.setDataset(run.id, asStored('data', await hashDataset(join(ws, 'data'))));
  store.provenance.setDataset(run.id, asStored('labels.txt', await hashDataset(join(ws, 'labels.txt'))));
  store.metrics.append(run.id, 'loss', { steps: new Float64Array([0, 1]), times: new Float64Array([1, 2]), values: new Float64Array([0.9, 0.25]) });
  store.runs.update(run.id, { status: 'finished' });
  const version = await collector.register(run.id, 'out/model.json', 'clf');
  return { ...w, run, version, patch, commit };
}

test('lineage follows a version to its run, commit and patch, datasets, params, aliases and reproductions', async () => {
  const { store, run, version, patch, commit, ws } = await trainedRun();
  store.models.setAlias(version.id, 'production');
  const repro = store.runs.create({ name: 'again', reproduces: run.id, tags: { 'runlens.reproduced': 'matches (loss within 1%)' } });
  const repro2 = store.runs.create({ name: 'again 2', reproduces: run.id });

  const l = lineage(store, version.id);
  assert.equal(l.version.id, version.id);
  assert.equal(l.run.id, run.id);
  assert.deepEqual(l.code, {
    commit, branch: 'main', dirty: true, remote: 'git@example.com:team/repo.git', patchSha256: sha(patch),
    patchBytes: Buffer.byteLength(patch), untracked: [{ path: 'scratch.py', size: 12 }],
  });
  assert.equal(store.provenance.blob(l.code!.patchSha256!)?.toString('utf8'), patch);
  assert.deepEqual(l.datasets.map((d) => [d.path, d.kind, d.fileCount]), [['data', 'directory', 2], ['labels.txt', 'file', 1]]);
  const data = l.datasets.find((d) => d.path === 'data')!;
  assert.deepEqual(data.files.map((f) => [f.path, f.sha256]), [
    ['test.csv', sha(readFileSync(join(ws, 'data/test.csv')))], ['train.csv', sha(readFileSync(join(ws, 'data/train.csv')))],
  ]);
  assert.deepEqual(l.params, { layers: 3, lr: 0.01, note: 'plain' });
  assert.deepEqual(l.aliasHistory.map((h) => [h.alias, h.version, h.previous]), [['production', 1, null]]);
  assert.deepEqual(l.environment, {
    interpreter: '/usr/bin/python3', interpreterVersion: 'Python 3.12.1', os: 'Linux 6.8', hostname: 'box', gpu: ['NVIDIA A100'],
    commandLine: 'python train.py --lr 0.01',
  });
  assert.deepEqual(l.artifactFiles.map((f) => f.path), ['model.json']);
  assert.equal(l.reproduces, null);
  assert.deepEqual(l.reproductions.map((r) => [r.run.id, r.verdict]), [[repro.id, 'matches (loss within 1%)'], [repro2.id, null]]);
  assert.equal(store.provenance.get(run.id)?.launchEnv?.SEED, '1');

  // A version registered from the reproduction points back at the original run.
  const rv = addVersion(store, 'clf', repro.id);
  assert.equal(lineage(store, rv.id).reproduces?.id, run.id);
  assert.equal(lineage(store, rv.id).code, null, 'a run without git has no code section');
  assert.throws(() => lineage(store, 9999), /does not exist/);
  store.close();
});

test('the params of a version are those at registration, not later changes to the run', async () => {
  const { store, run, version } = await trainedRun();
  store.runs.setParams(run.id, { lr: 0.5, added: 'later' });
  assert.deepEqual(lineage(store, version.id).params, { layers: 3, lr: 0.01, note: 'plain' });
  assert.equal(lineage(store, version.id).version.metrics.find((m) => m.key === 'loss')?.last, 0.25);
  store.close();
});

test('dataset diff between two runs names exactly the changed file; identical data names none', async () => {
  const { store, ws, file } = workspace();
  file('data/train.csv', 'x\n1\n');
  file('data/test.csv', 'x\n2\n');
  file('data/sub/extra.csv', 'x\n3\n');
  file('data/x.csv', 'x\n9\n');
  const snap = async (run: number) => {
    store.provenance.setDataset(run, asStored('data', await hashDataset(join(ws, 'data'))));
  };
  const a = store.runs.create({ name: 'a' });
  const b = store.runs.create({ name: 'b' });
  const c = store.runs.create({ name: 'c' });
  await snap(a.id);
  await snap(b.id);
  file('data/train.csv', 'x\n1\n100\n');
  await snap(c.id);

  const same = datasetDiff(store.provenance.datasets(a.id), store.provenance.datasets(b.id));
  assert.deepEqual(changedDataFiles(same), []);
  assert.deepEqual(same.map((d) => [d.path, d.a === d.b, d.changed, d.added, d.removed]), [['data', true, [], [], []]]);

  const diff = datasetDiff(store.provenance.datasets(a.id), store.provenance.datasets(c.id));
  assert.deepEqual(changedDataFiles(diff), ['data/train.csv']);
  assert.deepEqual(diff[0]!.changed, ['train.csv']);

  // Added and removed files and a dataset only one run has are listed too.
  const added: StoredDataset = { ...store.provenance.datasets(a.id)[0]!, digest: sha('other') };
  added.files = [...added.files.filter((f) => f.path !== 'test.csv'), { path: 'new.csv', sha256: sha('n'), size: 1 }];
  const extra: StoredDataset = { path: 'extra.bin', kind: 'file', digest: sha('e'), fileCount: 1, bytes: 1, files: [{ path: 'extra.bin', sha256: sha('e'), size: 1 }] };
  assert.deepEqual(changedDataFiles(datasetDiff(store.provenance.datasets(a.id), [added, extra])), ['data/new.csv', 'data/test.csv', 'extra.bin']);
  store.close();
});

test('a changed file dataset is named by its own path', async () => {
  const { store, ws, file } = workspace();
  file('data/x.csv', 'x\n1\n');
  const a = store.runs.create({ name: 'a' });
  const b = store.runs.create({ name: 'b' });
  store.provenance.setDataset(a.id, asStored('data/x.csv', await hashDataset(join(ws, 'data/x.csv'))));
  file('data/x.csv', 'x\n2\n');
  store.provenance.setDataset(b.id, asStored('data/x.csv', await hashDataset(join(ws, 'data/x.csv'))));
  assert.deepEqual(changedDataFiles(datasetDiff(store.provenance.datasets(a.id), store.provenance.datasets(b.id))), ['data/x.csv']);
  assert.deepEqual(changedDataFiles(datasetDiff(store.provenance.datasets(a.id), store.provenance.datasets(a.id))), []);
  store.close();
});

test('a changed file inside a folder dataset whose name ends like the file is still named inside it', {
}, async () => {
  const { store, ws, file } = workspace();
  file('data/labels/labels', '0\n1\n');
  file('data/labels/readme.txt', 'labels');
  const a = store.runs.create({ name: 'a' });
  const b = store.runs.create({ name: 'b' });
  store.provenance.setDataset(a.id, asStored('data/labels', await hashDataset(join(ws, 'data/labels'))));
  file('data/labels/labels', '1\n0\n');
  store.provenance.setDataset(b.id, asStored('data/labels', await hashDataset(join(ws, 'data/labels'))));
  assert.deepEqual(changedDataFiles(datasetDiff(store.provenance.datasets(a.id), store.provenance.datasets(b.id))), ['data/labels/labels']);
  store.close();
});

// ---------------------------------------------------------------- model card

/** Table rows of a Markdown document: the number of cells in each (unescaped '|' count - 1). */
const cellsPerRow = (md: string) => md.split('\n').filter((l) => l.startsWith('|'))
  .map((l) => (l.replace(/\\\\/g, '').match(/(?<!\\)\|/g) ?? []).length - 1);

test('the model card shows the version, the commit, data digests, params and metrics', async () => {
  const { store, version, commit, patch, run } = await trainedRun({ paramNote: 'a|b \\ c' });
  store.models.setAlias(version.id, 'production');
  store.runs.create({ name: 'again', reproduces: run.id, tags: { 'runlens.reproduced': 'matches' } });
  const l = lineage(store, version.id);
  const md = modelCard(l);

  assert.ok(md.startsWith('# clf v1\n'), md.slice(0, 40));
  assert.match(md, /aliases `production`/);
  assert.ok(md.includes(commit), 'the full commit');
  assert.ok(md.includes('`main`'));
  assert.ok(md.includes(sha(patch).slice(0, 12)), 'the stored patch');
  assert.ok(md.includes(version.digest), 'the artifact digest');
  for (const d of l.datasets) {
    assert.ok(md.includes(d.digest), `dataset ${d.path} digest`);
    for (const f of d.kind === 'directory' ? d.files : []) assert.ok(md.includes(`| ${f.path} |`) && md.includes(f.sha256), f.path);
  }
  assert.ok(md.includes('| Param | Value |'));
  assert.ok(md.includes('| lr | 0.01 |'));
  assert.ok(md.includes('| layers | 3 |'));
  assert.ok(md.includes('| Metric | Last | Min | Max | Steps |'));
  assert.ok(md.includes('| loss | 0.25 | 0.25 | 0.9 | 2 |'), md);
  assert.ok(md.includes('Python 3.12.1'));
  assert.ok(!md.includes('Python Python'), 'the version as captured ("Python 3.12.1") is not prefixed twice');
  const page = lineagePage(l, { cspSource: 'x', style: 's.css' });
  assert.ok(page.includes('Python 3.12.1') && !page.includes('Python Python'), 'the lineage page too');
  assert.ok(md.includes('**again** (queued): matches'));

  // The '|' inside the param value is escaped, so every row of every table keeps its columns.
  assert.ok(md.includes('| note | "a\\|b \\\\\\\\ c" |'), md.split('\n').filter((x) => x.startsWith('| note')).join('\n'));
  const tables = md.split('\n\n').filter((block) => block.startsWith('|'));
  assert.ok(tables.length >= 4);
  for (const t of tables) {
    const counts = cellsPerRow(t);
    assert.ok(counts.every((c) => c === counts[0]), `a table row broke: ${JSON.stringify(counts)}\n${t}`);
  }
  store.close();
});

test('a model card for a run without git, data or metrics says so', async () => {
  const { store, ws, file, collector } = workspace();
  file('m.bin', 'x');
  const run = store.runs.create({ name: 'bare', cwd: ws, status: 'finished' });
  const md = modelCard(lineage(store, (await collector.register(run.id, 'm.bin', 'bare model')).id));
  assert.ok(md.startsWith('# bare model v1'));
  assert.match(md, /not started in a git repository/);
  assert.match(md, /No datasets were declared/);
  assert.match(md, /No params were recorded/);
  assert.match(md, /No metrics were recorded/);
  store.close();
});

// ---------------------------------------------------------------- lineage page

const EVIL = '<script>alert(1)</script>';

test('the lineage page escapes every value, allows no script, and links only to its commands', async () => {
  const { store, run, ws, file } = await trainedRun({ name: `run ${EVIL}`, paramNote: EVIL });
  store.runs.update(run.id, { notes: `notes ${EVIL}` });
  store.runs.setTags(run.id, { owner: EVIL });

  store.provenance.set(run.id, provenance({ ...store.provenance.get(run.id), commandLine: `python ${EVIL}`, hostname: EVIL, os: '"><img src=x onerror=alert(1)>' }));
  file(`data/${'<script>'}.csv`, 'evil name');
  store.provenance.setDataset(run.id, asStored('data', await hashDataset(join(ws, 'data'))));
  store.metrics.append(run.id, `acc${EVIL}`, { steps: new Float64Array([0]), times: new Float64Array([1]), values: new Float64Array([1]) });
  const v2 = addVersion(store, 'clf', run.id); // params/metrics snapshot with the evil metric key
  store.models.setAlias(v2.id, 'production');
  store.models.setDescription(v2.id, `desc ${EVIL}"'&`);
  store.runs.create({ name: EVIL, reproduces: run.id, tags: { 'runlens.reproduced': EVIL } });

  const html = lineagePage(lineage(store, v2.id), { cspSource: 'vscode-resource:', style: 'style.css?"><script>' });
  assert.ok(!/<script/i.test(html), 'no raw <script in the page');
  assert.ok(!html.includes('<img'), 'no injected element');
  assert.ok(html.includes('&#60;script&#62;alert(1)&#60;/script&#62;'), 'the values are shown, escaped');
  assert.ok(html.includes('run &#60;script&#62;'), 'the run name');
  assert.ok(html.includes('&#60;script&#62;.csv'), 'the data file name');
  assert.ok(html.includes('desc &#60;script&#62;alert(1)&#60;/script&#62;&#34;&#39;&#38;'), 'the description');

  const csp = /<meta http-equiv="Content-Security-Policy" content="([^"]*)">/.exec(html);
  assert.ok(csp, 'a CSP meta tag');
  assert.match(csp[1]!, /(^|;\s*)default-src 'none'/);
  assert.ok(!/script-src/.test(csp[1]!), 'no script source is allowed');
  assert.ok(!/unsafe-inline|unsafe-eval/.test(csp[1]!));
  assert.ok(!/<[^>]*\son[a-z]+\s*=/i.test(html), 'no inline event handlers in any tag');

  const commands = [...html.matchAll(/href="command:([^?"]*)/g)].map((m) => m[1]!);
  assert.ok(commands.length >= 5, `command links: ${commands.join(', ')}`);
  for (const c of commands) assert.ok(LINEAGE_COMMANDS.includes(c), `${c} is an allowed command`);
  assert.ok(!/href="(?!command:)[a-z]+:/i.test(html.replace(/<link rel="stylesheet" href="[^"]*">/, '')), 'no other link schemes');
  for (const c of ['runlens.reproduceModelVersion', 'runlens.setModelAlias', 'runlens.exportModelCard', 'runlens.showCommit', 'runlens.showPatch', 'runlens.openRun']) {
    assert.ok(commands.includes(c), `links ${c}`);
  }
  // Command arguments decode to the ids they are about.
  const reproduce = /href="command:runlens\.reproduceModelVersion\?([^"]*)"/.exec(html)!;
  assert.deepEqual(JSON.parse(decodeURIComponent(reproduce[1]!)), [v2.id]);
  store.close();
});

test('against another version, the lineage page marks the changed data file and only it', async () => {
  const { store, ws, file, collector, run, version } = await trainedRun();
  file('data/train.csv', 'x,y\n1,2\n3,4\n5,6\n');
  const run2 = store.runs.create({ name: 'second', cwd: ws, status: 'finished' });
  store.provenance.setDataset(run2.id, asStored('data', await hashDataset(join(ws, 'data'))));
  store.provenance.setDataset(run2.id, asStored('labels.txt', await hashDataset(join(ws, 'labels.txt'))));
  const v2 = await collector.register(run2.id, 'out/model.json', 'clf');
  assert.equal(v2.version, 2);

  const diff = datasetDiff(store.provenance.datasets(run.id), store.provenance.datasets(run2.id));
  assert.deepEqual(changedDataFiles(diff), ['data/train.csv']);
  const html = lineagePage(lineage(store, v2.id), { cspSource: 'x', style: 's.css', against: { version: version.version, diff } });
  const rows = [...html.matchAll(/<tr>(.*?)<\/tr>/g)].map((m) => m[1]!);
  const trainRow = rows.find((r) => r.includes('<code>train.csv</code>'));
  const testRow = rows.find((r) => r.includes('<code>test.csv</code>'));
  assert.ok(trainRow?.includes('changed-mark'), 'train.csv is marked');
  assert.ok(testRow && !testRow.includes('changed-mark'), 'test.csv is not');
  assert.equal(html.match(/changed-mark/g)?.length, 1);
  assert.match(html, /differs from v1: train\.csv/);
  assert.match(html, /<code>labels\.txt<\/code> <span class="same">same as v1<\/span>/);

  const plain = lineagePage(lineage(store, v2.id), { cspSource: 'x', style: 's.css' });
  assert.ok(!plain.includes('changed-mark') && !plain.includes('differs from'), 'nothing is marked without a comparison');
  store.close();
});
