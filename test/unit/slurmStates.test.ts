// Slurm's outputs, recorded from Slurm 22.05 (Debian's slurm-wlm) on the one-node test cluster.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { describeState, parseJobcomp, parseScontrol, parseSqueue, phaseOf } from '../../src/core/slurm/jobStates.ts';
import { outcome } from '../../src/core/slurm/slurmRuns.ts';
import { GONE } from '../../src/core/slurm/poller.ts';

// squeue -h -r -o '%i|%F|%K|%T|%N|%r'
const SQUEUE = `7|7|N/A|PENDING||Resources
8|8|N/A|PENDING||Priority
10_0|10|0|PENDING||Priority
10_2|10|2|PENDING||JobArrayTaskLimit
2_3|2|3|RUNNING|vm|None
6|6|N/A|RUNNING|node[01-02],gpu7|None
11|11|N/A|PENDING||ReqNodeNotAvail, UnavailableNodes:node3|odd
squeue: error: something Slurm printed
12|12|N/A|NOT_A_STATE||None
`;

const FAILED = `JobId=15 JobName=wrap
   UserId=root(0) GroupId=root(0) MCS_label=N/A
   Priority=4294901748 Nice=0 Account=(null) QOS=(null)
   JobState=FAILED Reason=NonZeroExitCode Dependency=(null)
   Requeue=1 Restarts=0 BatchFlag=1 Reboot=0 ExitCode=3:0
   RunTime=00:00:00 TimeLimit=365-00:00:00 TimeMin=N/A
   StartTime=2026-12-07T06:10:27 EndTime=2026-12-07T06:10:27 Deadline=N/A
   Partition=debug AllocNode:Sid=localhost:16365
   ReqNodeList=(null) ExcNodeList=(null)
   NodeList=vm
   BatchHost=vm
   Command=/srv/lab/my project/job.sh --lr=0.1
   WorkDir=/srv/lab/my project
   StdOut=/srv/lab/proto/slurm-15.out
   Power=
   
`;

// scontrol show job 2: an array lists its tasks; the array's own id (JobId=2) is its last task
const ARRAY = `JobId=2 ArrayJobId=2 ArrayTaskId=3 ArrayTaskThrottle=2 JobName=wrap
   JobState=RUNNING Reason=None Dependency=(null)
   Requeue=1 Restarts=0 BatchFlag=1 Reboot=0 ExitCode=0:0
   NodeList=vm
   

JobId=4 ArrayJobId=2 ArrayTaskId=1 ArrayTaskThrottle=2 JobName=wrap
   JobState=TIMEOUT Reason=TimeLimit Dependency=(null)
   Requeue=1 Restarts=0 BatchFlag=1 Reboot=0 ExitCode=0:15
   NodeList=vm
   

JobId=3 ArrayJobId=2 ArrayTaskId=0 ArrayTaskThrottle=2 JobName=wrap
   JobState=CANCELLED Reason=None Dependency=(null)
   Requeue=1 Restarts=0 BatchFlag=1 Reboot=0 ExitCode=0:0
   NodeList=
`;

// the jobcomp/filetxt file
const JOBCOMP = `JobId=1 UserId=root(0) GroupId=root(0) Name=wrap JobState=COMPLETED Partition=debug TimeLimit=UNLIMITED StartTime=2026-12-07T06:04:18 EndTime=2026-12-07T06:04:20 NodeList=vm NodeCnt=1 ProcCnt=1 WorkDir=/tmp ReservationName= Tres=cpu=1,mem=4000M,node=1,billing=1 Account= QOS= WcKey= Cluster=unknown SubmitTime=2026-12-07T06:04:16 EligibleTime=2026-12-07T06:04:16 DerivedExitCode=0:0 ExitCode=0:0 
JobId=3 UserId=root(0) GroupId=root(0) Name=wrap JobState=COMPLETED Partition=debug TimeLimit=UNLIMITED StartTime=2026-12-07T06:04:18 EndTime=2026-12-07T06:04:21 NodeList=vm NodeCnt=1 ProcCnt=1 WorkDir=/tmp ReservationName= Tres=cpu=1,mem=4000M,node=1,billing=1 Account= QOS= WcKey= Cluster=unknown SubmitTime=2026-12-07T06:04:16 EligibleTime=2026-12-07T06:04:18 ArrayJobId=2 ArrayTaskId=0 DerivedExitCode=0:0 ExitCode=0:0 
JobId=10 UserId=root(0) GroupId=root(0) Name=wrap JobState=CANCELLED Partition=debug TimeLimit=UNLIMITED StartTime=2026-12-07T06:04:33 EndTime=2026-12-07T06:04:33 NodeList=(null) NodeCnt=0 ProcCnt=0 WorkDir=/tmp ReservationName= Tres=cpu=1,mem=4000M,node=1,billing=1 Account= QOS= WcKey= Cluster=unknown SubmitTime=2026-12-07T06:04:30 EligibleTime=2026-12-07T06:04:31 DerivedExitCode=0:0 ExitCode=0:0 
JobId=8 UserId=root(0) GroupId=root(0) Name=wrap JobState=FAILED Partition=debug TimeLimit=UNLIMITED StartTime=2026-12-07T06:04:33 EndTime=2026-12-07T06:04:34 NodeList=vm NodeCnt=1 ProcCnt=1 WorkDir=/tmp ReservationName= Tres=cpu=1,mem=4000M,node=1,billing=1 Account= QOS= WcKey= Cluster=unknown SubmitTime=2026-12-07T06:04:30 EligibleTime=2026-12-07T06:04:30 DerivedExitCode=0:0 ExitCode=3:0 
JobId=20 UserId=root(0) GroupId=root(0) Name=x JobState=OUT_OF_MEMORY Partition=gpu TimeLimit=60 NodeList=gpu7 NodeCnt=1 ProcCnt=1 WorkDir=/w ExitCode=0:125 
`;

test('squeue lines: queued with Slurm\'s reason, running with its nodes, array tasks by <array>_<task>', () => {
  const states = parseSqueue(SQUEUE);
  assert.deepEqual(states.map((s) => [s.job, s.phase, s.reason ?? '', s.node ?? '']), [
    ['7', 'queued', 'Resources', ''],
    ['8', 'queued', 'Priority', ''],
    ['10_0', 'queued', 'Priority', ''],
    ['10_2', 'queued', 'JobArrayTaskLimit', ''],
    ['2_3', 'running', '', 'vm'],
    ['6', 'running', '', 'node[01-02],gpu7'],
    ['11', 'queued', 'ReqNodeNotAvail, UnavailableNodes:node3|odd', ''],
  ], 'an error line and an unknown state are skipped; a reason keeps whatever it holds');
  assert.equal(parseSqueue('').length, 0);
});

test('scontrol show job: state, exit code and node; values with spaces stay whole', () => {
  const [failed] = parseScontrol(FAILED);
  assert.deepEqual(failed, { job: '15', phase: 'failed', slurmState: 'FAILED', reason: 'NonZeroExitCode', node: 'vm', exitCode: 3 });
  assert.equal(describeState(failed!), 'failed (exit 3)');
  const tasks = parseScontrol(ARRAY);
  assert.deepEqual(tasks.map((s) => [s.job, s.phase, s.slurmState, s.exitCode, s.signal]), [
    ['2_3', 'running', 'RUNNING', undefined, undefined],
    ['2_1', 'failed', 'TIMEOUT', 0, 15],
    ['2_0', 'stopped', 'CANCELLED', 0, undefined],
  ]);
  assert.equal(describeState(tasks[1]!), 'failed: TIMEOUT');
  assert.equal(tasks[2]!.node, undefined, 'an empty NodeList is no node');
});

test('the jobcomp file: a record per ended job; a whole array cancelled while waiting is one line under its id', () => {
  const recs = parseJobcomp(JOBCOMP);
  assert.deepEqual([...recs.keys()], ['1', '2_0', '10', '8', '20']);
  assert.equal(recs.get('2_0')!.phase, 'finished');
  assert.equal(recs.get('10')!.phase, 'stopped');
  assert.equal(recs.get('8')!.exitCode, 3);
  assert.equal(recs.get('20')!.slurmState, 'OUT_OF_MEMORY');
  assert.equal(describeState(recs.get('20')!), 'failed: OUT_OF_MEMORY');
});

test('every Slurm state has a phase; sacct-style "CANCELLED by 0" too', () => {
  assert.equal(phaseOf('CANCELLED by 0'), 'stopped');
  assert.equal(phaseOf('COMPLETING'), 'running');
  assert.equal(phaseOf('REQUEUE_HOLD'), 'queued');
  for (const s of ['TIMEOUT', 'NODE_FAIL', 'OUT_OF_MEMORY', 'PREEMPTED', 'BOOT_FAIL', 'DEADLINE']) assert.equal(phaseOf(s), 'failed', s);
  assert.equal(phaseOf('SOMETHING_NEW'), undefined);
});

test('how a run ends: a cancel\'s SIGINT, Slurm\'s failures named, else the exit code', () => {
  const s = (slurmState: string, phase: 'finished' | 'failed' | 'stopped', exitCode?: number) => ({ job: '1', phase, slurmState, exitCode });
  const exit = (code: number, signalled: string | null = null) => ({ code, signal: null, signalled, endedAt: 1 });
  assert.deepEqual(outcome(s('COMPLETED', 'finished', 0), exit(0)), { status: 'finished', exitCode: 0 });
  assert.deepEqual(outcome(s('FAILED', 'failed', 3), exit(3)), { status: 'failed', exitCode: 3 });
  assert.deepEqual(outcome(s('COMPLETED', 'finished', 0), exit(5, 'SIGINT')), { status: 'stopped', exitCode: 5 }, 'a cancel the job handled');
  assert.deepEqual(outcome(s('TIMEOUT', 'failed', 0), exit(143)), { status: 'failed', exitCode: 143 });
  assert.deepEqual(outcome(s('CANCELLED', 'stopped', 0), exit(143)), { status: 'stopped', exitCode: 143 }, 'a plain scancel');
  assert.deepEqual(outcome(s('NODE_FAIL', 'failed'), undefined), { status: 'failed', exitCode: null });
  assert.deepEqual(outcome(s(GONE, 'failed'), undefined), { status: 'crashed', exitCode: null }, 'forgotten, without an exit record');
  assert.deepEqual(outcome(s(GONE, 'failed'), exit(0)), { status: 'finished', exitCode: 0 });
});
