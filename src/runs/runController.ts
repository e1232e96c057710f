import * as vscode from 'vscode';
import { delimiter, join } from 'node:path';
import type { WorkspaceStore } from '../workspaceStore.ts';
import type { Run } from '../core/types.ts';
import { type RunFault, RunMonitor } from '../core/runs/runMonitor.ts';
import { type LaunchRequest, launch, runEnvironment } from '../core/runs/launch.ts';
import { readProcess, runFolder, stopProcess, stopRefusal } from '../core/runs/runProcess.ts';
import { type AdoptResult, adoptInbox, recordPackages } from '../core/runs/inbox.ts';
import { existsSync, readdirSync, watch, type FSWatcher } from 'node:fs';
import { StdoutParser } from '../core/ingest/stdoutParser.ts';
import { captureProvenance } from '../core/runs/captureProvenance.ts';
import { hashDatasets } from './hashDatasets.ts';
import { ArtifactCollector } from '../core/artifacts/collector.ts';
import { redactEnv } from '../core/provenance/environment.ts';
import type { Store } from '../core/store/store.ts';
import { ALL_KINDS } from '../core/store/storeWrites.ts';

const TICK_MS = 250;

/**
 * Starts, follows and stops runs for this window. Following is a single-flight timer that runs only
 * while runs are going; a reloaded window picks up runs that are still alive.
 */
export class RunController implements vscode.Disposable {
  private readonly store: WorkspaceStore;
  private readonly extensionPath: string;
  private readonly log: vscode.LogOutputChannel;
  private monitor: RunMonitor | undefined;
  /** The store the monitor follows: a reopened store (another storeDir) gets a new monitor. */
  private monitored: Store | undefined;
  private timer: NodeJS.Timeout | undefined;
  private metricPatterns: string[] = [];
  private readonly changed = new vscode.EventEmitter<number[]>();
  /** Fires with the ids of runs that got new points or ended. */
  readonly onDidChangeRuns = this.changed.event;
  private collector: ArtifactCollector | undefined;
  private readonly faultsChanged = new vscode.EventEmitter<void>();
  /** Fires when a run starts or stops failing to store its points (a busy, full or read-only store). */
  readonly onDidChangeFaults = this.faultsChanged.event;

  /** Runs the helper started by itself wait in the store's inbox: looked at every second, and at once on a change. */
  private inbox: { timer: NodeJS.Timeout; watcher: FSWatcher | undefined; dir: string } | undefined;
  private adopting: Promise<void> | undefined;
  private lastAdoptError: string | undefined;
  private readonly experiment: () => string | undefined;

  constructor(store: WorkspaceStore, extensionPath: string, log: vscode.LogOutputChannel, experiment: () => string | undefined = () => undefined) {
    this.store = store;
    this.extensionPath = extensionPath;
    this.log = log;
    this.experiment = experiment;
    store.watched = () => (this.monitored?.isOpen ?? false) && (this.monitor?.watching ?? false);
  }

  /** Reattaches to runs left running by a previous window, if there is a store. */
  recover(): void {
    if (!this.store.get()) return;
    const { reattached, ended } = this.store.writeSteps((r) => (r.ended ? ['runs', 'metrics'] : r.reattached ? ['metrics'] : []),
      () => this.ensureMonitor(false)?.recover() ?? { reattached: 0, ended: 0 });
    if (reattached || ended) this.log.info(`Reattached to ${reattached} running run(s); ${ended} ended while no window was watching`);
    this.schedule();
    void this.collect();
    void this.adopt();
  }

  /**
   * Adopts the runs the Python helper started by itself (a terminal, a debugger, a notebook, CI) and
   * follows them like launched ones. One pass at a time; each inbox file becomes one run, whichever
   * window or process gets to it first.
   */
  adopt(): Promise<void> {
    this.watchInbox();
    if (this.adopting) return this.adopting;
    const store = this.store.get();
    if (!store || !existsSync(join(store.dir, 'inbox'))) return Promise.resolve();
    this.adopting = (async () => {
      try {
        const monitor = this.ensureMonitor(false);
        const result: AdoptResult = await this.store.writeSteps((r: AdoptResult) => (r.adopted.length ? ['runs'] : []),
          (s) => adoptInbox(s, s.dir, { experiment: this.experiment() }));
        for (const run of result.adopted) {
          monitor?.track(run);
          this.log.info(`Recorded run ${run.name} (${run.uid}), started ${store.runs.tags(run.id)['runlens.source'] ?? 'outside RunLens'}`);
        }
        for (const r of result.rejected) this.log.warn(`Inbox file ${r.file} set aside in inbox/rejected: ${r.reason}`);
        for (const w of result.warnings) this.log.warn(w);
        if (result.error !== this.lastAdoptError && result.error) this.log.warn(`Runs started outside RunLens wait in the inbox: ${result.error}`);
        this.lastAdoptError = result.error;
        if (result.adopted.length) {
          this.schedule();
          this.changed.fire(result.adopted.map((r) => r.id));
        }
      } catch (err) {
        this.log.error(`Adopting runs from the inbox failed: ${String(err)}`);
      } finally {
        this.adopting = undefined;
      }
    })();
    return this.adopting;
  }

  private watchInbox(): void {
    const dir = this.store.get() && join(this.store.dir, 'inbox');
    if (!dir || this.inbox?.dir === dir) return;
    this.unwatchInbox();
    const pending = () => existsSync(dir) && readdirSync(dir).some((n) => n.endsWith('.json'));
    const timer = setInterval(() => { if (pending()) void this.adopt(); }, 1000);
    timer.unref?.();
    let watcher: FSWatcher | undefined;
    try {
      if (existsSync(dir)) watcher = watch(dir, () => void this.adopt());
      watcher?.on('error', () => { watcher?.close(); });
    } catch {
      watcher = undefined; // the poll still finds them
    }
    this.inbox = { timer, watcher, dir };
  }

  private unwatchInbox(): void {
    clearInterval(this.inbox?.timer);
    this.inbox?.watcher?.close();
    this.inbox = undefined;
  }

  get running(): number[] {
    return this.monitor?.runningIds ?? [];
  }

  /** Runs whose points cannot be stored right now, with why. */
  get faults(): Map<number, RunFault> {
    return this.monitor?.faults ?? new Map();
  }

  /** A fault reaches the user: a notification while the run goes (the log line comes from the monitor). */
  private faultChanged(run: Run, fault: RunFault | undefined): void {
    this.faultsChanged.fire();
    if (!fault) {
      void vscode.window.showInformationMessage(`RunLens: run ${run.name} is stored again; nothing was lost.`);
      return;
    }
    void vscode.window.showWarningMessage(`RunLens: the points of run ${run.name} are not being stored: ${fault.message}.`, 'Show Log')
      .then((pick) => { if (pick) this.log.show(); });
  }

  setMetricPatterns(patterns: string[]): void {
    if (patterns.join('\n') === this.metricPatterns.join('\n')) return;
    this.metricPatterns = patterns;
    this.release();
    this.monitor = undefined; // rebuilt with the new parser on next use; runs are reattached
    this.recover();
  }

  /** Captures provenance, records the run, and starts its process. */
  async start(req: Omit<LaunchRequest, 'spec' | 'datasets'> & {
    spec: Omit<LaunchRequest['spec'], 'env'> & { env?: { [k: string]: string } };
    datasets?: string[];
  }): Promise<Run> {
    if (!vscode.workspace.isTrusted) throw new Error('RunLens does not start runs in an untrusted workspace. Trust the workspace to launch runs; stored runs can still be browsed.');
    this.store.require(); // a readable error when there can be no store
    const monitor = this.ensureMonitor(true)!;
    const env = runEnvironment({ ...process.env, ...req.spec.env }, join(this.extensionPath, 'media', 'python'), delimiter);
    const spec = { ...req.spec, env };
    const run = await this.store.writeSteps(['runs'], async (store) => {
      const [captured, datasets] = await Promise.all([captureProvenance(store, spec), hashDatasets(store, req.datasets ?? [], spec.cwd)]);
      const tags = captured.noGit ? { ...req.tags, 'runlens.git': `no git: ${captured.noGit}` } : req.tags;
      captured.provenance.launchEnv = redactEnv(req.spec.env ?? {});
      const started = launch(store, store.dir, join(this.extensionPath, 'media', 'run-wrapper.cjs'),
        { ...req, tags, spec, git: captured.git, provenance: captured.provenance, datasets });
      monitor.track(started);
      return started;
    });
    this.log.info(`Started run ${run.name} (${run.uid}): ${Array.isArray(run.command) ? run.command.join(' ') : run.command}`);
    this.schedule();
    return run;
  }

  async stop(run: Run): Promise<void> {
    const store = this.store.require();
    const info = readProcess(store.dir, run.uid);
    this.monitor?.markStopping(run.id);
    if (!info) throw new Error(`Run ${run.name} has no process to stop.`);
    const refused = stopRefusal(info); // a run on another machine (a cluster node, another workstation)
    if (refused) throw new Error(`Run ${run.name}: ${refused.message}`);
    const signal = await stopProcess(info);
    this.log.info(`Stopped run ${run.name} (${signal ?? 'it had already ended'})`);
    this.tick();
  }

  /** Keeps what runs asked for (log_artifact, log_model, declared outputs); one pass at a time. */
  collect(): Promise<void> {
    const store = this.store.get();
    if (!store) return Promise.resolve();
    if (this.collector?.store !== store) this.collector = new ArtifactCollector(store, store.objects, (m) => this.log.info(m));
    const collector = this.collector;
    return this.store.writeSteps((done) => (done.length ? ['runs', 'models'] : []), () => collector.drain()).then((done) => {
      if (done.length) this.changed.fire([...new Set(done.map((d) => d.runId))]);
    }, (err) => this.log.error(`Keeping artifacts failed: ${String(err)}`));
  }

  /** Resolves once a run has ended and everything it asked to keep is collected (or failed). */
  async settled(runId: number, signal?: AbortSignal): Promise<Run> {
    for (;;) {
      const store: Store = this.store.require();
      const run = store.runs.get(runId);
      if (!run) throw new Error(`Run ${runId} is no longer in the store.`);
      if (run.status !== 'running' && run.status !== 'queued') {
        await this.collect();
        if (!this.collector?.waiting(runId)) return run;
      }
      if (signal?.aborted) throw new Error('Cancelled.');
      await new Promise<void>((resolve) => {
        const done = () => { clearTimeout(t); sub.dispose(); resolve(); };
        const t = setTimeout(done, 500);
        const sub = this.onDidChangeRuns((ids) => { if (ids.includes(runId)) done(); });
      });
    }
  }

  logFile(run: Run): string | undefined {
    const dir = this.store.dir;
    return dir ? runFolder(dir, run.uid).log : undefined;
  }

  private ensureMonitor(create: boolean): RunMonitor | undefined {
    const store = this.store.get({ create });
    if (this.monitor && this.monitored === store) return this.monitor;
    if (!store) return undefined;
    const reopened = this.monitor !== undefined;
    this.release();
    const parser = new StdoutParser({ patterns: this.metricPatterns });
    // Ingest runs in a worker thread; this thread only takes its notices (inline when it cannot start).
    const worker = { script: join(this.extensionPath, 'dist', 'ingestWorker.js'), patterns: this.metricPatterns, onNotice: () => this.tick() };
    this.monitor = new RunMonitor(store, store.dir, {
      parse: (l) => parser.parse(l), log: (m) => this.log.warn(m), onFault: (run, fault) => this.faultChanged(run, fault), worker,
    });
    this.monitored = store;
    const monitor = this.monitor;
    if (reopened) this.store.writeSteps(['runs', 'metrics'], () => monitor.recover()); // the runs still going in this store
    return monitor;
  }

  /** Lets go of the monitor's runs (a write, when its store is still the open one). */
  private release(): void {
    const monitor = this.monitor;
    if (!monitor) return;
    if (this.monitored?.isOpen) this.store.writeSteps([], () => monitor.dispose());
    else monitor.dispose();
  }

  private schedule(): void {
    if (this.timer || !this.running.length) return;
    this.timer = setInterval(() => this.tick(), TICK_MS);
  }

  /** Ingests what is new: one 'metrics' change (and 'runs' when a run ended) per tick that stored anything. */
  private tick(): void {
    try {
      const before = this.running;
      const changed = !this.store.get() ? [] : this.store.writeSteps(
        (ids) => (this.monitor?.othersCommitted ? ALL_KINDS // the worker saw other connections commit too
          : !ids.length ? [] : before.some((id) => !this.running.includes(id)) ? ['runs', 'metrics'] : ['metrics']),
        () => this.ensureMonitor(false)?.tick() ?? []);
      const ended = before.filter((id) => !this.running.includes(id));
      if (ended.length) this.recordPackages(ended);
      if (changed.length) {
        this.changed.fire(changed);
        void this.collect();
      }
    } catch (err) {
      this.log.error(`Following runs failed: ${String(err)}`);
    }
    if (!this.running.length && this.timer) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }

  /** The installed packages a launched run's helper listed (packages.json in its folder), once it ended. */
  private recordPackages(ids: number[]): void {
    try {
      this.store.write(['runs'], (s) => {
        for (const id of ids) {
          const run = s.runs.get(id);
          if (run) recordPackages(s, s.dir, run);
        }
      });
    } catch (err) {
      this.log.warn(`Could not record the installed packages of run(s) ${ids.join(', ')}: ${String(err)}`);
    }
  }

  dispose(): void {
    this.unwatchInbox();
    clearInterval(this.timer);
    this.release(); // another window takes over this window's runs at once
    this.changed.dispose();
    this.faultsChanged.dispose();
  }
}
