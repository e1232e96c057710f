/** What RunLens makes of a Slurm job's state. */
export type JobPhase = 'queued' | 'running' | 'finished' | 'failed' | 'stopped';

/** One job (or array task) as Slurm last reported it. */
export interface JobState {
  /** `123`, or `123_4` for an array task. */
  job: string;
  phase: JobPhase;
  /** Slurm's word: PENDING, RUNNING, COMPLETED, TIMEOUT, OUT_OF_MEMORY, NODE_FAIL, CANCELLED… */
  slurmState: string;
  /** Why it waits (Priority, Resources, QOSMaxJobsPerUserLimit…); absent when Slurm gives none. */
  reason?: string;
  /** The node(s) it runs or ran on. */
  node?: string;
  /** The batch script's exit code and the signal that ended it, once it ended. */
  exitCode?: number;
  signal?: number;
}

const QUEUED = new Set(['PENDING', 'CONFIGURING', 'REQUEUED', 'REQUEUE_FED', 'REQUEUE_HOLD', 'RESV_DEL_HOLD']);
const RUNNING = new Set(['RUNNING', 'COMPLETING', 'SUSPENDED', 'STOPPED', 'SIGNALING', 'STAGE_OUT', 'RESIZING']);
const FAILED = new Set(['FAILED', 'TIMEOUT', 'OUT_OF_MEMORY', 'NODE_FAIL', 'BOOT_FAIL', 'DEADLINE', 'PREEMPTED', 'SPECIAL_EXIT', 'REVOKED']);

/** The phase of a Slurm state (`CANCELLED by 0` counts as CANCELLED); undefined for a word it does not know. */
export function phaseOf(slurmState: string): JobPhase | undefined {
  const s = slurmState.trim().split(/[\s+]/)[0]!.toUpperCase();
  if (QUEUED.has(s)) return 'queued';
  if (RUNNING.has(s)) return 'running';
  if (s === 'COMPLETED') return 'finished';
  if (s === 'CANCELLED') return 'stopped';
  if (FAILED.has(s)) return 'failed';
  return undefined;
}

/** The squeue format the poller asks for: job id, array job, array task, state, nodes, then the reason (which may hold anything). */
export const SQUEUE_FORMAT = '%i|%F|%K|%T|%N|%r';

const none = (v: string | undefined) => (v === undefined || v === '' || v === '(null)' || v === 'None' || v === 'N/A' ? undefined : v);

/** The key a job is known by: `<array>_<task>` for an array task, else its id. */
function jobKey(id: string, arrayJob: string | undefined, arrayTask: string | undefined): string {
  return arrayJob && arrayTask && /^\d+$/.test(arrayTask) ? `${arrayJob}_${arrayTask}` : id;
}

/** Lines of `squeue -h -r -o SQUEUE_FORMAT`. Lines it cannot read are skipped. */
export function parseSqueue(text: string): JobState[] {
  const out: JobState[] = [];
  for (const line of text.split('\n')) {
    const parts = line.trim().split('|');
    if (parts.length < 6) continue;
    const [id, arrayJob, arrayTask, state, nodes] = parts.map((p) => p.trim());
    const phase = phaseOf(state!);
    if (!/^\d+(_\d+)?$/.test(id!) || !phase) continue;
    const reason = none(parts.slice(5).join('|').trim());
    const node = none(nodes);
    out.push({
      job: jobKey(id!, none(arrayJob), none(arrayTask)), phase, slurmState: state!.toUpperCase(),
      ...(reason && { reason }), ...(node && { node }),
    });
  }
  return out;
}

/**
 * `Key=Value` records: scontrol show job (records separated by blank lines) or jobcomp/filetxt
 * (one per line). A value runs to the next word that starts with `Key=`, so values may hold spaces.
 */
export function parseRecords(text: string, perLine: boolean): { [key: string]: string }[] {
  const chunks = perLine ? text.split('\n') : text.split(/\n\s*\n/);
  const out: { [key: string]: string }[] = [];
  for (const chunk of chunks) {
    const rec: { [key: string]: string } = {};
    let last: string | undefined;
    for (const word of chunk.trim().split(/\s+/)) {
      const m = /^([A-Za-z][\w:/]*)=(.*)$/s.exec(word);
      if (m && !(m[1]! in rec)) { last = m[1]!; rec[last] = m[2]!; }
      else if (last && word) rec[last] += ` ${word}`;
    }
    if (rec.JobId) out.push(rec);
  }
  return out;
}

/** A job's state from one record of scontrol show job or the jobcomp file. */
export function stateFromRecord(rec: { [key: string]: string }): JobState | undefined {
  const slurmState = (rec.JobState ?? '').split(' ')[0]!;
  const phase = phaseOf(slurmState);
  if (!phase) return undefined;
  const [code, signal] = (rec.ExitCode ?? '').split(':').map(Number);
  const reason = none(rec.Reason);
  const node = none(rec.NodeList);
  const ended = phase !== 'queued' && phase !== 'running';
  return {
    job: jobKey(rec.JobId!, none(rec.ArrayJobId), none(rec.ArrayTaskId)), phase, slurmState: slurmState.toUpperCase(),
    ...(reason && { reason }), ...(node && { node }),
    ...(ended && Number.isInteger(code) && { exitCode: code }), ...(ended && Number.isInteger(signal) && signal! > 0 && { signal }),
  };
}

/** Every job in `scontrol show job <id>` output (an array id lists its tasks). */
export function parseScontrol(text: string): JobState[] {
  return parseRecords(text, false).map(stateFromRecord).filter((s): s is JobState => s !== undefined);
}

/**
 * The jobcomp/filetxt file (one line per job that ended), newest line last. An array cancelled while
 * all its tasks waited has one line, under the array's id: it stands for each of its tasks.
 */
export function parseJobcomp(text: string): Map<string, JobState> {
  const out = new Map<string, JobState>();
  for (const rec of parseRecords(text, true)) {
    const s = stateFromRecord(rec);
    if (s) out.set(s.job, s);
  }
  return out;
}

/** A line for the run's tooltip: `queued (Priority)`, `running on node12`, `failed: TIMEOUT`, `failed (exit 3)`. */
export function describeState(s: JobState): string {
  switch (s.phase) {
    case 'queued': return s.reason ? `queued (${s.reason})` : 'queued';
    case 'running': return s.node ? `running on ${s.node}` : 'running';
    case 'finished': return 'finished';
    case 'stopped': return 'stopped (cancelled)';
    case 'failed':
      return s.slurmState !== 'FAILED' ? `failed: ${s.slurmState}` : s.exitCode !== undefined ? `failed (exit ${s.exitCode})` : 'failed';
  }
}
