// SlurmRuns on a real store with a fake Slurm: what the runs go through as their jobs change state.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { Store } from '../../src/core/store/store.ts';
import { type StoreAccess, StoreWrites } from '../../src/core/store/storeWrites.ts';
import { runFolder } from '../../src/core/runs/runProcess.ts';
import type { Run } from '../../src/core/types.ts';
import { JOB_TAG, NODE_TAG, REASON_TAG, STATE_TAG, type SlurmRequest, SlurmRuns } from '../../src/core/slurm/slurmRuns.ts';
import type { Exec } from '../../src/core/slurm/slurmCli.ts';
import { SlurmTrials } from '../../src/core/slurm/slurmTrials.ts';
import { SweepScheduler } from '../../src/core/runs/sweepScheduler.ts';
import { tempDir } from './helpers.ts';

function setup() {
  const dir = tempDir();
  const store = Store.open(join(dir, '.runlens'));
  const strays: string[] = [];
  const writes = new StoreWrites({ store: () => store, fire: () => {}, stray: (m) => strays.push(m) });
  writes.check(store);
  const access: StoreAccess = { get: () => store, write: (kinds, fn) => writes.write(kinds, fn) };
  const slurm = { calls: [] as string[][], next: 100, queue: '', records: new Map<string, string>(), refuse: '' };
  const exec: Exec = async (cmd, args) => {
    slurm.calls.push([cmd, ...args]);
    if (cmd === 'sbatch') return slurm.refuse ? { code: 1, stdout: '', stderr: slurm.refuse } : { code: 0, stdout: `${slurm.next++}\n`, stderr: '' };
    if (cmd === 'squeue') return { code: 0, stdout: slurm.queue, stderr: '' };
    if (cmd === 'scontrol' && args[1] === 'job') {
      const rec = slurm.records.get(args[2]!);
      return rec ? { code: 0, stdout: rec, stderr: '' } : { code: 1, stdout: '', stderr: 'slurm_load_jobs error: Invalid job id specified' };
    }
    return { code: 0, stdout: '', stderr: '' };
  };
  const followed: number[] = [];
  const changed: number[][] = [];
  const runs = new SlurmRuns({
    store: access, exec, follow: (r) => followed.push(r.id), changed: (ids) => changed.push(ids),
    poll: { every: () => () => {}, user: 'ana', jobcompFile: null }, baseEnv: { HOME: '/home/ana' }, graceMs: 20,
  });
  const request = (extra: Partial<SlurmRequest> = {}): SlurmRequest => ({
    name: 'r', spec: { command: 'python3', args: ['train.py'], shell: false, cwd: dir, env: { HOME: '/home/ana', PYTHONPATH: '/ext/python' } },
    executor: { type: 'slurm', partition: 'gpu', sbatch: [], setup: [] }, params: { lr: 0.1 }, ...extra,
  });
  const record = (r: Run, kind: 'process' | 'exit', body: object) => writeFileSync(runFolder(store.dir, r.uid)[kind], JSON.stringify(body));
  const noStrays = () => { writes.check(store); assert.deepEqual(strays, []); };
  return { dir, store, access, slurm, runs, request, followed, changed, record, noStrays };
}

test('submit: queued with the job tagged and its job script in the run folder; running once the script wrote process.json; Slurm\'s state kept', async () => {
  const t = setup();
  const run = await t.runs.submit(t.request());
  assert.equal(run.status, 'queued');
  assert.equal(run.startedAt, null);
  assert.deepEqual(t.store.runs.params(run.id), { lr: 0.1 });
  assert.equal(t.store.runs.tags(run.id)[JOB_TAG], '100');
  const f = runFolder(t.store.dir, run.uid);
  const script = readFileSync(join(f.dir, 'job.sh'), 'utf8');
  assert.match(script, /^#SBATCH --partition=gpu$/m);
  assert.match(script, /^export PYTHONPATH=\/ext\/python$/m);
  assert.doesNotMatch(script, /HOME=/, 'what sbatch passes on anyway is not written');
  assert.deepEqual(t.slurm.calls[0], ['sbatch', '--parsable', join(f.dir, 'job.sh')]);

  t.slurm.queue = '100|100|N/A|PENDING||Priority';
  await t.runs.tick();
  assert.equal(t.store.runs.tags(run.id)[REASON_TAG], 'Priority');
  t.slurm.queue = '100|100|N/A|RUNNING|n7|None';
  await t.runs.tick();
  assert.equal(t.store.runs.get(run.id)!.status, 'queued', 'Slurm says running; the script has not written process.json yet');
  assert.equal(t.store.runs.tags(run.id)[REASON_TAG], undefined);
  t.record(run, 'process', { pid: 4242, startTicks: 1, host: 'n7', slurmJob: '100' });
  await t.runs.tick();
  assert.equal(t.store.runs.get(run.id)!.status, 'running');
  assert.deepEqual(t.followed, [run.id], 'handed to the run monitor');
  assert.equal(t.store.runs.tags(run.id)[NODE_TAG], 'n7');

  // the monitor finishes it from exit.json (failed, 143); Slurm's TIMEOUT is kept and the status stays failed
  t.record(run, 'exit', { code: 143, signal: 'SIGTERM', signalled: null, endedAt: 1 });
  t.access.write(['runs'], (s) => s.runs.update(run.id, { status: 'failed', exitCode: 143, endedAt: 1 }));
  t.slurm.queue = '';
  t.slurm.records.set('100', 'JobId=100 JobName=r\n   JobState=TIMEOUT Reason=TimeLimit\n   ExitCode=0:15\n   NodeList=n7\n');
  await t.runs.tick();
  assert.equal(t.store.runs.tags(run.id)[STATE_TAG], 'TIMEOUT');
  assert.deepEqual([t.store.runs.get(run.id)!.status, t.store.runs.get(run.id)!.exitCode], ['failed', 143]);
  assert.deepEqual(t.runs.poller.watching, []);
  t.noStrays();
});

test('a job cancelled by hand (plain scancel): the monitor says failed (143), Slurm says CANCELLED: stopped; a node failure without exit record: failed', async () => {
  const t = setup();
  const a = await t.runs.submit(t.request());
  const b = await t.runs.submit(t.request());
  t.slurm.queue = '100|100|N/A|RUNNING|n1|None\n101|101|N/A|RUNNING|n2|None';
  for (const r of [a, b]) t.record(r, 'process', { pid: 4242, startTicks: 1, host: 'elsewhere' });
  await t.runs.tick();
  assert.deepEqual(t.followed, [a.id, b.id]);
  t.slurm.queue = '';
  t.slurm.records.set('100', 'JobId=100\n   JobState=CANCELLED Reason=None\n   ExitCode=0:15\n   NodeList=n1\n');
  t.slurm.records.set('101', 'JobId=101\n   JobState=NODE_FAIL Reason=NodeDown\n   ExitCode=0:0\n   NodeList=n2\n');
  await t.runs.tick();
  assert.deepEqual([a, b].map((r) => t.store.runs.get(r.id)!.status), ['running', 'running'], 'the monitor, the run\'s one owner, finishes it first');
  t.record(a, 'exit', { code: 143, signal: 'SIGTERM', signalled: null, endedAt: 1 });
  t.access.write(['runs'], (s) => {
    s.runs.update(a.id, { status: 'failed', exitCode: 143, endedAt: 1 });
    s.runs.update(b.id, { status: 'crashed', endedAt: 1 });
  });
  t.runs.runsChanged([a.id, b.id]);
  assert.deepEqual([a, b].map((r) => t.store.runs.get(r.id)!.status), ['stopped', 'failed']);
  assert.equal(t.store.runs.tags(b.id)[STATE_TAG], 'NODE_FAIL');
  t.noStrays();
});

test('a job that ended before its script ran (cancelled while waiting, or over in one poll): the run ends without the monitor, or is followed for its files', async () => {
  const t = setup();
  const waiting = await t.runs.submit(t.request());
  const quick = await t.runs.submit(t.request());
  t.slurm.records.set('100', 'JobId=100\n   JobState=CANCELLED Reason=None\n   ExitCode=0:0\n   NodeList=\n');
  t.slurm.records.set('101', 'JobId=101\n   JobState=COMPLETED Reason=None\n   ExitCode=0:0\n   NodeList=n1\n');
  t.record(quick, 'process', { pid: 4242, startTicks: 1, host: 'n1' });
  await t.runs.tick();
  assert.deepEqual([t.store.runs.get(waiting.id)!.status, t.store.runs.get(waiting.id)!.startedAt], ['stopped', null]);
  assert.equal(t.store.runs.get(quick.id)!.status, 'running', 'its points are still to be read: the monitor follows it and finishes it');
  assert.deepEqual(t.followed, [quick.id]);
  t.noStrays();
});

test('a sweep as one array: each trial in place with its own job script, task links, <array>_<i> tags; a trial stopped while waiting is cancelled in Slurm', async () => {
  const t = setup();
  const ids = t.access.write(['runs'], (s) => [0.1, 0.2, 0.3].map((lr) => s.runs.create({ name: `lr=${lr}`, status: 'queued' }).id));
  const trials = ids.map((id, i) => t.request({ queued: id, params: { lr: [0.1, 0.2, 0.3][i]! }, spec: { ...t.request().spec, args: ['train.py', '--lr', String([0.1, 0.2, 0.3][i])] } }));
  const { job, runs } = await t.runs.submitArray('lr', trials, 2);
  assert.equal(job, '100');
  assert.deepEqual(runs.map((r) => [r.id, r.status, r.startedAt, t.store.runs.tags(r.id)[JOB_TAG]]), ids.map((id, i) => [id, 'queued', null, `100_${i}`]));
  assert.deepEqual(t.store.runs.get(ids[2]!)!.command, ['python3', 'train.py', '--lr', '0.3'], 'what it runs is recorded while it waits');
  const dir = join(t.store.dir, 'slurm', runs[0]!.uid);
  assert.match(readFileSync(join(dir, 'array.sh'), 'utf8'), /^#SBATCH --array=0-2%2$/m);
  assert.match(readFileSync(join(dir, 'task-2.sh'), 'utf8'), /train\.py --lr 0\.3$/m, 'task 2 runs trial 2\'s job script');
  assert.ok(existsSync(join(dir, 'task-1.log')));
  // the scheduler cancels the sweep: queued trials are stopped in the store; their tasks must not start
  t.slurm.queue = '100_0|100|0|RUNNING|n1|None\n100_1|100|1|PENDING||JobArrayTaskLimit\n100_2|100|2|PENDING||JobArrayTaskLimit';
  await t.runs.tick();
  t.access.write(['runs'], (s) => s.runs.stopQueued(ids));
  await t.runs.tick();
  await new Promise((r) => setTimeout(r, 100));
  assert.deepEqual(t.slurm.calls.filter((c) => c[0] === 'scancel'), [
    ['scancel', '--signal=INT', '--full', '100_0'], ['scancel', '100_1'], ['scancel', '100_2'], ['scancel', '100_0'],
  ], 'the waiting tasks at once; the one Slurm had just started (its script not yet seen) with SIGINT first');
  t.noStrays();
});

test('sbatch refusing: the run fails with sbatch\'s words in its log; a command holding a redacted secret is not submitted', async () => {
  const t = setup();
  t.slurm.refuse = 'sbatch: error: invalid partition specified: gpu';
  await assert.rejects(t.runs.submit(t.request()), /sbatch refused: sbatch: error: invalid partition specified: gpu/);
  const [run] = t.store.runs.list();
  assert.equal(run!.status, 'failed');
  assert.match(readFileSync(runFolder(t.store.dir, run!.uid).log, 'utf8'), /RunLens could not submit the job: sbatch refused: sbatch: error: invalid partition/);
  assert.deepEqual(t.runs.poller.watching, []);
  await assert.rejects(t.runs.submit(t.request({ spec: { ...t.request().spec, args: ['--token', '<redacted>'] } })), /holds <redacted>/);
});

test('after a reload: queued and running Slurm runs are found again by their job tags', async () => {
  const t = setup();
  const a = await t.runs.submit(t.request());
  await t.runs.submit(t.request());
  t.access.write(['runs'], (s) => s.runs.update(a.id, { status: 'running' }));
  const done = t.store.runs.create({ name: 'done', status: 'finished', tags: { [JOB_TAG]: '7' } });
  const local = t.store.runs.create({ name: 'local', status: 'running' });
  t.runs.dispose();
  const again = new SlurmRuns({ store: t.access, follow: () => {}, poll: { every: () => () => {} } });
  assert.equal(again.recover(), 2);
  assert.deepEqual(again.poller.watching.sort(), ['100', '101']);
  assert.ok(done && local);
  again.dispose();
});

test('Slurm trials behind the sweep scheduler\'s port: every trial as one array (Slurm keeps the concurrency), cancelled with one scancel per array; a single trial is one job', async () => {
  const t = setup();
  const trials = new SlurmTrials<string>(t.runs, {
    prepare: async (run) => ({ plan: run, cwd: t.dir, params: { lr: 0.5 } }),
    request: async (_plan, runId, overrides) => t.request({ queued: runId, spec: { ...t.request().spec, args: ['train.py', ...overrides.split(' ')] } }),
  });
  const scheduler = new SweepScheduler<string>({
    store: t.access, executor: trials, trusted: () => true, primaryMetric: () => undefined, every: () => () => {},
    log: { info: () => {}, warn: (m) => assert.fail(m), error: (m) => assert.fail(m) },
  });
  const { sweepId, runIds } = await scheduler.start({ name: 'lr', run: 'train', trials: [{ lr: 0.1 }, { lr: 0.2 }, { lr: 0.3 }], concurrency: 2 });
  const calls = (cmd: string) => t.slurm.calls.filter((c) => c[0] === cmd);
  assert.equal(calls('sbatch').length, 1, 'one sbatch for the whole sweep');
  assert.deepEqual(runIds.map((id) => [t.store.runs.get(id)!.status, t.store.runs.tags(id)[JOB_TAG]]), [['queued', '100_0'], ['queued', '100_1'], ['queued', '100_2']]);
  assert.match(readFileSync(join(t.store.dir, 'slurm', t.store.runs.get(runIds[0]!)!.uid, 'array.sh'), 'utf8'), /^#SBATCH --array=0-2%2$/m);
  assert.match(readFileSync(join(runFolder(t.store.dir, t.store.runs.get(runIds[2]!)!.uid).dir, 'job.sh'), 'utf8'), /train\.py lr=0\.3$/m, 'each task with its overrides');
  assert.deepEqual(scheduler.active, [sweepId], 'the sweep goes until its trials end');

  // two run, one waits for Slurm's slot; cancelling the sweep cancels the array once, nothing per task
  t.slurm.queue = '100_0|100|0|RUNNING|n1|None\n100_1|100|1|RUNNING|n1|None\n100_2|100|2|PENDING||JobArrayTaskLimit';
  for (const id of runIds.slice(0, 2)) t.record(t.store.runs.get(id)!, 'process', { pid: 1, startTicks: 1, host: 'n1' });
  await t.runs.tick();
  assert.deepEqual(runIds.map((id) => t.store.runs.get(id)!.status), ['running', 'running', 'queued']);
  assert.deepEqual(await scheduler.cancel(sweepId), { stopped: 2, neverStarted: 1 });
  assert.equal(t.store.runs.get(runIds[2]!)!.status, 'stopped');
  await t.runs.tick();
  await new Promise((r) => setTimeout(r, 50));
  assert.deepEqual(calls('scancel'), [['scancel', '--state=PENDING', '100'], ['scancel', '--signal=INT', '--full', '100'], ['scancel', '100']]);
  // the script records the SIGINT; the monitor says stopped, and the job's end does not change it
  t.access.write(['runs'], (s) => { for (const id of runIds.slice(0, 2)) s.runs.update(id, { status: 'stopped', endedAt: 1 }); });
  t.slurm.queue = '';
  for (const i of [0, 1, 2]) t.slurm.records.set('100', `JobId=10${i} ArrayJobId=100 ArrayTaskId=${i} JobName=r\n   JobState=CANCELLED Reason=None\n   ExitCode=0:2\n`);
  await t.runs.tick();
  assert.deepEqual(runIds.map((id) => t.store.runs.get(id)!.status), ['stopped', 'stopped', 'stopped']);
  scheduler.runsChanged(runIds);
  assert.deepEqual(scheduler.active, []);

  // start() still submits one job (a trial by itself); stopping it while it waits cancels it at once
  const [one] = t.access.write(['runs'], (s) => [s.runs.create({ name: 'one', status: 'queued' }).id]);
  const run = await trials.start('train', one!, 'lr=0.9');
  assert.equal(t.store.runs.tags(run.id)[JOB_TAG], '101');
  await trials.stop(run);
  assert.deepEqual(calls('scancel').at(-1), ['scancel', '101']);
  scheduler.dispose();
  t.noStrays();
});

test('a run adopted from the inbox with a job tag (sbatch from a shell, the helper inside) is followed by the same poller; a run stopped here stays stopped', async () => {
  const t = setup();
  const run = t.access.write(['runs'], (s) => s.runs.create({ name: 'outside', status: 'running', tags: { [JOB_TAG]: '555_3' } }));
  const local = t.access.write(['runs'], (s) => s.runs.create({ name: 'local', status: 'running' }));
  t.runs.runsChanged([run.id, local.id]);
  assert.deepEqual(t.runs.poller.watching, ['555_3']);
  t.slurm.queue = '555_3|555|3|RUNNING|n4|None';
  await t.runs.tick();
  assert.equal(t.store.runs.tags(run.id)[STATE_TAG], 'RUNNING');
  assert.equal(t.store.runs.tags(run.id)[NODE_TAG], 'n4');
  assert.deepEqual(t.followed, [], 'already followed: the inbox handed it to the monitor');
  // Stop: scancel; its own script records no SIGINT, Slurm may say FAILED: the stop the user asked for stands
  mkdirSync(runFolder(t.store.dir, run.uid).dir, { recursive: true }); // the helper's run folder
  t.record(run, 'process', { pid: 1, startTicks: 1, host: 'n4' });
  t.record(run, 'exit', { code: 1, signal: null, signalled: null, endedAt: 1 });
  await t.runs.cancel(t.store.runs.get(run.id)!);
  t.access.write(['runs'], (s) => s.runs.update(run.id, { status: 'stopped', exitCode: 1, endedAt: 1 }));
  t.slurm.queue = '';
  t.slurm.records.set('555', 'JobId=560 ArrayJobId=555 ArrayTaskId=3 JobName=x\n   JobState=FAILED Reason=NonZeroExitCode\n   ExitCode=1:0\n');
  await t.runs.tick();
  assert.equal(t.store.runs.tags(run.id)[STATE_TAG], 'FAILED');
  assert.equal(t.store.runs.get(run.id)!.status, 'stopped');
  t.noStrays();
});
