import { resolve } from 'node:path';
import { existsSync, statSync } from 'node:fs';
import type { Store } from '../store/store.ts';
import type { Columns } from '../store/chunks.ts';
import type { Run, RunStatus } from '../types.ts';
import { JsonlIngestor } from '../ingest/jsonlIngestor.ts';
import { FileCapture } from '../capture/fileCapture.ts';
import { type LineParser, StdoutIngestor } from '../ingest/stdoutIngestor.ts';
import { type ProcessInfo, isAlive, readExit, readProcess, runFolder } from './runProcess.ts';
import { type LeaseOwner, LeaseLost, newOwner } from '../store/leaseRepository.ts';
import { type FaultKind, describeFault, faultKind } from '../store/faults.ts';
import { type Followed, type WorkerOptions, WorkerIngest } from '../ingest/ingestClient.ts';
import { HealthMonitor } from '../health/healthMonitor.ts';
import type { HealthRules } from '../health/rules.ts';
import type { StoredAlert } from '../store/alertRepository.ts';
import { recordPackages } from './inbox.ts';

interface Active {
  run: Run;
  info: ProcessInfo | undefined;
  metrics: JsonlIngestor;
  output: StdoutIngestor;
  /** Other tools' log files under the run's folder (absent when it has none). */
  capture: FileCapture | undefined;
  stopRequested: boolean;
  /** Whether this monitor holds the run's lease, and when it last renewed it. */
  owned: boolean;
  beat: number;
  /** Not before this time (a fault's back-off, or a look at another owner's lease). */
  nextTry: number;
  /** The fault going on, since when, and whether the user was told. */
  fault: RunFault | undefined;
  failures: number;
  /** The run-health rules it is watched with (none: not watched), and their evaluator on this connection. */
  rules: HealthRules | undefined;
  health: HealthMonitor | undefined;
  /** Bytes of its metrics file and output log at the last look (-1 before it): growth is a sign of life. */
  seen: number;
}

/** A fault that keeps a run's points from being stored (see faults.ts). Ingest retries by itself. */
export interface RunFault {
  kind: FaultKind;
  message: string;
  since: number;
  reported: boolean;
}

export interface MonitorOptions {
  parse: LineParser;
  /** Runs asked to stop; shared with the monitor that replaces this one (a stop survives a rebuild). */
  stopRequests?: Set<number>;
  log?: (message: string) => void;
  /** Bytes each file may contribute per tick while the run is going (default 8 MB). */
  budget?: number;
  /** How long a run's lease lasts without a heartbeat before another window may take it (default 15 s). */
  leaseMs?: number;
  /** How long one write may wait for another connection's lock before backing off (default 100 ms). */
  busyWaitMs?: number;
  /** A busy store is reported once it stayed busy this long (default 10 s); other faults at once. */
  busyReportMs?: number;
  /** Told when a run's fault is first reported (fault) and when it is over (undefined). */
  onFault?: (run: Run, fault: RunFault | undefined) => void;
  now?: () => number;
  /**
   * Ingest in a worker thread with its own connection (see ingestClient.ts): this thread then only
   * keeps ids, faults and the worker's notices. When the worker cannot start or stops, ingest
   * continues here (with `parse`), and `log` says why.
   */
  worker?: WorkerOptions;
  /** The lease owner to ingest as (the worker ingests in its window's name; default a new one). */
  owner?: LeaseOwner;
  /** True once the window lets go: no lease is taken and nothing more is stored (the slice in progress rolls back). */
  stopped?: () => boolean;
  /**
   * The run-health rules of a run (runlens.yaml), asked on the thread that calls track(); with a worker
   * they travel with the run. Absent or undefined: the run is not watched.
   */
  rules?: (run: Run) => HealthRules | undefined;
}

/** Retries of a busy or failing store back off to at most this (each costs at most busyWaitMs). */
const MAX_BACKOFF_MS = 2000;

/**
 * Follows running runs: ingests their metrics file, output log and the log files other tools write
 * in their folder (TensorBoard, CSV loggers, DVCLive, trainer_state.json; see FileCapture), and
 * records how each one ended (finished, failed, stopped, or crashed when its process vanished
 * without an exit record).
 *
 * One owner per run: a monitor ingests a run only while it holds the run's lease in the store
 * (another window on the same store watches, and takes over when the owner goes away). Every write
 * renews the lease and compares-and-sets the file's position in the same transaction.
 *
 * Faults (a busy, full or read-only store) roll the slice back, in memory too, and the run is tried
 * again with a back-off; the fault is reported (onFault, log) and cleared when writes succeed again.
 *
 * A key both the metrics file and a captured file log is kept from the metrics file: captured points
 * of a key the metrics file has for the run are skipped. The metrics file is read first on every
 * tick; which keys it wrote is stored with its points, so this holds after a reload too.
 */
export class RunMonitor {
  readonly owner: LeaseOwner;
  private readonly store: Store;
  private readonly storeDir: string;
  private readonly options: MonitorOptions;
  private readonly active = new Map<number, Active>();
  private readonly now: () => number;
  private readonly leaseMs: number;
  /** The ingest worker, while it runs. */
  private remote: WorkerIngest | undefined;
  private readonly stopRequests: Set<number>;
  /**
   * With a worker: whether the notices taken by the last tick said that other connections (another
   * window or process, or this thread's own) committed since the worker's previous look.
   */
  othersCommitted = false;

  constructor(store: Store, storeDir: string, options: MonitorOptions) {
    this.store = store;
    this.storeDir = storeDir;
    this.options = options;
    this.stopRequests = options.stopRequests ?? new Set();
    this.now = options.now ?? Date.now;
    this.leaseMs = options.leaseMs ?? 15_000;
    this.owner = options.owner ?? newOwner();
    if (options.worker) this.startWorker(options.worker);
  }

  /** Whether a worker thread ingests (false: this thread does). */
  get inWorker(): boolean {
    return this.remote !== undefined;
  }

  /** Settles once the worker has the store open (or could not start); at once without a worker. */
  get started(): Promise<void> {
    return this.remote?.started ?? Promise.resolve();
  }

  /** Whether the worker is following runs, and so looks at data_version for this thread (StoreWritesDeps.watched). */
  get watching(): boolean {
    return this.remote !== undefined && this.remote.runningIds.length > 0;
  }

  get runningIds(): number[] {
    return this.remote ? this.remote.runningIds : [...this.active.keys()];
  }

  /** Runs whose points cannot be stored right now, with why (what the Runs view marks). */
  get faults(): Map<number, RunFault> {
    if (this.remote) return new Map(this.remote.faults);
    const out = new Map<number, RunFault>();
    for (const [id, a] of this.active) if (a.fault?.reported) out.set(id, a.fault);
    return out;
  }

  /** Follows a run; `rules`: its run-health rules (default: the `rules` option's). */
  track(run: Run, rules?: HealthRules): void {
    if (this.remote) {
      if (!this.remote.has(run.id)) this.remote.track(run, rules ?? this.options.rules?.(run));
      if (this.stopRequests.has(run.id)) this.remote.markStopping(run.id);
      return;
    }
    if (this.active.has(run.id)) return;
    const a = { run, info: readProcess(this.storeDir, run.uid), stopRequested: this.stopRequests.has(run.id), owned: false, beat: 0, nextTry: 0,
      fault: undefined, failures: 0, rules: rules ?? this.options.rules?.(run), seen: -1 } as Partial<Active> as Active;
    this.readers(a);
    this.active.set(run.id, a);
  }

  /** Fresh readers for a run: their state comes from the store (what a failed or foreign write leaves true). */
  private readers(a: Active): void {
    const run = a.run;
    const f = runFolder(this.storeDir, run.uid);
    const keys = new JsonlKeys(this.store, run.id);
    const guard = () => {
      if (this.options.stopped?.()) throw new LeaseLost(run.id);
      this.store.leases.renew(run.id, this.owner);
      a.beat = this.now();
    };
    a.health = a.rules && new HealthMonitor(this.store, run, a.rules, this.now);
    const evaluate = (batch: [string, Columns][]) => this.evaluate(a, batch);
    a.metrics = new JsonlIngestor(filtered(this.store, (b) => keys.record(b), evaluate), run.id, f.metrics, { guard });
    a.output = new StdoutIngestor(a.health ? filtered(this.store, (b) => b, evaluate) : this.store, run.id, f.log, this.options.parse, { guard });
    a.capture = run.cwd
      ? new FileCapture(filtered(this.store, (b) => keys.skip(b), evaluate), run.id, [run.cwd, ...this.capturePaths(run)], { guard })
      : undefined;
  }

  /**
   * The run-health rules on points just appended, in the same transaction (a savepoint: a bug in a rule
   * undoes only its own writes, is logged, and stops the rules for that run; the points are stored).
   */
  private evaluate(a: Active, batch: [string, Columns][]): void {
    const health = a.health;
    if (!health || !batch.length) return;
    try {
      this.store.transaction(() => health.ingest(batch)); // the window tells about the alerts (store.alerts.since)
    } catch (err) {
      if (faultKind(err)) throw err;
      a.health = undefined;
      this.options.log?.(`run ${a.run.name}: the run-health rules stopped: ${err instanceof Error ? err.stack ?? err.message : String(err)}`);
    }
  }

  /**
   * The stall rule for every run followed, called every few seconds on the window's thread: alive but
   * silent for too long. `paused`: whether a debugger holds the run at a breakpoint (it is not stalled).
   * One small transaction per watched run; returns the alerts raised. A store fault skips the run this time.
   */
  checkStalls(paused: (run: Run, pid: number | undefined) => boolean): StoredAlert[] {
    const runs = this.remote ? this.remote.followed : [...this.active.values()];
    const raised: StoredAlert[] = [];
    for (const { run, rules } of runs) {
      if (!rules?.stall.enabled) continue;
      try {
        const info = readProcess(this.storeDir, run.uid);
        const alive = info !== undefined && isAlive(info) && !readExit(this.storeDir, run.uid);
        const signals = { alive, paused: alive && paused(run, info.pid), since: run.startedAt ?? undefined };
        raised.push(...this.store.withBusyTimeout(this.options.busyWaitMs ?? 100, () => new HealthMonitor(this.store, run, rules, this.now).check(signals)));
      } catch (err) {
        if (!faultKind(err)) this.options.log?.(`run ${run.name}: checking for a stall: ${String(err)}`);
      }
    }
    return raised;
  }

  /**
   * After a window (re)loads: follow runs still alive, finish the ones that ended meanwhile.
   * Imported runs (with an origin) were not launched here: their status is the source's.
   */
  recover(): { reattached: number; ended: number } {
    let reattached = 0, ended = 0;
    for (const run of this.store.runs.list({ status: ['running'], limit: 10_000 })) {
      if (run.origin || this.active.has(run.id)) continue;
      if (this.remote) {
        if (this.remote.has(run.id)) continue;
        this.remote.track(run, this.options.rules?.(run)); // the worker finishes the ones that ended
        if (this.stopRequests.has(run.id)) this.remote.markStopping(run.id);
        if (processEnded(this.storeDir, run)) ended++;
        else reattached++;
        continue;
      }
      this.track(run);
      this.tickOne(this.active.get(run.id)!);
      if (this.active.has(run.id)) reattached++;
      else ended++;
    }
    return { reattached, ended };
  }

  /** Paths runlens.yaml's `capture` named for the run (kept in its `runlens.capture` tag), relative to its folder. */
  private capturePaths(run: Run): string[] {
    try {
      const paths = JSON.parse(this.store.runs.tags(run.id)['runlens.capture'] ?? '[]') as unknown;
      return Array.isArray(paths) ? paths.filter((p): p is string => typeof p === 'string').map((p) => resolve(run.cwd!, p)) : [];
    } catch {
      return [];
    }
  }

  markStopping(runId: number): void {
    this.stopRequests.add(runId); // also for a run not followed yet (a trial stopped as it starts)
    this.remote?.markStopping(runId);
    const a = this.active.get(runId);
    if (a) a.stopRequested = true;
  }

  /** Ingests what is new; returns the ids of runs that got points or ended. Never throws for a store fault. */
  tick(): number[] {
    this.othersCommitted = false;
    if (this.remote) {
      const { changed, others } = this.remote.take();
      this.othersCommitted = others;
      return changed;
    }
    const changed: number[] = [];
    for (const a of [...this.active.values()]) if (this.tickOne(a)) changed.push(a.run.id);
    return changed;
  }

  /** Lets go of every lease this monitor holds (a closing window), so another takes over at once. */
  dispose(): void {
    this.remote?.dispose();
    this.remote = undefined;
    try {
      if (this.store.isOpen) this.store.leases.releaseAll(this.owner);
    } catch (err) {
      this.options.log?.(`could not release run leases: ${String(err)}`);
    }
    this.active.clear();
  }

  private startWorker(worker: WorkerOptions): void {
    const o = this.options;
    try {
      this.remote = new WorkerIngest(worker, {
        storeDir: this.storeDir, owner: this.owner, budget: o.budget, leaseMs: o.leaseMs, busyWaitMs: o.busyWaitMs, busyReportMs: o.busyReportMs,
      }, {
        log: (m) => o.log?.(m),
        fault: (run, fault) => o.onFault?.(run, fault),
        notice: () => worker.onNotice?.(),
        failed: (why, runs) => this.fallBack(why, runs),
      });
    } catch (err) {
      o.log?.(`ingesting runs on this thread: the ingest worker did not start: ${String(err)}`);
    }
  }

  /** The worker could not start or stopped: this thread follows its runs from what the store holds. */
  private fallBack(why: string, runs: Followed[]): void {
    this.remote = undefined;
    this.options.log?.(`ingesting runs on this thread: ${why}`);
    for (const f of runs) {
      this.track(f.run, f.rules);
      if (f.stopping) this.markStopping(f.run.id);
    }
    this.options.worker?.onNotice?.();
  }

  private tickOne(a: Active): boolean {
    const now = this.now();
    if (now < a.nextTry || this.options.stopped?.()) return false;
    try {
      const changed = this.store.withBusyTimeout(this.options.busyWaitMs ?? 100, () => this.step(a));
      this.recovered(a);
      return changed;
    } catch (err) {
      if (this.options.stopped?.()) return false; // let go: the slice rolled back
      const kind = faultKind(err);
      if (!kind) {
        this.options.log?.(`run ${a.run.name}: ${err instanceof Error ? err.stack ?? err.message : String(err)}`);
        a.nextTry = now + MAX_BACKOFF_MS;
        return false;
      }
      this.failed(a, kind, err);
      return false;
    }
  }

  /** One run's turn: hold its lease, read what is new, and finish it when its process ended. */
  private step(a: Active): boolean {
    if (!this.hold(a)) {
      // Another window ingests it; it is done here once that one recorded the end.
      const status = this.store.runs.get(a.run.id)?.status;
      if (status === 'running') return false;
      this.active.delete(a.run.id);
      return true;
    }
    const added = this.ingest(a);
    return this.finishIfEnded(a) || added > 0;
  }

  /** Whether this monitor holds the run's lease; takes it when it is free, renews it when due. */
  private hold(a: Active): boolean {
    const now = this.now();
    if (a.owned && now - a.beat < this.leaseMs / 3) return true;
    if (!a.owned && !this.store.leases.isFree(a.run.id, this.owner, this.leaseMs)) {
      a.nextTry = now + 1000; // another owner is alive: look again in a second, without taking the write lock
      return false;
    }
    const got = this.store.leases.acquire(a.run.id, this.owner, this.leaseMs);
    if (got && !a.owned) this.readers(a); // taken over: continue from what the store holds
    a.owned = got;
    if (got) a.beat = now;
    else a.nextTry = now + 1000;
    return got;
  }

  private failed(a: Active, kind: FaultKind, err: unknown): void {
    const now = this.now();
    this.readers(a); // roll back what the readers hold in memory: they continue from the store
    if (kind === 'conflict') {
      a.owned = false;
      this.options.log?.(`run ${a.run.name}: ${describeFault(kind, this.store.file)}`);
      return;
    }
    a.failures++;
    a.nextTry = now + Math.min(MAX_BACKOFF_MS, 250 * 2 ** (a.failures - 1));
    const detail = err instanceof Error ? err.message : String(err);
    if (!a.fault || a.fault.kind !== kind) a.fault = { kind, message: `${describeFault(kind, this.store.file)} (${detail})`, since: now, reported: false };
    const due = kind !== 'busy' || now - a.fault.since >= (this.options.busyReportMs ?? 10_000);
    if (due && !a.fault.reported) {
      a.fault.reported = true;
      this.options.log?.(`run ${a.run.name}: points are not being stored: ${a.fault.message}`);
      this.options.onFault?.(a.run, a.fault);
    }
  }

  private recovered(a: Active): void {
    a.failures = 0;
    if (!a.fault) return;
    const fault = a.fault;
    a.fault = undefined;
    if (!fault.reported) return;
    this.options.log?.(`run ${a.run.name}: storing points again after ${Math.round((this.now() - fault.since) / 1000)} s; nothing was lost`);
    this.options.onFault?.(a.run, undefined);
  }

  /** `ending`: the run ended; read everything left. */
  private ingest(a: Active, ending = false): number {
    const budget = ending ? Infinity : this.options.budget ?? 8 << 20;
    let added = a.metrics.poll(budget);
    // A script that writes the metrics file is instrumented: its printed numbers are not metrics too.
    const f = runFolder(this.storeDir, a.run.uid);
    const metricsBytes = fileSize(f.metrics);
    a.output.enabled = metricsBytes === 0;
    const seen = metricsBytes + fileSize(f.log);
    if (seen !== a.seen && a.seen >= 0) a.health?.activity(this.now()); // output (or a record) is a sign of life too
    a.seen = seen;
    try {
      added += a.output.poll(Date.now(), budget);
    } catch (err) {
      if (faultKind(err)) throw err;
      this.options.log?.(`run ${a.run.name}: ${String(err)}`);
    }
    if (a.capture) {
      try {
        added += ending ? a.capture.finish() : a.capture.poll(budget);
      } catch (err) {
        if (faultKind(err)) throw err;
        this.options.log?.(`run ${a.run.name}: reading other tools' log files: ${String(err)}`);
      }
      for (const p of a.capture.stats.problems.splice(0)) this.options.log?.(`run ${a.run.name}: ${p}`);
    }
    for (const p of a.metrics.stats.problems.splice(0)) this.options.log?.(`run ${a.run.name}: ${p}`);
    return added;
  }

  private finishIfEnded(a: Active): boolean {
    const exit = readExit(this.storeDir, a.run.uid);
    const alive = a.info !== undefined && isAlive(a.info);
    if (!exit && alive) return false;
    const again = exit ?? readExit(this.storeDir, a.run.uid); // it may have written exit.json just now
    this.ingest(a, true); // the last lines and records, all of them
    let status: RunStatus;
    const asked = a.stopRequested || existsSync(runFolder(this.storeDir, a.run.uid).stopAsked); // asked here, or by another thread or window
    if (again) status = again.signalled || asked ? 'stopped' : again.code === 0 ? 'finished' : 'failed';
    else status = asked ? 'stopped' : 'crashed';
    this.store.transaction(() => {
      this.store.leases.renew(a.run.id, this.owner);
      this.store.runs.update(a.run.id, { status, exitCode: again?.code ?? null, endedAt: again?.endedAt ?? Date.now() });
      this.store.leases.release(a.run.id, this.owner);
      try {
        recordPackages(this.store, this.storeDir, a.run); // what the helper listed in packages.json
      } catch (err) {
        if (faultKind(err)) throw err;
        this.options.log?.(`run ${a.run.name}: its installed packages are not recorded: ${String(err)}`);
      }
    });
    if (!again) this.options.log?.(`run ${a.run.name}: its process ended without an exit record; marked ${status}`);
    this.active.delete(a.run.id);
    return true;
  }
}

function fileSize(file: string): number {
  return statSync(file, { throwIfNoEntry: false })?.size ?? 0;
}

/** Whether a run's process is over (what recover() counts as ended while no window watched). */
function processEnded(storeDir: string, run: Run): boolean {
  const info = readProcess(storeDir, run.uid);
  return readExit(storeDir, run.uid) !== undefined || info === undefined || !isAlive(info);
}

/** Marks a key the run's metrics file wrote: a row in ingest_offsets, committed with its points. */
const JSONL_KEY = 'jsonl-key:';

/** Which metric keys a run's metrics file has, remembered in the store. */
class JsonlKeys {
  private readonly store: Store;
  private readonly runId: number;
  private readonly known = new Map<string, boolean>();

  constructor(store: Store, runId: number) {
    this.store = store;
    this.runId = runId;
  }

  /** Called inside the metrics file's transaction: remembers its keys. */
  record(batch: [string, Columns][]): [string, Columns][] {
    for (const [key] of batch) {
      if (this.has(key)) continue;
      this.store.setOffset(this.runId, JSONL_KEY + key, 1);
      this.known.set(key, true);
    }
    return batch;
  }

  /** A captured batch without the keys the metrics file has. */
  skip(batch: [string, Columns][]): [string, Columns][] {
    return batch.filter(([key]) => !this.has(key));
  }

  private has(key: string): boolean {
    let v = this.known.get(key);
    if (v === undefined) this.known.set(key, (v = this.store.offset(this.runId, JSONL_KEY + key) > 0));
    return v;
  }
}

/**
 * The store as one ingestor sees it: each metric batch passes through `filter` before it is appended,
 * and `appended` sees what was appended, in the same transaction.
 */
function filtered(store: Store, filter: (batch: [string, Columns][]) => [string, Columns][], appended?: (batch: [string, Columns][]) => void): Store {
  const bound = (t: object, p: string | symbol) => {
    const v = Reflect.get(t, p, t);
    return typeof v === 'function' ? v.bind(t) : v;
  };
  const metrics = new Proxy(store.metrics, {
    get: (t, p) => (p === 'appendMany'
      ? (runId: number, series: Iterable<[string, Columns]>) => {
        const kept = filter([...series]);
        t.appendMany(runId, kept);
        appended?.(kept);
      }
      : bound(t, p)),
  });
  return new Proxy(store, { get: (t, p) => (p === 'metrics' ? metrics : bound(t, p)) });
}
