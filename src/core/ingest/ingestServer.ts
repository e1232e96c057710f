import type { MessagePort } from 'node:worker_threads';
import { Store } from '../store/store.ts';
import type { OpenOptions } from '../store/database.ts';
import { RunMonitor } from '../runs/runMonitor.ts';
import { StdoutParser } from './stdoutParser.ts';
import { yieldCpu } from '../tasks/yieldCpu.ts';
import type { FromWorker, ToWorker, WorkerSetup } from './ingestProtocol.ts';

/** Time between two ticks while a tick stores points (a burst is taken in slices, back to back). */
const BUSY_GAP_MS = 25;

/** Store.open hands its options to openDatabase: the window has the file open, so it is not read with plain file calls here. */
const SAME_PROCESS: OpenOptions = { alreadyOpen: true };

export interface ServeHooks {
  /** Called with the worker's store once it is open (the fault tests inject store faults here). */
  opened?: (store: Store) => void;
}

/** The worker's side: answers the messages of one window's WorkerIngest on `port` (see ingestProtocol.ts). */
export function serveIngest(port: MessagePort, hooks: ServeHooks = {}): void {
  yieldCpu();
  let follower: Follower | undefined;
  const post = (m: FromWorker) => port.postMessage(m);
  port.on('message', (m: ToWorker) => {
    if (m.type === 'start') {
      try {
        follower = new Follower(m.setup, post, hooks);
        post({ type: 'ready' });
      } catch (err) {
        post({ type: 'failed', message: `the ingest worker could not open the store: ${err instanceof Error ? err.message : String(err)}` });
        port.close();
      }
      return;
    }
    if (!follower) return;
    if (m.type === 'track') follower.track(m.run, m.rules);
    else if (m.type === 'stopping') follower.monitor.markStopping(m.runId);
    else if (m.type === 'dispose') {
      follower.dispose();
      port.close();
    }
  });
}

/**
 * Follows the window's runs with a RunMonitor on its own connection (the same leases, offsets and
 * fault handling as on the window's thread), and tells the window which runs changed: at once after
 * a quiet spell or when a run ended, else at most every noticeMs. While it follows runs it also looks
 * at data_version on every tick and tells when other connections committed, so the window need not
 * poll (its own data_version moves with every commit here).
 */
class Follower {
  readonly monitor: RunMonitor;
  private readonly store: Store;
  private readonly setup: WorkerSetup;
  private readonly post: (m: FromWorker) => void;
  private timer: NodeJS.Timeout | undefined;
  private noticeTimer: NodeJS.Timeout | undefined;
  private changed = new Set<number>();
  private ended = new Set<number>();
  private others = false;
  /** data_version at the last look; undefined before the first (which reports others: what came before it is not known). */
  private version: number | undefined;
  private lastNotice = 0;
  /** After the last run ended: one more look at data_version, then idle. */
  private lookAgain = false;

  constructor(setup: WorkerSetup, post: (m: FromWorker) => void, hooks: ServeHooks) {
    this.setup = setup;
    this.post = post;
    this.store = Store.open(setup.storeDir, SAME_PROCESS);
    hooks.opened?.(this.store);
    const stop = new Int32Array(setup.stop);
    const parser = new StdoutParser({ patterns: setup.patterns });
    this.monitor = new RunMonitor(this.store, setup.storeDir, {
      parse: (l) => parser.parse(l), owner: setup.owner, budget: setup.budget, leaseMs: setup.leaseMs, busyWaitMs: setup.busyWaitMs,
      busyReportMs: setup.busyReportMs, stopped: () => Atomics.load(stop, 0) === 1,
      log: (message) => post({ type: 'log', message }),
      onFault: (run, fault) => post({ type: 'fault', run, fault: fault && { ...fault } }),
    });
  }

  track(...args: Parameters<RunMonitor['track']>): void {
    this.monitor.track(...args);
    this.schedule(0);
  }

  dispose(): void {
    clearTimeout(this.timer);
    clearTimeout(this.noticeTimer);
    this.monitor.dispose();
    this.store.close();
  }

  private schedule(ms: number): void {
    if (this.timer && ms > 0) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.tick(), ms);
  }

  private tick(): void {
    this.timer = undefined;
    const before = this.monitor.runningIds;
    const changed = this.monitor.tick();
    const after = new Set(this.monitor.runningIds);
    for (const id of changed) this.changed.add(id);
    for (const id of before) if (!after.has(id)) this.ended.add(id);
    this.look();
    this.notify();
    if (after.size) {
      this.lookAgain = true;
      this.schedule(changed.length ? BUSY_GAP_MS : this.setup.tickMs);
    } else if (this.lookAgain) {
      this.lookAgain = false;
      this.schedule(this.setup.tickMs);
    }
  }

  /** Whether another connection committed since the last look (this connection's own commits do not move data_version). */
  private look(): void {
    try {
      const v = this.store.dataVersion();
      if (v !== this.version) this.others = true;
      this.version = v;
    } catch {
      this.others = true; // cannot tell: say so
    }
  }

  private notify(): void {
    if (!this.changed.size && !this.ended.size && !this.others) return;
    const wait = this.ended.size ? 0 : this.lastNotice + this.setup.noticeMs - Date.now();
    if (wait > 0) {
      this.noticeTimer ??= setTimeout(() => { this.noticeTimer = undefined; this.notify(); }, wait);
      return;
    }
    clearTimeout(this.noticeTimer);
    this.noticeTimer = undefined;
    this.post({ type: 'notice', changed: [...this.changed], ended: [...this.ended], others: this.others });
    this.changed = new Set();
    this.ended = new Set();
    this.others = false;
    this.lastNotice = Date.now();
  }
}
