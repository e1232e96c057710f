import * as vscode from 'vscode';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { WorkspaceStore } from '../workspaceStore.ts';
import type { RunController } from './runController.ts';
import type { Store } from '../core/store/store.ts';
import { type Run, SWEEP_TAG, isFinal } from '../core/types.ts';
import { type Trial, overridesText, sweepId, trialName } from '../core/hparams/sweepTrials.ts';
import { type CurvePoint, medianStop } from '../core/hparams/sweep.ts';
import { primaryMetric } from '../core/compare/compareData.ts';
import { isAlive, startTicks } from '../core/runs/runProcess.ts';
import { type LaunchPlan, planFromConfig, readParams, readProjectConfig, startPlan, withOverrides } from './startRun.ts';

/** The trial's index in its sweep. */
export const TRIAL_TAG = 'runlens.sweep.trial';
/** Why a trial was stopped by RunLens rather than by the user. */
export const STOPPED_TAG = 'runlens.sweep.stopped';
const OVERRIDES_TAG = 'runlens.overrides';
const CHECK_MS = 1000;
const EARLY_STOP_MS = 3000;
const ALL = 1_000_000;

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

export interface SweepRunnerDeps {
  store: WorkspaceStore;
  runs: RunController;
  log: vscode.LogOutputChannel;
  /** The primary metric named in runlens.yaml, if any. */
  primaryMetric: () => { name: string; goal: 'min' | 'max' } | undefined;
}

/** A sweep this window is running: its queued trials wait for a free slot. */
interface Queue {
  id: string;
  plan: LaunchPlan;
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

/**
 * Runs sweeps: every trial is recorded at once as a queued run, and queued runs are started in place,
 * `concurrency` at a time. Queues live in this window; after a reload their queued runs are stopped.
 */
export class SweepRunner implements vscode.Disposable {
  private readonly deps: SweepRunnerDeps;
  private readonly queues = new Map<string, Queue>();
  private timer: NodeJS.Timeout | undefined;
  private checking = false;
  private readonly subscription: vscode.Disposable;

  constructor(deps: SweepRunnerDeps) {
    this.deps = deps;
    this.subscription = deps.runs.onDidChangeRuns((ids) => {
      for (const q of this.queues.values()) if (ids.some((id) => q.going.has(id))) this.settle(q);
    });
  }

  /** The ids of the sweeps this window is running. */
  get active(): string[] {
    return [...this.queues.keys()];
  }

  async start(req: SweepRequest): Promise<StartedSweep> {
    if (!vscode.workspace.isTrusted) throw new Error('RunLens does not start runs in an untrusted workspace. Trust the workspace to launch runs; stored runs can still be browsed.');
    const folder = this.deps.store.folder;
    if (!folder) throw new Error('Open a folder to start runs.');
    const project = readProjectConfig(folder);
    const config = project?.runs.find((r) => r.name === req.run);
    if (!project || !config) throw new Error(`No run configuration named "${req.run}" in runlens.yaml.`);
    if (!req.trials.length) throw new Error('The sweep has no trials.');
    const plan = await planFromConfig(folder, project, config);
    if (plan.shell) throw new Error(`A sweep passes each trial's params as overrides, so run configuration "${req.run}" needs its command as a list of arguments, not a shell string.`);
    if (plan.overrideStyle === 'file' && !plan.paramsFiles.length) throw new Error(`Run configuration "${req.run}" has override_style: file but no params file.`);
    const store = this.deps.store.require();
    this.deps.runs.setMetricPatterns(project.metricPatterns);
    const id = sweepId(req.name, new Date(), (s) => store.runs.count({ sweep: s }) > 0);
    const runIds = store.transaction(() => req.trials.map((trial, i) => store.runs.create({
      name: trialName(trial), experiment: plan.experiment, status: 'queued', cwd: plan.cwd,
      params: { ...plan.params, ...trial }, tags: { [SWEEP_TAG]: id, [TRIAL_TAG]: String(i), [OVERRIDES_TAG]: overridesText(trial) },
    }).id));
    const concurrency = Math.max(1, Math.floor(req.concurrency ?? 1));
    const q: Queue = { id, plan, waiting: [...runIds], going: new Set(), concurrency, earlyStop: req.earlyStop, cancelled: false, stopping: new Set(), lastEarlyStop: 0 };
    this.queues.set(id, q);
    this.own(store.dir, id);
    this.deps.log.info(`Sweep ${id}: ${runIds.length} trial(s) of ${req.run}, ${concurrency} at a time`
      + (req.earlyStop ? `, median stopping (patience ${req.earlyStop.patience}, min steps ${req.earlyStop.minSteps})` : ''));
    this.deps.store.notifyChanged();
    this.pump(q);
    this.schedule();
    return { sweepId: id, runIds };
  }

  /** Stops a sweep's running trials and marks its queued ones stopped. Works for sweeps of other windows too. */
  async cancel(id: string): Promise<{ stopped: number; neverStarted: number }> {
    const store = this.deps.store.require();
    const q = this.queues.get(id);
    if (q) { q.cancelled = true; q.waiting = []; }
    const members = store.runs.list({ sweep: id, limit: ALL });
    if (!members.length) throw new Error(`There is no sweep "${id}".`);
    const neverStarted = store.runs.stopQueued(members.filter((r) => r.status === 'queued').map((r) => r.id));
    const running = members.filter((r) => r.status === 'running');
    this.deps.log.info(`Cancelling sweep ${id}: stopping ${running.length} running trial(s); ${neverStarted.length} queued trial(s) will not start`);
    this.deps.store.notifyChanged();
    await Promise.all(running.map((r) => this.stopRun(r)));
    if (q) this.settle(q);
    return { stopped: running.length, neverStarted: neverStarted.length };
  }

  /**
   * After a window (re)loads: queued trials of sweeps that no live window is running will never start.
   * They are marked stopped, with the reason in a tag.
   */
  recover(): void {
    const store = this.deps.store.get();
    if (!store) return;
    let changed = false;
    try {
      for (const { id } of store.runs.sweeps({ status: ['queued'] })) {
        if (this.queues.has(id) || this.ownedElsewhere(store.dir, id)) continue;
        const queued = store.runs.list({ sweep: id, status: ['queued'], limit: ALL }).map((r) => r.id);
        const stopped = store.runs.stopQueued(queued, { [STOPPED_TAG]: 'the window closed before it started' });
        this.deps.log.info(`Sweep ${id}: ${stopped.length} queued trial(s) marked stopped; the window running the sweep closed before they started`);
        this.disown(store.dir, id);
        changed ||= stopped.length > 0;
      }
    } catch (err) {
      this.deps.log.warn(`Could not stop the queued trials of closed sweeps: ${String(err)}`);
    }
    if (changed) this.deps.store.notifyChanged();
  }

  /** Starts queued trials while there are free slots; ends the queue when nothing is left. */
  private pump(q: Queue): void {
    while (!q.cancelled && q.going.size < q.concurrency && q.waiting.length) {
      const runId = q.waiting.shift()!;
      q.going.add(runId);
      void this.startTrial(q, runId);
    }
    if (!q.going.size && (q.cancelled || !q.waiting.length)) this.finish(q);
  }

  private async startTrial(q: Queue, runId: number): Promise<void> {
    const store = this.deps.store.require();
    try {
      const text = store.runs.tags(runId)[OVERRIDES_TAG] ?? '';
      // params files as they are now: the program reads them now too
      const plan = { ...q.plan, params: readParams(q.plan.paramsFiles, q.plan.cwd) };
      const run = await startPlan(this.deps.runs, plan, withOverrides(plan, text, store.dir), runId);
      if (q.cancelled) await this.stopRun(run); // cancelled while it was starting
    } catch (err) {
      const run = store.runs.get(runId);
      if (run?.status === 'queued') store.runs.update(runId, { status: 'failed', endedAt: Date.now() });
      if (!q.cancelled) this.deps.log.error(`Sweep ${q.id}: trial ${run?.name ?? runId} could not start: ${err instanceof Error ? err.message : String(err)}`);
      this.deps.store.notifyChanged();
    }
    this.settle(q);
  }

  /** Frees the slots of trials that ended, and fills them. */
  private settle(q: Queue): void {
    const store = this.deps.store.get();
    if (!store) return;
    for (const id of q.going) {
      const run = store.runs.get(id);
      if (!run || isFinal(run.status)) q.going.delete(id);
    }
    this.pump(q);
  }

  private finish(q: Queue): void {
    if (this.queues.get(q.id) !== q) return;
    this.queues.delete(q.id);
    const store = this.deps.store.get();
    if (!store) return;
    this.disown(store.dir, q.id);
    const counts = new Map<string, number>();
    for (const r of store.runs.list({ sweep: q.id, limit: ALL })) counts.set(r.status, (counts.get(r.status) ?? 0) + 1);
    this.deps.log.info(`Sweep ${q.id} ${q.cancelled ? 'cancelled' : 'done'}: ${[...counts].map(([s, n]) => `${n} ${s}`).join(', ')}`);
  }

  private schedule(): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.check(), CHECK_MS);
  }

  /** Every second while sweeps run: free slots of ended trials (also ones ended elsewhere), apply early stopping. */
  private async check(): Promise<void> {
    if (this.checking) return;
    this.checking = true;
    try {
      for (const q of [...this.queues.values()]) {
        this.settle(q);
        if (q.earlyStop && !q.cancelled && Date.now() - q.lastEarlyStop >= EARLY_STOP_MS) {
          q.lastEarlyStop = Date.now();
          await this.earlyStop(q, q.earlyStop);
        }
      }
    } catch (err) {
      this.deps.log.error(`Following sweeps failed: ${String(err)}`);
    } finally {
      this.checking = false;
    }
    if (!this.queues.size) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }

  /**
   * The median stopping rule (see medianStop) on the primary metric, for each running trial at its latest
   * step that another trial has also reached (so a trial that started first is judged too).
   */
  private async earlyStop(q: Queue, rule: EarlyStop): Promise<void> {
    const store = this.deps.store.require();
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
      store.runs.setTags(run.id, { [STOPPED_TAG]: `median rule at step ${step}` });
      this.deps.log.info(`Sweep ${q.id}: stopping ${run.name} at step ${step}: its best ${metric.key} so far is worse than the median`
        + ` of the other trials' running averages at its last ${rule.patience} evaluation(s)`);
      await this.stopRun(run);
    }
  }

  /** runlens.yaml's primary metric, else the guess Compare makes from the trials' metric keys. */
  private metric(store: Store, runs: Run[]): { key: string; goal: 'min' | 'max' } | undefined {
    const configured = this.deps.primaryMetric();
    if (configured) return { key: configured.name, goal: configured.goal };
    const keys = [...new Set(runs.flatMap((r) => store.metrics.summaries(r.id).map((s) => s.key)))];
    const guess = primaryMetric(keys);
    return guess ? { key: guess.key, goal: guess.goal } : undefined;
  }

  private async stopRun(run: Run): Promise<void> {
    try {
      await this.deps.runs.stop(run);
    } catch (err) {
      this.deps.log.warn(`Could not stop ${run.name}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  private own(storeDir: string, id: string): void {
    try {
      mkdirSync(join(storeDir, 'sweeps'), { recursive: true });
      writeFileSync(ownerFile(storeDir, id), JSON.stringify({ sweep: id, pid: process.pid, startTicks: startTicks(process.pid) }));
    } catch (err) {
      this.deps.log.warn(`Could not record which window runs sweep ${id}: ${String(err)}`);
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
    clearInterval(this.timer);
    this.subscription.dispose();
  }
}
