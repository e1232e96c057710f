import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Store } from '../store/store.ts';
import type { StoreAccess } from '../store/storeWrites.ts';
import { type ParamValue, type Run, SWEEP_TAG, isFinal } from '../types.ts';
import { type Trial, overridesText, sweepId, trialName } from '../hparams/sweepTrials.ts';
import { type CurvePoint, medianStop } from '../hparams/sweep.ts';
import { primaryMetric } from '../compare/compareData.ts';
import { isAlive, startTicks } from './runProcess.ts';
import { JOB_TAG } from '../slurm/slurmRuns.ts';

/** The trial's index in its sweep. */
export const TRIAL_TAG = 'runlens.sweep.trial';
/** Why a trial was stopped by RunLens rather than by the user. */
export const STOPPED_TAG = 'runlens.sweep.stopped';
const OVERRIDES_TAG = 'runlens.overrides';
const CHECK_MS = 1000;
const EARLY_STOP_MS = 3000;
const ALL = 1_000_000;
const UNTRUSTED = 'RunLens does not start runs in an untrusted workspace. Trust the workspace to launch runs; stored runs can still be browsed.';

/**
 * Which window runs a sweep: a file naming its extension host process, so that a second window on the
 * same workspace leaves the queue alone and a reloaded one knows it is gone.
 */
export function ownerFile(storeDir: string, id: string): string {
  return join(storeDir, 'sweeps', `${createHash('sha256').update(id).digest('hex').slice(0, 16)}.json`);
}

export interface EarlyStop {
  patience: number;
  minSteps: number;
}

export interface SweepRequest {
  /** What the sweep is called: a sweep from runlens.yaml, or a name for a new one. */
  name: string;
  /** The run configuration in runlens.yaml that every trial runs, with its trial's params as overrides. */
  run: string;
  trials: Trial[];
  /** How many trials run at once (default 1). */
  concurrency?: number;
  /** The median stopping rule on the primary metric; off when absent. */
  earlyStop?: EarlyStop;
}

export interface StartedSweep {
  sweepId: string;
  runIds: number[];
}

/** What every trial of a sweep runs (the executor's own `plan`), and what its runs are recorded with while they wait. */
export interface PreparedSweep<Plan> {
  plan: Plan;
  experiment?: string;
  cwd: string;
  /** Each trial's params are these with the trial's on top. */
  params: { [key: string]: ParamValue };
  /** Who runs these trials, when not the scheduler's own executor (a run configuration on Slurm). */
  executor?: TrialExecutor<Plan>;
}

/**
 * Where trials run: processes on this machine (the extension's), or a cluster's jobs. Each trial is
 * recorded as a queued run first; start() starts that run in place, and the run's status in the
 * store says when it has ended (a final status frees its slot).
 */
export interface TrialExecutor<Plan> {
  /** Checks run configuration `run` and says what its trials run; throws a readable message. */
  prepare(run: string): Promise<PreparedSweep<Plan>>;
  /** Starts queued run `runId` with its trial's overrides (`key=value` text); resolves once it is going. */
  start(plan: Plan, runId: number, overrides: string): Promise<Run>;
  /** Stops a trial that is going (also one that another window started). */
  stop(run: Run): Promise<void>;
  /**
   * Starts every trial at once, when the executor keeps `concurrency` itself (a Slurm job array, which
   * also outlives the window); then start() is not used. Resolves with what it submitted (the array's id).
   */
  startAll?(name: string, plan: Plan, trials: { runId: number; overrides: string }[], concurrency: number): Promise<string>;
  /** Stops a sweep's trials at once (one scancel per array); resolves with the runs it stopped: the others are stopped one by one. */
  cancelAll?(sweepId: string): Promise<number[]>;
}

export interface SchedulerLog {
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

export interface SchedulerPorts<Plan> {
  store: StoreAccess;
  executor: TrialExecutor<Plan>;
  /** Whether runs may be launched (a trusted workspace). */
  trusted: () => boolean;
  log: SchedulerLog;
  /** The primary metric named in runlens.yaml, if any. */
  primaryMetric: () => { name: string; goal: 'min' | 'max' } | undefined;
  now?: () => number;
  /** Calls fn every `ms` until the returned function is called (setInterval by default). */
  every?: (ms: number, fn: () => void) => () => void;
}

/** A sweep this window is running: its queued trials wait for a free slot. */
interface Queue<Plan> {
  id: string;
  plan: Plan;
  executor: TrialExecutor<Plan>;
  /** Queued run ids, in trial order. */
  waiting: number[];
  /** Started (or starting) and not ended yet. */
  going: Set<number>;
  concurrency: number;
  earlyStop?: EarlyStop;
  cancelled: boolean;
  /** Trials the median rule is stopping. */
  stopping: Set<number>;
  lastEarlyStop: number;
}

const everyInterval = (ms: number, fn: () => void) => {
  const timer = setInterval(fn, ms);
  return () => clearInterval(timer);
};

/**
 * Runs sweeps: every trial is recorded at once as a queued run, and queued runs are started in place,
 * `concurrency` at a time. Queues live in this process; after a reload their queued runs are stopped.
 */
export class SweepScheduler<Plan> {
  private readonly ports: SchedulerPorts<Plan>;
  private readonly now: () => number;
  private readonly queues = new Map<string, Queue<Plan>>();
  private stopTimer: (() => void) | undefined;
  private checking = false;

  constructor(ports: SchedulerPorts<Plan>) {
    this.ports = ports;
    this.now = ports.now ?? Date.now;
  }

  /** The ids of the sweeps this process is running. */
  get active(): string[] {
    return [...this.queues.keys()];
  }

  async start(req: SweepRequest): Promise<StartedSweep> {
    if (!this.ports.trusted()) throw new Error(UNTRUSTED);
    if (!req.trials.length) throw new Error('The sweep has no trials.');
    const prepared = await this.ports.executor.prepare(req.run);
    const { id, runIds, dir } = this.ports.store.write(['runs'], (store) => {
      const id = sweepId(req.name, new Date(this.now()), (s) => store.runs.count({ sweep: s }) > 0);
      const runIds = req.trials.map((trial, i) => store.runs.create({
        name: trialName(trial), experiment: prepared.experiment, status: 'queued', cwd: prepared.cwd,
        params: { ...prepared.params, ...trial }, tags: { [SWEEP_TAG]: id, [TRIAL_TAG]: String(i), [OVERRIDES_TAG]: overridesText(trial) },
      }).id);
      return { id, runIds, dir: store.dir };
    });
    const concurrency = Math.max(1, Math.floor(req.concurrency ?? 1));
    const executor = prepared.executor ?? this.ports.executor;
    const q: Queue<Plan> = { id, plan: prepared.plan, executor, waiting: [...runIds], going: new Set(), concurrency, earlyStop: req.earlyStop, cancelled: false, stopping: new Set(), lastEarlyStop: 0 };
    this.queues.set(id, q);
    this.own(dir, id);
    this.ports.log.info(`Sweep ${id}: ${runIds.length} trial(s) of ${req.run}, ${concurrency} at a time`
      + (req.earlyStop ? `, median stopping (patience ${req.earlyStop.patience}, min steps ${req.earlyStop.minSteps})` : ''));
    this.schedule();
    if (executor.startAll) await this.startAll(q, executor.startAll.bind(executor));
    else this.pump(q);
    return { sweepId: id, runIds };
  }

  /** Hands every trial to the executor at once (it keeps the concurrency); they all count as going until they end. */
  private async startAll(q: Queue<Plan>, startAll: NonNullable<TrialExecutor<Plan>['startAll']>): Promise<void> {
    const ids = q.waiting;
    q.waiting = [];
    ids.forEach((id) => q.going.add(id));
    try {
      const store = this.ports.store.get();
      const trials = ids.map((runId) => ({ runId, overrides: store?.runs.tags(runId)[OVERRIDES_TAG] ?? '' }));
      const submitted = await startAll(q.id, q.plan, trials, q.concurrency);
      this.ports.log.info(`Sweep ${q.id}: submitted as ${submitted}`);
    } catch (err) {
      const failed = this.ports.store.write(['runs'], (store) => ids.filter((id) => store.runs.get(id)?.status === 'queued')
        .map((id) => store.runs.update(id, { status: 'failed', endedAt: this.now() })));
      this.ports.log.error(`Sweep ${q.id}: its trials could not start${failed.length ? ` (${failed.length} marked failed)` : ''}: ${err instanceof Error ? err.message : String(err)}`);
      this.settle(q);
      throw err;
    }
    this.settle(q);
  }

  /** Stops a sweep's running trials and marks its queued ones stopped. Works for sweeps of other windows too. */
  async cancel(id: string): Promise<{ stopped: number; neverStarted: number }> {
    const q = this.queues.get(id);
    if (q) { q.cancelled = true; q.waiting = []; }
    const executor = q?.executor ?? this.ports.executor;
    const before = this.ports.store.get()?.runs.list({ sweep: id, limit: ALL }) ?? [];
    if (!before.length) throw new Error(`There is no sweep "${id}".`);
    // what the executor stops at once (a job array), before the queued trials are marked
    const atOnce = await this.cancelAll(executor, id);
    const { running, marked } = this.ports.store.write(['runs'], (store) => {
      const members = store.runs.list({ sweep: id, limit: ALL });
      return {
        marked: store.runs.stopQueued(members.filter((r) => r.status === 'queued').map((r) => r.id)),
        running: members.filter((r) => r.status === 'running' && !atOnce.has(r.id)),
      };
    });
    const neverStarted = new Set([...marked, ...before.filter((r) => r.status === 'queued' && atOnce.has(r.id)).map((r) => r.id)]).size;
    const stopped = running.length + before.filter((r) => r.status === 'running' && atOnce.has(r.id)).length;
    this.ports.log.info(`Cancelling sweep ${id}: stopping ${stopped} running trial(s); ${neverStarted} queued trial(s) will not start`);
    await Promise.all(running.map((r) => this.stopRun(r, executor)));
    if (q) this.settle(q);
    return { stopped, neverStarted };
  }

  /** The runs the executor's cancelAll stopped at once (none when it has none, or it failed: they are stopped one by one). */
  private async cancelAll(executor: TrialExecutor<Plan>, id: string): Promise<Set<number>> {
    try {
      return new Set(await executor.cancelAll?.(id));
    } catch (err) {
      this.ports.log.warn(`Could not cancel sweep ${id} at once: ${err instanceof Error ? err.message : String(err)}`);
      return new Set();
    }
  }

  /**
   * After a window (re)loads: queued trials of sweeps that no live window is running will never start.
   * They are marked stopped, with the reason in a tag.
   */
  recover(): void {
    const store = this.ports.store.get();
    if (!store) return;
    try {
      const orphans = store.runs.sweeps({ status: ['queued'] }).map((s) => s.id)
        .filter((id) => !this.queues.has(id) && !this.ownedElsewhere(store.dir, id));
      if (!orphans.length) return;
      // queued trials with a Slurm job wait in Slurm's queue, not this window's: they still start
      const stopped = this.ports.store.write(['runs'], (s) => orphans.map((id) => s.runs.stopQueued(
        s.runs.list({ sweep: id, status: ['queued'], limit: ALL }).filter((r) => s.runs.tags(r.id)[JOB_TAG] === undefined).map((r) => r.id),
        { [STOPPED_TAG]: 'the window closed before it started' })));
      orphans.forEach((id, i) => {
        if (stopped[i]!.length) this.ports.log.info(`Sweep ${id}: ${stopped[i]!.length} queued trial(s) marked stopped; the window running the sweep closed before they started`);
        this.disown(store.dir, id);
      });
    } catch (err) {
      this.ports.log.warn(`Could not stop the queued trials of closed sweeps: ${String(err)}`);
    }
  }

  /** Runs that got points or ended (the executor's news): frees the slots of trials that ended. */
  runsChanged(ids: number[]): void {
    for (const q of this.queues.values()) if (ids.some((id) => q.going.has(id))) this.settle(q);
  }

  /** Starts queued trials while there are free slots; ends the queue when nothing is left. */
  private pump(q: Queue<Plan>): void {
    while (!q.cancelled && q.going.size < q.concurrency && q.waiting.length) {
      const runId = q.waiting.shift()!;
      q.going.add(runId);
      void this.startTrial(q, runId);
    }
    if (!q.going.size && (q.cancelled || !q.waiting.length)) this.finish(q);
  }

  private async startTrial(q: Queue<Plan>, runId: number): Promise<void> {
    try {
      const text = this.ports.store.get()?.runs.tags(runId)[OVERRIDES_TAG] ?? '';
      const run = await q.executor.start(q.plan, runId, text);
      if (q.cancelled) await this.stopRun(run, q.executor); // cancelled while it was starting
    } catch (err) {
      const run = this.ports.store.write(['runs'], (store) => {
        const r = store.runs.get(runId);
        if (r?.status === 'queued') store.runs.update(runId, { status: 'failed', endedAt: this.now() });
        return r;
      });
      if (!q.cancelled) this.ports.log.error(`Sweep ${q.id}: trial ${run?.name ?? runId} could not start: ${err instanceof Error ? err.message : String(err)}`);
    }
    this.settle(q);
  }

  /** Frees the slots of trials that ended, and fills them. */
  private settle(q: Queue<Plan>): void {
    const store = this.ports.store.get();
    if (!store) return;
    for (const id of q.going) {
      const run = store.runs.get(id);
      if (!run || isFinal(run.status)) q.going.delete(id);
    }
    this.pump(q);
  }

  private finish(q: Queue<Plan>): void {
    if (this.queues.get(q.id) !== q) return;
    this.queues.delete(q.id);
    const store = this.ports.store.get();
    if (!store) return;
    this.disown(store.dir, q.id);
    const counts = new Map<string, number>();
    for (const r of store.runs.list({ sweep: q.id, limit: ALL })) counts.set(r.status, (counts.get(r.status) ?? 0) + 1);
    this.ports.log.info(`Sweep ${q.id} ${q.cancelled ? 'cancelled' : 'done'}: ${[...counts].map(([s, n]) => `${n} ${s}`).join(', ')}`);
  }

  private schedule(): void {
    this.stopTimer ??= (this.ports.every ?? everyInterval)(CHECK_MS, () => void this.check());
  }

  /** What the timer does every second while sweeps run: free slots of ended trials (also ones ended elsewhere), apply early stopping. */
  async check(): Promise<void> {
    if (this.checking) return;
    this.checking = true;
    try {
      for (const q of [...this.queues.values()]) {
        this.settle(q);
        if (q.earlyStop && !q.cancelled && this.now() - q.lastEarlyStop >= EARLY_STOP_MS) {
          q.lastEarlyStop = this.now();
          await this.earlyStop(q, q.earlyStop);
        }
      }
    } catch (err) {
      this.ports.log.error(`Following sweeps failed: ${String(err)}`);
    } finally {
      this.checking = false;
    }
    if (!this.queues.size) {
      this.stopTimer?.();
      this.stopTimer = undefined;
    }
  }

  /**
   * The median stopping rule (see medianStop) on the primary metric, for each running trial at its latest
   * step that another trial has also reached (so a trial that started first is judged too).
   */
  private async earlyStop(q: Queue<Plan>, rule: EarlyStop): Promise<void> {
    const store = this.ports.store.get();
    if (!store) return;
    const started = store.runs.list({ sweep: q.id, limit: ALL }).filter((r) => r.status !== 'queued');
    const running = started.filter((r) => r.status === 'running' && !q.stopping.has(r.id));
    if (!running.length || started.length < 2) return;
    const metric = this.metric(store, started);
    if (!metric) return;
    const curves: CurvePoint[][] = started.map((r) => {
      const p = store.metrics.points(r.id, metric.key);
      return Array.from(p.steps, (step, i) => ({ step, value: p.values[i]! }));
    });
    const last = curves.map((c) => (c.length ? c[c.length - 1]!.step : -Infinity));
    for (const run of running) {
      const m = started.indexOf(run);
      const step = Math.min(last[m]!, Math.max(...last.filter((_, j) => j !== m)));
      if (!Number.isFinite(step)) continue;
      if (!medianStop(curves, metric.goal, step, rule.patience, { minSteps: rule.minSteps }).includes(m)) continue;
      q.stopping.add(run.id);
      this.ports.store.write(['runs'], (s) => s.runs.setTags(run.id, { [STOPPED_TAG]: `median rule at step ${step}` }));
      this.ports.log.info(`Sweep ${q.id}: stopping ${run.name} at step ${step}: its best ${metric.key} so far is worse than the median`
        + ` of the other trials' running averages at its last ${rule.patience} evaluation(s)`);
      await this.stopRun(run, q.executor);
    }
  }

  /** runlens.yaml's primary metric, else the guess Compare makes from the trials' metric keys. */
  private metric(store: Store, runs: Run[]): { key: string; goal: 'min' | 'max' } | undefined {
    const configured = this.ports.primaryMetric();
    if (configured) return { key: configured.name, goal: configured.goal };
    const keys = [...new Set(runs.flatMap((r) => store.metrics.summaries(r.id).map((s) => s.key)))];
    const guess = primaryMetric(keys);
    return guess ? { key: guess.key, goal: guess.goal } : undefined;
  }

  private async stopRun(run: Run, executor: TrialExecutor<Plan>): Promise<void> {
    try {
      await executor.stop(run);
    } catch (err) {
      this.ports.log.warn(`Could not stop ${run.name}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  private own(storeDir: string, id: string): void {
    try {
      mkdirSync(join(storeDir, 'sweeps'), { recursive: true });
      writeFileSync(ownerFile(storeDir, id), JSON.stringify({ sweep: id, pid: process.pid, startTicks: startTicks(process.pid) }));
    } catch (err) {
      this.ports.log.warn(`Could not record which window runs sweep ${id}: ${String(err)}`);
    }
  }

  private disown(storeDir: string, id: string): void {
    rmSync(ownerFile(storeDir, id), { force: true });
  }

  private ownedElsewhere(storeDir: string, id: string): boolean {
    try {
      const owner = JSON.parse(readFileSync(ownerFile(storeDir, id), 'utf8')) as { pid: number; startTicks: number | null };
      return owner.pid !== process.pid && isAlive(owner);
    } catch {
      return false;
    }
  }

  dispose(): void {
    this.stopTimer?.();
    this.stopTimer = undefined;
  }
}
