// The Python helper (media/python/runlens): runs real python3 scripts and checks the metrics file
// they leave against the line format in src/core/ingest/FORMAT.md.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, test } from 'node:test';

const PYTHONPATH = resolve(import.meta.dirname, '../../media/python');

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'runlens-py-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

interface Run { status: number | null; stdout: string; stderr: string; file: string; dir: string }

/** Runs `python3 -c script` with RUNLENS_METRICS_FILE in a fresh folder (unless `file` is null). */
function runPy(script: string, opts: { file?: string | null; env?: { [k: string]: string } } = {}): Run {
  const dir = tempDir();
  const file = opts.file === undefined ? join(dir, 'metrics.jsonl') : opts.file;
  const env: { [k: string]: string | undefined } = { ...process.env, PYTHONPATH, PYTHONDONTWRITEBYTECODE: '1', ...opts.env };
  for (const v of ['RUNLENS_METRICS_FILE', 'RUNLENS_FLUSH_MS', 'RUNLENS_STORE', 'RUNLENS_SOURCE', 'CI']) delete env[v];
  if (file !== null) env.RUNLENS_METRICS_FILE = file;
  Object.assign(env, opts.env);
  const r = spawnSync('python3', ['-c', script], { cwd: dir, env, encoding: 'utf8', timeout: 60_000 });
  if (r.error) throw r.error;
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, file: file ?? '', dir };
}

/** Every line of the file, parsed with strict JSON.parse (no bare NaN / Infinity allowed). */
function readLines(file: string): any[] {
  const text = readFileSync(file, 'utf8');
  assert.ok(text.endsWith('\n'), 'the file ends with a newline');
  return text.split('\n').slice(0, -1).map((line) => JSON.parse(line));
}

interface Point { step: number; t: number; metrics: { [k: string]: unknown } }

/** The `n` little-endian float64 values of one base64 string in a `columns` line. */
function float64s(b64: unknown, n: number): Float64Array {
  assert.equal(typeof b64, 'string');
  assert.match(b64 as string, /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/, 'standard base64 with padding');
  const buf = Buffer.from(b64 as string, 'base64');
  assert.equal(buf.length, n * 8, `${n} float64 values`);
  return new Float64Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.length));
}

/** The records of one `columns` line: checks its shape, decodes its columns. */
function columnPoints(c: any): Point[] {
  assert.deepEqual(Object.keys(c).sort(), ['n', 'step', 'time', 'values']);
  assert.ok(Number.isInteger(c.n) && c.n > 0, `n = ${c.n}`);
  const steps = float64s(c.step, c.n);
  const times = float64s(c.time, c.n);
  const cols = Object.entries(c.values as { [k: string]: unknown }).map(([k, v]) => [k, float64s(v, c.n)] as const);
  assert.ok(cols.length > 0, 'a columns line has values');
  const out: Point[] = [];
  for (let i = 0; i < c.n; i++) out.push({ step: steps[i]!, t: times[i]!, metrics: Object.fromEntries(cols.map(([k, col]) => [k, col[i]])) });
  return out;
}

/** Metric records from `metrics`, `batch` and `columns` lines, in file order. */
function points(lines: any[]): Point[] {
  const out: Point[] = [];
  for (const l of lines) {
    assert.equal(typeof l.t, 'number');
    if (Array.isArray(l.batch)) for (const [step, t, metrics] of l.batch) out.push({ step, t, metrics });
    else if (l.columns) out.push(...columnPoints(l.columns));
    else if (l.metrics) out.push({ step: l.step, t: l.t, metrics: l.metrics });
  }
  return out;
}

const kinds = (lines: any[]) => lines.map((l) => ['batch', 'columns', 'metrics', 'params', 'tags', 'artifact', 'model'].find((k) => k in l));

test('metrics with explicit and implicit steps come out in order, with the resolved step written', () => {
  const before = Date.now() / 1000;
  const r = runPy(`
import runlens
runlens.log({"loss": 1.5, "acc": 0.25})
runlens.log({"loss": 1.25})
runlens.log({"loss": 1.0}, step=10)
runlens.log({"loss": 0.75})
runlens.log({"loss": 0.5}, step=3)
runlens.log({"loss": 0.25})
`);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stderr, '');
  const got = points(readLines(r.file));
  assert.deepEqual(got.map((p) => [p.step, p.metrics]), [
    [0, { loss: 1.5, acc: 0.25 }],
    [1, { loss: 1.25 }],
    [10, { loss: 1.0 }],
    [11, { loss: 0.75 }],
    [3, { loss: 0.5 }],
    [4, { loss: 0.25 }],
  ]);
  for (const p of got) {
    assert.ok(Number.isInteger(p.step));
    assert.ok(p.t >= before - 1 && p.t <= Date.now() / 1000 + 1, `t ${p.t} is wall time in seconds`);
  }
  for (let i = 1; i < got.length; i++) assert.ok(got[i]!.t >= got[i - 1]!.t, 'times do not go back');
});

test('number-like values are converted, bools count as 0/1, and later changes to the dict do not leak in', () => {
  const r = runPy(`
import runlens, decimal, fractions
class Scalar:  # like a numpy or torch scalar
    def __float__(self): return 0.125
d = {"a": Scalar(), "b": decimal.Decimal("2.5"), "c": fractions.Fraction(1, 4), "d": True, "e": 7}
runlens.log(d, step=5)
d["e"] = 8
d["f"] = 9.0
plain = {"x": 1.0}
runlens.log(plain)
plain["x"] = 2.0
plain["y"] = 3.0
`);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stderr, '');
  assert.deepEqual(points(readLines(r.file)).map((p) => [p.step, p.metrics]), [
    [5, { a: 0.125, b: 2.5, c: 0.25, d: 1, e: 7 }],
    [6, { x: 1.0 }],
  ]);
});

test('NaN and infinities are native float64 in columns, and the strings "NaN", "Infinity", "-Infinity" in JSON', () => {
  const r = runPy(`
import runlens, math
runlens.log({"loss": 0.5, "acc": 0.1}, step=0)
runlens.log({"loss": float("nan"), "acc": math.inf}, step=1)
runlens.log({"loss": -math.inf, "acc": 0.2}, step=2)
runlens.log({"solo": float("nan"), "neg": -math.inf}, step=3)  # a key set seen once: a batch line
runlens.log_params({"lr": float("nan"), "deep": {"x": math.inf}})
`);
  assert.equal(r.status, 0, r.stderr);
  const text = readFileSync(r.file, 'utf8');
  assert.doesNotMatch(text, /[:,[]\s*-?(NaN|Infinity)\b/, 'no bare NaN / Infinity tokens');
  const lines = readLines(r.file);
  assert.deepEqual(kinds(lines), ['columns', 'batch', 'params']);
  assert.deepEqual(points(lines).map((p) => p.metrics), [
    { loss: 0.5, acc: 0.1 },
    { loss: NaN, acc: Infinity },
    { loss: -Infinity, acc: 0.2 },
    { solo: 'NaN', neg: '-Infinity' },
  ]);
  assert.deepEqual(lines.at(-1).params, { lr: 'NaN', deep: { x: 'Infinity' } });
});

test('columns lines hold exact steps, times and values; each run of 3+ records with the same keys gets its own line, in order', () => {
  // A fake clock (the helper's internal time source) makes every record's time known exactly.
  const r = runPy(`
import math, runlens, runlens._core as core
now = [0.0]
core._time = lambda: now[0]
runlens.configure(flush_interval_ms=1e9)  # no flush by time: one flush at the end
records = [
    (0, {"loss": 1.5, "acc": 0.25}),
    (10, {"acc": float("nan"), "loss": math.inf}),  # same keys in another order: same run
    (20, {"loss": -math.inf, "acc": -0.0}),
    (30, {"loss": 1 / 3, "lr": 1e-300}),  # other keys: a line of its own
    (31, {"loss": 2 / 3, "lr": 5e-324}),
    (32, {"loss": 0.0625, "lr": 3}),
    (40, {"loss": 0.1}),  # keys seen once: a batch line
    (50, {"loss": 0.2, "extra": 7}),  # a run of 2: in the same batch line
    (60, {"loss": 0.3, "extra": float("nan")}),
    (2**40, {"loss": 1.0, "acc": 1.7976931348623157e308}),
    (2**40 + 1, {"loss": 2.0, "acc": True}),
    (2**40 + 2, {"acc": 0.5, "loss": -1e-310}),
]
for i, (step, m) in enumerate(records):
    now[0] = 1700000000.0 + i * 0.25 + 1 / 3
    runlens.log(m, step=step)
now[0] = 1700000100.5
runlens.flush()
`);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stderr, '');
  const lines = readLines(r.file);
  assert.deepEqual(kinds(lines), ['columns', 'columns', 'batch', 'columns']);
  for (const l of lines) assert.equal(l.t, 1700000100.5);
  assert.deepEqual(lines.filter((l) => l.columns).map((l) => [l.columns.n, Object.keys(l.columns.values)]), [
    [3, ['loss', 'acc']],
    [3, ['loss', 'lr']],
    [3, ['loss', 'acc']],
  ]);
  const t = (i: number) => 1700000000.0 + i * 0.25 + 1 / 3;
  assert.deepEqual(points(lines), [
    { step: 0, t: t(0), metrics: { loss: 1.5, acc: 0.25 } },
    { step: 10, t: t(1), metrics: { loss: Infinity, acc: NaN } },
    { step: 20, t: t(2), metrics: { loss: -Infinity, acc: -0 } },
    { step: 30, t: t(3), metrics: { loss: 1 / 3, lr: 1e-300 } },
    { step: 31, t: t(4), metrics: { loss: 2 / 3, lr: 5e-324 } },
    { step: 32, t: t(5), metrics: { loss: 0.0625, lr: 3 } },
    { step: 40, t: t(6), metrics: { loss: 0.1 } },
    { step: 50, t: t(7), metrics: { loss: 0.2, extra: 7 } },
    { step: 60, t: t(8), metrics: { loss: 0.3, extra: 'NaN' } },
    { step: 2 ** 40, t: t(9), metrics: { loss: 1, acc: 1.7976931348623157e308 } },
    { step: 2 ** 40 + 1, t: t(10), metrics: { loss: 2, acc: 1 } },
    { step: 2 ** 40 + 2, t: t(11), metrics: { loss: -1e-310, acc: 0.5 } },
  ]);
  assert.ok(Object.is(points(lines)[2]!.metrics.acc, -0), '-0.0 keeps its sign');
});

test('number-like values, non-string keys and ints too large for a float64 in runs of records', () => {
  const r = runPy(`
import runlens, decimal, fractions
class Scalar:  # like a numpy or torch scalar
    def __float__(self): return 0.125
for i in range(3):
    runlens.log({"a": Scalar(), "b": decimal.Decimal("2.5"), "c": fractions.Fraction(1, 4), "d": i % 2 == 0, "e": 7})
for i in range(3):
    runlens.log({1: 0.5, "x": 1.0})  # a non-string key: JSON turns it into "1"
for i in range(3):
    runlens.log({"big": 10**400, "x": 2.0})  # too large for a float64: written as JSON
for i in range(3):
    runlens.log({"name": "n", "x": float(i)})  # the string is dropped; x alone is a run
`);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stderr.split('\n').filter(Boolean).length, 1, r.stderr);
  assert.match(r.stderr, /metric 'name' has a non-numeric value \(str\); skipping it/);
  const lines = readLines(r.file);
  assert.deepEqual(kinds(lines), ['columns', 'batch', 'columns']);
  assert.deepEqual(points(lines).map((p) => [p.step, p.metrics]), [
    [0, { a: 0.125, b: 2.5, c: 0.25, d: 1, e: 7 }],
    [1, { a: 0.125, b: 2.5, c: 0.25, d: 0, e: 7 }],
    [2, { a: 0.125, b: 2.5, c: 0.25, d: 1, e: 7 }],
    [3, { 1: 0.5, x: 1 }],
    [4, { 1: 0.5, x: 1 }],
    [5, { 1: 0.5, x: 1 }],
    [6, { big: Infinity, x: 2 }],
    [7, { big: Infinity, x: 2 }],
    [8, { big: Infinity, x: 2 }],
    [9, { x: 0 }],
    [10, { x: 1 }],
    [11, { x: 2 }],
  ]);
});

test('a non-numeric value is skipped with one warning for its key; the other values are kept', () => {
  const r = runPy(`
import runlens
for i in range(3):
    runlens.log({"loss": 1.0 / (i + 1), "name": "resnet", "none": None})
runlens.log({"name": "only"})
runlens.log({"loss": 0.125})
`);
  assert.equal(r.status, 0, r.stderr);
  const warnings = r.stderr.split('\n').filter(Boolean);
  assert.equal(warnings.filter((w) => w.includes("'name'")).length, 1, r.stderr);
  assert.equal(warnings.filter((w) => w.includes("'none'")).length, 1, r.stderr);
  assert.equal(warnings.length, 2, r.stderr);
  const got = points(readLines(r.file));
  assert.deepEqual(got.map((p) => [p.step, p.metrics]), [
    [0, { loss: 1 }],
    [1, { loss: 0.5 }],
    [2, { loss: 1 / 3 }],
    [4, { loss: 0.125 }],
  ]);
});

test('params are written nested, tags as strings, artifacts and models as given', () => {
  const r = runPy(`
import runlens, pathlib
runlens.log_params({"lr": 0.1, "epochs": 3, "model": {"depth": 3, "act": "relu", "sizes": (64, 32)}, "use_bn": False})
runlens.set_tags({"owner": "ana", "seed": 42})
runlens.log_artifact(pathlib.Path("outputs") / "model.json")
runlens.log_artifact("outputs/plots")
runlens.log_model("clf", "outputs/model.pt", {"acc": 0.9, "framework": "torch"})
runlens.log_model("tiny", pathlib.Path("m.bin"))
`);
  assert.equal(r.status, 0, r.stderr);
  const lines = readLines(r.file);
  assert.deepEqual(kinds(lines), ['params', 'tags', 'artifact', 'artifact', 'model', 'model']);
  assert.deepEqual(lines[0].params, { lr: 0.1, epochs: 3, model: { depth: 3, act: 'relu', sizes: [64, 32] }, use_bn: false });
  assert.deepEqual(lines[1].tags, { owner: 'ana', seed: '42' });
  assert.deepEqual(lines[2].artifact, { path: 'outputs/model.json' });
  assert.deepEqual(lines[3].artifact, { path: 'outputs/plots' });
  assert.deepEqual(lines[4].model, { name: 'clf', path: 'outputs/model.pt', metadata: { acc: 0.9, framework: 'torch' } });
  assert.equal(lines[5].model.name, 'tiny');
  assert.equal(lines[5].model.path, 'm.bin');
  for (const l of lines) assert.equal(typeof l.t, 'number');
});

test('buffered metrics are written before a params record that follows them, and later ones after it', () => {
  const r = runPy(`
import runlens
for i in range(5):
    runlens.log({"loss": float(i)})
runlens.log_params({"lr": 0.1})
for i in range(2):
    runlens.log({"loss": 10.0 + i})
runlens.set_tags({"phase": "end"})
`);
  assert.equal(r.status, 0, r.stderr);
  const lines = readLines(r.file);
  assert.deepEqual(kinds(lines), ['columns', 'params', 'batch', 'tags']); // a run of 2 stays JSON
  assert.deepEqual(points([lines[0]]).map((p) => p.step), [0, 1, 2, 3, 4]);
  assert.deepEqual(points([lines[2]]).map((p) => [p.step, p.metrics.loss]), [[5, 10], [6, 11]]);
});

test('a script that logs once and then sleeps has its metrics written by the timer', async () => {
  const dir = tempDir();
  const file = join(dir, 'metrics.jsonl');
  const env: { [k: string]: string | undefined } = { ...process.env, PYTHONPATH, RUNLENS_METRICS_FILE: file };
  delete env.RUNLENS_FLUSH_MS; // the default interval, 250 ms
  const child = spawn('python3', ['-c', `
import runlens, sys, time
runlens.log({"loss": 0.5}, step=7)
print("logged", flush=True)
time.sleep(30)
`], { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
  try {
    let stderr = '';
    child.stderr.on('data', (b) => (stderr += b));
    await new Promise<void>((ok, fail) => {
      child.stdout.on('data', (b) => String(b).includes('logged') && ok());
      child.on('exit', () => fail(new Error(`exited early: ${stderr}`)));
    });
    await new Promise((ok) => setTimeout(ok, 600));
    assert.equal(child.exitCode, null, 'the script is still sleeping');
    assert.ok(existsSync(file), 'the file was written while the script sleeps');
    assert.deepEqual(points(readLines(file)).map((p) => [p.step, p.metrics]), [[7, { loss: 0.5 }]]);
  } finally {
    child.kill('SIGKILL');
  }
});

test('everything buffered is written at exit, also when the script ends with an exception', () => {
  const ok = runPy(`
import runlens
for i in range(5):
    runlens.log({"loss": 1.0 / (i + 1)})
`);
  assert.equal(ok.status, 0, ok.stderr);
  assert.deepEqual(points(readLines(ok.file)).map((p) => p.step), [0, 1, 2, 3, 4]);

  const failed = runPy(`
import runlens
for i in range(3):
    runlens.log({"loss": 1.0 / (i + 1)})
raise RuntimeError("boom")
`);
  assert.equal(failed.status, 1);
  assert.match(failed.stderr, /RuntimeError: boom/);
  assert.deepEqual(points(readLines(failed.file)).map((p) => p.step), [0, 1, 2]);
});

test('without RUNLENS_METRICS_FILE the records go to a run in the store, in the same lines, and nothing into the working folder', () => {
  const store = join(tempDir(), 'store');
  const r = runPy(`
import runlens
runlens.log({"loss": 1.0})
runlens.log_params({"lr": 0.1})
runlens.log({"loss": 0.5})
runlens.flush()
runlens.log({"loss": 0.25})
`, { file: null, env: { RUNLENS_STORE: store } });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stderr, '');
  assert.deepEqual(readdirSync(r.dir), [], 'no runlens-metrics.jsonl any more');
  const [uid, ...others] = readdirSync(join(store, 'runs'));
  assert.ok(uid && others.length === 0, 'one run');
  const lines = readLines(join(store, 'runs', uid, 'metrics.jsonl'));
  assert.deepEqual(kinds(lines), ['batch', 'params', 'batch', 'batch']);
  assert.deepEqual(points(lines).map((p) => p.step), [0, 1, 2]);
});

test('an unwritable target gives one warning and no traceback, and the script still exits 0', () => {
  const dir = tempDir();
  const target = join(dir, 'a-folder');
  mkdirSync(target);
  const r = runPy(`
import runlens
for i in range(5000):  # more than one batch: log() itself tries to write
    runlens.log({"loss": 1.0 / (i + 1)})
runlens.log_params({"lr": 0.1})
runlens.flush()
runlens.finish()
print("done")
`, { file: target });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, 'done\n');
  assert.doesNotMatch(r.stderr, /Traceback/);
  assert.equal(r.stderr.split('\n').filter((l) => l.includes('cannot write to')).length, 1, r.stderr);
  assert.ok(r.stderr.includes(target), r.stderr);
});

test('data kept while the file cannot be written goes out once it can', () => {
  const dir = tempDir();
  const file = join(dir, 'later', 'metrics.jsonl');
  const r = runPy(`
import os, runlens
target = os.environ["RUNLENS_METRICS_FILE"]
os.makedirs(target)  # a folder where the file should be: writing fails
for i in range(3):
    runlens.log({"loss": float(i)})
runlens.log_params({"lr": 0.1})
os.rmdir(target)  # now the file can be created
runlens.log({"loss": 3.0})
`, { file });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stderr.split('\n').filter((l) => l.includes('cannot write to')).length, 1, r.stderr);
  const lines = readLines(file);
  assert.deepEqual(kinds(lines), ['columns', 'params', 'batch']);
  assert.deepEqual(points(lines).map((p) => p.metrics.loss), [0, 1, 2, 3]);
});

test('two threads logging at once produce valid lines and every record exactly once', () => {
  const r = runPy(`
import sys, threading, runlens
sys.setswitchinterval(1e-6)  # switch threads as often as possible, to give races a chance
runlens.configure(batch_size=16)  # and flush often
N = 20000
def work(name):
    for i in range(N):
        runlens.log({name: float(i), "i": i}, step=i)
threads = [threading.Thread(target=work, args=(n,)) for n in ("a", "b")]
for t in threads: t.start()
for t in threads: t.join()
`, { env: { RUNLENS_FLUSH_MS: '2' } });
  assert.equal(r.status, 0, r.stderr);
  const lines = readLines(r.file); // throws on a line that is not valid JSON
  assert.ok(lines.length > 100, `many flushes (${lines.length} lines)`);
  const got = points(lines);
  assert.equal(got.length, 40_000);
  for (const name of ['a', 'b']) {
    const mine = got.filter((p) => name in p.metrics);
    assert.equal(mine.length, 20_000);
    const steps = new Set(mine.map((p) => p.step));
    assert.equal(steps.size, 20_000, `${name}: no step lost or repeated`);
    assert.ok(mine.every((p) => p.metrics[name] === p.step && p.metrics.i === p.step));
    // Each thread's own records stay in the order it logged them.
    assert.ok(mine.every((p, i) => p.step === i), `${name}: in order`);
  }
});

test('a forked child writes only its own records, not the parent\'s buffered ones', { skip: process.platform === 'win32' }, () => {
  const r = runPy(`
import os, runlens
for i in range(3):
    runlens.log({"parent": float(i)})
pid = os.fork()
if pid == 0:
    runlens.log({"child": 1.0}, step=100)
    runlens.finish()
    os._exit(0)
os.waitpid(pid, 0)
runlens.log({"parent": 3.0})
`);
  assert.equal(r.status, 0, r.stderr);
  const got = points(readLines(r.file));
  assert.deepEqual(got.map((p) => [p.step, p.metrics]).sort((a, b) => (a[0] as number) - (b[0] as number)), [
    [0, { parent: 0 }],
    [1, { parent: 1 }],
    [2, { parent: 2 }],
    [3, { parent: 3 }],
    [100, { child: 1 }],
  ]);
});

test('a file left without its last newline (a killed writer) gets one before the first write; a whole file gets none', () => {
  const dir = tempDir();
  const torn = join(dir, 'torn.jsonl');
  const whole = join(dir, 'whole.jsonl');
  writeFileSync(torn, '{"t": 1, "metrics": {"a": 1}}\n{"t": 2, "metr');
  writeFileSync(whole, '{"t": 1, "metrics": {"a": 1}}\n');
  const script = `
import runlens
runlens.log({"loss": 0.5}, step=3)
runlens.finish()  # closes the file; the next write opens it again
runlens.log({"loss": 0.25}, step=4)
`;
  for (const file of [torn, whole]) assert.equal(runPy(script, { file }).status, 0);
  const tornLines = readFileSync(torn, 'utf8').split('\n');
  assert.deepEqual(tornLines.slice(0, 2), ['{"t": 1, "metrics": {"a": 1}}', '{"t": 2, "metr'], 'the fragment ends its own line');
  assert.doesNotMatch(readFileSync(whole, 'utf8'), /\n\n/, 'no empty line in a file that ended in a newline');
  assert.deepEqual(points(readLines(whole)).map((p) => [p.step, p.metrics]), [[undefined, { a: 1 }], [3, { loss: 0.5 }], [4, { loss: 0.25 }]]);
  assert.deepEqual(points(tornLines.slice(2, -1).map((l) => JSON.parse(l))).map((p) => p.step), [3, 4]);
  assert.equal(tornLines.at(-1), '', 'ends with a newline');
});
