import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { Store } from '../../src/core/store/store.ts';
import { NOTEBOOK_TAG, SOURCE_TAG, adoptInbox } from '../../src/core/runs/inbox.ts';
import { RunMonitor } from '../../src/core/runs/runMonitor.ts';
import { applyablePatch, captureGit } from '../../src/core/provenance/git.ts';
import { hashDataset } from '../../src/core/provenance/datasetHash.ts';
import { REDACTED } from '../../src/core/provenance/redact.ts';
import { lineage } from '../../src/core/models/lineage.ts';
import { generateRunName } from '../../src/core/names.ts';
import { inboxEntry, writeHelperRun, writeInboxFile } from './inboxFixture.ts';
import { gitRepo, tempDir } from './helpers.ts';

const root = join(import.meta.dirname, '..', '..');

function setup() {
  const dir = tempDir();
  const storeDir = join(dir, '.runlens');
  return { dir, storeDir, store: Store.open(storeDir) };
}

const inboxFiles = (storeDir: string) => (existsSync(join(storeDir, 'inbox')) ? readdirSync(join(storeDir, 'inbox')).filter((n) => n !== 'rejected') : []);

test('a run the helper started is adopted once, under its uid, with all it describes', async () => {
  const { dir, storeDir, store } = setup();
  const repo = join(dir, 'repo');
  mkdirSync(join(repo, 'data'), { recursive: true });
  gitRepo(repo, { 'train.py': 'print(1)\n', 'data/a.csv': 'x\n1\n', 'data/b.csv': 'x\n2\n', 'labels.txt': 'cat\n' });
  writeFileSync(join(repo, 'train.py'), 'print(2)\n'); // dirty
  const g = await captureGit(repo);
  assert.equal(g.kind, 'git');
  if (g.kind !== 'git') return;
  const [folderHash, fileHash] = await Promise.all([hashDataset(join(repo, 'data')), hashDataset(join(repo, 'labels.txt'))]);
  const asWritten = (path: string, h: typeof folderHash) => ({ path, digest: h.digest, fileCount: h.fileCount, bytes: h.bytes, files: h.files });
  const notebook = '{"cells": [], "nbformat": 4}';
  const e = inboxEntry(repo, {
    name: 'from-terminal', experiment: 'exp1', source: 'notebook',
    command: ['python3', 'train.py', '--api-key', 'sk-123'],
    env: { HOME: '/home/ana', HF_TOKEN: 'hf_abc' },
    params: { lr: 0.1, 'model.depth': 3, amp: true, opt: 'adam' }, tags: { owner: 'ana' },
    git: { commit: g.git.commit, branch: g.git.branch, dirty: g.git.dirty }, patch: 'patch.diff',
    datasets: [asWritten('data', folderHash), asWritten('labels.txt', fileHash)],
    packages: { conda: 'ml', list: [['numpy', '1.26.4'], ['torch', '2.3.0']] },
    notebook: { path: join(repo, 'nb', 'explore.ipynb'), snapshot: 'notebook.ipynb' },
  });
  writeHelperRun(storeDir, e, { 'patch.diff': applyablePatch(g.git), 'notebook.ipynb': notebook });

  const result = await adoptInbox(store, storeDir);
  assert.deepEqual(result.rejected, []);
  assert.deepEqual(result.warnings, []);
  assert.equal(result.adopted.length, 1);
  const run = store.runs.getByUid(e.uid)!;
  assert.deepEqual(result.adopted[0], run);
  assert.equal(run.status, 'running');
  assert.equal(run.name, 'from-terminal');
  assert.equal(run.experiment, 'exp1');
  assert.equal(run.startedAt, 1_700_000_000_000);
  assert.equal(run.createdAt, 1_700_000_000_000, 'created when it started, not when a window noticed it');
  assert.deepEqual(run.command, ['python3', 'train.py', '--api-key', REDACTED], 'a secret the helper let through is redacted here');
  assert.equal(run.cwd, repo);
  assert.deepEqual(run.git, { commit: g.git.commit, branch: 'main', dirty: true });
  assert.deepEqual(store.runs.params(run.id), { amp: true, lr: 0.1, 'model.depth': 3, opt: 'adam' });
  assert.deepEqual(store.runs.tags(run.id), { owner: 'ana', [SOURCE_TAG]: 'notebook', [NOTEBOOK_TAG]: join(repo, 'nb', 'explore.ipynb') });

  const prov = store.provenance.get(run.id)!;
  assert.equal(store.provenance.blob(prov.patchSha256!)!.toString('utf8'), applyablePatch(g.git), 'the patch, stored as launched runs store theirs');
  assert.equal(prov.interpreter, '/usr/bin/python3');
  assert.equal(prov.interpreterVersion, 'Python 3.11.2', 'as `python --version` prints it for launched runs');
  assert.equal(prov.commandLine, `python3 train.py --api-key '${REDACTED}'`);
  assert.deepEqual(prov.env, { HF_TOKEN: REDACTED, HOME: '/home/ana' });

  // Datasets as a launched run stores them (runs/hashDatasets.ts): kind told from the digest.
  const launched = (path: string, h: typeof folderHash) => ({ path, kind: h.kind, digest: h.digest, fileCount: h.fileCount, bytes: h.bytes, files: h.files });
  assert.deepEqual(store.provenance.datasets(run.id), [launched('data', folderHash), launched('labels.txt', fileHash)]);
  assert.deepEqual(store.packages.get(run.id), { conda: 'ml', list: [['numpy', '1.26.4'], ['torch', '2.3.0']] });

  const [snap] = store.artifacts.list(run.id);
  assert.equal(snap!.source, 'notebook');
  assert.equal(snap!.path, 'nb/explore.ipynb');
  assert.equal(readFileSync(store.objects.path(snap!.digest), 'utf8'), notebook);

  // Lineage shows the notebook and the packages.
  const versionId = store.transaction(() => store.models.register({ runId: run.id, model: 'm', path: 'nb/explore.ipynb', kind: 'file',
    digest: snap!.digest, size: snap!.size, fileCount: 1, artifactId: snap!.id, params: {}, metrics: [] }).id);
  const l = lineage(store, versionId, { current: { conda: 'ml', list: [['numpy', '2.0.0'], ['torch', '2.3.0']] } });
  assert.deepEqual(l.notebook, { path: join(repo, 'nb', 'explore.ipynb'), snapshot: snap });
  assert.deepEqual(l.packages, { conda: 'ml', list: [['numpy', '1.26.4'], ['torch', '2.3.0']] });
  assert.deepEqual(l.packagesDiff, { added: [], removed: [], changed: [{ name: 'numpy', from: '1.26.4', to: '2.0.0' }] });

  assert.deepEqual(inboxFiles(storeDir), [], 'the inbox file is deleted after the commit');
  assert.deepEqual((await adoptInbox(store, storeDir)).adopted, []);
  assert.equal(store.runs.count(), 1);
  store.close();
});

test('a run without a name is named as launched runs are; without an experiment it goes to the given default', async () => {
  const { dir, storeDir, store } = setup();
  const e = inboxEntry(dir, { packages: null });
  writeHelperRun(storeDir, e);
  const { adopted } = await adoptInbox(store, storeDir, { experiment: 'from-yaml' });
  assert.equal(adopted.length, 1);
  assert.match(adopted[0]!.name, /^[a-z]+-[a-z]+-\d+$/);
  assert.equal(adopted[0]!.name.split('-').length, generateRunName().split('-').length);
  assert.equal(adopted[0]!.experiment, 'from-yaml');
  assert.equal(store.packages.get(adopted[0]!.id), undefined);
  store.close();
});

test('the launch source is queryable with a filter expression', async () => {
  const { dir, storeDir, store } = setup();
  for (const source of ['terminal', 'debug', 'ci', 'terminal']) writeHelperRun(storeDir, inboxEntry(dir, { source }));
  await adoptInbox(store, storeDir);
  assert.equal(store.runs.count({ where: `tag.${SOURCE_TAG} = "terminal"` }), 2);
  assert.equal(store.runs.count({ where: `tag.${SOURCE_TAG} = "debug"` }), 1);
  store.close();
});

test('malformed files are moved to inbox/rejected with their reason, once; the good ones are still adopted', async () => {
  const { dir, storeDir, store } = setup();
  const bad: [string, Record<string, unknown>, RegExp][] = [
    ['format', { format: 'runlens-inbox/9' }, /"format" must be "runlens-inbox\/1"/],
    ['startedAt', { startedAt: 1_700_000_000 }, /"startedAt" must be milliseconds since the epoch, not 1700000000/],
    ['source', { source: 'cron' }, /"source" must be one of terminal, debug, notebook, script, ci, not "cron"/],
    ['command', { command: 'python3 train.py' }, /"command" must be a non-empty list of strings/],
    ['param', { params: { lr: null } }, /"params.lr" must be a number, string or boolean, not null/],
    ['git', { git: { commit: 'abc', branch: null, dirty: false } }, /"git.commit" must be a commit id/],
    ['patch', { patch: '../../etc/passwd' }, /"patch" must be a file name in the run folder/],
    ['packages', { packages: { conda: null, list: [['numpy']] } }, /"packages".list\[0\] must be a \[name, version\] pair/],
    ['dataset', { datasets: [{ path: 'd', digest: 'x', fileCount: 0, bytes: 0, files: [] }] }, /"datasets\[0\].digest" must be a sha256/],
  ];
  const names = new Map<string, RegExp>();
  for (const [, over, why] of bad) {
    const e = inboxEntry(dir, over);
    writeHelperRun(storeDir, e);
    names.set(`${e.uid}.json`, why);
  }
  writeInboxFile(storeDir, 'garbage.json', '{"format": "runlens-inbox/1", "uid": ');
  names.set('garbage.json', /not valid JSON/);
  const orphan = inboxEntry(dir);
  const orphanFile = writeInboxFile(storeDir, `${orphan.uid}.json`, JSON.stringify(orphan)); // no run folder
  utimesSync(orphanFile, new Date(Date.now() - 60_000), new Date(Date.now() - 60_000)); // young ones wait: see below
  names.set(`${orphan.uid}.json`, new RegExp(`its run folder runs/${orphan.uid}/ does not exist`));
  const early = inboxEntry(dir);
  writeInboxFile(storeDir, `${early.uid}.json`, JSON.stringify(early)); // its folder not visible yet (a shared folder)
  const renamed = inboxEntry(dir);
  mkdirSync(join(storeDir, 'runs', renamed.uid), { recursive: true });
  const wrongName = `${'0'.repeat(32)}.json`;
  writeInboxFile(storeDir, wrongName, JSON.stringify(renamed));
  names.set(wrongName, /its name must be/);
  writeInboxFile(storeDir, 'list.json', '[1, 2]');
  names.set('list.json', /it must hold a JSON object/);
  const good = inboxEntry(dir);
  writeHelperRun(storeDir, good);
  writeFileSync(join(storeDir, 'inbox', 'half.json.tmp'), '{"format"'); // still being written: left alone

  const result = await adoptInbox(store, storeDir);
  assert.deepEqual(result.adopted.map((r) => r.uid), [good.uid]);
  assert.equal(result.rejected.length, names.size);
  const rejectedDir = join(storeDir, 'inbox', 'rejected');
  for (const [name, why] of names) {
    const r = result.rejected.find((x) => x.file === name);
    assert.ok(r, `${name} is rejected`);
    assert.match(r.reason, why, name);
    assert.ok(existsSync(join(rejectedDir, name)), `${name} is kept in rejected/`);
    assert.match(readFileSync(join(rejectedDir, `${name}.reason.txt`), 'utf8'), why);
  }
  assert.deepEqual(inboxFiles(storeDir).sort(), [`${early.uid}.json`, 'half.json.tmp']);
  assert.equal(store.runs.count(), 1);
  const again = await adoptInbox(store, storeDir);
  assert.deepEqual([again.adopted, again.rejected], [[], []], 'nothing is looked at twice');
  mkdirSync(join(storeDir, 'runs', early.uid));
  assert.deepEqual((await adoptInbox(store, storeDir)).adopted.map((r) => r.uid), [early.uid], 'adopted once its folder shows');
  store.close();
});

test('an inbox file larger than the limit is rejected unread', async () => {
  const { dir, storeDir, store } = setup();
  const big = inboxEntry(dir, { env: { BIG: 'x'.repeat(5000) } });
  writeHelperRun(storeDir, big);
  const small = inboxEntry(dir);
  writeHelperRun(storeDir, small);
  const result = await adoptInbox(store, storeDir, { maxBytes: 4000 });
  assert.deepEqual(result.adopted.map((r) => r.uid), [small.uid]);
  assert.deepEqual(result.rejected.map((r) => r.file), [`${big.uid}.json`]);
  assert.match(result.rejected[0]!.reason, /it is \d+ bytes, more than the 4000 allowed/);
  assert.equal(store.runs.getByUid(big.uid), undefined);
  // the default limit is 4 MB
  const huge = inboxEntry(dir, { env: { BIG: 'x'.repeat(4.5 * 2 ** 20) } });
  writeHelperRun(storeDir, huge);
  assert.deepEqual((await adoptInbox(store, storeDir)).rejected.map((r) => r.file), [`${huge.uid}.json`]);
  store.close();
});

test('a file for a run already adopted adds nothing and is removed; a missing patch keeps the run with a warning', async () => {
  const { dir, storeDir, store } = setup();
  const e = inboxEntry(dir, { patch: 'patch.diff' });
  writeHelperRun(storeDir, e);
  const first = await adoptInbox(store, storeDir);
  assert.equal(first.adopted.length, 1);
  assert.match(first.warnings[0]!, /its patch patch.diff could not be read .*; the run is kept without it/);
  assert.equal(store.provenance.get(first.adopted[0]!.id)!.patchSha256, null);
  writeInboxFile(storeDir, `${e.uid}.json`, JSON.stringify({ ...e, name: 'again' })); // left behind, or written twice
  const second = await adoptInbox(store, storeDir);
  assert.deepEqual([second.adopted, second.rejected], [[], []]);
  assert.equal(store.runs.count(), 1);
  assert.notEqual(store.runs.getByUid(e.uid)!.name, 'again');
  assert.deepEqual(inboxFiles(storeDir), []);
  store.close();
});

/**
 * The helper's part, as the contract has it, from a real Python process: the run folder, process.json,
 * heartbeat, metrics through the runlens helper, the inbox file (atomically), then exit.json at the end.
 */
const helperScript = `
import json, os, socket, sys, time, uuid
store, n = sys.argv[1], int(sys.argv[2])
uid = uuid.uuid4().hex
folder = os.path.join(store, "runs", uid)
os.makedirs(folder)
stat = open("/proc/self/stat").read()
ticks = int(stat[stat.rindex(")") + 2:].split(" ")[19])
json.dump({"pid": os.getpid(), "startTicks": ticks, "host": socket.gethostname()}, open(os.path.join(folder, "process.json"), "w"))
open(os.path.join(folder, "heartbeat"), "w").close()
os.environ["RUNLENS_METRICS_FILE"] = os.path.join(folder, "metrics.jsonl")
import runlens
entry = {"format": "runlens-inbox/1", "uid": uid, "startedAt": int(time.time() * 1000), "source": "script",
         "command": [sys.executable, "train.py"], "cwd": os.getcwd(), "params": {"lr": 0.1}}
os.makedirs(os.path.join(store, "inbox"), exist_ok=True)
tmp = os.path.join(store, "inbox", uid + ".json.tmp")
with open(tmp, "w") as f:
    json.dump(entry, f); f.flush(); os.fsync(f.fileno())
os.rename(tmp, tmp[:-4])
for i in range(n):
    runlens.log({"loss": 1.0 / (i + 1)}, step=i)
runlens.finish()
json.dump({"code": 0, "signal": None, "signalled": None, "endedAt": int(time.time() * 1000)}, open(os.path.join(folder, "exit.json"), "w"))
print(uid)
`;

test('a run that ended before any window adopted it is finished by the monitor with every point', async () => {
  const { dir, storeDir, store } = setup();
  const r = spawnSync('python3', ['-c', helperScript, storeDir, '5000'], { cwd: dir, encoding: 'utf8', env: { ...process.env, PYTHONPATH: join(root, 'media', 'python') } });
  assert.equal(r.status, 0, r.stderr);
  const uid = r.stdout.trim();
  const { adopted } = await adoptInbox(store, storeDir);
  assert.deepEqual(adopted.map((a) => [a.uid, a.status]), [[uid, 'running']]);
  const monitor = new RunMonitor(store, storeDir, { parse: () => undefined });
  assert.deepEqual(monitor.recover(), { reattached: 0, ended: 1 });
  const run = store.runs.getByUid(uid)!;
  assert.equal(run.status, 'finished');
  assert.equal(run.exitCode, 0);
  const loss = store.metrics.points(run.id, 'loss');
  assert.equal(loss.values.length, 5000);
  assert.deepEqual([loss.steps[0], loss.steps[4999], loss.values[4999]], [0, 4999, 1 / 5000]);
  monitor.dispose();
  store.close();
});

test('a run adopted while going is followed by the monitor until its exit record', async () => {
  const { dir, storeDir, store } = setup();
  const e = inboxEntry(dir);
  const folder = join(storeDir, 'runs', e.uid);
  writeHelperRun(storeDir, e, {}, { pid: process.pid, startTicks: null, host: undefined }); // this process: alive
  const { adopted } = await adoptInbox(store, storeDir);
  const monitor = new RunMonitor(store, storeDir, { parse: () => undefined });
  monitor.track(adopted[0]!);
  writeFileSync(join(folder, 'metrics.jsonl'), '{"t": 1700000001, "step": 0, "metrics": {"acc": 0.5}}\n');
  monitor.tick();
  assert.equal(store.runs.get(adopted[0]!.id)!.status, 'running');
  assert.deepEqual(Array.from(store.metrics.points(adopted[0]!.id, 'acc').values), [0.5]);
  mkdirSync(folder, { recursive: true });
  writeFileSync(join(folder, 'exit.json'), JSON.stringify({ code: 1, signal: null, signalled: null, endedAt: 1_700_000_002_000 }));
  monitor.tick();
  assert.deepEqual(monitor.runningIds, []);
  const done = store.runs.get(adopted[0]!.id)!;
  assert.deepEqual([done.status, done.exitCode, done.endedAt], ['failed', 1, 1_700_000_002_000]);
  monitor.dispose();
  store.close();
});
