import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { test } from 'node:test';
import { Store } from '../../src/core/store/store.ts';
import { launch, runEnvironment } from '../../src/core/runs/launch.ts';
import { RunMonitor } from '../../src/core/runs/runMonitor.ts';
import { markStopAsked, readProcess, runFolder, stopProcess } from '../../src/core/runs/runProcess.ts';
import { StdoutParser } from '../../src/core/ingest/stdoutParser.ts';
import { tempDir, followUntilEnded } from './helpers.ts';

const root = join(import.meta.dirname, '..', '..');
const wrapper = join(root, 'media', 'run-wrapper.cjs');
const parser = new StdoutParser();
const parse = (line: string) => parser.parse(line);

/** A Python script that writes JSON lines to $RUNLENS_METRICS_FILE, as any language may. */
const jsonlScript = (n: number, delay: number, exitCode = 0) => `
import json, os, sys, time
f = open(os.environ["RUNLENS_METRICS_FILE"], "a")
f.write(json.dumps({"t": time.time(), "params": {"lr": 0.1}}) + "\\n"); f.flush()
for i in range(${n}):
    f.write(json.dumps({"t": time.time(), "step": i, "metrics": {"loss": 1.0 / (i + 1)}}) + "\\n"); f.flush()
    print("step", i, flush=True)
    time.sleep(${delay})
sys.exit(${exitCode})
`;

function setup() {
  const dir = tempDir();
  const storeDir = join(dir, '.runlens');
  const store = Store.open(storeDir);
  const env = runEnvironment(process.env, join(root, 'media', 'python'), delimiter);
  const start = (code: string, name = 'r') => launch(store, storeDir, wrapper,
    { name, spec: { command: 'python3', args: ['-c', code], shell: false, cwd: dir, env } });
  return { dir, storeDir, store, start };
}

test('a run is launched, its metrics and params stream in, and it finishes with exit code 0', async () => {
  const { store, storeDir, start } = setup();
  const run = start(jsonlScript(20, 0.01));
  assert.equal(run.status, 'running');
  const monitor = new RunMonitor(store, storeDir, { parse });
  monitor.track(run);
  await followUntilEnded(monitor, run.id);
  const done = store.runs.get(run.id)!;
  assert.equal(done.status, 'finished');
  assert.equal(done.exitCode, 0);
  assert.ok(done.endedAt! >= done.startedAt!);
  assert.deepEqual(Array.from(store.metrics.points(run.id, 'loss').steps), Array.from({ length: 20 }, (_, i) => i));
  assert.deepEqual(store.runs.params(run.id), { lr: 0.1 });
  assert.deepEqual(store.metrics.summaries(run.id).map((s) => s.key), ['loss'], 'printed "step i" lines are not metrics');
  store.close();
});

test('a non-zero exit is failed, with its exit code; a missing program fails the same way', async () => {
  const { store, storeDir, start, dir } = setup();
  const monitor = new RunMonitor(store, storeDir, { parse });
  const run = start(jsonlScript(2, 0, 3));
  monitor.track(run);
  await followUntilEnded(monitor, run.id);
  assert.equal(store.runs.get(run.id)!.status, 'failed');
  assert.equal(store.runs.get(run.id)!.exitCode, 3);
  const missing = launch(store, storeDir, wrapper, { spec: { command: 'no-such-program-xyz', args: [], shell: false, cwd: dir, env: process.env } });
  monitor.track(missing);
  await followUntilEnded(monitor, missing.id);
  assert.equal(store.runs.get(missing.id)!.status, 'failed');
  assert.equal(store.runs.get(missing.id)!.exitCode, 127);
  store.close();
});

test('a script that only prints metrics gets them from its output', async () => {
  const { store, storeDir, start } = setup();
  const run = start('for e in range(1, 6): print(f"epoch={e} step={e} train_loss={1/e:.4f} val_acc={e/10:.4f}", flush=True)');
  const monitor = new RunMonitor(store, storeDir, { parse });
  monitor.track(run);
  await followUntilEnded(monitor, run.id);
  assert.deepEqual(Array.from(store.metrics.points(run.id, 'val_acc').values), [0.1, 0.2, 0.3, 0.4, 0.5]);
  assert.deepEqual(Array.from(store.metrics.points(run.id, 'train_loss').steps), [1, 2, 3, 4, 5]);
  store.close();
});

test('the process survives a reload: a new window reattaches and loses or repeats nothing', async () => {
  const { store, storeDir, start } = setup();
  const run = start(jsonlScript(40, 0.05));
  const first = new RunMonitor(store, storeDir, { parse });
  first.track(run);
  // Wait for a few lines (not a fixed time: a loaded machine starts Python slowly).
  for (let i = 0; i < 400 && !(existsSync(runFolder(storeDir, run.uid).metrics)
    && readFileSync(runFolder(storeDir, run.uid).metrics, 'utf8').split('\n').length > 4); i++) await new Promise((r) => setTimeout(r, 50));
  first.tick();
  const partial = store.metrics.points(run.id, 'loss').values.length;
  assert.ok(partial > 0 && partial < 40, `some points before the reload (${partial})`);
  first.dispose(); // the window goes away (its lease with it); the process keeps running
  store.close();

  const again = Store.open(storeDir);
  const second = new RunMonitor(again, storeDir, { parse });
  assert.deepEqual(second.recover(), { reattached: 1, ended: 0 });
  await followUntilEnded(second, run.id);
  assert.equal(again.runs.get(run.id)!.status, 'finished');
  assert.deepEqual(Array.from(again.metrics.points(run.id, 'loss').steps), Array.from({ length: 40 }, (_, i) => i));
  again.close();
});

test('a launched run that uses the helper has its installed packages recorded when it ends, by the monitor that ends it', async () => {
  const { store, storeDir, start } = setup();
  const run = start('import runlens\nrunlens.log({"loss": 1.0}, step=0)\nrunlens.finish()');
  const monitor = new RunMonitor(store, storeDir, { parse });
  monitor.track(run);
  await followUntilEnded(monitor, run.id);
  assert.equal(store.runs.get(run.id)!.status, 'finished');
  const packages = store.packages.get(run.id);
  assert.ok(packages, 'packages recorded');
  assert.ok(packages.list.length > 0, 'the packages this python has');
  store.close();
});

test('stopping sends SIGINT to the group and the run is marked stopped', async () => {
  const { store, storeDir, start } = setup();
  const run = start('import time\nwhile True: time.sleep(0.05)');
  const monitor = new RunMonitor(store, storeDir, { parse });
  monitor.track(run);
  await new Promise((r) => setTimeout(r, 300));
  monitor.markStopping(run.id);
  const signal = await stopProcess(readProcess(storeDir, run.uid)!, { int: 3000, term: 2000 });
  assert.equal(signal, 'SIGINT', 'Python stops on the first signal');
  await followUntilEnded(monitor, run.id);
  assert.equal(store.runs.get(run.id)!.status, 'stopped');
  store.close();
});

test('a stop asked before a monitor follows the run (a trial stopped as it starts, a monitor rebuilt meanwhile) still ends it as stopped', async () => {
  const { store, storeDir, start } = setup();
  const run = start('import time\ntime.sleep(30)');
  const stopRequests = new Set<number>();
  const first = new RunMonitor(store, storeDir, { parse, stopRequests });
  first.markStopping(run.id); // not followed yet
  first.dispose();
  const info = readProcess(storeDir, run.uid)!;
  process.kill(-info.pid, 'SIGKILL'); // no exit record: without the request this reads as a crash
  await new Promise((r) => setTimeout(r, 200));
  const second = new RunMonitor(store, storeDir, { parse, stopRequests });
  assert.deepEqual(second.recover(), { reattached: 0, ended: 1 });
  assert.equal(store.runs.get(run.id)!.status, 'stopped');
  store.close();
});

test('a stop asked in the run folder (by another thread or window) before the signal: a process gone without an exit record is stopped', async () => {
  const { store, storeDir, start } = setup();
  const run = start('import time\ntime.sleep(30)');
  const monitor = new RunMonitor(store, storeDir, { parse }); // it never hears of the stop itself
  monitor.track(run);
  markStopAsked(storeDir, run.uid);
  process.kill(-readProcess(storeDir, run.uid)!.pid, 'SIGKILL'); // no chance to write exit.json
  await followUntilEnded(monitor, run.id);
  assert.equal(store.runs.get(run.id)!.status, 'stopped');
  store.close();
});

test('a run whose processes vanish without an exit record is marked crashed on the next look', async () => {
  const { store, storeDir, start } = setup();
  const run = start('import time\ntime.sleep(30)');
  const info = readProcess(storeDir, run.uid)!;
  process.kill(-info.pid, 'SIGKILL'); // wrapper and command, with no chance to write exit.json
  await new Promise((r) => setTimeout(r, 200));
  const monitor = new RunMonitor(store, storeDir, { parse });
  assert.deepEqual(monitor.recover(), { reattached: 0, ended: 1 });
  assert.equal(store.runs.get(run.id)!.status, 'crashed');
  assert.ok(!existsSync(runFolder(storeDir, run.uid).exit));
  store.close();
});
