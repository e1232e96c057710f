import * as vscode from 'vscode';
import type { WorkspaceStore } from '../workspaceStore.ts';
import type { RunController } from './runController.ts';
import type { Run } from '../core/types.ts';
import { type PreparedSweep, SweepScheduler, type TrialExecutor } from '../core/runs/sweepScheduler.ts';
import { type LaunchPlan, planFromConfig, readParams, readProjectConfig, startPlan, withOverrides } from './startRun.ts';

export { type EarlyStop, type StartedSweep, type SweepRequest, ownerFile } from '../core/runs/sweepScheduler.ts';

export interface SweepRunnerDeps {
  store: WorkspaceStore;
  runs: RunController;
  log: vscode.LogOutputChannel;
  /** The primary metric named in runlens.yaml, if any. */
  primaryMetric: () => { name: string; goal: 'min' | 'max' } | undefined;
}

/** Trials as processes on this machine: each one a run configuration of runlens.yaml with its trial's overrides. */
class LocalTrials implements TrialExecutor<LaunchPlan> {
  private readonly deps: SweepRunnerDeps;

  constructor(deps: SweepRunnerDeps) {
    this.deps = deps;
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
    return { plan, experiment: plan.experiment, cwd: plan.cwd, params: plan.params };
  }

  start(plan: LaunchPlan, runId: number, overrides: string): Promise<Run> {
    // params files as they are now: the program reads them now too
    const now = { ...plan, params: readParams(plan.paramsFiles, plan.cwd) };
    return startPlan(this.deps.runs, now, withOverrides(now, overrides, this.deps.store.dir), runId);
  }

  stop(run: Run): Promise<void> {
    return this.deps.runs.stop(run);
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
