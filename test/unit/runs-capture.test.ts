import assert from 'node:assert/strict';
import { delimiter, join } from 'node:path';
import { test } from 'node:test';
import { Store } from '../../src/core/store/store.ts';
import { launch, runEnvironment } from '../../src/core/runs/launch.ts';
import { RunMonitor } from '../../src/core/runs/runMonitor.ts';
import { StdoutParser } from '../../src/core/ingest/stdoutParser.ts';
import { tempDir, followUntilEnded } from './helpers.ts';

const root = join(import.meta.dirname, '..', '..');
const wrapper = join(root, 'media', 'run-wrapper.cjs');
const parser = new StdoutParser();
const parse = (line: string) => parser.parse(line);

/** Logs `loss` to the RunLens metrics file and `loss` and `acc` to a Lightning-style metrics.csv. */
const bothScript = (n: number, delay: number) => `
import json, os, time
os.makedirs("logs", exist_ok=True)
f = open(os.environ["RUNLENS_METRICS_FILE"], "a")
c = open("logs/metrics.csv", "w"); c.write("step,loss,acc\\n"); c.flush()
for i in range(${n}):
    f.write(json.dumps({"step": i, "metrics": {"loss": 1.0 / (i + 1)}}) + "\\n"); f.flush()
    time.sleep(0.02)
    c.write(f"{i},{100 + i},{i / 10}\\n"); c.flush()
    time.sleep(${delay})
`;

test('files other tools write in the run folder are captured; a key the metrics file has is kept from it, also after a reload', async () => {
  const dir = tempDir();
  const storeDir = join(dir, '.runlens');
  let store = Store.open(storeDir);
  const env = runEnvironment(process.env, join(root, 'media', 'python'), delimiter);
  const run = launch(store, storeDir, wrapper, { name: 'both', spec: { command: 'python3', args: ['-c', bothScript(30, 0.1)], shell: false, cwd: dir, env } });
  const logged: string[] = [];
  const first = new RunMonitor(store, storeDir, { parse, log: (m) => logged.push(m) });
  first.track(run);
  await new Promise((r) => setTimeout(r, 500));
  first.tick();
  store.close(); // a reload half-way

  store = Store.open(storeDir);
  const second = new RunMonitor(store, storeDir, { parse, log: (m) => logged.push(m) });
  assert.deepEqual(second.recover(), { reattached: 1, ended: 0 });
  await followUntilEnded(second, run.id);
  assert.equal(store.runs.get(run.id)!.status, 'finished');
  const loss = store.metrics.points(run.id, 'loss');
  assert.deepEqual(Array.from(loss.values), Array.from({ length: 30 }, (_, i) => 1 / (i + 1)), 'loss only from the metrics file');
  const acc = store.metrics.points(run.id, 'acc');
  assert.deepEqual(Array.from(acc.steps), Array.from({ length: 30 }, (_, i) => i));
  assert.deepEqual(Array.from(acc.values), Array.from({ length: 30 }, (_, i) => i / 10));
  assert.deepEqual(logged, []);
  store.close();
});

test('a window reload leaves imported "running" runs alone', () => {
  const storeDir = join(tempDir(), '.runlens');
  const store = Store.open(storeDir);
  const run = store.runs.create({ name: 'mlflow-live', experiment: 'x', status: 'running', origin: 'mlflow:/somewhere#abc' });
  const monitor = new RunMonitor(store, storeDir, { parse });
  assert.deepEqual(monitor.recover(), { reattached: 0, ended: 0 });
  assert.equal(store.runs.get(run.id)!.status, 'running');
  assert.deepEqual(monitor.runningIds, []);
  store.close();
});

test("a Keras CSVLogger file named in runlens.yaml's capture (kept in the run's tag) is followed, also after a reload", async () => {
  const dir = tempDir();
  const storeDir = join(dir, '.runlens');
  const store = Store.open(storeDir);
  const env = runEnvironment(process.env, join(root, 'media', 'python'), delimiter);
  const script = `
import os, time
os.makedirs("out", exist_ok=True)
with open("out/history.csv", "w") as f:
    f.write("epoch,accuracy,loss\\n")
    for e in range(5):
        f.write(f"{e},{0.5 + e / 10},{1 / (e + 1)}\\n"); f.flush(); time.sleep(0.05)
`;
  const run = launch(store, storeDir, wrapper, {
    name: 'keras', tags: { 'runlens.capture': JSON.stringify(['out/history.csv']) },
    spec: { command: 'python3', args: ['-c', script], shell: false, cwd: dir, env },
  });
  const monitor = new RunMonitor(store, storeDir, { parse });
  monitor.recover(); // as a reloaded window does: only the run's tag says what to capture
  await followUntilEnded(monitor, run.id);
  const acc = store.metrics.points(run.id, 'accuracy');
  assert.deepEqual(Array.from(acc.steps), [0, 1, 2, 3, 4]);
  assert.deepEqual(Array.from(acc.values), [0, 1, 2, 3, 4].map((e) => 0.5 + e / 10), 'the values Python wrote');
  assert.equal(store.metrics.points(run.id, 'loss').values.length, 5);
  store.close();
});
