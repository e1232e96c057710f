// RunMonitor with an ingest worker (what the extension runs): the worker has its own connection and
// this thread only takes its notices. The fault tier (test/fault/worker.test.ts) covers faults.
import assert from 'node:assert/strict';
import { delimiter, join } from 'node:path';
import { test } from 'node:test';
import { Store } from '../../src/core/store/store.ts';
import { RunMonitor } from '../../src/core/runs/runMonitor.ts';
import { launch, runEnvironment } from '../../src/core/runs/launch.ts';
import { readExit, readProcess, stopProcess } from '../../src/core/runs/runProcess.ts';
import { ALL_KINDS, type ChangeKind, type StoreChange, StoreWrites } from '../../src/core/store/storeWrites.ts';
import { INGEST_WORKER, audit, startWriter, until } from '../fault/fixtures/writerRun.ts';
import { followUntilEnded, tempDir } from './helpers.ts';

const root = join(import.meta.dirname, '..', '..');
const wrapper = join(root, 'media', 'run-wrapper.cjs');

function setup() {
  const dir = tempDir();
  const storeDir = join(dir, '.runlens');
  const store = Store.open(storeDir);
  const env = runEnvironment(process.env, join(root, 'media', 'python'), delimiter);
  const python = (code: string, name = 'py') => launch(store, storeDir, wrapper, { name, spec: { command: 'python3', args: ['-c', code], shell: false, cwd: dir, env } });
  return { dir, storeDir, store, python };
}

test('a worker thread ingests a run to its end: every point once, and this thread writes nothing', async () => {
  const { dir, storeDir, store } = setup();
  const n = 3000;
  const run = startWriter(store, storeDir, n, 100, dir);
  const logged: string[] = [];
  let notices = 0;
  const monitor = new RunMonitor(store, storeDir, {
    parse: () => undefined, log: (m) => logged.push(m), worker: { script: INGEST_WORKER, onNotice: () => notices++ },
  });
  assert.ok(monitor.inWorker);
  const writes = store.changeCount();
  monitor.track(run);
  assert.deepEqual(monitor.runningIds, [run.id], 'followed from the moment it is handed over');
  const changed = new Set<number>();
  const end = Date.now() + 30_000;
  while (monitor.runningIds.includes(run.id)) {
    if (Date.now() > end) assert.fail('the run did not end in time');
    for (const id of monitor.tick()) changed.add(id);
    await new Promise((r) => setTimeout(r, 50));
  }
  for (const id of monitor.tick()) changed.add(id);
  assert.ok(monitor.inWorker, `still in the worker (${logged.join('; ')})`);
  assert.deepEqual(audit(store, run.id, n), { stored: 3 * n, lost: 0, duplicated: 0, misplaced: 0 });
  assert.equal(store.runs.get(run.id)!.status, 'finished');
  assert.equal(store.changeCount(), writes, 'no row was written on this thread');
  assert.deepEqual([...changed], [run.id]);
  assert.ok(notices > 0);
  assert.deepEqual(logged, []);
  monitor.dispose();
  store.close();
});

test('with a worker, recover() hands over the runs left running: the ended ones are finished, the live ones followed', async () => {
  const { dir, storeDir, store } = setup();
  const done = startWriter(store, storeDir, 200, 100, dir);
  const live = startWriter(store, storeDir, 2000, 100, dir, 300); // ~6 s: still going when recover() looks, on a loaded machine too
  store.runs.create({ name: 'imported', status: 'running', origin: 'mlflow:/x#1' });
  await until('the first writer to end', () => readExit(storeDir, done.uid) !== undefined);
  const monitor = new RunMonitor(store, storeDir, { parse: () => undefined, worker: { script: INGEST_WORKER } });
  assert.deepEqual(monitor.recover(), { reattached: 1, ended: 1 });
  assert.deepEqual(monitor.runningIds.sort(), [done.id, live.id].sort(), 'imported runs are left alone');
  assert.deepEqual(monitor.recover(), { reattached: 0, ended: 0 }, 'once');
  await followUntilEnded(monitor, done.id);
  await followUntilEnded(monitor, live.id);
  assert.deepEqual(audit(store, done.id, 200), { stored: 600, lost: 0, duplicated: 0, misplaced: 0 });
  assert.deepEqual(audit(store, live.id, 2000), { stored: 6000, lost: 0, duplicated: 0, misplaced: 0 });
  assert.deepEqual([done, live].map((r) => store.runs.get(r.id)!.status), ['finished', 'finished']);
  monitor.dispose();
  store.close();
});

test('the worker parses printed metrics with the user\'s patterns, and a run stopped by the user ends as stopped', async () => {
  const { storeDir, store, python } = setup();
  const printed = python('import time\nfor i in range(5): print(f"val loss {i / 10}", flush=True)\ntime.sleep(60)');
  const monitor = new RunMonitor(store, storeDir, {
    parse: () => undefined, // used only on this thread: the worker builds its own parser from the patterns
    worker: { script: INGEST_WORKER, patterns: ['val loss (?<val_loss>[0-9.]+)'] },
  });
  monitor.track(printed);
  await until('the printed metrics', () => store.metrics.count(printed.id, 'val_loss') === 5, 30_000);
  monitor.markStopping(printed.id);
  assert.equal(await stopProcess(readProcess(storeDir, printed.uid)!, { int: 3000, term: 2000 }), 'SIGINT');
  await followUntilEnded(monitor, printed.id);
  assert.deepEqual(Array.from(store.metrics.points(printed.id, 'val_loss').values), [0, 0.1, 0.2, 0.3, 0.4]);
  assert.equal(store.runs.get(printed.id)!.status, 'stopped');
  assert.ok(monitor.inWorker);
  monitor.dispose();
  store.close();
});

test('change events: the worker\'s notices are announced by their kinds, not again by polling; another window\'s commit is announced as everything', async () => {
  const { dir, storeDir, store } = setup();
  const n = 4000;
  const run = startWriter(store, storeDir, n, 100, dir, 30);
  let monitor: RunMonitor | undefined;
  // What WorkspaceStore and RunController do: a tick on every notice, and polling for other connections.
  const events: StoreChange[] = [];
  const writes = new StoreWrites({ store: () => store, fire: (c) => events.push(c), watched: () => monitor?.watching ?? false });
  const control: StoreChange[] = []; // the same without `watched`: polling announces the worker's commits again
  const plain = new StoreWrites({ store: () => store, fire: (c) => control.push(c) });
  const kinds = (ids: number[]): readonly ChangeKind[] => (monitor!.othersCommitted ? ALL_KINDS : ids.length ? ['metrics'] : []);
  const tick = () => {
    const ids = writes.writeSteps(kinds, () => monitor!.tick());
    plain.writeSteps(kinds, () => ids);
  };
  writes.check(store);
  plain.check(store);
  monitor = new RunMonitor(store, storeDir, { parse: () => undefined, worker: { script: INGEST_WORKER, onNotice: tick } });
  monitor.track(run);
  let other: Store | undefined;
  let otherAt = -1;
  while (monitor.runningIds.length) {
    await new Promise((r) => setTimeout(r, 20));
    writes.check(store);
    plain.check(store);
    if (!other && store.metrics.count(run.id, 'a') > n / 4) {
      other = Store.open(storeDir); // another window commits while the worker ingests
      other.runs.create({ name: 'from another window' });
      otherAt = events.length;
    }
  }
  await new Promise((r) => setTimeout(r, 600)); // the worker's last look
  writes.check(store);
  plain.check(store);
  const external = (e: StoreChange[]) => e.filter((c) => c.external).length;
  const own = events.filter((c) => !c.external);
  console.log(`${own.length} notices announced (${own.filter((c) => c.kinds.size === ALL_KINDS.length).length} as everything); `
    + `external events: ${external(events)} with watched, ${external(control)} without`);
  assert.deepEqual(audit(store, run.id, n), { stored: 3 * n, lost: 0, duplicated: 0, misplaced: 0 });
  assert.ok(otherAt >= 0 && own.length >= 2 && own.every((c) => c.kinds.has('metrics')));
  assert.ok(events.slice(otherAt).some((c) => c.kinds.has('models')), 'the other window\'s commit is announced as a change of everything');
  assert.equal(external(events), 0, 'the worker\'s commits are not announced again by polling');
  assert.ok(external(control) >= 2, `the control: without watched, polling announces them (${external(control)})`);
  monitor.dispose();
  other?.close();
  store.close();
});
