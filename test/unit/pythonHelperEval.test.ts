// runlens.log_eval in real python3 processes: each call writes a whole evaluation run to the store's
// inbox (outside a launch, and inside one without touching the launched run), which the extension
// adopts, links to the model version and checks for degradation.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { test } from 'node:test';
import { decodeLine } from '../../src/core/ingest/jsonl.ts';
import { hashDataset } from '../../src/core/provenance/datasetHash.ts';
import { parseInbox } from '../../src/core/runs/inboxFormat.ts';
import { adoptInbox } from '../../src/core/runs/inbox.ts';
import { RunMonitor } from '../../src/core/runs/runMonitor.ts';
import { Store } from '../../src/core/store/store.ts';
import { ArtifactCollector } from '../../src/core/artifacts/collector.ts';
import { evaluationHistory } from '../../src/core/models/evaluations.ts';
import { tempDir } from './helpers.ts';

const PYTHONPATH = resolve(import.meta.dirname, '../../media/python');
const VARS = ['RUNLENS_METRICS_FILE', 'RUNLENS_STORE', 'RUNLENS_SOURCE', 'RUNLENS_NOTEBOOK', 'RUNLENS_FLUSH_MS', 'JPY_SESSION_NAME', 'CI'];

function py(script: string, cwd: string, env: { [k: string]: string }) {
  const base: { [k: string]: string | undefined } = { ...process.env, PYTHONPATH, PYTHONDONTWRITEBYTECODE: '1' };
  for (const v of VARS) delete base[v];
  const r = spawnSync('python3', ['-c', script], { cwd, env: { ...base, ...env }, encoding: 'utf8', timeout: 60_000 });
  if (r.error) throw r.error;
  return r;
}

const inboxNames = (store: string) => (existsSync(join(store, 'inbox')) ? readdirSync(join(store, 'inbox')).filter((n) => n.endsWith('.json')) : []);

const AT = 1_767_225_600; // 2026-01-01 UTC, in seconds
const MONTH_S = 91 * 86_400 / 3;

test('log_eval outside a launch writes a valid inbox file: eval, time, dataset digest, metrics at step 0, exit after the inbox', async () => {
  const ws = tempDir('runlens-eval-py-');
  mkdirSync(join(ws, 'data'));
  writeFileSync(join(ws, 'data', 'a.csv'), 'x,y\n1,2\n');
  const store = join(ws, '.runlens');
  const r = py(`import runlens, datetime
print(runlens.log_eval("clf", "production", {"val_acc": 0.91, "n": 3, "bad": "x"}, dataset="data", at=${AT}))
print(runlens.log_eval("clf", 2, {"val_acc": 0.5}, at=datetime.datetime(2026, 4, 1, tzinfo=datetime.timezone.utc)))`, ws, { RUNLENS_STORE: store });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /metric 'bad' has a non-numeric value/);
  const [uid, uid2] = r.stdout.trim().split('\n');
  assert.deepEqual(inboxNames(store).sort(), [`${uid}.json`, `${uid2}.json`].sort());
  const e = parseInbox(readFileSync(join(store, 'inbox', `${uid}.json`)), `${uid}.json`);
  assert.deepEqual(e.eval, { model: 'clf', ref: 'production', metrics: { val_acc: 0.91, n: 3 } });
  assert.equal(e.startedAt, AT * 1000);
  assert.equal(e.name, 'eval clf@production');
  assert.equal(e.cwd, ws);
  const data = await hashDataset(join(ws, 'data'));
  assert.deepEqual(e.datasets.map((d) => [d.path, d.digest]), [['data', data.digest]]);
  const dir = join(store, 'runs', uid!);
  const records = readFileSync(join(dir, 'metrics.jsonl'), 'utf8').split('\n').filter(Boolean).map((l) => decodeLine(l)) as any[];
  const points = records.flatMap((rec) => rec.points.map((p: any) => [p.step, p.time, Object.fromEntries(p.values)]));
  assert.deepEqual(points, [[0, AT * 1000, { val_acc: 0.91, n: 3 }]]);
  assert.deepEqual(JSON.parse(readFileSync(join(dir, 'exit.json'), 'utf8')).code, 0);
  assert.ok(statSync(join(dir, 'exit.json')).mtimeMs >= statSync(join(store, 'inbox', `${uid}.json`)).mtimeMs, 'the inbox file is written first');
  const e2 = parseInbox(readFileSync(join(store, 'inbox', `${uid2}.json`)), `${uid2}.json`);
  assert.deepEqual([e2.eval?.ref, e2.startedAt], [2, Date.UTC(2026, 3, 1)]);
});

test('log_eval inside a launched run writes its evaluation to that run\'s store and leaves the launched run alone', () => {
  const ws = tempDir('runlens-eval-py-');
  const store = join(ws, 'store');
  const launched = join(store, 'runs', 'a'.repeat(32));
  mkdirSync(launched, { recursive: true });
  const metrics = join(launched, 'metrics.jsonl');
  const r = py(`import runlens
runlens.log({"loss": 1.0}, step=0)
uid = runlens.log_eval("clf", 1, {"val_acc": 0.8})
runlens.log({"loss": 0.5}, step=1)
runlens.finish()
print(uid)`, ws, { RUNLENS_METRICS_FILE: metrics });
  assert.equal(r.status, 0, r.stderr);
  const uid = r.stdout.trim();
  assert.deepEqual(inboxNames(store), [`${uid}.json`]);
  const e = parseInbox(readFileSync(join(store, 'inbox', `${uid}.json`)), `${uid}.json`);
  assert.deepEqual(e.eval?.metrics, { val_acc: 0.8 });
  const keys = readFileSync(metrics, 'utf8').split('\n').filter(Boolean).map((l) => decodeLine(l) as any)
    .flatMap((rec) => (rec.kind === 'metrics' ? rec.points.flatMap((p: any) => p.values.map(([k]: [string]) => k)) : []));
  assert.deepEqual(keys, ['loss', 'loss'], 'the launched run has only its own metrics');
});

test('log_eval with no store found warns once and records nothing', () => {
  const ws = tempDir('runlens-eval-py-');
  const r = py('import runlens\nprint(runlens.log_eval("clf", 1, {"a": 1}))', ws, {});
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout.trim(), 'None');
  assert.match(r.stderr, /no RunLens workspace found/);
  assert.deepEqual(readdirSync(ws), []);
});

test('end to end: a plain python3 process logs three evaluations three months apart; the version shows the degradation', async () => {
  const ws = tempDir('runlens-eval-e2e-');
  const storeDir = join(ws, '.runlens');
  const env = { RUNLENS_STORE: storeDir };
  // The version: a training run the helper records by itself, adopted, followed to its end, registered.
  const train = py(`import runlens
runlens.init(name="train")
for i in range(5):
    runlens.log({"val_acc": 0.75 + i * 0.05}, step=i)
open("model.bin", "w").write("weights")
runlens.finish()`, ws, env);
  assert.equal(train.status, 0, train.stderr);
  const store = Store.open(storeDir);
  const [trainRun] = (await adoptInbox(store, storeDir)).adopted;
  const monitor = new RunMonitor(store, storeDir, { parse: () => undefined });
  monitor.recover();
  assert.equal(store.runs.get(trainRun!.id)!.status, 'finished');
  const v1 = await new ArtifactCollector(store, store.objects).register(trainRun!.id, 'model.bin', 'clf');
  store.models.setAlias(v1.id, 'production');
  assert.equal(v1.metrics.find((m) => m.key === 'val_acc')?.last, 0.95);

  const evals = py(`import runlens
for i, acc in enumerate([0.94, 0.85, 0.70]):
    runlens.log_eval("clf", "production", {"val_acc": acc}, at=${AT} + i * ${MONTH_S})`, ws, env);
  assert.equal(evals.status, 0, evals.stderr);
  assert.equal(evals.stderr, '');
  const adopted = await adoptInbox(store, storeDir);
  assert.equal(adopted.adopted.length, 3);
  assert.deepEqual(adopted.warnings, []);
  assert.deepEqual(monitor.recover(), { reattached: 0, ended: 3 });
  const h = evaluationHistory(store, store.models.version(v1.id)!, { gates: [] });
  assert.deepEqual(h.evaluations.map((e) => [e.at, e.metrics.val_acc, e.run.status]),
    [[AT * 1000, 0.94, 'finished'], [(AT + MONTH_S) * 1000, 0.85, 'finished'], [(AT + 2 * MONTH_S) * 1000, 0.7, 'finished']]);
  for (const e of h.evaluations) {
    assert.deepEqual(Array.from(store.metrics.points(e.runId, 'val_acc').values), [e.metrics.val_acc], 'the series is ingested at step 0');
    assert.equal(store.runs.get(e.runId)!.startedAt, e.at);
  }
  assert.deepEqual(h.alerts.map((a) => [a.runId, a.key, a.message]),
    [[h.evaluations[1]!.runId, 'val_acc', 'clf v1 degraded: val_acc 0.95 at registration → 0.85, beyond the tolerance of 5%']]);
  monitor.dispose();
  store.close();
});
