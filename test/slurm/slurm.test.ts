// The slurm tier: runs and sweeps as jobs on a real one-node Slurm cluster (test/harness/slurm.mjs).
// Skipped, with the reason, where the cluster cannot start (not Debian, not root, Slurm missing).
//   node --disable-warning=MODULE_TYPELESS_PACKAGE_JSON --test test/slurm/*.test.ts
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { after, before, test } from 'node:test';
import { startSlurm, slurmDaemons } from '../harness/slurm.mjs';
import { Store } from '../../src/core/store/store.ts';
import { type StoreAccess, StoreWrites } from '../../src/core/store/storeWrites.ts';
import { RunMonitor } from '../../src/core/runs/runMonitor.ts';
import { runEnvironment } from '../../src/core/runs/launch.ts';
import { captureProvenance } from '../../src/core/runs/captureProvenance.ts';
import { runFolder } from '../../src/core/runs/runProcess.ts';
import { StdoutParser } from '../../src/core/ingest/stdoutParser.ts';
import { JOB_TAG, NODE_TAG, REASON_TAG, STATE_TAG, type SlurmRequest, SlurmRuns } from '../../src/core/slurm/slurmRuns.ts';
import type { SlurmExecutor } from '../../src/core/slurm/executorConfig.ts';
import { type Exec, SlurmError, execSlurm } from '../../src/core/slurm/slurmCli.ts';
import { SWEEP_TAG, type RunStatus } from '../../src/core/types.ts';

const root = join(import.meta.dirname, '..', '..');
const helper = join(root, 'media', 'python');
const POLL_MS = 1000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
// the demo copied to a temp folder and made a git repository, as `npm start` does (an untyped .mjs helper)
const { prepareDemoWorkspace } = await import(join('..', 'harness', 'demoWorkspace.mjs')) as { prepareDemoWorkspace: (parent: string) => string };

let cluster: Awaited<ReturnType<typeof startSlurm>>;
let skip: string | false = false;

before(async () => {
  cluster = await startSlurm({ log: (m: string) => console.log(`# ${m}`) });
  if (!cluster.ok) {
    skip = `skipped: ${cluster.skipped}`;
    console.log(`# slurm tier ${skip}`);
    return;
  }
  process.env.SLURM_CONF = cluster.env.SLURM_CONF; // what sbatch, squeue and the jobs find the cluster by
});

after(async () => {
  if (cluster?.ok) await cluster.stop();
});

/** A copy of the demo as a git repository, its store, a run monitor ticking, and Slurm runs polling every second. */
function workspace(options: { exec?: Exec } = {}) {
  const parent = mkdtempSync(join(tmpdir(), 'runlens-slurm-ws-'));
  const ws = prepareDemoWorkspace(parent);
  const store = Store.open(join(ws, '.runlens'));
  const writes = new StoreWrites({ store: () => store, fire: () => {} });
  const access: StoreAccess = { get: () => store, write: (kinds, fn) => writes.write(kinds, fn) };
  const logs: string[] = [];
  const parser = new StdoutParser({ patterns: [] });
  const history = new Map<number, RunStatus[]>();
  const note = () => {
    for (const run of store.runs.list({ limit: 1000 })) {
      const seen = history.get(run.id) ?? [];
      if (seen.at(-1) !== run.status) seen.push(run.status);
      history.set(run.id, seen);
    }
  };
  let monitor = new RunMonitor(store, store.dir, { parse: (l) => parser.parse(l), log: (m) => logs.push(m) });
  const open = () => new SlurmRuns({
    store: access, exec: options.exec, follow: (run) => monitor.track(run), changed: note, log: (m) => logs.push(m),
    poll: { intervalMs: POLL_MS }, graceMs: 5000,
  });
  let slurm = open();
  const timer = setInterval(() => {
    const ids = writes.writeSteps(['metrics'], () => monitor.tick());
    slurm.runsChanged(ids);
    note();
  }, 100);
  const w = {
    ws, store, logs, history,
    get slurm() { return slurm; },
    get monitor() { return monitor; },
    /** What Start Run hands the executor: the same environment and provenance as a local launch. */
    async request(command: string[], executor: Partial<SlurmExecutor> = {}, extra: Partial<SlurmRequest> = {}): Promise<SlurmRequest> {
      const spec = { command: command[0]!, args: command.slice(1), shell: false, cwd: ws, env: runEnvironment({ ...process.env }, helper, delimiter) };
      const captured = await captureProvenance(store, spec);
      return { spec, git: captured.git, provenance: captured.provenance, executor: { type: 'slurm', sbatch: [], setup: [], ...executor }, ...extra };
    },
    /** Waits until the run's status is `status` (and its final tags are in), failing after `ms`. */
    async until(runId: number, status: RunStatus, ms = 60_000) {
      const end = Date.now() + ms;
      for (;;) {
        const run = store.runs.get(runId)!;
        const reached = run.status === status || (status === 'running' && history.get(runId)?.includes('running')); // a short job may be past it
        if (reached && (status === 'queued' || status === 'running' || !slurm.poller.watching.includes(store.runs.tags(runId)[JOB_TAG]!))) return run;
        if (Date.now() > end) throw new Error(`run ${run.name} is ${run.status}, not ${status}, after ${ms} ms (${history.get(runId)?.join(' → ')}); log:\n${logs.join('\n')}`);
        await sleep(100);
      }
    },
    /** A window reload: this window's Slurm runs and monitor go, new ones find the jobs again. */
    reload() {
      slurm.dispose();
      writes.writeSteps([], () => monitor.dispose());
      monitor = new RunMonitor(store, store.dir, { parse: (l) => parser.parse(l), log: (m) => logs.push(m) });
      slurm = open();
      writes.writeSteps(['runs', 'metrics'], () => monitor.recover());
      return slurm.recover();
    },
    close() {
      clearInterval(timer);
      slurm.dispose();
      monitor.dispose();
      store.close();
      rmSync(parent, { recursive: true, force: true });
    },
  };
  return w;
}

test('Slurm runs on a one-node cluster', { concurrency: true }, async (t) => {
  if (skip) return t.skip(skip);
  // at once: the time limit takes a minute and more, the others run meanwhile
  const tests: Promise<void>[] = [];

  tests.push(t.test('the demo training as a job: queued (with its reason), running on the node, finished, every point stored', async () => {
    const w = workspace();
    try {
      const req = await w.request(['python3', 'train.py', '--epochs', '8'], { sbatch: ['--begin=now+2'] }, { name: 'demo-on-slurm', outputs: ['outputs'] });
      const run = await w.slurm.submit(req);
      assert.equal(run.status, 'queued');
      const job = w.store.runs.tags(run.id)[JOB_TAG]!;
      assert.match(job, /^\d+$/);
      const script = readFileSync(join(runFolder(w.store.dir, run.uid).dir, 'job.sh'), 'utf8');
      assert.match(script, /^#SBATCH --begin=now\+2$/m);
      assert.match(script, new RegExp(`^export PYTHONPATH=${helper}`, 'm'));
      let reason: string | undefined;
      while (w.store.runs.get(run.id)!.status === 'queued') {
        reason ??= w.store.runs.tags(run.id)[REASON_TAG];
        await sleep(100);
      }
      assert.equal(reason, 'BeginTime', 'queued with the reason Slurm gives');
      const running = await w.until(run.id, 'running');
      assert.equal(w.store.runs.tags(run.id)[NODE_TAG], cluster.ok && cluster.host);
      assert.ok(running.startedAt! > run.createdAt);
      const done = await w.until(run.id, 'finished');
      assert.deepEqual(w.history.get(run.id), ['queued', 'running', 'finished']);
      assert.equal(done.exitCode, 0);
      const tags = w.store.runs.tags(run.id);
      assert.equal(tags[STATE_TAG], 'COMPLETED');
      assert.equal(tags[REASON_TAG], undefined);
      const f = runFolder(w.store.dir, run.uid);
      for (const file of [f.metrics, f.exit, f.process, f.log]) assert.ok(existsSync(file), file);
      const info = JSON.parse(readFileSync(f.process, 'utf8'));
      assert.deepEqual([info.host, info.slurmJob], [hostname(), job]);
      assert.equal(JSON.parse(readFileSync(f.exit, 'utf8')).code, 0);
      const lines = readFileSync(f.metrics, 'utf8').trim().split('\n').length;
      const stored = w.store.metrics.summaries(run.id);
      assert.ok(stored.some((s) => s.key === 'val_acc' && s.count === 8), 'one val_acc point per epoch');
      assert.ok(lines > 0 && stored.reduce((n, s) => n + s.count, 0) >= 16);
      assert.equal(w.store.runs.get(run.id)!.git?.commit.length, 40, 'provenance captured at submit time');
      assert.ok(w.store.provenance.get(run.id)?.commandLine?.includes('train.py'));
      assert.match(readFileSync(f.log, 'utf8'), /epoch/i);
    } finally {
      w.close();
    }
  }));

  tests.push(t.test('a job exiting non-zero: failed, with its exit code', async () => {
    const w = workspace();
    try {
      const run = await w.slurm.submit(await w.request(['sh', '-c', 'echo about to fail; exit 3']));
      const done = await w.until(run.id, 'failed');
      assert.equal(done.exitCode, 3);
      assert.equal(w.store.runs.tags(run.id)[STATE_TAG], 'FAILED');
      assert.match(readFileSync(runFolder(w.store.dir, run.uid).log, 'utf8'), /about to fail/);
    } finally {
      w.close();
    }
  }));

  tests.push(t.test('sbatch refusing a job (a partition that does not exist): its message as is, the run failed', async () => {
    const w = workspace();
    try {
      const req = await w.request(['true'], { partition: 'nosuchpartition' });
      await assert.rejects(w.slurm.submit(req), (err: Error) => err instanceof SlurmError && /^sbatch refused: sbatch: error: .*invalid partition/i.test(err.message));
      const [run] = w.store.runs.list();
      assert.equal(run!.status, 'failed');
      assert.match(readFileSync(runFolder(w.store.dir, run!.uid).log, 'utf8'), /RunLens could not submit the job: sbatch refused: .*partition/i);
    } finally {
      w.close();
    }
  }));

  tests.push(t.test('a job over its time limit: failed, TIMEOUT named', async () => {
    const w = workspace();
    try {
      const run = await w.slurm.submit(await w.request(['sleep', '600'], { time: '1' }));
      await w.until(run.id, 'running');
      const done = await w.until(run.id, 'failed', 150_000);
      assert.equal(w.store.runs.tags(run.id)[STATE_TAG], 'TIMEOUT');
      assert.equal(done.exitCode, 143, 'the script recorded SIGTERM ending the command');
      assert.match(readFileSync(runFolder(w.store.dir, run.uid).log, 'utf8'), /DUE TO TIME LIMIT/);
    } finally {
      w.close();
    }
  }));

  tests.push(t.test('cancel: SIGINT reaches the training first (it writes a marker), the run ends stopped', async () => {
    const w = workspace();
    try {
      const marker = join(w.ws, 'interrupted'), ready = join(w.ws, 'ready');
      const code = `import time\ntry:\n    open(${JSON.stringify(ready)}, "w")\n    time.sleep(300)\nexcept KeyboardInterrupt:\n    open(${JSON.stringify(marker)}, "w").write("saved")\n`;
      const run = await w.slurm.submit(await w.request(['python3', '-c', code]));
      await w.until(run.id, 'running');
      while (!existsSync(ready)) await sleep(100);
      const started = Date.now();
      await w.slurm.cancel(w.store.runs.get(run.id)!);
      const done = await w.until(run.id, 'stopped');
      assert.equal(readFileSync(marker, 'utf8'), 'saved');
      assert.equal(JSON.parse(readFileSync(runFolder(w.store.dir, run.uid).exit, 'utf8')).signalled, 'SIGINT');
      assert.equal(done.exitCode, 0, 'it saved and exited cleanly');
      assert.ok(Date.now() - started < 10_000);
      // a job still waiting is cancelled at once
      const waiting = await w.slurm.submit(await w.request(['true'], { sbatch: ['--begin=now+600'] }));
      await w.slurm.cancel(waiting);
      const gone = await w.until(waiting.id, 'stopped');
      assert.equal(gone.startedAt, null);
      assert.equal(w.store.runs.tags(waiting.id)[STATE_TAG], 'CANCELLED');
    } finally {
      w.close();
    }
  }));

  tests.push(t.test('a 4-trial sweep as one array with %2: never more than 2 running, each trial with its overrides and its points', async () => {
    const w = workspace();
    try {
      const lrs = [0.05, 0.1, 0.2, 0.4];
      const queued = w.store.runs.list(); // none yet
      assert.equal(queued.length, 0);
      const trials = await Promise.all(lrs.map(async (lr, i) => {
        const id = w.store.runs.create({ name: `lr=${lr}`, status: 'queued', tags: { [SWEEP_TAG]: 'lr sweep', 'runlens.overrides': `train.lr=${lr}` } }).id;
        return w.request(['python3', 'train.py', '--epochs', '4', '--lr', String(lr)], {}, { queued: id, params: { 'train.lr': lr, trial: i } });
      }));
      const { job, runs } = await w.slurm.submitArray('lr sweep', trials, 2);
      assert.deepEqual(runs.map((r) => w.store.runs.tags(r.id)[JOB_TAG]), [0, 1, 2, 3].map((i) => `${job}_${i}`));
      let most = 0, samples = 0;
      while (runs.some((r) => w.store.runs.get(r.id)!.status !== 'finished')) {
        const q = await execSlurm('squeue', ['-h', '-r', '-j', job, '-o', '%T']);
        most = Math.max(most, q.stdout.split('\n').filter((s) => s.trim() === 'RUNNING').length);
        samples++;
        if (runs.some((r) => ['failed', 'crashed', 'stopped'].includes(w.store.runs.get(r.id)!.status))) assert.fail(`a trial did not finish: ${w.logs.join('\n')}`);
        await sleep(250);
      }
      assert.ok(samples > 10);
      assert.equal(most, 2, 'two at a time, never more');
      runs.forEach((r, i) => {
        const run = w.store.runs.get(r.id)!;
        assert.deepEqual(run.command?.slice(-2), ['--lr', String(lrs[i])]);
        assert.equal(w.store.runs.params(r.id)['train.lr'], lrs[i]);
        const log = readFileSync(runFolder(w.store.dir, run.uid).log, 'utf8');
        assert.ok(log.includes(`"lr": ${lrs[i]},`), `trial ${i} ran with its lr`);
        assert.equal(w.store.metrics.summaries(r.id).find((s) => s.key === 'val_acc')?.count, 4);
        assert.equal(JSON.parse(readFileSync(runFolder(w.store.dir, run.uid).process, 'utf8')).slurmJob, `${job}_${i}`);
      });
    } finally {
      w.close();
    }
  }));

  tests.push(t.test('polling: exactly one squeue per interval for all the workspace\'s jobs; scontrol only for jobs that left the queue', async () => {
    const calls: { at: number; args: string[] }[] = [];
    const counting: Exec = (cmd, args, o) => { calls.push({ at: Date.now(), args: [cmd, ...args] }); return execSlurm(cmd, args, o); };
    const w = workspace({ exec: counting });
    try {
      const requests = await Promise.all([0, 1, 2, 3, 4, 5].map((i) => w.request(['sleep', String(3 + (i % 3))])));
      const runs = [];
      const start = Date.now();
      for (const req of requests) runs.push(await w.slurm.submit(req));
      const from = Date.now();
      for (const r of runs) await w.until(r.id, 'finished');
      const elapsed = Date.now() - start;
      const squeue = calls.filter((c) => c.args[0] === 'squeue');
      assert.ok(squeue.length >= 3, `${squeue.length} squeue calls`);
      assert.ok(squeue.length <= Math.ceil(elapsed / POLL_MS) + 1, `${squeue.length} squeue calls in ${elapsed} ms`);
      for (let i = 1; i < squeue.length; i++) assert.ok(squeue[i]!.at - squeue[i - 1]!.at >= POLL_MS - 150, 'no more than one per interval');
      const jobs = runs.map((r) => w.store.runs.tags(r.id)[JOB_TAG]);
      const first = squeue.find((c) => c.at >= from)!;
      assert.deepEqual(first.args[first.args.indexOf('-j') + 1]!.split(',').sort(), [...jobs].sort(), 'one call names every job');
      const scontrol = calls.filter((c) => c.args[0] === 'scontrol' && c.args[2] === 'job');
      assert.ok(scontrol.length <= jobs.length, `${scontrol.length} scontrol calls for ${jobs.length} jobs`);
      assert.deepEqual([...new Set(scontrol.map((c) => c.args[3]))].sort(), [...jobs].sort(), 'scontrol once for each job that ended');
      const more = calls.length;
      await sleep(2 * POLL_MS);
      assert.equal(calls.length, more, 'no jobs left: no calls');
    } finally {
      w.close();
    }
  }));

  tests.push(t.test('a window reload while a job runs: the job is found again by its id, nothing lost or read twice', async () => {
    const w = workspace();
    try {
      // long enough (a few seconds) to be still running after the poll that saw it start
      const run = await w.slurm.submit(await w.request(['python3', 'train.py', '--epochs', '100']));
      await w.until(run.id, 'running');
      while (!w.store.metrics.summaries(run.id).length) await sleep(100);
      assert.equal(w.reload(), 1, 'the running job is followed again');
      await w.until(run.id, 'finished');
      assert.equal(w.store.metrics.summaries(run.id).find((s) => s.key === 'val_acc')?.count, 100, 'every epoch once');
    } finally {
      w.close();
    }
  }));
  await Promise.all(tests);
});

test('the cluster stops: no slurmctld, slurmd, slurmstepd or munged left', async (t) => {
  if (skip) return t.skip(skip);
  const pids = cluster.ok ? await cluster.stop() : [];
  assert.equal(pids.length, 3, 'munged, slurmctld and slurmd were stopped by their pid files');
  assert.deepEqual(slurmDaemons(), []);
});
