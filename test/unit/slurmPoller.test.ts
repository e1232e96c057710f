import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { GONE, SlurmPoller } from '../../src/core/slurm/poller.ts';
import { type Exec, type ExecResult, cancel, submit } from '../../src/core/slurm/slurmCli.ts';
import type { JobState } from '../../src/core/slurm/jobStates.ts';
import { tempDir } from './helpers.ts';

const ok = (stdout: string): ExecResult => ({ code: 0, stdout, stderr: '' });

interface FakeSlurm {
  calls: string[][];
  queue: string;
  records: Map<string, string>;
  config: string;
  squeueFails: boolean;
  exec: Exec;
}

/** A fake Slurm: squeue prints `queue`, scontrol prints `records` per id; every call is kept. */
function fakeSlurm(): FakeSlurm {
  const calls: string[][] = [];
  const slurm: FakeSlurm = {
    calls,
    queue: '',
    records: new Map<string, string>(),
    config: 'JobCompType             = jobcomp/none\n',
    squeueFails: false,
    exec: async (command, args) => {
      calls.push([command, ...args]);
      if (command === 'squeue') return slurm.squeueFails ? { code: 1, stdout: '', stderr: 'squeue: error: slurm_load_jobs error: Unable to contact slurm controller' } : ok(slurm.queue);
      if (command === 'scontrol' && args[1] === 'config') return ok(slurm.config);
      if (command === 'scontrol') {
        const rec = slurm.records.get(args[2]!);
        return rec ? ok(rec) : { code: 1, stdout: '', stderr: 'slurm_load_jobs error: Invalid job id specified' };
      }
      return ok('');
    },
  };
  return slurm;
}

function poller(slurm: FakeSlurm, jobcompFile?: string | null) {
  const seen: JobState[][] = [];
  const timer = { fn: undefined as (() => void) | undefined, ms: 0 };
  const p = new SlurmPoller({
    exec: slurm.exec, user: 'ana', onChange: (s) => seen.push(s), jobcompFile,
    every: (ms, fn) => { timer.fn = fn; timer.ms = ms; return () => { timer.fn = undefined; }; },
  });
  return { p, seen, timer };
}

test('one squeue per look for all followed jobs, whatever their number; the timer runs only while there are jobs', async () => {
  const slurm = fakeSlurm();
  const { p, seen, timer } = poller(slurm);
  assert.equal(timer.fn, undefined);
  const ids = Array.from({ length: 50 }, (_, i) => String(100 + i));
  for (const id of ids) p.watch(id);
  p.watch('7_0'); p.watch('7_1'); p.watch('7_2');
  assert.equal(timer.ms, 10_000, 'every 10 s by default');
  slurm.queue = [...ids.map((id) => `${id}|${id}|N/A|PENDING||Priority`), '7_0|7|0|RUNNING|n1|None', '7_1|7|1|PENDING||JobArrayTaskLimit', '7_2|7|2|PENDING||JobArrayTaskLimit'].join('\n');
  for (let i = 0; i < 3; i++) timer.fn!();
  await p.tick();
  assert.equal(slurm.calls.length, 1, 'looks going at once are joined');
  assert.deepEqual(slurm.calls[0], ['squeue', '-h', '-r', '-u', 'ana', '-j', [...ids, '7'].join(','), '-o', '%i|%F|%K|%T|%N|%r']);
  assert.equal(seen[0]!.length, 53);
  assert.deepEqual(p.state('7_0'), { job: '7_0', phase: 'running', slurmState: 'RUNNING', node: 'n1' });
  await p.tick();
  assert.equal(slurm.calls.length, 2);
  assert.equal(seen.length, 1, 'nothing changed: nothing told');
  p.dispose();
  assert.equal(timer.fn, undefined);
});

test('jobs that left the queue: scontrol once per job id (an array with its tasks), final states told once and let go', async () => {
  const slurm = fakeSlurm();
  const { p, seen, timer } = poller(slurm);
  for (const j of ['5', '7_0', '7_1', '8']) p.watch(j);
  slurm.queue = '5|5|N/A|RUNNING|n1|None\n7_0|7|0|RUNNING|n1|None\n7_1|7|1|PENDING||JobArrayTaskLimit\n8|8|N/A|PENDING||Resources';
  await p.tick();
  slurm.queue = '7_1|7|1|RUNNING|n2|None';
  slurm.records.set('5', 'JobId=5 JobName=a\n   JobState=TIMEOUT Reason=TimeLimit Dependency=(null)\n   ExitCode=0:15\n   NodeList=n1\n');
  slurm.records.set('7', 'JobId=7 ArrayJobId=7 ArrayTaskId=1 JobName=b\n   JobState=RUNNING Reason=None\n   ExitCode=0:0\n   NodeList=n2\n\n'
    + 'JobId=9 ArrayJobId=7 ArrayTaskId=0 JobName=b\n   JobState=COMPLETED Reason=None\n   ExitCode=0:0\n   NodeList=n1\n');
  slurm.records.set('8', 'JobId=8 JobName=c\n   JobState=CANCELLED Reason=None\n   ExitCode=0:0\n   NodeList=\n');
  const before = slurm.calls.length;
  await p.tick();
  assert.deepEqual(slurm.calls.slice(before).map((c) => c.slice(0, 3).join(' ')), ['squeue -h -r', 'scontrol show job', 'scontrol show job', 'scontrol show job']);
  assert.deepEqual(slurm.calls.slice(before + 1).map((c) => c[3]), ['5', '7', '8'], 'one scontrol for the array');
  assert.deepEqual(seen[1]!.map((s) => [s.job, s.phase, s.slurmState]), [['5', 'failed', 'TIMEOUT'], ['7_0', 'finished', 'COMPLETED'], ['7_1', 'running', 'RUNNING'], ['8', 'stopped', 'CANCELLED']]);
  assert.deepEqual(p.watching, ['7_1'], 'ended jobs are let go');
  slurm.queue = '';
  slurm.records.set('7', 'JobId=7 ArrayJobId=7 ArrayTaskId=1 JobName=b\n   JobState=FAILED Reason=NonZeroExitCode\n   ExitCode=2:0\n   NodeList=n2\n');
  await p.tick();
  assert.deepEqual(seen[2], [{ job: '7_1', phase: 'failed', slurmState: 'FAILED', reason: 'NonZeroExitCode', node: 'n2', exitCode: 2 }]);
  assert.equal(timer.fn, undefined, 'nothing left to follow: the timer stops');
  const calls = slurm.calls.length;
  await p.tick();
  assert.equal(slurm.calls.length, calls, 'no jobs, no calls');
});

test('a job scontrol forgot (MinJobAge): its jobcomp line, found through scontrol show config; without one it is gone', async () => {
  const dir = tempDir();
  const jobcomp = join(dir, 'jobcomp.txt');
  writeFileSync(jobcomp, 'JobId=41 UserId=ana(1) Name=x JobState=OUT_OF_MEMORY Partition=gpu NodeList=g1 ExitCode=0:9 \n'
    + 'JobId=50 UserId=ana(1) Name=y JobState=CANCELLED NodeList=(null) ExitCode=0:0 \n');
  const slurm = fakeSlurm();
  slurm.config = `JobCompHost             = localhost\nJobCompLoc              = ${jobcomp}\nJobCompType             = jobcomp/filetxt\n`;
  const { p, seen } = poller(slurm);
  for (const j of ['41', '50_3', '60']) p.watch(j);
  await p.tick();
  assert.deepEqual(seen[0]!.map((s) => [s.job, s.phase, s.slurmState, s.node ?? '']), [
    ['41', 'failed', 'OUT_OF_MEMORY', 'g1'], ['50_3', 'stopped', 'CANCELLED', ''], ['60', 'failed', GONE, '']]);
  assert.equal(slurm.calls.filter((c) => c[2] === 'config').length, 1, 'the config is asked once');
  p.watch('61');
  await p.tick();
  assert.equal(slurm.calls.filter((c) => c[2] === 'config').length, 1);
});

test('squeue failing (controller down): reported, nothing concluded, no scontrol storm; a lone forgotten id is not an error', async () => {
  const slurm = fakeSlurm();
  const errors: string[] = [];
  const p = new SlurmPoller({ exec: slurm.exec, user: 'ana', onChange: () => assert.fail('nothing changed'), onError: (m) => errors.push(m), every: () => () => {}, jobcompFile: null });
  p.watch('5');
  slurm.squeueFails = true;
  await p.tick();
  assert.match(errors[0]!, /squeue failed: .*Unable to contact slurm controller/);
  assert.deepEqual(slurm.calls.map((c) => c[0]), ['squeue']);
  const gone: JobState[] = [];
  const q = new SlurmPoller({ exec: async (cmd, args) => (cmd === 'squeue' ? { code: 1, stdout: '', stderr: 'slurm_load_jobs error: Invalid job id specified' } : slurm.exec(cmd, args)),
    user: 'ana', onChange: (s) => gone.push(...s), every: () => () => {}, jobcompFile: null });
  q.watch('5');
  await q.tick();
  assert.deepEqual(gone.map((s) => s.slurmState), [GONE]);
});

test('sbatch --parsable: the job id; its refusal verbatim; Slurm not installed said plainly', async () => {
  const calls: string[][] = [];
  const exec: Exec = async (cmd, args) => { calls.push([cmd, ...args]); return ok('4242;cluster\n'); };
  assert.equal(await submit(exec, '/r/job.sh'), '4242');
  assert.deepEqual(calls[0], ['sbatch', '--parsable', '/r/job.sh']);
  await assert.rejects(submit(async () => ({ code: 1, stdout: '', stderr: 'sbatch: error: invalid partition specified: nope\nsbatch: error: Batch job submission failed: Invalid partition name specified\n' }), 'x'),
    { name: 'SlurmError', message: /^sbatch refused: sbatch: error: invalid partition specified: nope\nsbatch: error: Batch job submission failed: Invalid partition name specified$/ });
  const enoent = Object.assign(new Error('spawn sbatch ENOENT'), { code: 'ENOENT' });
  await assert.rejects(submit(async () => ({ code: null, stdout: '', stderr: '', error: enoent }), 'x'), { name: 'SlurmError', message: /sbatch was not found on this machine's PATH/ });
});

test('cancel: pending at once; running: waiting tasks, SIGINT to script and command, then a plain scancel after the grace', async () => {
  const calls: string[][] = [];
  const slept: number[] = [];
  const exec: Exec = async (cmd, args) => { calls.push([cmd, ...args]); return ok(''); };
  await cancel(exec, '12', { pending: true });
  assert.deepEqual(calls, [['scancel', '12']]);
  calls.length = 0;
  await cancel(exec, '13', { graceMs: 3000, sleep: async (ms) => { slept.push(ms); } });
  assert.deepEqual(calls, [['scancel', '--state=PENDING', '13'], ['scancel', '--signal=INT', '--full', '13'], ['scancel', '13']]);
  assert.deepEqual(slept, [1000, 1000, 1000]);
  calls.length = 0;
  let polls = 0;
  await cancel(exec, '13_2', { graceMs: 10_000, sleep: async () => {}, gone: () => ++polls > 2 });
  assert.deepEqual(calls, [['scancel', '--signal=INT', '--full', '13_2'], ['scancel', '13_2']], 'one task: no pending sweep, the grace ends once it is gone');
  calls.length = 0;
  const ended: Exec = async (cmd, args) => { calls.push([cmd, ...args]); return { code: 1, stdout: '', stderr: 'scancel: error: Kill job error on job id 14: Job/step already completing or completed' }; };
  await cancel(ended, '14', { pending: true });
  await assert.rejects(cancel(async () => ({ code: 1, stdout: '', stderr: 'scancel: error: Access/permission denied' }), '15', { pending: true }), /scancel refused: .*permission denied/);
});
