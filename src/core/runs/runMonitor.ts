import { resolve } from 'node:path';
import { existsSync, statSync } from 'node:fs';
import type { Store } from '../store/store.ts';
import type { Columns } from '../store/chunks.ts';
import type { Run, RunStatus } from '../types.ts';
import { JsonlIngestor } from '../ingest/jsonlIngestor.ts';
import { FileCapture } from '../capture/fileCapture.ts';
import { type LineParser, StdoutIngestor } from '../ingest/stdoutIngestor.ts';
import { type ProcessInfo, isAlive, readExit, readProcess, runFolder } from './runProcess.ts';

interface Active {
  run: Run;
  info: ProcessInfo | undefined;
  metrics: JsonlIngestor;
  output: StdoutIngestor;
  /** Other tools' log files under the run's folder (absent when it has none). */
  capture: FileCapture | undefined;
  stopRequested: boolean;
}

export interface MonitorOptions {
  parse: LineParser;
  log?: (message: string) => void;
  /** Bytes each file may contribute per tick while the run is going (default 8 MB). */
  budget?: number;
}

/**
 * Follows running runs: ingests their metrics file, output log and the log files other tools write
 * in their folder (TensorBoard, CSV loggers, DVCLive, trainer_state.json; see FileCapture), and
 * records how each one ended (finished, failed, stopped, or crashed when its process vanished
 * without an exit record).
 *
 * A key both the metrics file and a captured file log is kept from the metrics file: captured points
 * of a key the metrics file has for the run are skipped. The metrics file is read first on every
 * tick; which keys it wrote is stored with its points, so this holds after a reload too.
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
    const keys = new JsonlKeys(this.store, run.id);
    const metrics = new JsonlIngestor(filtered(this.store, (b) => keys.record(b)), run.id, f.metrics);
    const output = new StdoutIngestor(this.store, run.id, f.log, this.options.parse);
    const capture = run.cwd ? new FileCapture(filtered(this.store, (b) => keys.skip(b)), run.id, [run.cwd, ...this.capturePaths(run)]) : undefined;
    this.active.set(run.id, { run, info: readProcess(this.storeDir, run.uid), metrics, output, capture, stopRequested: false });
  }

  /**
   * After a window (re)loads: follow runs still alive, finish the ones that ended meanwhile.
   * Imported runs (with an origin) were not launched here: their status is the source's.
   */
  recover(): { reattached: number; ended: number } {
    let reattached = 0, ended = 0;
    for (const run of this.store.runs.list({ status: ['running'], limit: 10_000 })) {
      if (run.origin) continue;
      this.track(run);
      if (this.finishIfEnded(this.active.get(run.id)!)) ended++;
      else reattached++;
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

  /** `ending`: the run ended; read everything left. */
  private ingest(a: Active, ending = false): number {
    const budget = ending ? Infinity : this.options.budget ?? 8 << 20;
    let added = a.metrics.poll(budget);
    // A script that writes the metrics file is instrumented: its printed numbers are not metrics too.
    const f = runFolder(this.storeDir, a.run.uid);
    a.output.enabled = !(existsSync(f.metrics) && statSync(f.metrics).size > 0);
    try {
      added += a.output.poll(Date.now(), budget);
    } catch (err) {
      this.options.log?.(`run ${a.run.name}: ${String(err)}`);
    }
    if (a.capture) {
      try {
        added += ending ? a.capture.finish() : a.capture.poll(budget);
      } catch (err) {
        this.options.log?.(`run ${a.run.name}: reading other tools' log files: ${String(err)}`);
      }
      for (const p of a.capture.stats.problems.splice(0)) this.options.log?.(`run ${a.run.name}: ${p}`);
    }
    return added;
  }

  private finishIfEnded(a: Active): boolean {
    const exit = readExit(this.storeDir, a.run.uid);
    const alive = a.info !== undefined && isAlive(a.info);
    if (!exit && alive) return false;
    const again = exit ?? readExit(this.storeDir, a.run.uid); // it may have written exit.json just now
    this.ingest(a, true); // the last lines and records, all of them
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

/** The store as one ingestor sees it: each metric batch passes through `filter` before it is appended. */
function filtered(store: Store, filter: (batch: [string, Columns][]) => [string, Columns][]): Store {
  const bound = (t: object, p: string | symbol) => {
    const v = Reflect.get(t, p, t);
    return typeof v === 'function' ? v.bind(t) : v;
  };
  const metrics = new Proxy(store.metrics, {
    get: (t, p) => (p === 'appendMany'
      ? (runId: number, series: Iterable<[string, Columns]>) => t.appendMany(runId, filter([...series]))
      : bound(t, p)),
  });
  return new Proxy(store, { get: (t, p) => (p === 'metrics' ? metrics : bound(t, p)) });
}
