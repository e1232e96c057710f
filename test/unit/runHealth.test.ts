// Run health wired into ingest: a launched run's points pass the rules in the transaction that stores them
// (on this thread, or in the ingest worker, where the rules travel with the run), and the stall rule sees
// the run's process: alive but silent, not while a debugger holds it, never once it ended.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { test } from 'node:test';
import { Store } from '../../src/core/store/store.ts';
import { RunMonitor } from '../../src/core/runs/runMonitor.ts';
import { launch, runEnvironment } from '../../src/core/runs/launch.ts';
import { readExit, readProcess, stopProcess } from '../../src/core/runs/runProcess.ts';
import { type HealthRules, resolveRules } from '../../src/core/health/rules.ts';
import { CONFIG_TAG, rulesForRun } from '../../src/core/ingest/healthRules.ts';
import { parseRunConfig } from '../../src/core/config/runConfig.ts';
import type { Run } from '../../src/core/types.ts';
import { INGEST_WORKER, until } from '../fault/fixtures/writerRun.ts';
import { followUntilEnded, tempDir } from './helpers.ts';

const root = join(import.meta.dirname, '..', '..');
const wrapper = join(root, 'media', 'run-wrapper.cjs');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function setup() {
  const dir = tempDir();
  const storeDir = join(dir, '.runlens');
  const store = Store.open(storeDir);
  const env = runEnvironment(process.env, join(root, 'media', 'python'), delimiter);
  const python = (code: string, name = 'py') => launch(store, storeDir, wrapper, { name, experiment: 'health', spec: { command: 'python3', args: ['-c', code], shell: false, cwd: dir, env } });
  return { dir, storeDir, store, python };
}

/** Python that logs `loss` through the helper, NaN at step 6, then waits for `flag` before it ends. */
const nanScript = (flag: string) => [
  'import os, time, runlens',
  'for i in range(10): runlens.log({"loss": float("nan") if i == 6 else 1.0 / (i + 1)}, step=i)',
  'runlens.flush()',
  `while not os.path.exists(${JSON.stringify(flag)}): time.sleep(0.05)`,
].join('\n');

const stallRules = (floor: number): HealthRules => resolveRules(undefined, { stall: { floor, factor: 2 } });

for (const mode of ['inline', 'worker'] as const) {
  test(`${mode}: a run that logs NaN raises one alert at its step while it goes, stored with the run`, async () => {
    const { dir, storeDir, store, python } = setup();
    const flag = join(dir, 'go');
    const run = python(nanScript(flag), 'goes-nan');
    const asked: Run[] = [];
    const monitor = new RunMonitor(store, storeDir, {
      parse: () => undefined, rules: (r) => { asked.push(r); return resolveRules(undefined); },
      ...(mode === 'worker' && { worker: { script: INGEST_WORKER } }),
    });
    monitor.track(run);
    assert.deepEqual(asked.map((r) => r.id), [run.id], 'the rules are asked once, on this thread');
    await until('the NaN alert', () => { monitor.tick(); return store.alerts.list(run.id).length > 0; }, 30_000);
    assert.equal(store.runs.get(run.id)!.status, 'running', 'while it goes');
    writeFileSync(flag, '');
    await followUntilEnded(monitor, run.id);
    const alerts = store.alerts.list(run.id);
    assert.deepEqual(alerts.map((a) => [a.rule, a.key, a.step, a.severity, a.message]), [['nan', 'loss', 6, 'error', 'loss is NaN at step 6']]);
    assert.equal(store.metrics.count(run.id, 'loss'), 10, 'the points are stored as well');
    assert.equal(monitor.inWorker, mode === 'worker');
    monitor.dispose();
    store.close();
  });
}

test('printed metrics pass the rules too; a run without rules is not watched', async () => {
  const { store, storeDir, python } = setup();
  const code = 'for x in ["0.5", "0.4", "Infinity", "0.3"]: print(f"loss={x}", flush=True)';
  const watched = python(code, 'watched');
  const unwatched = python(code, 'unwatched');
  const monitor = new RunMonitor(store, storeDir, {
    parse: (line) => { const m = /^loss=(\S+)$/.exec(line); return m ? { values: { loss: Number(m[1]) } } : undefined; },
    rules: (r) => (r.id === watched.id ? resolveRules(undefined) : undefined),
  });
  monitor.track(watched);
  monitor.track(unwatched);
  await followUntilEnded(monitor, watched.id);
  await followUntilEnded(monitor, unwatched.id);
  assert.equal(store.metrics.count(unwatched.id, 'loss'), 4);
  assert.deepEqual(store.alerts.list(watched.id).map((a) => [a.rule, a.step, a.value]), [['nan', 2, Infinity]]);
  assert.deepEqual(store.alerts.list(unwatched.id), []);
  monitor.dispose();
  store.close();
});

for (const mode of ['inline', 'worker'] as const) {
  test(`${mode}: a silent live run is stalled, not while a debugger holds it, once; an ended one never`, async () => {
    const { storeDir, store, python } = setup();
    const silent = python('import time\nprint("started", flush=True)\ntime.sleep(60)', 'silent');
    const quick = python('print("done")', 'quick');
    const monitor = new RunMonitor(store, storeDir, {
      parse: () => undefined, rules: () => stallRules(0.3), ...(mode === 'worker' && { worker: { script: INGEST_WORKER } }),
    });
    monitor.track(silent);
    monitor.track(quick);
    await monitor.started;
    await until('the quick run to exit', () => readExit(storeDir, quick.uid) !== undefined, 20_000);
    await sleep(1200); // past 3 × the floor (no usual interval yet)
    const pids: (number | undefined)[] = [];
    assert.deepEqual(monitor.checkStalls((_, pid) => { pids.push(pid); return true; }), [], 'held at a breakpoint');
    assert.deepEqual(pids, [readProcess(storeDir, silent.uid)!.pid], 'asked for the live run only, with its process id');
    assert.deepEqual(monitor.checkStalls(() => false), [], 'the pause counted as a sign of life');
    await sleep(1200);
    const raised = monitor.checkStalls(() => false);
    assert.deepEqual(raised.map((a) => [a.runId, a.rule, a.severity]), [[silent.id, 'stall', 'warning']]);
    assert.match(raised[0]!.message, /^no new points or output for \d/);
    assert.deepEqual(monitor.checkStalls(() => false), [], 'once');
    monitor.markStopping(silent.id);
    await stopProcess(readProcess(storeDir, silent.uid)!, { int: 2000, term: 1000 });
    await followUntilEnded(monitor, silent.id);
    await followUntilEnded(monitor, quick.id);
    assert.deepEqual(store.alerts.list(quick.id), [], 'the run that ended is not stalled');
    assert.equal(store.alerts.list(silent.id).length, 1);
    monitor.dispose();
    store.close();
  });
}

test('output is a sign of life: a run that prints but logs no points is not stalled until it goes quiet', async () => {
  const { storeDir, store, python } = setup();
  const run = python('import time\nfor i in range(12):\n    print("working", i, flush=True)\n    time.sleep(0.25)\ntime.sleep(60)', 'printer');
  const monitor = new RunMonitor(store, storeDir, { parse: () => undefined, rules: () => stallRules(0.5) });
  monitor.track(run);
  const end = Date.now() + 2800;
  while (Date.now() < end) {
    monitor.tick();
    assert.deepEqual(monitor.checkStalls(() => false), [], 'printing');
    await sleep(100);
  }
  await until('the stall once it is quiet', () => { monitor.tick(); return monitor.checkStalls(() => false).length === 1; }, 10_000);
  monitor.markStopping(run.id);
  await stopProcess(readProcess(storeDir, run.uid)!, { int: 2000, term: 1000 });
  await followUntilEnded(monitor, run.id);
  assert.equal(store.metrics.summaries(run.id).length, 0, 'no points at all');
  monitor.dispose();
  store.close();
});

test('rulesForRun: the project\'s alerts, then its run configuration\'s (by the runlens.config tag); the guessed primary metric', () => {
  const { config } = parseRunConfig([
    'alerts: { stall: { floor: 60 }, divergence: { factor: 5 } }',
    'runs:',
    '  train: { command: [python3, train.py], alerts: { stall: { floor: 600 }, plateau: false } }',
  ].join('\n'));
  const plain = rulesForRun(config, {});
  assert.deepEqual([plain.stall.floor, plain.divergence.factor, plain.plateau.enabled], [60, 5, true]);
  const train = rulesForRun(config, { [CONFIG_TAG]: 'train' });
  assert.deepEqual([train.stall.floor, train.divergence.factor, train.plateau.enabled], [600, 5, false]);
  assert.equal(rulesForRun(config, { [CONFIG_TAG]: 'gone' }).stall.floor, 60, 'a configuration no longer there: the project\'s');
  const guessed = rulesForRun(undefined, {}, { name: 'val_loss', goal: 'min' });
  assert.deepEqual([guessed.plateau.metric, guessed.plateau.goal, guessed.stall.floor], ['val_loss', 'min', 300]);
  const configured = rulesForRun(parseRunConfig('primary_metric: { name: acc, goal: max }').config, {}, { name: 'val_loss', goal: 'min' });
  assert.equal(configured.plateau.metric, 'acc', 'runlens.yaml wins over the guess');
});
