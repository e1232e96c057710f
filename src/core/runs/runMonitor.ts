import { existsSync, statSync } from 'node:fs';
import type { Store } from '../store/store.ts';
import type { Run, RunStatus } from '../types.ts';
import { JsonlIngestor } from '../ingest/jsonlIngestor.ts';
import { type LineParser, StdoutIngestor } from '../ingest/stdoutIngestor.ts';
import { type ProcessInfo, isAlive, readExit, readProcess, runFolder } from './runProcess.ts';

interface Active {
  run: Run;
  info: ProcessInfo | undefined;
  metrics: JsonlIngestor;
  output: StdoutIngestor;
  stopRequested: boolean;
}

export interface MonitorOptions {
  parse: LineParser;
  log?: (message: string) => void;
  /** Bytes each file may contribute per tick while the run is going (default 8 MB). */
  budget?: number;
}

/**
 * Follows running runs: ingests their metrics file and output log, and records how each one ended
 * (finished, failed, stopped, or crashed when its process vanished without an exit record).
 */
export class RunMonitor {
  private readonly store: Store;
  private readonly storeDir: string;
  private readonly options: MonitorOptions;
  private readonly active = new Map<number, Active>();

  constructor(store: Store, storeDir: string, options: MonitorOptions) {
    this.store = store;
    this.storeDir = storeDir;
    this.options = options;
  }

  get runningIds(): number[] {
    return [...this.active.keys()];
  }

  track(run: Run): void {
    if (this.active.has(run.id)) return;
    const f = runFolder(this.storeDir, run.uid);
    const metrics = new JsonlIngestor(this.store, run.id, f.metrics);
    const output = new StdoutIngestor(this.store, run.id, f.log, this.options.parse);
    this.active.set(run.id, { run, info: readProcess(this.storeDir, run.uid), metrics, output, stopRequested: false });
  }

  /** After a window (re)loads: follow runs still alive, finish the ones that ended meanwhile. */
  recover(): { reattached: number; ended: number } {
    let reattached = 0, ended = 0;
    for (const run of this.store.runs.list({ status: ['running'], limit: 10_000 })) {
      this.track(run);
      if (this.finishIfEnded(this.active.get(run.id)!)) ended++;
      else reattached++;
    }
    return { reattached, ended };
  }

  markStopping(runId: number): void {
    const a = this.active.get(runId);
    if (a) a.stopRequested = true;
  }

  /** Ingests what is new; returns the ids of runs that got points or ended. */
  tick(): number[] {
    const changed: number[] = [];
    for (const a of [...this.active.values()]) {
      const added = this.ingest(a);
      if (this.finishIfEnded(a) || added > 0) changed.push(a.run.id);
    }
    return changed;
  }

  private ingest(a: Active, budget = this.options.budget ?? 8 << 20): number {
    let added = a.metrics.poll(budget);
    // A script that writes the metrics file is instrumented: its printed numbers are not metrics too.
    const f = runFolder(this.storeDir, a.run.uid);
    a.output.enabled = !(existsSync(f.metrics) && statSync(f.metrics).size > 0);
    try {
      added += a.output.poll(Date.now(), budget);
    } catch (err) {
      this.options.log?.(`run ${a.run.name}: ${String(err)}`);
    }
    return added;
  }

  private finishIfEnded(a: Active): boolean {
    const exit = readExit(this.storeDir, a.run.uid);
    const alive = a.info !== undefined && isAlive(a.info);
    if (!exit && alive) return false;
    const again = exit ?? readExit(this.storeDir, a.run.uid); // it may have written exit.json just now
    this.ingest(a, Infinity); // the last lines, all of them
    let status: RunStatus;
    if (again) status = again.signalled || a.stopRequested ? 'stopped' : again.code === 0 ? 'finished' : 'failed';
    else status = a.stopRequested ? 'stopped' : 'crashed';
    this.store.runs.update(a.run.id, {
      status, exitCode: again?.code ?? null, endedAt: again?.endedAt ?? Date.now(),
    });
    for (const p of a.metrics.stats.problems.splice(0)) this.options.log?.(`run ${a.run.name}: ${p}`);
    if (!again) this.options.log?.(`run ${a.run.name}: its process ended without an exit record; marked ${status}`);
    this.active.delete(a.run.id);
    return true;
  }
}
