import assert from 'node:assert/strict';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { test } from 'node:test';
import { Store } from '../../src/core/store/store.ts';
import { type StoreAccess, StoreWrites } from '../../src/core/store/storeWrites.ts';
import { STOPPED_TAG, SweepScheduler, TRIAL_TAG, ownerFile } from '../../src/core/runs/sweepScheduler.ts';
import { startTicks } from '../../src/core/runs/runProcess.ts';
import { type Run, SWEEP_TAG, isFinal } from '../../src/core/types.ts';
import { JOB_TAG } from '../../src/core/slurm/slurmRuns.ts';
import { series, tempDir } from './helpers.ts';

/** A real store behind the write path, a fake clock and timer, and an executor that only marks runs (no processes). */
function setup(options: { trusted?: boolean } = {}) {
  const dir = tempDir();
  const store = Store.open(dir);
  const strays: string[] = [];
  const writes = new StoreWrites({ store: () => store, fire: () => {}, stray: (m) => strays.push(m) });
  writes.check(store);
  const access: StoreAccess = { get: () => store, write: (kinds, fn) => writes.write(kinds, fn) };
  const clock = { now: 1_700_000_000_000 };
  const logs: string[] = [];
  const running = () => store.runs.count({ status: ['running'] });
  const trials = {
    prepared: 0, started: [] as number[], stopped: [] as number[], most: 0,
    /** Overrides whose trial cannot start. */
    failing: new Set<string>(),
    async prepare(run: string) {
      trials.prepared++;
      return { plan: `the plan of ${run}`, experiment: 'sweeps', cwd: dir, params: { seed: 1, lr: 0.5 } };
    },
    async start(plan: string, runId: number, overrides: string): Promise<Run> {
      await Promise.resolve();
      assert.equal(plan, 'the plan of train');
      assert.equal(overrides, store.runs.tags(runId)['runlens.overrides']);
      if (trials.failing.has(overrides)) throw new Error('no such program');
      trials.started.push(runId);
      const run = access.write(['runs'], (s) => s.runs.update(runId, { status: 'running', startedAt: clock.now }));
      trials.most = Math.max(trials.most, running());
      return run;
    },
    async stop(run: Run) {
      trials.stopped.push(run.id);
      access.write(['runs'], (s) => s.runs.update(run.id, { status: 'stopped', endedAt: clock.now }));
    },
  };
  const timer = { on: false };
  const scheduler = new SweepScheduler<string>({
    store: access, executor: trials, trusted: () => options.trusted ?? true, primaryMetric: () => undefined,
    log: { info: (m) => logs.push(m), warn: (m) => logs.push(`warn: ${m}`), error: (m) => logs.push(`error: ${m}`) },
    now: () => clock.now,
    every: () => { timer.on = true; return () => { timer.on = false; }; },
  });
  /** Lets started trials get going (the executor is async). */
  const settle = async () => { for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r)); };
  /** A trial ends by itself; the scheduler hears it from the executor's news, or from its own check. */
  const end = (id: number) => access.write(['runs'], (s) => s.runs.update(id, { status: 'finished', endedAt: clock.now }));
  const status = (ids: number[]) => ids.map((id) => store.runs.get(id)!.status);
  const noStrays = () => { writes.check(store); assert.deepEqual(strays, [], 'every write went through the write path'); };
  return { dir, store, access, clock, logs, trials, timer, scheduler, settle, end, status, running, noStrays };
}

const trials = (...lrs: number[]) => lrs.map((lr) => ({ lr }));

test('trials are recorded queued at once, then run in order, never more than `concurrency` at a time', async () => {
  const t = setup();
  const { sweepId, runIds } = await t.scheduler.start({ name: 'lr', run: 'train', trials: trials(0.1, 0.2, 0.3, 0.4, 0.5), concurrency: 2 });
  assert.match(sweepId, /^lr \d{4}-\d\d-\d\d \d\d:\d\d$/);
  assert.equal(runIds.length, 5);
  runIds.forEach((id, i) => {
    const run = t.store.runs.get(id)!;
    assert.equal(run.name, `lr=${[0.1, 0.2, 0.3, 0.4, 0.5][i]}`);
    assert.equal(run.experiment, 'sweeps');
    assert.deepEqual(t.store.runs.params(id), { seed: 1, lr: [0.1, 0.2, 0.3, 0.4, 0.5][i] });
    const tags = t.store.runs.tags(id);
    assert.equal(tags[SWEEP_TAG], sweepId);
    assert.equal(tags[TRIAL_TAG], String(i));
  });
  assert.ok(existsSync(ownerFile(t.store.dir, sweepId)), 'this process owns the sweep');
  assert.deepEqual(t.scheduler.active, [sweepId]);
  await t.settle();
  assert.deepEqual(t.status(runIds), ['running', 'running', 'queued', 'queued', 'queued']);

  // trials end one by one; the slot is noticed from the executor's news or from the once-a-second check
  for (let n = 0; t.status(runIds).some((s) => !isFinal(s)); n++) {
    const first = runIds.find((id) => t.store.runs.get(id)!.status === 'running')!;
    t.end(first);
    if (n % 2) await t.scheduler.check();
    else t.scheduler.runsChanged([first]);
    await t.settle();
    assert.ok(t.running() <= 2, `${t.running()} running at once`);
  }
  assert.deepEqual(t.trials.started, runIds, 'in trial order');
  assert.equal(t.trials.most, 2, 'both slots were used, never more');
  assert.deepEqual(t.scheduler.active, []);
  assert.ok(!existsSync(ownerFile(t.store.dir, sweepId)), 'a finished sweep is disowned');
  assert.ok(t.logs.some((l) => l === `Sweep ${sweepId} done: 5 finished`), t.logs.join('\n'));
  await t.scheduler.check();
  assert.equal(t.timer.on, false, 'the timer stops once no sweep is left');
  t.noStrays();
});

test('cancelling stops the running trial, marks the queued ones stopped, and none starts later', async () => {
  const t = setup();
  const { sweepId, runIds } = await t.scheduler.start({ name: 'c', run: 'train', trials: trials(0.1, 0.2, 0.3) });
  await t.settle();
  assert.deepEqual(t.status(runIds), ['running', 'queued', 'queued']);
  assert.deepEqual(await t.scheduler.cancel(sweepId), { stopped: 1, neverStarted: 2 });
  assert.deepEqual(t.trials.stopped, [runIds[0]]);
  assert.deepEqual(t.status(runIds), ['stopped', 'stopped', 'stopped']);
  for (const id of runIds.slice(1)) {
    assert.equal(t.store.runs.get(id)!.startedAt, null);
    assert.ok(t.store.runs.get(id)!.endedAt !== null);
  }
  t.scheduler.runsChanged(runIds);
  await t.scheduler.check();
  await t.settle();
  assert.deepEqual(t.trials.started, [runIds[0]], 'a freed slot starts no cancelled trial');
  assert.deepEqual(t.scheduler.active, []);
  await assert.rejects(t.scheduler.cancel('no such sweep'), /There is no sweep "no such sweep"/);
  t.noStrays();
});

test('early stopping: the median rule stops the trial that does not learn, not before min steps, and says why', async () => {
  const t = setup();
  const { runIds } = await t.scheduler.start({ name: 'e', run: 'train', trials: trials(0.3, 0.1, 0.0001), concurrency: 3, earlyStop: { patience: 3, minSteps: 5 } });
  await t.settle();
  const [good, fine, slow] = runIds as [number, number, number];
  const log = (from: number, n: number) => {
    t.store.metrics.append(good, 'val_acc', series(from, n, (s) => 0.5 + 0.05 * s));
    t.store.metrics.append(fine, 'val_acc', series(from, n, (s) => 0.4 + 0.05 * s));
    t.store.metrics.append(slow, 'val_acc', series(from, n, () => 0.1));
  };
  t.access.write(['metrics'], () => log(0, 4));
  t.clock.now += 3000;
  await t.scheduler.check();
  assert.deepEqual(t.trials.stopped, [], 'not before min steps');
  t.access.write(['metrics'], () => log(4, 6));
  t.clock.now += 1000;
  await t.scheduler.check();
  assert.deepEqual(t.trials.stopped, [], 'the rule is applied every 3 s, not on every check');
  t.clock.now += 3000;
  await t.scheduler.check();
  assert.deepEqual(t.trials.stopped, [slow]);
  assert.equal(t.store.runs.tags(slow)[STOPPED_TAG], 'median rule at step 9');
  assert.equal(t.store.runs.tags(good)[STOPPED_TAG], undefined);
  assert.equal(t.store.runs.tags(fine)[STOPPED_TAG], undefined);
  assert.deepEqual(t.status([good, fine]), ['running', 'running']);
  t.noStrays();
});

test('a trial that cannot start is marked failed, and its slot goes to the next one', async () => {
  const t = setup();
  t.trials.failing.add('lr=0.1');
  const { sweepId, runIds } = await t.scheduler.start({ name: 'f', run: 'train', trials: trials(0.1, 0.2) });
  await t.settle();
  assert.deepEqual(t.status(runIds), ['failed', 'running']);
  assert.ok(t.logs.includes(`error: Sweep ${sweepId}: trial lr=0.1 could not start: no such program`), t.logs.join('\n'));
  t.noStrays();
});

test('recover: queued trials of a sweep no live process runs are stopped, with why; a live owner\'s and this process\'s are left alone', async () => {
  const t = setup();
  const queued = (sweep: string) => t.access.write(['runs'], (s) => [0, 1].map((i) => s.runs.create({
    name: `${sweep}-${i}`, status: 'queued', tags: { [SWEEP_TAG]: sweep, [TRIAL_TAG]: String(i) },
  }).id));
  const gone = queued('gone');
  const elsewhere = queued('elsewhere');
  const owner = (pid: number, ticks: number | null) => {
    const file = ownerFile(t.store.dir, 'elsewhere');
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, JSON.stringify({ pid, startTicks: ticks }));
  };
  owner(process.ppid, startTicks(process.ppid)); // a live process stands in for another window
  const mine = await t.scheduler.start({ name: 'mine', run: 'train', trials: trials(0.1, 0.2) });
  await t.settle();
  t.scheduler.recover();
  assert.deepEqual(t.status(gone), ['stopped', 'stopped']);
  assert.equal(t.store.runs.tags(gone[0]!)[STOPPED_TAG], 'the window closed before it started');
  assert.deepEqual(t.status(elsewhere), ['queued', 'queued'], 'a live window still runs that sweep');
  assert.deepEqual(t.status(mine.runIds), ['running', 'queued'], 'this process runs its own');
  owner(2 ** 22 + 1, 1); // no such process
  t.scheduler.recover();
  assert.deepEqual(t.status(elsewhere), ['stopped', 'stopped'], 'once that window is gone, they are stopped too');
  assert.ok(!existsSync(ownerFile(t.store.dir, 'elsewhere')));
  t.noStrays();
});

test('in an untrusted workspace a sweep records nothing and prepares nothing; a sweep without trials is refused', async () => {
  const t = setup({ trusted: false });
  await assert.rejects(t.scheduler.start({ name: 'u', run: 'train', trials: trials(0.1) }), /untrusted workspace/);
  assert.equal(t.store.runs.count(), 0);
  assert.equal(t.trials.prepared, 0);
  const trusted = setup();
  await assert.rejects(trusted.scheduler.start({ name: 'none', run: 'train', trials: [] }), /The sweep has no trials/);
  assert.equal(trusted.store.runs.count(), 0);
});

test('an executor that keeps the concurrency itself (a Slurm job array) gets every trial at once; cancelling hands it the sweep first, the rest are stopped one by one', async () => {
  const t = setup();
  const batch = { calls: [] as { name: string; plan: string; trials: { runId: number; overrides: string }[]; concurrency: number }[], cancelled: [] as string[], refuse: '', alone: -1 };
  const array = {
    ...t.trials,
    prepare: t.trials.prepare,
    start: () => assert.fail('start() is not used when the executor starts every trial at once'),
    async startAll(name: string, plan: string, list: { runId: number; overrides: string }[], concurrency: number) {
      if (batch.refuse) throw new Error(batch.refuse);
      batch.calls.push({ name, plan, trials: list, concurrency });
      return '100';
    },
    /** Stops the array's trials (not run 0, which another window started by itself). */
    async cancelAll(id: string): Promise<number[]> {
      batch.cancelled.push(id);
      const ids = t.store.runs.list({ sweep: id, status: ['queued', 'running'] }).map((r) => r.id).filter((i) => i !== batch.alone);
      t.access.write(['runs'], (s) => { for (const i of ids) s.runs.update(i, { status: 'stopped', endedAt: t.clock.now }); });
      return ids;
    },
  };
  const scheduler = new SweepScheduler<string>({
    store: t.access, executor: { ...t.trials, prepare: async (run: string) => ({ ...(await t.trials.prepare(run)), executor: array }) },
    trusted: () => true, primaryMetric: () => undefined, every: () => () => {},
    log: { info: (m) => t.logs.push(m), warn: (m) => t.logs.push(`warn: ${m}`), error: (m) => t.logs.push(`error: ${m}`) },
  });
  const { sweepId, runIds } = await scheduler.start({ name: 'a', run: 'train', trials: trials(0.1, 0.2, 0.3), concurrency: 2 });
  assert.equal(batch.calls.length, 1);
  assert.deepEqual(batch.calls[0], {
    name: sweepId, plan: 'the plan of train', concurrency: 2,
    trials: runIds.map((runId, i) => ({ runId, overrides: `lr=${[0.1, 0.2, 0.3][i]}` })),
  });
  assert.deepEqual(t.status(runIds), ['queued', 'queued', 'queued'], 'they wait in the executor\'s queue');
  assert.deepEqual(scheduler.active, [sweepId]);
  batch.alone = runIds[0]!;
  t.access.write(['runs'], (s) => { s.runs.update(runIds[0]!, { status: 'running' }); s.runs.update(runIds[1]!, { status: 'running' }); });
  assert.deepEqual(await scheduler.cancel(sweepId), { stopped: 2, neverStarted: 1 });
  assert.deepEqual(batch.cancelled, [sweepId]);
  assert.deepEqual(t.trials.stopped, [runIds[0]], 'what cancelAll did not stop is stopped by itself');
  assert.deepEqual(t.status(runIds), ['stopped', 'stopped', 'stopped']);
  assert.deepEqual(scheduler.active, []);

  // the array refused: the trials fail, the sweep ends, and the start says why
  batch.refuse = 'sbatch refused: invalid partition';
  await assert.rejects(scheduler.start({ name: 'b', run: 'train', trials: trials(0.1, 0.2) }), /invalid partition/);
  const failed = t.store.runs.list({ status: ['failed'] });
  assert.equal(failed.length, 2);
  assert.deepEqual(scheduler.active, []);
  assert.ok(t.logs.some((m) => /^error: Sweep b .*: its trials could not start \(2 marked failed\): sbatch refused/.test(m)), t.logs.join('\n'));
  scheduler.dispose();
  t.noStrays();
});

test('recover: queued trials with a Slurm job wait in Slurm\'s queue, not the closed window\'s: they are left queued', async () => {
  const t = setup();
  const ids = t.access.write(['runs'], (s) => [0, 1, 2].map((i) => s.runs.create({
    name: `t${i}`, status: 'queued', tags: { [SWEEP_TAG]: 'array', [TRIAL_TAG]: String(i), ...(i < 2 && { [JOB_TAG]: `100_${i}` }) },
  }).id));
  t.scheduler.recover();
  assert.deepEqual(t.status(ids), ['queued', 'queued', 'stopped'], 'the one never submitted will not start');
  assert.equal(t.store.runs.tags(ids[2]!)[STOPPED_TAG], 'the window closed before it started');
  t.noStrays();
});
