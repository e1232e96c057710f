import { readFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { type Exec, execSlurm } from './slurmCli.ts';
import { type JobState, SQUEUE_FORMAT, parseJobcomp, parseScontrol, parseSqueue } from './jobStates.ts';

/** What the poller reports for a job Slurm no longer knows and has no record of: its run's own files tell how it ended. */
export const GONE = 'GONE';

export interface PollerOptions {
  /** Told of the jobs whose state changed in a tick (a final state once, then the job is let go). */
  onChange: (states: JobState[]) => void;
  onError?: (message: string) => void;
  /** Called after every look, changed or not. */
  onTick?: () => void;
  exec?: Exec;
  /** How often squeue is called while there are jobs to follow (default 10 s: a shared cluster's etiquette). */
  intervalMs?: number;
  /** Calls fn every `ms` until the returned function is called (setInterval by default). */
  every?: (ms: number, fn: () => void) => () => void;
  /** Whose jobs squeue lists (default: this process's user). */
  user?: string;
  /**
   * The jobcomp/filetxt file, read for jobs scontrol has forgotten (MinJobAge). Undefined: asked of
   * `scontrol show config` once, when first needed; null: none.
   */
  jobcompFile?: string | null;
}

export const POLL_MS = 10_000;

const everyInterval = (ms: number, fn: () => void) => {
  const timer = setInterval(fn, ms);
  return () => clearInterval(timer);
};
const isFinal = (s: JobState) => s.phase !== 'queued' && s.phase !== 'running';
const base = (job: string) => job.split('_')[0]!;
const INVALID = /Invalid job id/i;

/**
 * Follows Slurm jobs: per interval ONE `squeue` for every followed job, whatever their number, and
 * `scontrol show job` (one per job id, an array's tasks included) only for jobs that left the queue,
 * with the jobcomp file as the fallback for jobs scontrol has forgotten. It runs only while it has jobs.
 */
export class SlurmPoller {
  private readonly options: PollerOptions;
  private readonly exec: Exec;
  /** Followed jobs and their last state (undefined until the first look). */
  private readonly jobs = new Map<string, JobState | undefined>();
  private stopTimer: (() => void) | undefined;
  private polling: Promise<void> | undefined;
  private jobcomp: string | null | undefined;
  private disposed = false;

  constructor(options: PollerOptions) {
    this.options = options;
    this.exec = options.exec ?? execSlurm;
    this.jobcomp = options.jobcompFile;
  }

  /** Follows `job` (`123`, or `123_4` for an array task) until it ends. */
  watch(job: string): void {
    if (!/^\d+(_\d+)?$/.test(job)) throw new RangeError(`not a Slurm job id: ${job}`);
    if (!this.jobs.has(job)) this.jobs.set(job, undefined);
    this.stopTimer ??= (this.options.every ?? everyInterval)(this.options.intervalMs ?? POLL_MS, () => void this.tick());
  }

  unwatch(job: string): void {
    this.jobs.delete(job);
    if (!this.jobs.size) this.idle();
  }

  /** The last state seen of a followed job. */
  state(job: string): JobState | undefined {
    return this.jobs.get(job);
  }

  get watching(): string[] {
    return [...this.jobs.keys()];
  }

  /** One look (what the timer does); a look already going is joined, not repeated. */
  tick(): Promise<void> {
    this.polling ??= this.look()
      .catch((err) => this.options.onError?.(`Following Slurm jobs failed: ${err instanceof Error ? err.message : String(err)}`))
      .finally(() => { this.polling = undefined; });
    return this.polling;
  }

  private async look(): Promise<void> {
    const keys = [...this.jobs.keys()];
    if (!keys.length) return this.idle();
    const ids = [...new Set(keys.map(base))];
    const user = this.options.user ?? userInfo().username;
    const r = await this.exec('squeue', ['-h', '-r', '-u', user, '-j', ids.join(','), '-o', SQUEUE_FORMAT]);
    if (r.code !== 0 && !(r.code !== null && INVALID.test(r.stderr))) {
      this.options.onError?.(`squeue failed: ${r.error?.message ?? (r.stderr.trim() || `exit code ${r.code}`)}`);
      return;
    }
    const seen = new Map(parseSqueue(r.code === 0 ? r.stdout : '').map((s) => [s.job, s]));
    const left = keys.filter((k) => !seen.has(k));
    for (const id of new Set(left.map(base))) {
      for (const s of await this.lookUp(id, left.filter((k) => base(k) === id))) seen.set(s.job, s);
    }
    const changed: JobState[] = [];
    for (const [job, before] of this.jobs) {
      const now = seen.get(job);
      if (now && !(before && same(before, now))) changed.push(now);
    }
    if (this.disposed) return;
    try {
      if (changed.length) this.options.onChange(changed);
    } catch (err) {
      // told again next time: nothing is lost when what is told cannot be stored now
      this.options.onError?.(`Slurm job states could not be recorded: ${String(err)}`);
      return;
    }
    for (const s of changed) {
      if (isFinal(s)) this.jobs.delete(s.job);
      else if (this.jobs.has(s.job)) this.jobs.set(s.job, s);
    }
    if (!this.jobs.size) this.idle();
    try {
      this.options.onTick?.();
    } catch (err) {
      this.options.onError?.(`Following Slurm runs failed: ${String(err)}`);
    }
  }

  /** Jobs that left the queue: scontrol, else the jobcomp file, else gone. */
  private async lookUp(id: string, wanted: string[]): Promise<JobState[]> {
    const r = await this.exec('scontrol', ['show', 'job', id]);
    if (r.code !== 0 && !(r.code !== null && INVALID.test(r.stderr))) {
      this.options.onError?.(`scontrol show job ${id} failed: ${r.error?.message ?? (r.stderr.trim() || `exit code ${r.code}`)}`);
      return [];
    }
    const known = new Map((r.code === 0 ? parseScontrol(r.stdout) : []).map((s) => [s.job, s]));
    const missing = wanted.filter((k) => !known.has(k));
    if (missing.length) {
      const records = await this.jobcompRecords();
      for (const k of missing) {
        // a whole array cancelled while its tasks waited has one line, under the array's id
        const rec = records.get(k) ?? (k.includes('_') ? records.get(base(k)) : undefined);
        known.set(k, rec ? { ...rec, job: k } : { job: k, phase: 'failed', slurmState: GONE });
      }
    }
    return wanted.map((k) => known.get(k)).filter((s): s is JobState => s !== undefined);
  }

  /** The jobcomp file's records (empty when there is none). */
  private async jobcompRecords(): Promise<Map<string, JobState>> {
    if (this.jobcomp === undefined) {
      // `Key = Value` lines
      const r = await this.exec('scontrol', ['show', 'config']);
      const conf = new Map(r.code !== 0 ? [] : r.stdout.split('\n').map((l) => l.split(/\s+=\s+/, 2).map((p) => p.trim()) as [string, string]));
      this.jobcomp = conf.get('JobCompType') === 'jobcomp/filetxt' ? conf.get('JobCompLoc') || null : null;
    }
    if (!this.jobcomp) return new Map();
    try {
      return parseJobcomp(readFileSync(this.jobcomp, 'utf8'));
    } catch {
      return new Map();
    }
  }

  private idle(): void {
    this.stopTimer?.();
    this.stopTimer = undefined;
  }

  dispose(): void {
    this.disposed = true;
    this.jobs.clear();
    this.idle();
  }
}

function same(a: JobState, b: JobState): boolean {
  return a.phase === b.phase && a.slurmState === b.slurmState && a.reason === b.reason && a.node === b.node;
}
