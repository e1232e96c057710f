import * as vscode from 'vscode';
import { delimiter, join } from 'node:path';
import type { WorkspaceStore } from '../workspaceStore.ts';
import type { Run } from '../core/types.ts';
import { type RunFault, RunMonitor } from '../core/runs/runMonitor.ts';
import { type LaunchRequest, launch, runEnvironment } from '../core/runs/launch.ts';
import { markStopAsked, readProcess, runFolder, stopProcess, stopRefusal } from '../core/runs/runProcess.ts';
import { type AdoptResult, adoptInbox } from '../core/runs/inbox.ts';
import { existsSync, readdirSync, watch, type FSWatcher } from 'node:fs';
import { StdoutParser } from '../core/ingest/stdoutParser.ts';
import { captureProvenance } from '../core/runs/captureProvenance.ts';
import { hashDatasets } from './hashDatasets.ts';
import { taskScript } from '../core/tasks/taskClient.ts';
import { ArtifactCollector } from '../core/artifacts/collector.ts';
import { redactEnv } from '../core/provenance/environment.ts';
import type { Store } from '../core/store/store.ts';
import { ALL_KINDS } from '../core/store/storeWrites.ts';
import type { StoredAlert } from '../core/store/alertRepository.ts';
import type { HealthRules } from '../core/health/rules.ts';
import { rulesForRun } from '../core/ingest/healthRules.ts';
import { primaryMetric } from '../core/compare/compareData.ts';
import { SOURCE_TAG } from '../core/runs/inboxFormat.ts';
import { readProjectConfig } from './startRun.ts';
import { DebugPauses } from './debugPauses.ts';
import { type SlurmRequest, SlurmRuns } from '../core/slurm/slurmRuns.ts';
import type { ExecutorConfig, SlurmExecutor } from '../core/slurm/executorConfig.ts';

const TICK_MS = 250;
/** How often the stall rule looks at the runs going. */
const STALL_CHECK_MS = 5000;

/** What Start Run asks for: a launch request, with the executor of its run configuration (absent: local). */
export type StartRequest = Omit<LaunchRequest, 'spec' | 'datasets'> & {
  spec: Omit<LaunchRequest['spec'], 'env'> & { env?: { [k: string]: string } };
  datasets?: string[];
  executor?: ExecutorConfig;
};

/**
 * Starts, follows and stops runs for this window. Following is a single-flight timer that runs only
 * while runs are going; a reloaded window picks up runs that are still alive.
 */
export class RunController implements vscode.Disposable {
  private readonly store: WorkspaceStore;
  private readonly extensionPath: string;
  private readonly log: vscode.LogOutputChannel;
  private monitor: RunMonitor | undefined;
  /** Runs asked to stop, kept across monitor rebuilds (a config change while a trial stops). */
  private readonly stopRequests = new Set<number>();
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
  /** Runs as Slurm jobs: submitted, polled (one squeue per interval), handed to the monitor once they start. */
  readonly slurm: SlurmRuns;

  constructor(store: WorkspaceStore, extensionPath: string, log: vscode.LogOutputChannel, experiment: () => string | undefined = () => undefined) {
    this.store = store;
    this.extensionPath = extensionPath;
    this.log = log;
    this.experiment = experiment;
    store.watched = () => (this.monitored?.isOpen ?? false) && (this.monitor?.watching ?? false);
    this.alertWatch = store.onChange(['runs', 'metrics'], () => this.tellAlerts());
    const seconds = vscode.workspace.getConfiguration('runlens', store.folder.uri).get<number>('slurm.pollInterval', 10);
    this.slurm = new SlurmRuns({
      store, follow: (run) => this.follow(run), changed: (ids) => this.changed.fire(ids), log: (m) => this.log.info(m),
      poll: { intervalMs: Math.max(10, Number(seconds) || 10) * 1000 }, // a shared cluster's etiquette: not more often
    });
    this.changed.event((ids) => {
      try {
        this.slurm.runsChanged(ids);
      } catch (err) {
        this.log.error(`Following Slurm runs failed: ${String(err)}`);
      }
    });
  }

  /** Reattaches to runs left running by a previous window, if there is a store. */
  recover(): void {
    this.watchInbox();
    if (!this.store.get()) return;
    const { reattached, ended } = this.store.writeSteps((r) => (r.ended ? ['runs', 'metrics'] : r.reattached ? ['metrics'] : []),
      () => this.ensureMonitor(false)?.recover() ?? { reattached: 0, ended: 0 });
    if (reattached || ended) this.log.info(`Reattached to ${reattached} running run(s); ${ended} ended while no window was watching`);
    const jobs = this.slurm.recover();
    if (jobs) this.log.info(`Following ${jobs} Slurm job(s) again`);
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
    if (!inboxPending(join(this.store.dir, 'inbox'))) return Promise.resolve();
    // a run the helper recorded makes the store, as a launched run does
    const store = this.store.get({ create: true });
    if (!store) return Promise.resolve();
    this.adopting = (async () => {
      try {
        const monitor = this.ensureMonitor(false);
        const result: AdoptResult = await this.store.writeSteps((r: AdoptResult) => (r.adopted.length ? ['runs'] : []),
          (s) => {
            const project = readProjectConfig(this.store.folder); // gates and primary metric: evaluations' degradation
            return adoptInbox(s, s.dir, { experiment: this.experiment(), degradation: { gates: project?.gates ?? [], primaryMetric: project?.primaryMetric } });
          });
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

  /** Looks at the inbox every second (it may not exist yet: the helper makes it), and at once on a change. */
  private watchInbox(): void {
    const dir = join(this.store.dir, 'inbox');
    if (this.inbox?.dir === dir) return;
    this.unwatchInbox();
    const inbox: { timer: NodeJS.Timeout; watcher: FSWatcher | undefined; dir: string } = {
      dir, watcher: undefined, timer: setInterval(() => {
        if (!inbox.watcher && existsSync(dir)) inbox.watcher = watchFolder(dir, () => void this.adopt());
        if (inboxPending(dir)) void this.adopt();
      }, 1000),
    };
    inbox.timer.unref?.();
    if (existsSync(dir)) inbox.watcher = watchFolder(dir, () => void this.adopt());
    this.inbox = inbox;
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

  /** Captures provenance, records the run, and starts its process, or submits it as a Slurm job when its executor says so. */
  async start(req: StartRequest): Promise<Run> {
    if (req.executor?.type === 'slurm') {
      const run = await this.slurm.submit(await this.slurmRequest({ ...req, executor: req.executor }));
      this.log.info(`Submitted run ${run.name} (${run.uid}) as Slurm job ${this.slurm.jobOf(run)}`);
      return run;
    }
    this.launchable();
    const monitor = this.ensureMonitor(true)!;
    const run = await this.store.writeSteps(['runs'], async (store) => {
      const started = launch(store, store.dir, join(this.extensionPath, 'media', 'run-wrapper.cjs'), await this.captured(store, req));
      monitor.track(started);
      return started;
    });
    this.log.info(`Started run ${run.name} (${run.uid}): ${Array.isArray(run.command) ? run.command.join(' ') : run.command}`);
    this.schedule();
    return run;
  }

  /** What a Slurm job is submitted with: what a local launch gets, captured here (the login node) at submit time. Sweep trials use it too. */
  slurmRequest(req: StartRequest & { executor: SlurmExecutor }): Promise<SlurmRequest> {
    this.launchable();
    return this.store.writeSteps(['runs'], async (store) => ({ ...(await this.captured(store, req)), executor: req.executor }));
  }

  /** Throws a readable error when runs cannot be started here (an untrusted workspace, no store). */
  private launchable(): void {
    if (!vscode.workspace.isTrusted) throw new Error('RunLens does not start runs in an untrusted workspace. Trust the workspace to launch runs; stored runs can still be browsed.');
    this.store.require(); // a readable error when there can be no store
  }

  /** The request with the run's environment (the helper on PYTHONPATH) and its provenance: commit, patch, datasets, redacted env. */
  private async captured(store: Store, req: StartRequest): Promise<LaunchRequest> {
    const env = runEnvironment({ ...process.env, ...req.spec.env }, join(this.extensionPath, 'media', 'python'), delimiter);
    const spec = { ...req.spec, env };
    const [captured, datasets] = await Promise.all([captureProvenance(store, spec), hashDatasets(store, req.datasets ?? [], spec.cwd, { script: taskScript(this.extensionPath), warn: (m) => this.log.warn(m) })]);
    const tags = captured.noGit ? { ...req.tags, 'runlens.git': `no git: ${captured.noGit}` } : req.tags;
    captured.provenance.launchEnv = redactEnv(req.spec.env ?? {});
    return { ...req, tags, spec, git: captured.git, provenance: captured.provenance, datasets };
  }

  /** A run another executor started (a Slurm job whose script began): followed from here on like a launched one. */
  follow(run: Run): void {
    this.ensureMonitor(true)?.track(run);
    this.schedule();
  }

  async stop(run: Run): Promise<void> {
    const store = this.store.require();
    if (this.slurm.jobOf(run)) { // scancel: SIGINT, then the default signal after a grace period
      this.stopRequests.add(run.id);
      this.monitor?.markStopping(run.id);
      await this.slurm.cancel(run);
      this.tick();
      return;
    }
    const info = readProcess(store.dir, run.uid);
    this.stopRequests.add(run.id);
    this.monitor?.markStopping(run.id);
    if (!info) throw new Error(`Run ${run.name} has no process to stop.`);
    const refused = stopRefusal(info); // a run on another machine (a cluster node, another workstation)
    if (refused) throw new Error(`Run ${run.name}: ${refused.message}`);
    markStopAsked(store.dir, run.uid); // before the signal: the worker may find the process gone before it hears of the stop
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
    const worker = process.env.RUNLENS_INGEST_INLINE === '1' ? undefined : { script: join(this.extensionPath, 'dist', 'ingestWorker.js'), patterns: this.metricPatterns, onNotice: () => this.tick() };
    this.monitor = new RunMonitor(store, store.dir, {
      parse: (l) => parser.parse(l), stopRequests: this.stopRequests, log: (m) => this.log.warn(m), onFault: (run, fault) => this.faultChanged(run, fault), worker,
      rules: (run) => this.rulesFor(run),
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
      this.checkStalls();
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

  /** Alerts the window has looked at (ids up to lastId), and the run, rule and key pairs it notified about. */
  private alertsSeen: { store: Store; lastId: number } | undefined;
  private readonly alertWatch: vscode.Disposable;
  private readonly pauses = new DebugPauses();
  private stallsCheckedAt = 0;

  /** A run's health rules: runlens.yaml's `alerts:` (the project's, then its run configuration's), over the defaults. */
  private rulesFor(run: Run): HealthRules | undefined {
    try {
      const store = this.store.get();
      const project = readProjectConfig(this.store.folder);
      const guess = project?.primaryMetric || !store ? null : primaryMetric(store.runs.metricKeys());
      return rulesForRun(project, store?.runs.tags(run.id) ?? {}, guess ? { name: guess.key, goal: guess.goal } : undefined);
    } catch (err) {
      this.log.warn(`Run ${run.name} is not watched for NaN, divergence or stalls: ${String(err)}`);
      return undefined;
    }
  }

  /** The stall rule, every few seconds while runs go: a run held at a breakpoint by a Python debug session is not stalled. */
  private checkStalls(): void {
    const monitor = this.monitor;
    const now = Date.now();
    if (!monitor || !this.monitored?.isOpen || !this.running.length || now - this.stallsCheckedAt < STALL_CHECK_MS) return;
    this.stallsCheckedAt = now;
    const store = this.monitored;
    this.store.writeSteps((raised: StoredAlert[]) => (raised.length ? ['runs'] : []), () => monitor.checkStalls(
      (run, pid) => this.pauses.paused(pid, () => store.runs.tags(run.id)[SOURCE_TAG] === 'debug')));
  }

  /**
   * New alerts in the store, raised by this window, another one or any process: a line in the log each,
   * and a notification once per run, rule and key, with Stop Run (while it goes) and Open Run.
   */
  private tellAlerts(): void {
    const store = this.store.get();
    if (!store) return;
    try {
      if (this.alertsSeen?.store !== store) {
        this.alertsSeen = { store, lastId: store.alerts.lastId() }; // what was raised before this window looked is not news
        return;
      }
      for (let alerts = store.alerts.since(this.alertsSeen.lastId); alerts.length; alerts = store.alerts.since(this.alertsSeen.lastId)) {
        this.alertsSeen.lastId = alerts.at(-1)!.id;
        for (const a of alerts) this.tellAlert(store, a);
      }
    } catch (err) {
      this.log.warn(`Could not read run-health alerts: ${String(err)}`);
    }
  }

  private tellAlert(store: Store, a: StoredAlert): void {
    const run = store.runs.get(a.runId);
    if (!run) return;
    this.log.warn(`Run ${run.name}: ${a.rule} alert${a.key === null ? '' : ` on ${a.key}`}${a.step === null ? '' : ` at step ${a.step}`}: ${a.message}`);
    if (!this.store.write([], (s) => s.alerts.claimNotice(a))) return; // told already, by this window or another
    const actions = run.status === 'running' ? ['Stop Run', 'Open Run'] : ['Open Run'];
    const text = `RunLens: run ${run.name}: ${a.message}`;
    const shown = a.severity === 'info' ? vscode.window.showInformationMessage(text, ...actions) : vscode.window.showWarningMessage(text, ...actions);
    void Promise.resolve(shown).then((pick) => {
      if (pick === 'Stop Run') return vscode.commands.executeCommand('runlens.stopRun', run.uid);
      if (pick === 'Open Run') return vscode.commands.executeCommand('runlens.openRun', run.uid);
      return undefined;
    }).then(undefined, (err: unknown) => this.log.error(`${String(err)}`));
  }

  dispose(): void {
    this.alertWatch.dispose();
    this.pauses.dispose();
    this.slurm.dispose();
    this.unwatchInbox();
    clearInterval(this.timer);
    this.release(); // another window takes over this window's runs at once
    this.changed.dispose();
    this.faultsChanged.dispose();
  }
}

/** Whether runs wait in the store's inbox (their files end in .json; .json.tmp ones are still being written). */
function inboxPending(dir: string): boolean {
  try {
    return readdirSync(dir).some((n) => n.endsWith('.json'));
  } catch {
    return false;
  }
}

/** fs.watch on a folder, or undefined where it cannot (the 1 s poll still finds changes). */
function watchFolder(dir: string, changed: () => void): FSWatcher | undefined {
  try {
    const watcher = watch(dir, changed);
    watcher.on('error', () => watcher.close());
    return watcher;
  } catch {
    return undefined;
  }
}
