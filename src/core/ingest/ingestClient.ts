import { Worker } from 'node:worker_threads';
import type { Run } from '../types.ts';
import type { RunFault } from '../runs/runMonitor.ts';
import type { HealthRules } from '../health/rules.ts';
import type { FromWorker, ToWorker, WorkerSetup } from './ingestProtocol.ts';

export interface WorkerOptions {
  /** The worker's script: dist/ingestWorker.js next to the bundle, src/core/ingest/ingestWorker.ts from source. */
  script: string | URL;
  /** The user's metric patterns: the worker parses output lines with its own StdoutParser. */
  patterns?: string[];
  /** Called when the worker reports changes or a fault (take the changes with RunMonitor.tick()). */
  onNotice?: () => void;
  /** The worker's tick when nothing was stored (default 250 ms), and the least time between notices (default the same). */
  tickMs?: number;
  noticeMs?: number;
}

export interface WorkerEvents {
  log(message: string): void;
  fault(run: Run, fault: RunFault | undefined): void;
  notice(): void;
  /** The worker could not start or stopped: the runs it was following, for the window to follow itself. */
  failed(why: string, runs: Followed[]): void;
}

export interface Followed {
  run: Run;
  stopping: boolean;
  /** Its run-health rules (none: not watched). */
  rules?: HealthRules;
}

/**
 * The window's side of the ingest worker (ingestWorker.ts): the runs handed to it, and what its
 * notices said since the last take(). The worker has its own connection and ingests in the
 * window's lease name; the window only keeps ids, faults and notices.
 */
export class WorkerIngest {
  private readonly worker: Worker;
  private readonly stop = new Int32Array(new SharedArrayBuffer(4));
  private readonly events: WorkerEvents;
  private readonly runs = new Map<number, Followed>();
  /** Faults the worker reported and that are not over. */
  readonly faults = new Map<number, RunFault>();
  private changed = new Set<number>();
  /** Runs the worker no longer follows; they leave runningIds when taken, with the notice that says so. */
  private ended = new Set<number>();
  private others = false;
  private gone = false;
  /** Settles once the worker has the store open, or is gone. */
  readonly started: Promise<void>;
  private resolveStarted!: () => void;

  constructor(options: WorkerOptions, setup: Omit<WorkerSetup, 'stop' | 'tickMs' | 'noticeMs' | 'patterns'>, events: WorkerEvents) {
    this.events = events;
    this.started = new Promise<void>((resolve) => { this.resolveStarted = resolve; });
    this.worker = new Worker(options.script, { name: 'runlens-ingest' });
    this.worker.on('message', (m: FromWorker) => this.received(m));
    this.worker.on('error', (err) => this.fail(`the ingest worker stopped: ${err instanceof Error ? err.stack ?? err.message : String(err)}`));
    this.worker.on('exit', (code) => this.fail(`the ingest worker exited with code ${code}`));
    // Held until it has started (so `started` can be awaited); then a closing window does not wait for it.
    void this.started.then(() => this.worker.unref());
    const tickMs = options.tickMs ?? 250;
    this.send({ type: 'start', setup: {
      ...setup, patterns: options.patterns ?? [], tickMs, noticeMs: options.noticeMs ?? tickMs, stop: this.stop.buffer as SharedArrayBuffer,
    } });
  }

  get runningIds(): number[] {
    return [...this.runs.keys()];
  }

  has(runId: number): boolean {
    return this.runs.has(runId);
  }

  /** The runs handed to the worker that it still follows. */
  get followed(): Followed[] {
    return [...this.runs.values()];
  }

  track(run: Run, rules?: HealthRules): void {
    if (this.runs.has(run.id)) return;
    this.runs.set(run.id, { run, stopping: false, ...(rules && { rules }) });
    this.send({ type: 'track', run, ...(rules && { rules }) });
  }

  markStopping(runId: number): void {
    const f = this.runs.get(runId);
    if (!f) return;
    f.stopping = true;
    this.send({ type: 'stopping', runId });
  }

  /** The runs that got points or ended since the last take, and whether other connections committed meanwhile. */
  take(): { changed: number[]; others: boolean } {
    for (const id of this.ended) {
      this.runs.delete(id);
      this.faults.delete(id);
    }
    const out = { changed: [...this.changed, ...[...this.ended].filter((id) => !this.changed.has(id))], others: this.others };
    this.changed = new Set();
    this.ended = new Set();
    this.others = false;
    return out;
  }

  /** Stops the worker: it stores nothing more (its slice in progress rolls back), releases its leases and closes. */
  dispose(): void {
    if (this.gone) return;
    Atomics.store(this.stop, 0, 1);
    this.send({ type: 'dispose' });
    this.gone = true;
    this.resolveStarted();
  }

  private send(m: ToWorker): void {
    if (!this.gone) this.worker.postMessage(m);
  }

  private received(m: FromWorker): void {
    if (this.gone) return;
    switch (m.type) {
      case 'ready':
        this.resolveStarted();
        return;
      case 'notice':
        for (const id of m.changed) this.changed.add(id);
        for (const id of m.ended) this.ended.add(id);
        this.others ||= m.others;
        this.events.notice();
        return;
      case 'fault':
        if (m.fault) this.faults.set(m.run.id, m.fault);
        else this.faults.delete(m.run.id);
        this.events.fault(m.run, m.fault);
        this.events.notice();
        return;
      case 'log':
        this.events.log(m.message);
        return;
      case 'failed':
        this.fail(m.message);
    }
  }

  private fail(why: string): void {
    if (this.gone) return;
    this.gone = true;
    this.resolveStarted();
    Atomics.store(this.stop, 0, 1);
    void this.worker.terminate();
    this.events.failed(why, [...this.runs.values()].filter((f) => !this.ended.has(f.run.id)));
  }
}
