// Runs the Python helper starts by itself, outside a RunLens launch (issue 13; the file contract is
// in media/python/runlens/_run.py): real python3 scripts, checked against what the extension reads.
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { test } from 'node:test';
import { decodeLine } from '../../src/core/ingest/jsonl.ts';
import { hashDataset } from '../../src/core/provenance/datasetHash.ts';
import { applyablePatch, captureGit } from '../../src/core/provenance/git.ts';
import { startTicks } from '../../src/core/runs/runProcess.ts';
import { tempDir } from './helpers.ts';

const PYTHONPATH = resolve(import.meta.dirname, '../../media/python');
const VARS = ['RUNLENS_METRICS_FILE', 'RUNLENS_STORE', 'RUNLENS_SOURCE', 'RUNLENS_NOTEBOOK', 'RUNLENS_FLUSH_MS', 'JPY_SESSION_NAME', 'CI'];

function pyEnv(env: { [k: string]: string } = {}): { [k: string]: string | undefined } {
  const out: { [k: string]: string | undefined } = { ...process.env, PYTHONPATH, PYTHONDONTWRITEBYTECODE: '1' };
  for (const v of VARS) delete out[v];
  return { ...out, ...env };
}

interface Result { status: number | null; stdout: string; stderr: string }

function py(args: string[], cwd: string, env: { [k: string]: string } = {}, python = 'python3'): Result {
  const r = spawnSync(python, args, { cwd, env: pyEnv(env), encoding: 'utf8', timeout: 60_000 });
  if (r.error) throw r.error;
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', ['-c', 'user.email=t@example.com', '-c', 'user.name=t', ...args], { cwd, encoding: 'utf8' });
}

const YAML = `experiment: exp1
runs:
  train:
    command: [python3, train.py]
    params: [params.yaml]
    datasets: [data]
  other:
    command: [python3, other.py]
`;

/** A git workspace with runlens.yaml naming train.py, a params file and a dataset; `store`: also .runlens/. */
function workspace(script: string, opts: { store?: boolean; git?: boolean } = {}): string {
  const ws = tempDir('runlens-inbox-');
  writeFileSync(join(ws, 'runlens.yaml'), YAML);
  writeFileSync(join(ws, 'params.yaml'), 'lr: 0.3\nmodel:\n  depth: 3\n  act: relu\n');
  mkdirSync(join(ws, 'data', 'sub'), { recursive: true });
  writeFileSync(join(ws, 'data', 'a.csv'), 'x\n1\n');
  writeFileSync(join(ws, 'data', 'sub', 'b.csv'), 'y\n2\n');
  writeFileSync(join(ws, 'train.py'), script);
  if (opts.store) mkdirSync(join(ws, '.runlens'));
  if (opts.git !== false) {
    git(ws, 'init', '-q', '-b', 'main');
    git(ws, 'add', '-A');
    git(ws, 'commit', '-qm', 'init');
  }
  return ws;
}

interface RunFiles { uid: string; dir: string; inbox: any; inboxText: string; process: any; exit: any; records: any[] }

/** Every run in the store, by inbox file, oldest first. */
function runs(store: string): RunFiles[] {
  const inbox = join(store, 'inbox');
  const names = existsSync(inbox) ? readdirSync(inbox) : [];
  const done = names.filter((n) => !n.endsWith('.tmp')); // a .tmp file is one being written
  assert.ok(done.every((n) => /^[0-9a-f]{32}\.json$/.test(n)), `inbox files: ${names}`);
  return done.map((n) => {
    const uid = n.slice(0, -5);
    const dir = join(store, 'runs', uid);
    const inboxText = readFileSync(join(inbox, n), 'utf8');
    const metrics = join(dir, 'metrics.jsonl');
    return {
      uid, dir, inboxText,
      inbox: JSON.parse(inboxText), // strict: a bare NaN would throw
      process: JSON.parse(readFileSync(join(dir, 'process.json'), 'utf8')),
      exit: existsSync(join(dir, 'exit.json')) ? JSON.parse(readFileSync(join(dir, 'exit.json'), 'utf8')) : undefined,
      records: existsSync(metrics) ? readFileSync(metrics, 'utf8').split('\n').filter(Boolean).map((l) => decodeLine(l)) : [],
    };
  }).sort((a, b) => a.inbox.startedAt - b.inbox.startedAt);
}

const points = (r: RunFiles) => r.records.flatMap((rec) => (rec.kind === 'metrics' ? rec.points.map((p: any) => [p.step, Object.fromEntries(p.values)]) : []));

test('a script outside a launch, with RUNLENS_STORE, records a run with full provenance in the inbox and run folder', async () => {
  const ws = workspace(`
import argparse, runlens
p = argparse.ArgumentParser()
p.add_argument("--lr", type=float, default=0.1)
p.add_argument("--api-key")
args = p.parse_args()
runlens.init(name="first", config=args, params={"model": {"depth": 5}}, tags={"owner": "ana", "n": 1},
             config_files=["extra.json"], datasets=["data/sub/b.csv"])
for i in range(5):
    runlens.log({"loss": 1.0 / (i + 1), "acc": i / 10}, step=i)
runlens.log_params({"late": True})
`);
  writeFileSync(join(ws, 'train.py'), readFileSync(join(ws, 'train.py'), 'utf8') + '# uncommitted\n');
  writeFileSync(join(ws, 'extra.json'), '{"opt": {"name": "sgd"}, "lr": 0.01, "model": {"depth": 4}}');
  const store = join(tempDir('runlens-store-'), 'store');
  const before = Date.now();
  const r = py(['train.py', '--lr', '0.5', '--api-key', 'sk-123'], ws, { RUNLENS_STORE: store, MY_SECRET_TOKEN: 'abc', DB_URL: 'postgres://u:pw@db/x' });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stderr, '');
  const [run, ...more] = runs(store);
  assert.ok(run && more.length === 0, 'one run');
  const i = run.inbox;
  assert.doesNotMatch(run.inboxText, /\bNaN\b|Infinity/);
  assert.equal(i.format, 'runlens-inbox/1');
  assert.equal(i.uid, run.uid);
  assert.equal(i.name, 'first');
  assert.equal(i.experiment, 'exp1', 'from runlens.yaml');
  assert.ok(i.startedAt >= before - 1000 && i.startedAt <= Date.now(), 'startedAt in ms');
  assert.equal(i.source, 'script');
  const expectedArgv = JSON.parse(py(['-c', 'import sys, json; print(json.dumps(sys.executable))'], ws).stdout);
  assert.deepEqual(i.command, [i.command[0], 'train.py', '--lr', '0.5', '--api-key', '<redacted>']);
  assert.equal(i.cwd, ws);
  assert.equal(i.script, 'train.py');
  assert.deepEqual(i.interpreter, { path: expectedArgv, version: py(['-c', 'import platform; print(platform.python_version())'], ws).stdout.trim() });
  assert.equal(i.env.MY_SECRET_TOKEN, '<redacted>');
  assert.equal(i.env.DB_URL, 'postgres://u:<redacted>@db/x');
  assert.equal(i.env.PYTHONPATH, PYTHONPATH);
  // params.yaml (the run configuration naming train.py), config_files, argparse, params: later wins
  assert.deepEqual(i.params, { lr: 0.5, 'model.depth': 5, 'model.act': 'relu', 'opt.name': 'sgd', api_key: 'sk-123' });
  assert.deepEqual(i.tags, { owner: 'ana', n: '1' });
  assert.deepEqual(i.git, { commit: git(ws, 'rev-parse', 'HEAD').trim(), branch: 'main', dirty: true });
  assert.equal(i.patch, 'patch.diff');
  const g = await captureGit(ws);
  assert.equal(g.kind, 'git');
  if (g.kind === 'git') assert.equal(readFileSync(join(run.dir, 'patch.diff'), 'utf8'), applyablePatch(g.git));
  const data = await hashDataset(join(ws, 'data'));
  const file = await hashDataset(join(ws, 'data/sub/b.csv'));
  assert.deepEqual(i.datasets, [
    { path: 'data', kind: 'directory', digest: data.digest, fileCount: 2, bytes: data.bytes, files: data.files }, // from runlens.yaml
    { path: 'data/sub/b.csv', kind: 'file', digest: file.digest, fileCount: 1, bytes: 4, files: file.files }, // from init()
  ]);
  assert.equal(i.notebook, null);
  // packages: every installed distribution once, sorted by lower-case name
  const list: [string, string][] = i.packages.list;
  assert.ok(list.length > 0 && list.every(([n, v]) => typeof n === 'string' && typeof v === 'string'));
  const lower = list.map(([n]) => n.toLowerCase());
  assert.deepEqual(lower, [...lower].sort(), 'sorted');
  assert.equal(new Set(lower.map((n) => n.replace(/[-_.]+/g, '-'))).size, lower.length, 'no duplicates');
  assert.ok(i.packages.conda === null || typeof i.packages.conda === 'string');
  // the run folder
  assert.equal(run.process.host, py(['-c', 'import socket; print(socket.gethostname())'], ws).stdout.trim());
  assert.ok(Number.isInteger(run.process.pid));
  assert.ok(existsSync(join(run.dir, 'heartbeat')));
  assert.deepEqual(Object.keys(run.exit).sort(), ['code', 'endedAt', 'signal', 'signalled']);
  assert.deepEqual({ ...run.exit, endedAt: 0 }, { code: 0, signal: null, signalled: null, endedAt: 0 });
  assert.ok(run.exit.endedAt >= i.startedAt);
  assert.deepEqual(points(run), [0, 1, 2, 3, 4].map((s) => [s, { loss: 1 / (s + 1), acc: s / 10 }]));
  assert.deepEqual(run.records.filter((x) => x.kind === 'params').map((x) => x.params), [{ late: true }]);
  assert.deepEqual(readdirSync(ws).sort(), ['.git', 'data', 'extra.json', 'params.yaml', 'runlens.yaml', 'train.py'], 'nothing written in the working folder');
});

test('the store is found by walking up from a nested folder; a store made from runlens.yaml alone is kept out of git', () => {
  const ws = workspace(`
import runlens
runlens.log({"loss": 0.5})
runlens.log({"loss": 0.25})
`);
  const nested = join(ws, 'src', 'deep');
  mkdirSync(nested, { recursive: true });
  const r = py(['../../train.py'], nested);
  assert.equal(r.status, 0, r.stderr);
  const [run] = runs(join(ws, '.runlens'));
  assert.ok(run, 'a run in <workspace>/.runlens');
  const i = run.inbox;
  assert.equal(i.name, null);
  assert.equal(i.cwd, nested);
  assert.equal(i.script, join(ws, 'train.py'), 'outside the working folder: absolute');
  assert.deepEqual(i.params, { lr: 0.3, 'model.depth': 3, 'model.act': 'relu' }, 'runlens.yaml names the script: its params file');
  assert.deepEqual(i.datasets.map((d: any) => [d.path, d.fileCount]), [['data', 2]]);
  assert.equal(i.git.dirty, false, 'the new store is not an untracked change');
  assert.equal(i.patch, null);
  assert.match(readFileSync(join(ws, '.git', 'info', 'exclude'), 'utf8'), /^\/\.runlens\/$/m);
  assert.equal(git(ws, 'status', '--porcelain'), '');
  assert.deepEqual(points(run), [[0, { loss: 0.5 }], [1, { loss: 0.25 }]]);
  assert.deepEqual(readdirSync(nested), []);
});

test('a SIGKILLed script leaves process.json with its pid and start ticks, a heartbeat, and no exit.json', async () => {
  const ws = workspace(`
import time, runlens, runlens._core as core
core.HEARTBEAT_S = 0.2
runlens.init()
runlens.log({"loss": 1.0})
runlens.flush()
print("ready", flush=True)
time.sleep(60)
`, { store: true });
  const child = spawn('python3', ['train.py'], { cwd: ws, env: pyEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
  const store = join(ws, '.runlens');
  try {
    await new Promise<void>((ok, fail) => {
      child.stdout.on('data', (b) => String(b).includes('ready') && ok());
      child.on('exit', () => fail(new Error('exited early')));
    });
    for (let t = 0; t < 100 && runs(store).length === 0; t++) await new Promise((ok) => setTimeout(ok, 50));
    const [run] = runs(store);
    assert.ok(run, 'the inbox file is written while the script runs');
    assert.equal(run.process.pid, child.pid);
    assert.equal(run.process.startTicks, startTicks(child.pid!), 'the start time the extension reads');
    const beat = statSync(join(run.dir, 'heartbeat')).mtimeMs;
    await new Promise((ok) => setTimeout(ok, 700));
    assert.ok(statSync(join(run.dir, 'heartbeat')).mtimeMs > beat, 'the heartbeat is touched while the run goes');
  } finally {
    child.kill('SIGKILL');
    await new Promise((ok) => child.once('close', ok));
  }
  const [run] = runs(store);
  assert.equal(run!.exit, undefined, 'no exit.json');
  assert.throws(() => process.kill(run!.process.pid, 0), /ESRCH/, 'the pid is gone');
  assert.deepEqual(points(run!), [[0, { loss: 1 }]]);
});

test('exit codes: 1 after an uncaught exception or Ctrl-C, the sys.exit code, 0 otherwise', () => {
  const cases: [string, number][] = [
    ['raise RuntimeError("boom")', 1],
    ['raise KeyboardInterrupt', 1],
    ['import sys; sys.exit(3)', 3],
    ['import argparse; argparse.ArgumentParser().parse_args(["--nope"])', 2],
    ['import sys; sys.exit("a message")', 1],
    ['pass', 0],
  ];
  for (const [tail, code] of cases) {
    const ws = workspace(`import runlens\nrunlens.log({"x": 1.0})\n${tail}\n`, { store: true, git: false });
    py(['train.py'], ws);
    const [run] = runs(join(ws, '.runlens'));
    assert.equal(run!.exit.code, code, tail);
    assert.deepEqual(points(run!), [[0, { x: 1 }]], tail);
    assert.equal(run!.inbox.git, null, 'no git: null, no error');
  }
});

test('finish() ends the run; log() afterwards records nothing (one warning) until init() starts a second run', () => {
  const ws = workspace(`
import runlens
first = runlens.init(name="a")
runlens.log({"loss": 1.0})
runlens.finish()
runlens.log({"loss": 99.0})
runlens.log_params({"ignored": 1})
runlens.flush()
second = runlens.init(name="b")
runlens.log({"loss": 2.0})
third = runlens.init(name="c")  # ends "b"
runlens.log({"loss": 3.0})
print(first, second, third)
`, { store: true });
  const r = py(['train.py'], ws);
  assert.equal(r.status, 0, r.stderr);
  const warnings = r.stderr.split('\n').filter(Boolean);
  assert.equal(warnings.length, 1, r.stderr);
  assert.match(warnings[0]!, /^runlens: the run ended with finish\(\).*runlens\.init\(\)/);
  const all = runs(join(ws, '.runlens'));
  assert.deepEqual(all.map((x) => x.inbox.name), ['a', 'b', 'c']);
  assert.deepEqual(all.map((x) => x.uid), r.stdout.trim().split(' '), 'init() returns the uid');
  assert.deepEqual(all.map(points), [[[0, { loss: 1 }]], [[0, { loss: 2 }]], [[0, { loss: 3 }]]], 'implicit steps restart at 0 per run');
  assert.ok(all.every((x) => x.records.every((rec) => rec.kind === 'metrics')), 'the dropped params went nowhere');
  assert.deepEqual(all.map((x) => x.exit.code), [0, 0, 0]);
  assert.ok(all[1]!.exit.endedAt <= all[2]!.inbox.startedAt, 'the next init() ends the previous run first');
});

test('no store found: one warning and nothing written anywhere', () => {
  const dir = tempDir('runlens-nostore-');
  for (let d = dir; ; d = resolve(d, '..')) {
    assert.ok(!existsSync(join(d, '.runlens')) && !existsSync(join(d, 'runlens.yaml')), `precondition: ${d} holds no store`);
    if (resolve(d, '..') === d) break;
  }
  const r = py(['-c', `
import runlens
print(runlens.init(name="x"))
for i in range(5000):
    runlens.log({"loss": float(i)})
runlens.log_params({"lr": 0.1})
runlens.finish()
`], dir);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, 'None\n');
  assert.equal(r.stderr, `runlens: no RunLens workspace found from ${dir}; set RUNLENS_STORE to a store folder (like <workspace>/.runlens) or run inside a folder with runlens.yaml or .runlens/. Nothing is recorded.\n`);
  assert.deepEqual(readdirSync(dir), []);
});

test('a missing dataset, an unreadable params file or a bad config argument: one warning each, the run is still recorded', () => {
  const ws = workspace(`
import runlens
runlens.init(datasets=["missing", "data"], config_files=["broken.yaml"], config=42, params={"ok": 1})
runlens.log({"loss": 1.0})
`, { store: true, git: false });
  writeFileSync(join(ws, 'broken.yaml'), 'a: &x 1\nb: *x\n');
  const r = py(['train.py'], ws);
  assert.equal(r.status, 0, r.stderr);
  const warnings = r.stderr.split('\n').filter(Boolean);
  assert.equal(warnings.length, 3, r.stderr);
  assert.match(warnings[0]!, /^runlens: could not record params file .*broken\.yaml/);
  assert.match(warnings[1]!, /^runlens: could not record config \(TypeError/);
  assert.match(warnings[2]!, /^runlens: could not record dataset .*missing \(FileNotFoundError/);
  const [run] = runs(join(ws, '.runlens'));
  assert.deepEqual(run!.inbox.params, { lr: 0.3, 'model.depth': 3, 'model.act': 'relu', ok: 1 });
  assert.deepEqual(run!.inbox.datasets.map((d: any) => d.path), ['data']);
  assert.deepEqual(points(run!), [[0, { loss: 1 }]]);
});

test('huge and malicious params keep the inbox file strict JSON', () => {
  const ws = workspace(`
import math, runlens
deep = {}
d = deep
for i in range(1000):
    d["x"] = {}
    d = d["x"]
loop = {"a": 1}
loop["self"] = loop
shared = [0]
for i in range(40):
    shared = [shared, shared]  # 2**40 paths: must not be walked
class Bad:
    def __str__(self): raise ValueError("no")
    def __repr__(self): raise ValueError("no")
wide = {"k%d" % i: i for i in range(10000)}
runlens.init(params={"nan": float("nan"), "inf": math.inf, "ninf": -math.inf, "deep": deep, "loop": loop, "shared": shared,
                     "bad": Bad(), 3: "int key", (1, 2): "tuple key", "bytes": b"\\xff", "set": {1}, "wide": wide, "none": None,
                     "list": [1.0, float("nan"), "s", None, True]})
`, { store: true, git: false });
  const r = py(['train.py'], ws);
  assert.equal(r.status, 0, r.stderr);
  const [run] = runs(join(ws, '.runlens'));
  assert.doesNotMatch(run!.inboxText, /[:,[]\s*-?(NaN|Infinity)\b/, 'no bare NaN / Infinity tokens');
  const p = run!.inbox.params;
  assert.equal(p.nan, 'NaN');
  assert.equal(p.inf, 'Infinity');
  assert.equal(p.ninf, '-Infinity');
  assert.equal(p['wide.k9999'], 9999);
  assert.equal(Object.keys(p).filter((k) => k.startsWith('wide.')).length, 10000);
  assert.equal(p['3'], 'int key');
  assert.equal(p.list, '[1,"NaN","s",null,true]', 'a list is JSON text, as the extension flattens it');
  assert.ok(!('none' in p), 'None is left out');
  assert.equal(typeof p.bad, 'string');
  assert.ok(Object.keys(p).some((k) => k.startsWith('deep.x.x')));
  assert.ok(run!.inboxText.length < 2_000_000, `bounded size (${run!.inboxText.length})`);
  assert.equal(run!.exit.code, 0);
});

test('how a run started: terminal, debug and ci from the environment, script otherwise', () => {
  const ws = workspace('import runlens\nrunlens.log({"x": 1.0})\n', { store: true, git: false });
  const cases: [{ [k: string]: string }, string][] = [
    [{}, 'script'], [{ RUNLENS_SOURCE: 'terminal' }, 'terminal'], [{ RUNLENS_SOURCE: 'debug' }, 'debug'], [{ CI: 'true' }, 'ci'],
    [{ CI: 'true', RUNLENS_SOURCE: 'terminal' }, 'terminal'],
  ];
  for (const [env] of cases) assert.equal(py(['train.py'], ws, env).status, 0);
  assert.deepEqual(runs(join(ws, '.runlens')).map((x) => x.inbox.source), cases.map(([, s]) => s));
  const debug = py(['-c', 'import sys, types; sys.modules["debugpy"] = types.ModuleType("debugpy")\nimport runlens; runlens.init()'], ws);
  assert.equal(debug.status, 0, debug.stderr);
  assert.equal(runs(join(ws, '.runlens')).at(-1)!.inbox.source, 'debug', 'debugpy loaded');
});

test('a forked child logs into its parent\'s run and does not end it', { skip: process.platform === 'win32' }, () => {
  const ws = workspace(`
import os, sys, runlens
runlens.init()
runlens.log({"parent": 0.0})
pid = os.fork()
if pid == 0:
    runlens.log({"child": 1.0}, step=100)
    sys.exit(5)  # runs the child's atexit handlers
os.waitpid(pid, 0)
runlens.log({"parent": 2.0})
`, { store: true, git: false });
  const r = py(['train.py'], ws);
  assert.equal(r.status, 0, r.stderr);
  const all = runs(join(ws, '.runlens'));
  assert.equal(all.length, 1);
  assert.equal(all[0]!.exit.code, 0, "the parent's end, not the child's");
  assert.deepEqual(points(all[0]!).sort((a, b) => (a[0] as number) - (b[0] as number)), [[0, { parent: 0 }], [1, { parent: 2 }], [100, { child: 1 }]]);
});

test('a RunLens launch: packages.json once beside the metrics file; init() logs params and tags, no inbox', () => {
  const dir = tempDir('runlens-launch-');
  const file = join(dir, 'runs', 'u1', 'metrics.jsonl');
  mkdirSync(join(dir, 'runs', 'u1'), { recursive: true });
  const script = `
import runlens
print(runlens.init(name="ignored", params={"lr": 0.1, "m": {"d": 2}}, tags={"t": 1}))
runlens.log({"loss": 1.0})
`;
  const r = py(['-c', script], dir, { RUNLENS_METRICS_FILE: file });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, 'None\n');
  const packages = join(dir, 'runs', 'u1', 'packages.json');
  const first = JSON.parse(readFileSync(packages, 'utf8'));
  assert.deepEqual(Object.keys(first).sort(), ['conda', 'list']);
  assert.ok(first.list.length > 0);
  const ino = statSync(packages).ino;
  assert.equal(py(['-c', script], dir, { RUNLENS_METRICS_FILE: file }).status, 0);
  assert.equal(statSync(packages).ino, ino, 'written once');
  const records = readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => decodeLine(l));
  assert.deepEqual(records.filter((x) => x.kind === 'params').map((x: any) => x.params), [{ lr: 0.1, 'm.d': 2 }, { lr: 0.1, 'm.d': 2 }]);
  assert.deepEqual(records.filter((x) => x.kind === 'tags').map((x: any) => x.tags), [{ t: '1' }, { t: '1' }]);
  assert.deepEqual(readdirSync(dir), ['runs']);
});

/** A python3 that can run a notebook headless (Debian's python3-nbclient and python3-ipykernel), or undefined. */
function notebookPython(): string | undefined {
  for (const p of ['python3', '/usr/bin/python3']) {
    const r = spawnSync(p, ['-c', 'import nbclient, nbformat, ipykernel'], { encoding: 'utf8' });
    if (r.status === 0) return p;
  }
  return undefined;
}

const nbPython = notebookPython();

test('a notebook run through a real Jupyter kernel: init() starts runs, the next init() and kernel shutdown end them',
  { skip: nbPython ? false : 'no python3 with nbclient and ipykernel (Debian: apt-get install python3-nbclient python3-ipykernel)' }, () => {
    const ws = workspace('', { git: false, store: true });
    const nb = join(ws, 'train.ipynb');
    const cell = (source: string) => ({ cell_type: 'code', metadata: {}, execution_count: null, outputs: [], source });
    writeFileSync(nb, JSON.stringify({
      nbformat: 4, nbformat_minor: 5, metadata: { kernelspec: { name: 'python3', display_name: 'Python 3', language: 'python' } },
      cells: [
        cell(`__vsc_ipynb_file__ = ${JSON.stringify(nb)}  # what VS Code sets`),
        cell('import runlens\nuid1 = runlens.init(name="nb-1", params={"lr": 0.1})'),
        cell('for i in range(5):\n    runlens.log({"loss": 1.0 / (i + 1)})'),
        cell('uid2 = runlens.init(name="nb-2")\nrunlens.log({"acc": 0.5})'),
        cell('raise_in_a_cell_is_not_the_end = 1'),
      ],
    }));
    const r = py(['-c', `
import nbformat, sys
from nbclient import NotebookClient
nb = nbformat.read(sys.argv[1], as_version=4)
NotebookClient(nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": sys.argv[2]}}).execute()
`, nb, ws], ws, { JPY_SESSION_NAME: join(ws, 'not-this.ipynb') }, nbPython);
    assert.equal(r.status, 0, r.stderr);
    const all = runs(join(ws, '.runlens'));
    assert.deepEqual(all.map((x) => x.inbox.name), ['nb-1', 'nb-2']);
    for (const run of all) {
      assert.equal(run.inbox.source, 'notebook');
      assert.equal(run.inbox.script, null);
      assert.equal(run.inbox.git, null, 'no git');
      assert.deepEqual(run.inbox.notebook, { path: nb, snapshot: 'notebook.ipynb' }, '__vsc_ipynb_file__ wins over $JPY_SESSION_NAME');
      assert.equal(readFileSync(join(run.dir, 'notebook.ipynb'), 'utf8'), readFileSync(nb, 'utf8'), 'a snapshot of the notebook');
      assert.equal(run.exit?.code, 0, 'ended: by the next init(), then by the kernel shutting down');
    }
    assert.deepEqual(all[0]!.inbox.params, { lr: 0.1 });
    assert.deepEqual(points(all[0]!), [0, 1, 2, 3, 4].map((s) => [s, { loss: 1 / (s + 1) }]));
    assert.deepEqual(points(all[1]!), [[0, { acc: 0.5 }]]);
    assert.ok(all[0]!.exit.endedAt <= all[1]!.inbox.startedAt);
  });
