import type { Run } from '../types.ts';
import type { PreparedSweep, TrialExecutor } from '../runs/sweepScheduler.ts';
import type { SlurmRequest, SlurmRuns } from './slurmRuns.ts';

export interface SlurmTrialPorts<Plan> {
  /** Checks run configuration `run` and says what its trials run (as for local trials). */
  prepare(run: string): Promise<PreparedSweep<Plan>>;
  /**
   * What queued trial `runId` submits: its plan with the trial's overrides applied and its provenance
   * captured (as Start Run does), `queued: runId`, and the executor of the run configuration.
   */
  request(plan: Plan, runId: number, overrides: string): Promise<SlurmRequest>;
}

/**
 * Sweep trials as Slurm jobs, behind the sweep scheduler's TrialExecutor port. start() submits one job
 * per trial (the scheduler keeps `concurrency` going); startAll() submits every trial as one job array
 * (`--array=0-N%concurrency`), so Slurm keeps the concurrency and the trials survive a window reload.
 */
export class SlurmTrials<Plan> implements TrialExecutor<Plan> {
  private readonly runs: SlurmRuns;
  private readonly ports: SlurmTrialPorts<Plan>;

  constructor(runs: SlurmRuns, ports: SlurmTrialPorts<Plan>) {
    this.runs = runs;
    this.ports = ports;
  }

  prepare(run: string): Promise<PreparedSweep<Plan>> {
    return this.ports.prepare(run);
  }

  async start(plan: Plan, runId: number, overrides: string): Promise<Run> {
    return this.runs.submit(await this.ports.request(plan, runId, overrides));
  }

  /** All trials at once, as one job array named `name`. Resolves with the array's job id. */
  async startAll(name: string, plan: Plan, trials: { runId: number; overrides: string }[], concurrency: number): Promise<string> {
    const requests: SlurmRequest[] = [];
    for (const t of trials) requests.push(await this.ports.request(plan, t.runId, t.overrides));
    return (await this.runs.submitArray(name, requests, concurrency)).job;
  }

  stop(run: Run): Promise<void> {
    return this.runs.cancel(run);
  }

  /** Every trial of a sweep at once: one scancel per array. Resolves with the runs it stopped. */
  cancelAll(sweepId: string): Promise<number[]> {
    return this.runs.cancelSweep(sweepId);
  }
}
