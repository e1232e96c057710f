import * as vscode from 'vscode';
import type { WorkspaceStore } from '../workspaceStore.ts';
import type { RunController } from './runController.ts';
import type { Run } from '../core/types.ts';
import { type PreparedSweep, SweepScheduler, type TrialExecutor } from '../core/runs/sweepScheduler.ts';
import { type LaunchPlan, planFromConfig, planRequest, readParams, readProjectConfig, startPlan, withOverrides } from './startRun.ts';
import { SlurmTrials } from '../core/slurm/slurmTrials.ts';

export { type EarlyStop, type StartedSweep, type SweepRequest, ownerFile } from '../core/runs/sweepScheduler.ts';

export interface SweepRunnerDeps {
  store: WorkspaceStore;
  runs: RunController;
  log: vscode.LogOutputChannel;
  /** The primary metric named in runlens.yaml, if any. */
  primaryMetric: () => { name: string; goal: 'min' | 'max' } | undefined;
}

/**
 * Trials as processes on this machine: each one a run configuration of runlens.yaml with its trial's
 * overrides. A run configuration whose executor is Slurm has its trials run by SlurmTrials instead:
 * one job array, Slurm keeping the concurrency.
 */
class LocalTrials implements TrialExecutor<LaunchPlan> {
  private readonly deps: SweepRunnerDeps;
  private readonly slurm: SlurmTrials<LaunchPlan>;

  constructor(deps: SweepRunnerDeps) {
    this.deps = deps;
    this.slurm = new SlurmTrials(deps.runs.slurm, {
      prepare: (name) => this.prepare(name),
      request: (plan, runId, overrides) => {
        if (plan.executor?.type !== 'slurm') throw new Error('not a Slurm run configuration');
        const now = this.now(plan);
        return deps.runs.slurmRequest({ ...planRequest(now, withOverrides(now, overrides, deps.store.dir), runId), executor: plan.executor });
      },
    });
  }

  async prepare(name: string): Promise<PreparedSweep<LaunchPlan>> {
    const folder = this.deps.store.folder;
    const project = readProjectConfig(folder);
    const config = project?.runs.find((r) => r.name === name);
    if (!project || !config) throw new Error(`No run configuration named "${name}" in runlens.yaml.`);
    const plan = await planFromConfig(folder, project, config);
    if (plan.shell) throw new Error(`A sweep passes each trial's params as overrides, so run configuration "${name}" needs its command as a list of arguments, not a shell string.`);
    if (plan.overrideStyle === 'file' && !plan.paramsFiles.length) throw new Error(`Run configuration "${name}" has override_style: file but no params file.`);
    this.deps.runs.setMetricPatterns(project.metricPatterns);
    return { plan, experiment: plan.experiment, cwd: plan.cwd, params: plan.params, executor: plan.executor?.type === 'slurm' ? this.slurm : undefined };
  }

  /** The plan with its params files as they are now: the program reads them now too. */
  private now(plan: LaunchPlan): LaunchPlan {
    return { ...plan, params: readParams(plan.paramsFiles, plan.cwd) };
  }

  start(plan: LaunchPlan, runId: number, overrides: string): Promise<Run> {
    const now = this.now(plan);
    return startPlan(this.deps.runs, now, withOverrides(now, overrides, this.deps.store.dir), runId);
  }

  /** Stops a trial, locally or with scancel (RunController.stop tells by the run's job tag). */
  stop(run: Run): Promise<void> {
    return this.deps.runs.stop(run);
  }

  /** A sweep of another window, or of a closed one: its Slurm arrays are cancelled at once (none: nothing to do). */
  cancelAll(sweepId: string): Promise<number[]> {
    return this.slurm.cancelAll(sweepId);
  }
}

/** The sweep scheduler of this window: its trials run here, and it hears when this window's runs end. */
export class SweepRunner extends SweepScheduler<LaunchPlan> implements vscode.Disposable {
  private readonly subscription: vscode.Disposable;

  constructor(deps: SweepRunnerDeps) {
    super({ store: deps.store, executor: new LocalTrials(deps), trusted: () => vscode.workspace.isTrusted, log: deps.log, primaryMetric: deps.primaryMetric });
    this.subscription = deps.runs.onDidChangeRuns((ids) => this.runsChanged(ids));
  }

  override dispose(): void {
    super.dispose();
    this.subscription.dispose();
  }
}
