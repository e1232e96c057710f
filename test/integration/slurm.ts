// The suite for runs on a Slurm cluster (extensionTestsPath: dist/test/slurm.js). test/run.mjs starts a
// one-node cluster (test/harness/slurm.mjs) and passes SLURM_CONF to the extension host, as Remote-SSH on
// a login node would find it. The jobs are polled at the default interval (10 s), as for a user.
// A job that fails and one that runs into its time limit (Slurm checks limits every 30 s, so it ends
// 60 to 90 s after it starts) are submitted first and checked last: the other tests run meanwhile.
import * as assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import * as vscode from 'vscode';
import type { RunLensApi } from '../../src/extension.ts';
import type { Store } from '../../src/core/store/store.ts';
import type { RunStatus } from '../../src/core/types.ts';
import type { StartedSweep } from '../../src/runs/sweeps.ts';
import type { SweepPreset } from '../../src/runs/sweepCommands.ts';
import { readExit, runFolder } from '../../src/core/runs/runProcess.ts';
import { JOB_TAG, NODE_TAG, STATE_TAG } from '../../src/core/slurm/slurmRuns.ts';
import { TRIAL_TAG } from '../../src/core/runs/sweepScheduler.ts';
import { runSuites } from './mochaRunner.ts';
import { EXTENSION_ID, activate, eventually, git, row, workspaceDir } from './util.ts';

const exec = promisify(execFile);
const EPOCHS = 400; // about 10 s of training: still going at the first poll
const CONFIG = `  train-slurm:
    command: [python3, train.py, --epochs, '${EPOCHS}']
    params: [params.yaml]
    override_style: argparse
    datasets: [data]
    outputs: [outputs]
    executor: { type: slurm, partition: debug, time: "0:10:00" }
  exit-slurm:
    command: [python3, -c, "import runlens\\nrunlens.log({'loss': 0.5}, step=0); runlens.flush()\\nraise SystemExit(3)"]
    executor: { type: slurm, partition: debug, time: "0:10:00" }
  limit-slurm:
    command: [python3, -c, "import runlens, time\\nfor i in range(600):\\n    runlens.log({'loss': 1 / (i + 1)}, step=i); runlens.flush(); time.sleep(1)"]
    executor: { type: slurm, partition: debug, time: 1 }
`;

const startRun = (name: string, overrides?: string) => (overrides === undefined
  ? vscode.commands.executeCommand<number>('runlens.startRun', name)
  : vscode.commands.executeCommand<number>('runlens.startRunWithOverrides', name, overrides));

/** The statuses a run goes through, seen on every store change and every 50 ms. */
function statuses(api: RunLensApi, id: number): { seen: RunStatus[]; stop(): void } {
  const seen: RunStatus[] = [];
  const look = () => {
    const s = api.store.get()?.runs.get(id)?.status;
    if (s && seen.at(-1) !== s) seen.push(s);
  };
  look();
  const sub = api.store.onChange(['runs'], look);
  const timer = setInterval(look, 50);
  return { seen, stop: () => { clearInterval(timer); sub.dispose(); } };
}

/** The tasks of a job that squeue says run now. */
async function runningTasks(job: string): Promise<string[]> {
  const { stdout } = await exec('squeue', ['-h', '-r', '-j', job, '-t', 'RUNNING', '-o', '%i']);
  return stdout.split('\n').map((l) => l.trim()).filter(Boolean);
}

/** Whether Slurm still lists the job (pending, running or completing). */
async function inQueue(job: string): Promise<boolean> {
  const { stdout } = await exec('squeue', ['-h', '-r', '-j', job, '-o', '%i']).catch(() => ({ stdout: '' }));
  return stdout.trim() !== '';
}

const tagOf = (store: Store, id: number, tag: string) => store.runs.tags(id)[tag];

/** A run's tooltip in the Runs view as text (Markdown escapes removed), once the view lists the run with `status`. */
function tooltipOf(api: RunLensApi, id: number, status: RunStatus): string | undefined {
  const tree = api.runsTree;
  const experiment = tree.getChildren().find((e) => e.kind === 'experiment' && e.experiment.name === 'demo');
  const node = experiment && tree.getChildren(experiment).find((c) => c.kind === 'run' && c.run.id === id);
  if (node?.kind !== 'run' || node.run.status !== status) return undefined;
  const tip = tree.resolveTreeItem(tree.getTreeItem(node), node).tooltip;
  return (tip instanceof vscode.MarkdownString ? tip.value : String(tip)).replace(/\\(.)/g, '$1');
}

/** Waits until an async check holds. */
async function until(check: () => Promise<boolean>, what: string, timeoutMs: number): Promise<void> {
  for (const end = Date.now() + timeoutMs; !(await check());) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

export function run(): Promise<void> {
  return runSuites(() => {
    describe('Slurm', () => {
      let api: RunLensApi;
      let ws: string;
      let exitRun: number, limitRun: number;
      let exitWatch: ReturnType<typeof statuses>, limitWatch: ReturnType<typeof statuses>;

      before(async () => {
        api = await activate();
        ws = workspaceDir();
        // a run configuration on Slurm, committed as a project would have it
        const file = join(ws, 'runlens.yaml');
        writeFileSync(file, readFileSync(file, 'utf8').replace(/^runs:\n/m, `runs:\n${CONFIG}`));
        git(ws, 'commit', '-qam', 'train on the cluster');
        limitRun = await startRun('limit-slurm');
        limitWatch = statuses(api, limitRun);
        exitRun = await startRun('exit-slurm');
        exitWatch = statuses(api, exitRun);
      });

      after(() => {
        exitWatch?.stop();
        limitWatch?.stop();
      });

      it('runs the demo training as a job: queued, then running, then finished, with every point and the provenance of a local run', async function () {
        this.timeout(150_000);
        const train = join(ws, 'train.py');
        const original = readFileSync(train, 'utf8');
        writeFileSync(train, `${original}\n# tuned by hand, not committed\n`); // both runs record this patch
        try {
          const local = await api.runs.settled(await startRun('train'));
          assert.equal(local.status, 'finished');
          const id = await startRun('train-slurm');
          const store = api.store.get()!;
          const watch = statuses(api, id);
          const queued = store.runs.get(id)!;
          assert.equal(queued.status, 'queued', 'queued once submitted');
          const job = tagOf(store, id, JOB_TAG)!;
          assert.match(job, /^\d+$/);
          assert.equal(tagOf(store, id, STATE_TAG), 'PENDING');
          const script = readFileSync(join(runFolder(store.dir, queued.uid).dir, 'job.sh'), 'utf8');
          assert.match(script, /^#SBATCH --partition=debug$/m);
          assert.match(script, /^#SBATCH --time=0:10:00$/m);
          const done = await api.runs.settled(id);
          watch.stop();
          assert.deepEqual(watch.seen, ['queued', 'running', 'finished']);
          assert.equal(done.exitCode, 0);
          await eventually(() => tagOf(store, id, STATE_TAG) === 'COMPLETED', 'Slurm\'s COMPLETED state', 25_000);
          assert.equal(await inQueue(job), false);

          // every point, once, in order
          const acc = store.metrics.points(id, 'val_acc');
          assert.deepEqual(Array.from(acc.steps), Array.from({ length: EPOCHS }, (_, i) => i + 1));
          assert.equal(store.runs.params(id)['train.epochs'], EPOCHS);
          assert.match(readFileSync(api.runs.logFile(done)!, 'utf8'), new RegExp(`epoch=${EPOCHS} step=${EPOCHS} `));

          // the provenance a local run of the same project records
          assert.deepEqual(done.git, local.git);
          assert.equal(done.git?.dirty, true);
          const [p, q] = [store.provenance.get(local.id)!, store.provenance.get(id)!];
          assert.ok(p.patchSha256, 'the uncommitted edit is stored');
          for (const key of ['patchSha256', 'interpreter', 'interpreterVersion', 'os', 'hostname'] as const) assert.equal(q[key], p[key], key);
          assert.match(q.commandLine!, new RegExp(`train\\.py --epochs ${EPOCHS}$`));
          assert.deepEqual(store.provenance.datasets(id).map((d) => d.digest), store.provenance.datasets(local.id).map((d) => d.digest));
        } finally {
          writeFileSync(train, original);
        }
      });

      it('Stop on a running job cancels it, and the run ends stopped', async function () {
        this.timeout(120_000);
        const id = await startRun('train-slurm', 'train.epochs=5000');
        const store = api.store.get()!;
        const job = tagOf(store, id, JOB_TAG)!;
        await eventually(() => store.runs.get(id)!.status === 'running' && store.metrics.points(id, 'val_acc').values.length >= 3,
          'the job to run and store points', 60_000);
        await vscode.commands.executeCommand('runlens.stopRun', id);
        const done = await api.runs.settled(id);
        assert.equal(done.status, 'stopped');
        assert.ok(store.metrics.points(id, 'val_acc').values.length < 5000, 'stopped mid-run');
        assert.equal(readExit(store.dir, done.uid)?.signalled, 'SIGINT', 'the training got SIGINT first');
        await until(async () => !(await inQueue(job)), 'the job to leave the queue', 30_000);
        await new Promise((r) => setTimeout(r, 11_000)); // the next poll must not make it anything else
        assert.equal(store.runs.get(id)!.status, 'stopped');
      });

      it('a 4-trial sweep with concurrency 2 is one job array: never more than 2 running, every trial recorded with its override', async function () {
        this.timeout(180_000);
        const lrs = [0.1, 0.2, 0.3, 0.4];
        const preset: SweepPreset = { run: 'train-slurm', params: { 'train.lr': lrs, 'train.epochs': [100] }, method: 'grid', concurrency: 2 };
        const { sweepId, runIds } = await vscode.commands.executeCommand<StartedSweep>('runlens.newSweep', preset);
        const store = api.store.get()!;
        assert.equal(runIds.length, 4);
        const jobs = runIds.map((id) => tagOf(store, id, JOB_TAG)!);
        const array = jobs[0]!.split('_')[0]!;
        runIds.forEach((id, i) => assert.equal(jobs[i], `${array}_${tagOf(store, id, TRIAL_TAG)}`, 'trial i is task i of one array'));
        assert.match(readFileSync(join(store.dir, 'slurm', store.runs.get(runIds[0]!)!.uid, 'array.sh'), 'utf8'), /^#SBATCH --array=0-3%2$/m);
        assert.deepEqual(runIds.map((id) => store.runs.get(id)!.status), ['queued', 'queued', 'queued', 'queued']);
        const sweepRow = () => {
          const experiment = api.runsTree.getChildren().find((e) => e.kind === 'experiment' && e.experiment.name === 'demo');
          const node = experiment && api.runsTree.getChildren(experiment).find((c) => c.kind === 'sweep' && c.sweep.id === sweepId);
          return node && row(api, node);
        };
        const waiting = await eventually(() => { const r = sweepRow(); return r && /queued/.test(r.description) && r; }, 'the sweep node with queued trials');
        assert.match(waiting.description, /^4 runs · (\d running · )?\d queued$/);

        // sampled from Slurm and from the store until every trial ended
        let most = 0, mostStored = 0;
        const ended = (s: RunStatus) => s !== 'queued' && s !== 'running';
        for (const end = Date.now() + 150_000; !runIds.every((id) => ended(store.runs.get(id)!.status));) {
          if (Date.now() > end) throw new Error(`the sweep did not end: ${runIds.map((id) => store.runs.get(id)!.status).join(', ')}`);
          most = Math.max(most, (await runningTasks(array)).length);
          mostStored = Math.max(mostStored, runIds.filter((id) => store.runs.get(id)!.status === 'running').length);
          await new Promise((r) => setTimeout(r, 200));
        }
        assert.equal(most, 2, 'Slurm ran two at once, never more');
        // The record: each trial's start (its process file) and end (its exit record) come from the job itself,
        // so at most two recorded intervals overlap. (Sampled statuses can lag a tick behind on a loaded machine:
        // a trial that ended is still 'running' until the window reads its exit record.)
        const spans = runIds.map((id) => store.runs.get(id)!).map((r) => [r.startedAt!, r.endedAt!] as const);
        const overlap = Math.max(...spans.map(([s]) => spans.filter(([a, b]) => a <= s && s < b).length));
        assert.ok(overlap <= 2, `${overlap} recorded runs overlap: ${JSON.stringify(spans)} (sampled: ${mostStored} running at once)`);
        runIds.forEach((id, i) => {
          const r = store.runs.get(id)!;
          assert.equal(r.status, 'finished', `${r.name}: exit ${r.exitCode}`);
          assert.equal(store.runs.params(id)['train.lr'], lrs[i]);
          assert.equal(store.runs.params(id)['train.epochs'], 100);
          assert.equal(tagOf(store, id, 'runlens.overrides'), `train.lr=${lrs[i]} train.epochs=100`);
          assert.equal(store.metrics.points(id, 'val_acc').values.length, 100);
          assert.ok(store.provenance.get(id)?.commandLine?.endsWith(`--lr ${lrs[i]} --epochs 100`), store.provenance.get(id)?.commandLine ?? 'no command line');
        });
        await eventually(() => { const r = sweepRow(); return r && !/queued|running/.test(r.description); }, 'the finished sweep node', 15_000);
      });

      it('a job submitted with sbatch from a shell, with the helper inside, is tracked with its job id and Slurm state', async function () {
        this.timeout(90_000);
        const dir = mkdtempSync(join(tmpdir(), 'runlens-sbatch-'));
        try {
          const helper = join(vscode.extensions.getExtension(EXTENSION_ID)!.extensionPath, 'media', 'python');
          const script = join(dir, 'job.sh');
          writeFileSync(script, `#!/bin/bash
cd ${JSON.stringify(ws)}
python3 -c "import runlens, time
for i in range(8):
    runlens.log({'loss': 1 / (i + 1)}, step=i); time.sleep(1)"
`);
          const env: NodeJS.ProcessEnv = { ...process.env, PYTHONPATH: helper };
          delete env.RUNLENS_METRICS_FILE; // a job of the user's own, not one RunLens launched
          const { stdout } = await exec('sbatch', ['--parsable', `--output=${join(dir, 'out.log')}`, script], { env });
          const job = stdout.trim().split(';')[0]!;
          const store = api.store.get()!;
          const id = await eventually(() => store.runs.list({ limit: 50 }).find((r) => tagOf(store, r.id, JOB_TAG) === job)?.id,
            'the helper\'s run, adopted with its job id', 30_000);
          await eventually(() => ['RUNNING', 'COMPLETED'].includes(tagOf(store, id, STATE_TAG) ?? ''), 'Slurm\'s state of the job', 30_000);
          const done = await api.runs.settled(id);
          assert.equal(done.status, 'finished', `exit ${done.exitCode}; job output: ${existsSync(join(dir, 'out.log')) ? readFileSync(join(dir, 'out.log'), 'utf8') : ''}`);
          assert.equal(store.metrics.points(id, 'loss').values.length, 8);
          await eventually(() => tagOf(store, id, STATE_TAG) === 'COMPLETED', 'Slurm\'s COMPLETED state', 25_000);
        } finally {
          rmSync(dir, { recursive: true, force: true });
        }
      });

      it('a job that exits non-zero ends failed, with its exit code and Slurm\'s FAILED state', async function () {
        this.timeout(60_000);
        const store = api.store.get()!;
        const job = tagOf(store, exitRun, JOB_TAG)!;
        const done = await api.runs.settled(exitRun);
        assert.equal(done.status, 'failed');
        assert.equal(done.exitCode, 3);
        await eventually(() => tagOf(store, exitRun, STATE_TAG) === 'FAILED', 'Slurm\'s FAILED state', 25_000);
        exitWatch.stop();
        assert.equal(exitWatch.seen[0], 'queued');
        assert.equal(exitWatch.seen.at(-1), 'failed');
        assert.ok(!exitWatch.seen.includes('finished'), exitWatch.seen.join(' → '));
        assert.deepEqual(Array.from(store.metrics.points(exitRun, 'loss').values), [0.5], 'its point before the exit');
        const tip = await eventually(() => tooltipOf(api, exitRun, 'failed'), 'the failed run in the Runs view');
        assert.match(tip, /\(exit 3\)/);
        assert.ok(tip.includes(`Slurm job ${job} · FAILED on ${tagOf(store, exitRun, NODE_TAG)}`), tip);
        assert.equal(await inQueue(job), false);
      });

      it('a job that runs into its time limit ends failed, with TIMEOUT in its tag and tooltip', async function () {
        this.timeout(150_000);
        const store = api.store.get()!;
        const job = tagOf(store, limitRun, JOB_TAG)!;
        assert.match(readFileSync(join(runFolder(store.dir, store.runs.get(limitRun)!.uid).dir, 'job.sh'), 'utf8'), /^#SBATCH --time=1$/m);
        const done = await api.runs.settled(limitRun);
        assert.equal(done.status, 'failed');
        assert.equal(done.exitCode, 143, 'the script recorded SIGTERM ending the training');
        await eventually(() => tagOf(store, limitRun, STATE_TAG) === 'TIMEOUT', 'Slurm\'s TIMEOUT state', 25_000);
        limitWatch.stop();
        assert.deepEqual(limitWatch.seen, ['queued', 'running', 'failed']);
        const node = tagOf(store, limitRun, NODE_TAG);
        assert.ok(node, 'the node it ran on');
        const tip = await eventually(() => tooltipOf(api, limitRun, 'failed'), 'the failed run in the Runs view');
        assert.match(tip, /\(exit 143\)/);
        assert.ok(tip.includes(`Slurm job ${job} · TIMEOUT on ${node}`), tip);
        assert.match(readFileSync(api.runs.logFile(done)!, 'utf8'), /DUE TO TIME LIMIT/);
        // about a minute of points, one a second, every one stored once
        const steps = Array.from(store.metrics.points(limitRun, 'loss').steps);
        assert.ok(steps.length >= 30 && steps.length < 120, `${steps.length} points`);
        assert.deepEqual(steps, Array.from({ length: steps.length }, (_, i) => i));
      });
    });
  });
}
