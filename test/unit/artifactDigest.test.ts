// log_model / log_artifact fix the bytes at call time: the Python helper writes the digest of the
// path into the record (the rule of src/core/artifacts/collect.ts), ingest keeps it with the request,
// and the collector refuses bytes that changed in between (two sweep trials writing one file).
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { test } from 'node:test';
import { collectArtifact } from '../../src/core/artifacts/collect.ts';
import { ArtifactCollector } from '../../src/core/artifacts/collector.ts';
import { ObjectStore } from '../../src/core/artifacts/objectStore.ts';
import { decodeLine } from '../../src/core/ingest/jsonl.ts';
import { JsonlIngestor } from '../../src/core/ingest/jsonlIngestor.ts';
import { Store } from '../../src/core/store/store.ts';
import { tempDir } from './helpers.ts';

const PYTHONPATH = resolve(import.meta.dirname, '../../media/python');
const sha = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');

/** Runs `python3 -c script` in `cwd` (a RunLens launch writing to cwd/metrics.jsonl unless env says otherwise). */
function py(script: string, cwd: string, env: { [k: string]: string } = { RUNLENS_METRICS_FILE: join(cwd, 'metrics.jsonl') }) {
  const base: { [k: string]: string | undefined } = { ...process.env, PYTHONPATH, PYTHONDONTWRITEBYTECODE: '1' };
  for (const v of ['RUNLENS_METRICS_FILE', 'RUNLENS_STORE', 'RUNLENS_SOURCE', 'RUNLENS_FLUSH_MS', 'CI']) delete base[v];
  const r = spawnSync('python3', ['-c', script], { cwd, env: { ...base, ...env }, encoding: 'utf8', timeout: 60_000 });
  if (r.error) throw r.error;
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stderr, '', 'nothing is reported to the training code');
  return r.stdout;
}

const records = (file: string): any[] => readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));

function write(dir: string, files: { [rel: string]: string }): void {
  for (const [rel, content] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, rel)), { recursive: true });
    writeFileSync(join(dir, rel), content);
  }
}

test("the helper's digest at log time is the collector's digest: a file, and a folder with nested files, links and unsafe names", async () => {
  const root = tempDir('runlens-logdigest-');
  write(root, {
    'out/model.bin': 'weights\n',
    'out/nested/a.txt': 'a\n',
    'out/nested/deep/w.bin': 'w\n',
    'out/back\\slash.txt': 'skipped by the collector\n',
    'out/tab\tname.txt': 'skipped too\n',
    'out/bad\\dir/inner.txt': 'below a skipped folder\n',
    'elsewhere.txt': 'in the run folder, outside the artifact\n',
  });
  symlinkSync('nested/deep/w.bin', join(root, 'out/link-to-w')); // inside: counted under the link's path
  symlinkSync('../elsewhere.txt', join(root, 'out/link-elsewhere')); // outside the folder: skipped
  symlinkSync('missing', join(root, 'out/dangling')); // skipped
  const out = py(`
import json, runlens
from runlens._datasets import hash_dataset
runlens.log_artifact("out")
runlens.log_model("m", "out/model.bin", {"acc": 0.9})
runlens.log_artifact("out/nested")
print(json.dumps(hash_dataset("out")["digest"]))
`, root);
  const lines = records(join(root, 'metrics.jsonl'));
  const logged = lines.map((l) => l.artifact ?? l.model);
  assert.deepEqual(logged.map((r) => r.path), ['out', 'out/model.bin', 'out/nested']);

  const objects = new ObjectStore(join(root, '.objects'));
  for (const r of logged) {
    const c = await collectArtifact(objects, root, r.path);
    assert.equal(r.sha256, c.digest, r.path);
  }
  const folder = await collectArtifact(objects, root, 'out');
  const paths = folder.files.map((f) => f.path);
  assert.ok(paths.includes('link-to-w') && paths.includes('nested/deep/w.bin'), paths.join(', '));
  for (const p of ['back\\slash.txt', 'tab\tname.txt', 'bad\\dir/inner.txt', 'link-elsewhere', 'dangling']) assert.ok(!paths.includes(p), p);
  assert.notEqual(JSON.parse(out), folder.digest, 'the dataset rule counts the unsafe names: without skipping them the digests would differ');
  assert.equal(logged[1].sha256, sha('weights\n'));
  // and the ingest reads what the helper wrote
  assert.equal((decodeLine(JSON.stringify(lines[1])) as { sha256?: string }).sha256, sha('weights\n'));
});

test('a path that cannot be read at log time is logged without a digest, and the training code goes on', () => {
  const root = tempDir('runlens-logdigest-');
  py(`
import runlens
runlens.log_model("m", "missing.bin")
runlens.log_artifact("/etc/hostname")
runlens.log({"loss": 1.0})
`, root);
  const lines = records(join(root, 'metrics.jsonl'));
  assert.deepEqual(lines[0].model, { name: 'm', path: 'missing.bin' });
  assert.deepEqual(lines[1].artifact, { path: '/etc/hostname' }, 'an absolute path is refused by the collector: not hashed');
  assert.equal(lines.length, 3);
});

test("a run the helper started hashes the path in the run's working directory, as the collector resolves it", () => {
  const ws = tempDir('runlens-logdigest-');
  mkdirSync(join(ws, '.runlens'));
  write(ws, { 'model.bin': 'top\n', 'sub/model.bin': 'sub\n' });
  const uid = py(`
import os, runlens
uid = runlens.init(name="r")
os.chdir("sub")
runlens.log_model("m", "model.bin")
runlens.finish()
print(uid)
`, ws, { RUNLENS_STORE: join(ws, '.runlens') }).trim();
  const [model] = records(join(ws, '.runlens', 'runs', uid, 'metrics.jsonl')).filter((l) => l.model);
  assert.equal(model.model.sha256, sha('top\n'));
});

/** A store, a run in `ws`, and a collector whose log is kept. */
function workspace() {
  const ws = tempDir('runlens-logdigest-');
  const store = Store.open(join(ws, '.runlens'));
  const log: string[] = [];
  const collector = new ArtifactCollector(store, store.objects, (m) => log.push(m));
  return { ws, store, log, collector };
}

test('a file rewritten by another process after log_model is not kept: no version, the request keeps the reason; an artifact is kept as it is now, said so', async () => {
  const { ws, store, log, collector } = workspace();
  const run = store.runs.create({ name: 'trial-1', cwd: ws, status: 'running' });
  write(ws, { 'outputs/model.json': '{"w": 1}\n', 'outputs/plots/loss.svg': '<svg/>\n' });
  py(`
import runlens
runlens.log_model("clf", "outputs/model.json")
runlens.log_artifact("outputs")
`, ws);
  write(ws, { 'outputs/model.json': '{"w": 2}\n' }); // the other trial, before the collector runs

  new JsonlIngestor(store, run.id, join(ws, 'metrics.jsonl')).poll();
  const queued = store.artifacts.requests(run.id);
  assert.deepEqual(queued.map((r) => r.sha256 === null), [false, false], 'both requests carry the digest');
  assert.equal(queued[0]!.sha256, sha('{"w": 1}\n'));

  const kept = await collector.drain();
  assert.deepEqual(store.models.models(), [], 'no version of the other bytes');
  // the folder artifact (not a model version) is kept as it is now, and the log says it changed
  assert.equal(kept.length, 1);
  assert.deepEqual(store.artifacts.list(run.id).map((a) => a.path), ['outputs']);
  const [model, ...rest] = store.artifacts.requests(run.id);
  assert.deepEqual(rest, []);
  const short = (h: string) => h.slice(0, 12);
  assert.equal(model!.error, `outputs/model.json changed after log_model was called (sha256 ${short(sha('{"w": 1}\n'))}… then, `
    + `${short(sha('{"w": 2}\n'))}… now): another process wrote it before RunLens kept it. Give each run its own output path.`);
  assert.equal(log.length, 2);
  assert.equal(log[0], `run trial-1: could not keep "outputs/model.json": ${model!.error}`);
  assert.match(log[1]!, /^run trial-1: kept outputs \(2 files, \d+ bytes\); outputs changed after log_artifact was called \(sha256 [0-9a-f]{12}… then, [0-9a-f]{12}… now\): kept as it is now$/);
  assert.deepEqual(store.artifacts.pending(), [], 'not retried');
  assert.equal(collector.waiting(run.id), false);
  store.close();
});

test('unchanged bytes are kept and registered as before; a request without a digest keeps what is there', async () => {
  const { ws, store, log, collector } = workspace();
  const run = store.runs.create({ name: 'trial-2', cwd: ws, status: 'running' });
  write(ws, { 'outputs/model.json': '{"w": 1}\n', 'old.bin': 'old\n' });
  py(`
import runlens
runlens.log_model("clf", "outputs/model.json", {"acc": 0.9})
`, ws);
  store.artifacts.request(run.id, { kind: 'model', path: 'old.bin', model: 'legacy' }); // a record from an older helper
  write(ws, { 'old.bin': 'rewritten\n' });
  new JsonlIngestor(store, run.id, join(ws, 'metrics.jsonl')).poll();

  const done = await collector.drain();
  assert.equal(done.length, 2);
  const v = store.models.find('clf', 1)!;
  assert.equal(v.digest, sha('{"w": 1}\n'));
  assert.deepEqual(v.metadata, { acc: 0.9 });
  assert.equal(store.models.find('legacy', 1)?.digest, sha('rewritten\n'), 'no digest: collected as today');
  assert.deepEqual(store.artifacts.requests(run.id), []);
  assert.equal(log.length, 2);
  assert.ok(log.every((m) => m.includes('registered')), log.join('\n'));
  store.close();
});

test('ingest reads an optional sha256 on artifact and model records: 64 lowercase hex digits, anything else ignored', () => {
  const good = sha('x');
  const cases: [unknown, string | undefined][] = [
    [good, good], [undefined, undefined], [good.toUpperCase(), undefined], [good.slice(1), undefined],
    [`${good}0`, undefined], [`g${good.slice(1)}`, undefined], [42, undefined], [null, undefined],
  ];
  for (const [value, want] of cases) {
    const artifact = decodeLine(JSON.stringify({ t: 1, artifact: { path: 'out', sha256: value } }));
    const model = decodeLine(JSON.stringify({ t: 1, model: { name: 'm', path: 'm.bin', metadata: { a: 1 }, sha256: value } }));
    assert.deepEqual(artifact, { kind: 'artifact', time: 1000, path: 'out', ...(want ? { sha256: want } : {}) }, String(value));
    assert.deepEqual(model, { kind: 'model', time: 1000, name: 'm', path: 'm.bin', metadata: { a: 1 }, ...(want ? { sha256: want } : {}) }, String(value));
  }

  const ws = tempDir('runlens-logdigest-');
  const store = Store.open(join(ws, '.runlens'));
  const run = store.runs.create({ name: 'r', cwd: ws });
  const file = join(ws, 'metrics.jsonl');
  writeFileSync(file, [
    { artifact: { path: 'a', sha256: good } },
    { artifact: { path: 'b' } },
    { model: { name: 'm', path: 'c', sha256: good } },
    { model: { name: 'm', path: 'd', sha256: 'BAD' } },
  ].map((r) => JSON.stringify({ t: 1, ...r })).join('\n') + '\n');
  const ingest = new JsonlIngestor(store, run.id, file);
  ingest.poll();
  assert.equal(ingest.stats.malformed, 0, 'a bad digest does not make the line malformed');
  assert.deepEqual(store.artifacts.requests(run.id).map((r) => [r.path, r.sha256]), [['a', good], ['b', null], ['c', good], ['d', null]]);
  store.close();
});
