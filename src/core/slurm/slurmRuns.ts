import { existsSync, mkdirSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { StoreAccess } from '../store/storeWrites.ts';
import type { Store } from '../store/store.ts';
import { type Run, type RunStatus, isFinal } from '../types.ts';
import type { LaunchRequest } from '../runs/launch.ts';
import { type ExitRecord, readExit, runFolder } from '../runs/runProcess.ts';
import { REDACTED, hasRedacted, redactArgs } from '../provenance/redact.ts';
import type { SlurmExecutor } from './executorConfig.ts';
import { arrayScript, jobScript } from './jobScript.ts';
import { type Exec, cancel, execSlurm, submit } from './slurmCli.ts';
import type { JobState } from './jobStates.ts';
import { GONE, type PollerOptions, SlurmPoller } from './poller.ts';

/** The run's Slurm job: `123`, or `123_4` for a sweep trial's array task. */
export const JOB_TAG = 'runlens.slurm.job';
/** Slurm's last word on it: PENDING, RUNNING, COMPLETED, TIMEOUT, OUT_OF_MEMORY, NODE_FAIL, CANCELLED… */
export const STATE_TAG = 'runlens.slurm.state';
/** Why it waits (Priority, Resources…), while it does. */
export const REASON_TAG = 'runlens.slurm.reason';
/** The node it runs on. */
export const NODE_TAG = 'runlens.slurm.node';

/** A run for Slurm: what launch() takes, and the executor's settings. */
export interface SlurmRequest extends LaunchRequest {
  executor: SlurmExecutor;
}

export interface SlurmRunsPorts {
  store: StoreAccess;
  /**
   * A run whose job script has started (its process.json is there): the run monitor follows it from
   * here as any running run, ingesting its files and finishing it from exit.json.
   */
  follow: (run: Run) => void;
  /** Runs whose status or Slurm tags changed. */
  changed?: (ids: number[]) => void;
  log?: (message: string) => void;
  exec?: Exec;
  /** Poll interval and the rest (see PollerOptions; default one squeue per 10 s). */
  poll?: Omit<PollerOptions, 'onChange' | 'onError' | 'onTick' | 'exec'>;
  /** The environment RunLens itself runs with (default process.env): a run's env beyond it is written into its job script. */
  baseEnv?: { [k: string]: string | undefined };
  /** Between SIGINT and a plain scancel (default 10 s). */
  graceMs?: number;
}

/**
 * A run's status once its job ended: SIGINT from a cancel (exit.json) or CANCELLED → stopped; Slurm's
 * failures (TIMEOUT, OUT_OF_MEMORY, NODE_FAIL…) → failed; else the exit code. A job Slurm forgot
 * (GONE) is told by exit.json alone; without one it crashed.
 */
export function outcome(s: JobState, exit: ExitRecord | undefined): { status: RunStatus; exitCode: number | null } {
  const exitCode = exit?.code ?? s.exitCode ?? null;
  if (exit?.signalled) return { status: 'stopped', exitCode };
  if (s.slurmState === GONE) return { status: !exit ? 'crashed' : exit.code === 0 ? 'finished' : 'failed', exitCode };
  if (s.phase === 'stopped' || s.phase === 'failed') return { status: s.phase, exitCode };
  return { status: exitCode ? 'failed' : 'finished', exitCode };
}

/**
 * Runs as Slurm jobs. submit() records the run as queued (with the provenance captured at submit
 * time), writes its job script into the run's folder and submits it; a sweep's trials go as one
 * job array. A poller follows the jobs (one squeue per interval for all of them): the run stays
 * queued (reason in REASON_TAG) until its script starts, is then handed to the run monitor
 * (`follow`), and once the job ended its status is made precise from Slurm's state (TIMEOUT,
 * CANCELLED…). After a window reload, recover() finds the jobs again by their JOB_TAG.
 */
export class SlurmRuns {
  private readonly ports: SlurmRunsPorts;
  private readonly exec: Exec;
  readonly poller: SlurmPoller;
  /** Job → run id. */
  private readonly runs = new Map<string, number>();
  /** Runs Slurm says started, waiting for their process.json. */
  private readonly starting = new Map<number, JobState>();
  /** Runs whose job ended while the monitor still follows them: settled once it finished them. */
  private readonly ending = new Map<number, JobState>();
  /** Jobs cancelled because their run was stopped before it started, or with their sweep. */
  private readonly cancelled = new Set<string>();
  /** Runs stopped here: they stay stopped whatever state their job ends in (a job not RunLens's own records no SIGINT). */
  private readonly stopped = new Set<number>();
  /** Runs runsChanged() has looked at for a job tag. */
  private readonly looked = new Set<number>();

  constructor(ports: SlurmRunsPorts) {
    this.ports = ports;
    this.exec = ports.exec ?? execSlurm;
    this.poller = new SlurmPoller({
      ...ports.poll, exec: this.exec,
      onChange: (states) => this.apply(states),
      onError: (m) => ports.log?.(m),
      onTick: () => this.settle(),
    });
  }

  /** Records a run, writes its job script and submits it. A job sbatch refuses leaves a failed run, with sbatch's message in its log. */
  async submit(req: SlurmRequest): Promise<Run> {
    const run = this.record(req);
    const dir = this.dir(run);
    const script = join(dir, 'job.sh');
    writeFileSync(script, jobScript(this.jobSpec(req, run), req.executor), { mode: 0o755 });
    const job = await this.sbatch([run], script, req);
    return this.queued([[run, job]])[0]!;
  }

  /**
   * A sweep's trials (queued runs, `req.queued` set) as one job array, `concurrency` at a time: task i
   * runs trial i's job script. Resolves with the array's id.
   */
  async submitArray(name: string, trials: SlurmRequest[], concurrency: number): Promise<{ job: string; runs: Run[] }> {
    if (!trials.length) throw new Error('The sweep has no trials.');
    const runs = trials.map((t) => this.record(t));
    const dir = join(this.storeDir(), 'slurm', runs[0]!.uid);
    mkdirSync(dir, { recursive: true });
    runs.forEach((run, i) => {
      const own = join(this.dir(run), 'job.sh');
      writeFileSync(own, jobScript(this.jobSpec(trials[i]!, run), trials[i]!.executor), { mode: 0o755 });
      writeFileSync(runFolder(this.storeDir(), run.uid).log, '', { flag: 'a' });
      symlinkSync(own, join(dir, `task-${i}.sh`));
      symlinkSync(runFolder(this.storeDir(), run.uid).log, join(dir, `task-${i}.log`));
    });
    const script = join(dir, 'array.sh');
    const slots = Math.max(1, Math.min(Math.floor(concurrency), trials.length));
    writeFileSync(script, arrayScript({ name, dir, tasks: trials.length, concurrency: slots, cwd: trials[0]!.spec.cwd }, trials[0]!.executor), { mode: 0o755 });
    const job = await this.sbatch(runs, script, trials[0]!);
    return { job, runs: this.queued(runs.map((r, i) => [r, `${job}_${i}`])) };
  }

  /**
   * Stops a run's job: a waiting one is cancelled at once; a running one gets SIGINT (the script
   * records it, so the run ends stopped), then a plain scancel after the grace period.
   */
  async cancel(run: Run): Promise<void> {
    const job = this.jobOf(run);
    if (!job) throw new Error(`Run ${run.name} is not a Slurm job.`);
    const f = runFolder(this.storeDir(), run.uid);
    const state = this.poller.state(job);
    this.stopped.add(run.id);
    await cancel(this.exec, job, {
      pending: (state?.phase ?? (run.status === 'queued' ? 'queued' : 'running')) === 'queued' && !existsSync(f.process),
      graceMs: this.ports.graceMs,
      gone: () => existsSync(f.exit),
    });
    this.ports.log?.(`Cancelled Slurm job ${job} (run ${run.name})`);
    await this.poller.tick();
  }

  /**
   * Cancels every job of a sweep: each array once (its waiting tasks never start), single jobs one by
   * one. Resolves with the ids of the runs it stopped (the queued and running ones with a job).
   */
  async cancelSweep(sweepId: string): Promise<number[]> {
    const store = this.ports.store.get();
    if (!store) return [];
    const jobs = new Map<string, Run[]>();
    for (const r of store.runs.list({ sweep: sweepId, status: ['queued', 'running'], limit: 100_000 })) {
      const job = store.runs.tags(r.id)[JOB_TAG];
      if (!job) continue;
      const id = job.split('_')[0]!;
      jobs.set(id, [...jobs.get(id) ?? [], r]);
      this.cancelled.add(job);
      this.stopped.add(r.id);
    }
    // the grace period ends early once every started task wrote its exit
    const over = (runs: Run[]) => () => runs.every((r) => {
      const f = runFolder(store.dir, r.uid);
      return !existsSync(f.process) || existsSync(f.exit);
    });
    await Promise.all([...jobs].map(([job, runs]) => cancel(this.exec, job, { graceMs: this.ports.graceMs, gone: over(runs) })));
    if (jobs.size) {
      this.ports.log?.(`Cancelled Slurm job${jobs.size > 1 ? 's' : ''} ${[...jobs.keys()].join(', ')} (sweep ${sweepId})`);
      await this.poller.tick();
    }
    return [...jobs.values()].flat().map((r) => r.id);
  }

  /** After a window (re)loads: follows the jobs of queued and running Slurm runs again. Returns how many. */
  recover(): number {
    const store = this.ports.store.get();
    if (!store) return 0;
    let n = 0;
    for (const run of store.runs.list({ status: ['queued', 'running'], limit: 100_000 })) {
      if (this.watch(run.id, store.runs.tags(run.id)[JOB_TAG])) n++;
    }
    return n;
  }

  /**
   * The run monitor's news (runs that got points, ended, or were adopted from the inbox): a run with
   * a job tag not followed yet (a job started outside RunLens, its helper recording `$SLURM_JOB_ID`)
   * is followed from now on; runs whose job ended get Slurm's word on how.
   */
  runsChanged(ids: number[]): void {
    const store = this.ports.store.get();
    for (const id of store ? ids : []) {
      if (this.looked.has(id)) continue;
      this.looked.add(id);
      const run = store!.runs.get(id);
      if (run && !isFinal(run.status)) this.watch(id, store!.runs.tags(id)[JOB_TAG]);
    }
    if (ids.some((id) => this.ending.has(id) || this.starting.has(id))) this.settle();
  }

  /** Follows run `id`'s job, when it has one not followed yet. */
  private watch(id: number, job: string | undefined): boolean {
    if (!job || this.runs.has(job)) return false;
    try {
      this.poller.watch(job);
    } catch (err) {
      this.ports.log?.(`Run ${id}: ${String(err)}`); // a tag someone wrote by hand
      return false;
    }
    this.runs.set(job, id);
    return true;
  }

  /** The run's job id, from its tag. */
  jobOf(run: Run): string | undefined {
    return this.ports.store.get()?.runs.tags(run.id)[JOB_TAG];
  }

  /** One poll now (the timer's work); for tests and a Refresh command. */
  tick(): Promise<void> {
    return this.poller.tick();
  }

  dispose(): void {
    this.poller.dispose();
  }

  private storeDir(): string {
    const store = this.ports.store.get();
    if (!store) throw new Error('There is no RunLens store to record runs in.');
    return store.dir;
  }

  private dir(run: Run): string {
    const dir = runFolder(this.storeDir(), run.uid).dir;
    mkdirSync(dir, { recursive: true });
    return dir;
  }

  /** What the job script runs; of the environment, only what differs from RunLens's own is written. */
  private jobSpec(req: SlurmRequest, run: Run) {
    const { spec } = req;
    const base = this.ports.baseEnv ?? process.env;
    const env: { [k: string]: string } = {};
    for (const [k, v] of Object.entries(spec.env)) if (v !== undefined && base[k] !== v) env[k] = v;
    return {
      name: run.name, uid: run.uid, runDir: runFolder(this.storeDir(), run.uid).dir, cwd: spec.cwd, env,
      command: spec.shell ? spec.command : [spec.command, ...spec.args],
    };
  }

  /**
   * The run, recorded as queued with what it will run (a queued trial gets it in place), its
   * provenance, datasets and declared outputs: as launch() records a local run.
   */
  private record(req: SlurmRequest): Run {
    const { spec } = req;
    if (hasRedacted([spec.command, ...spec.args])) {
      throw new Error(`The command holds ${REDACTED} where a secret value was; RunLens does not keep secrets, so it cannot submit this command as recorded.`);
    }
    const command = redactArgs(spec.shell ? spec.command : [spec.command, ...spec.args]);
    return this.ports.store.write(['runs'], (store) => {
      let run: Run;
      if (req.queued === undefined) {
        run = store.runs.create({
          name: req.name, experiment: req.experiment, status: 'queued', command, cwd: spec.cwd,
          params: req.params, tags: req.tags, git: req.git, reproduces: req.reproduces,
        });
      } else {
        // begin() records what a queued trial runs; it waits in Slurm's queue until its script starts
        store.runs.begin(req.queued, { startedAt: 0, command, cwd: spec.cwd, git: req.git, params: req.params, tags: req.tags });
        run = store.runs.update(req.queued, { status: 'queued', startedAt: null });
      }
      if (req.provenance) store.provenance.set(run.id, req.provenance);
      for (const d of req.datasets ?? []) store.provenance.setDataset(run.id, d);
      for (const path of req.outputs ?? []) store.artifacts.request(run.id, { kind: 'output', path, afterEnd: true });
      return run;
    });
  }

  /** sbatch; when it refuses, the runs fail with its message in their logs. */
  private async sbatch(runs: Run[], script: string, req: SlurmRequest): Promise<string> {
    try {
      return await submit(this.exec, script, { env: req.spec.env, cwd: req.spec.cwd });
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      for (const run of runs) writeFileSync(runFolder(this.storeDir(), run.uid).log, `RunLens could not submit the job: ${message}\n`, { flag: 'a' });
      this.ports.store.write(['runs'], (store) => {
        for (const run of runs) store.runs.update(run.id, { status: 'failed', endedAt: Date.now() });
      });
      throw err;
    }
  }

  /** Tags each run with its job and follows the jobs. */
  private queued(pairs: [Run, string][]): Run[] {
    const runs = this.ports.store.write(['runs'], (store) => pairs.map(([run, job]) => {
      store.runs.setTags(run.id, { [JOB_TAG]: job, [STATE_TAG]: 'PENDING' });
      return store.runs.get(run.id)!;
    }));
    for (const [run, job] of pairs) this.watch(run.id, job);
    this.ports.log?.(`Submitted ${pairs.length > 1 ? `job array ${pairs[0]![1].split('_')[0]} (${pairs.length} tasks)` : `job ${pairs[0]![1]}`} for ${pairs.map(([r]) => r.name).join(', ')}`);
    return runs;
  }

  /** What the poller saw: tags, queued → running (once process.json is there), and how ended jobs end. */
  private apply(states: JobState[]): void {
    const changed = new Set<number>();
    const follow: Run[] = [];
    this.ports.store.write(['runs'], (store) => {
      for (const s of states) {
        const id = this.runs.get(s.job);
        const run = id === undefined ? undefined : store.runs.get(id);
        if (!run) continue;
        const tags = store.runs.tags(run.id);
        const next: { [k: string]: string } = { [STATE_TAG]: s.slurmState };
        if (s.node) next[NODE_TAG] = s.node;
        if (s.phase === 'queued' && s.reason) next[REASON_TAG] = s.reason;
        if (Object.entries(next).some(([k, v]) => tags[k] !== v)) { store.runs.setTags(run.id, next); changed.add(run.id); }
        if (s.phase !== 'queued' && tags[REASON_TAG] !== undefined) { store.runs.removeTag(run.id, REASON_TAG); changed.add(run.id); }
        if (run.status === 'queued' && s.phase !== 'queued') {
          this.starting.set(run.id, s);
        } else if (run.status === 'running' && s.phase !== 'running') {
          this.ending.set(run.id, s);
        } else if (isFinal(run.status) && ended(s)) {
          this.ending.set(run.id, s);
        }
      }
      this.starts(store, follow, changed);
      this.ends(store, changed);
    });
    for (const s of states) if (ended(s)) this.runs.delete(s.job);
    for (const run of follow) this.ports.follow(run);
    if (changed.size) this.ports.changed?.([...changed]);
  }

  /**
   * Every tick: runs waiting for their script's process.json, runs the monitor finished whose job
   * ended, and jobs of runs stopped here before they started (a cancelled sweep's waiting trials):
   * Slurm must not run those.
   */
  private settle(): void {
    const store = this.ports.store.get();
    for (const [job, id] of store ? this.runs : []) {
      const run = store!.runs.get(id);
      if (!run || !isFinal(run.status) || run.startedAt !== null || this.cancelled.has(job)) continue;
      this.cancelled.add(job);
      this.ports.log?.(`Slurm job ${job} belongs to run ${run.name}, stopped before it started: cancelling it`);
      const pending = this.poller.state(job)?.phase !== 'running';
      void cancel(this.exec, job, { pending, graceMs: this.ports.graceMs }).catch((err) => this.ports.log?.(`Could not cancel Slurm job ${job}: ${String(err)}`));
    }
    if (!this.starting.size && !this.ending.size) return;
    const changed = new Set<number>();
    const follow: Run[] = [];
    this.ports.store.write(['runs'], (store) => {
      this.starts(store, follow, changed);
      this.ends(store, changed);
    });
    for (const run of follow) this.ports.follow(run);
    if (changed.size) this.ports.changed?.([...changed]);
  }

  /** Queued runs whose job started: running once their script wrote process.json; a job that ended without running it ends the run. */
  private starts(store: Store, follow: Run[], changed: Set<number>): void {
    for (const [id, s] of this.starting) {
      const run = store.runs.get(id);
      if (!run || run.status !== 'queued') { this.starting.delete(id); continue; }
      const f = runFolder(store.dir, run.uid);
      if (existsSync(f.process)) {
        this.starting.delete(id);
        follow.push(store.runs.update(id, { status: 'running', startedAt: statSync(f.process).mtimeMs }));
        if (s.phase !== 'running') this.ending.set(id, s);
        changed.add(id);
      } else if (s.phase !== 'running') {
        this.starting.delete(id);
        const o = outcome(s, readExit(store.dir, run.uid));
        store.runs.update(id, { status: o.status, exitCode: o.exitCode, endedAt: Date.now() });
        changed.add(id);
      }
    }
  }

  /** Runs the monitor has finished, once their job ended too: the status Slurm's state makes precise. */
  private ends(store: Store, changed: Set<number>): void {
    for (const [id, s] of this.ending) {
      const run = store.runs.get(id);
      if (run && !isFinal(run.status)) continue; // the monitor finishes it first
      this.ending.delete(id);
      if (!run || (run.status === 'stopped' && this.stopped.has(id))) continue;
      const o = outcome(s, readExit(store.dir, run.uid));
      if (o.status === run.status && (o.exitCode === run.exitCode || o.exitCode === null)) continue;
      store.runs.update(id, { status: o.status, exitCode: o.exitCode ?? run.exitCode });
      changed.add(id);
    }
  }
}

/** Whether a run is (or was) a Slurm job, by its tags. */
export function isSlurmRun(tags: { [k: string]: string }): boolean {
  return tags[JOB_TAG] !== undefined;
}

const ended = (s: JobState) => s.phase !== 'queued' && s.phase !== 'running';
