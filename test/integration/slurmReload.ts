// Reload survival of a Slurm job, in two code-server sessions on one workspace and one cluster
// (extensionTestsPath: dist/test/slurmReload.js; test/run.mjs runs it in the slurm tier).
// Phase "start": submit a job and leave while it runs (the runner then stops code-server). Halfway
// the job waits for the next window to say it is back.
// Phase "resume": the new window finds the job again by its job id; the run finishes with every
// point exactly once, and no second run for the job.
import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { JOB_TAG, STATE_TAG } from '../../src/core/slurm/slurmRuns.ts';
import type { RunStatus } from '../../src/core/types.ts';
import { runSuites } from './mochaRunner.ts';
import { activate, eventually, git, withLog, workspaceDir } from './util.ts';

const POINTS = 40;
const HALF = 20; // the job waits after this step until the second window writes RESUMED
const RESUMED = '.slurm-reload-resumed';
const CONFIG = `  slow-slurm:
    command: [python3, -c, "import os, runlens, time\\nt0 = time.time()\\nfor i in range(${POINTS}):\\n    runlens.log({'loss': 1 / (i + 1)}, step=i); runlens.flush(); time.sleep(0.2)\\n    while i == ${HALF} and not os.path.exists('${RESUMED}') and time.time() - t0 < 600: time.sleep(0.2)"]
    executor: { type: slurm, partition: debug, time: "0:15:00" }
`;
const marker = () => join(workspaceDir(), '.slurm-reload-run');

export function run(): Promise<void> {
  const phase = process.env.RUNLENS_RELOAD_PHASE;
  return runSuites(() => {
    describe(`Slurm reload survival (${phase})`, () => {
      if (phase === 'start') {
        it('submits a job and sees it run and store its first points', async function () {
          this.timeout(90_000);
          const api = await activate();
          const ws = workspaceDir();
          const file = join(ws, 'runlens.yaml');
          writeFileSync(file, readFileSync(file, 'utf8').replace(/^runs:\n/m, `runs:\n${CONFIG}`));
          git(ws, 'commit', '-qam', 'a slow run on the cluster');
          const runId = await vscode.commands.executeCommand<number>('runlens.startRun', 'slow-slurm');
          writeFileSync(marker(), String(runId));
          const store = api.store.get()!;
          assert.equal(store.runs.get(runId)!.status, 'queued');
          await withLog(api, () => eventually(() => store.runs.get(runId)!.status === 'running' && store.metrics.points(runId, 'loss').values.length >= 5,
            'the job to run and store points', 60_000));
          assert.equal(store.runs.tags(runId)[STATE_TAG], 'RUNNING');
          assert.ok(store.metrics.points(runId, 'loss').values.length <= HALF + 1, 'it waits halfway');
        });
      } else {
        it('finds the job again by its id after the window went away; the run finishes with no gaps or duplicates', async function () {
          this.timeout(120_000);
          const api = await activate();
          const runId = Number(readFileSync(marker(), 'utf8'));
          const store = await eventually(() => api.store.get(), 'the store');
          const seen: RunStatus[] = [];
          const look = () => { const s = store.runs.get(runId)?.status; if (s && seen.at(-1) !== s) seen.push(s); };
          look();
          const timer = setInterval(look, 50);
          try {
            const job = store.runs.tags(runId)[JOB_TAG]!;
            assert.match(job, /^\d+$/);
            const state = execFileSync('squeue', ['-h', '-j', job, '-o', '%T'], { encoding: 'utf8' }).trim();
            assert.equal(state, 'RUNNING', 'the job ran on while no window was open');
            await withLog(api, () => eventually(() => api.runs.slurm.poller.watching.includes(job) && api.runs.running.includes(runId),
              'this window to follow the job and read the run again', 30_000));
            // everything written up to the halfway wait, once: what the first window left and what came after
            await eventually(() => store.metrics.points(runId, 'loss').values.length === HALF + 1, `${HALF + 1} points before the wait`, 20_000);
            writeFileSync(join(workspaceDir(), RESUMED), '');
            const done = await api.runs.settled(runId);
            assert.equal(done.status, 'finished');
            assert.equal(done.exitCode, 0);
            await eventually(() => store.runs.tags(runId)[STATE_TAG] === 'COMPLETED', 'Slurm\'s COMPLETED state', 25_000);
            const points = store.metrics.points(runId, 'loss');
            assert.deepEqual(Array.from(points.steps), Array.from({ length: POINTS }, (_, i) => i));
            assert.deepEqual(Array.from(points.values), Array.from({ length: POINTS }, (_, i) => 1 / (i + 1)));
            const runs = store.runs.list({ limit: 100 });
            assert.deepEqual(runs.map((r) => r.id), [runId], 'one run, no second one for the same job');
            assert.deepEqual(seen, ['running', 'finished']);
          } finally {
            clearInterval(timer);
          }
        });
      }
    });
  });
}
