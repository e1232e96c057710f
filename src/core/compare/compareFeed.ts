/**
 * What the Compare panel sends its webview, without vscode: the model when the webview is ready,
 * chart answers, and on live updates the new points and what changed in the model (a delta).
 * The panel (src/compare/comparePanel.ts) owns the webview and hands messages through `post`.
 */
import type { Store } from '../store/store.ts';
import type { DownsampleRequest, Downsampled } from '../store/metricRepository.ts';
import type { StoreChange } from '../store/storeWrites.ts';
import { Extents, loadRuns, querySeries, querySeriesBy } from './compareData.ts';
import { QueryWorkers } from './queryWorkers.ts';
import { LiveTail } from './liveTail.ts';
import { ModelCache } from './modelCache.ts';
import { NO_PACKAGES } from './packageRows.ts';
import type { Goal, HostMessage, ViewMessage } from './protocol.ts';

export interface CompareFeedDeps {
  store: () => Store | undefined;
  primaryMetric: () => { name: string; goal: Goal } | undefined;
  post: (message: HostMessage) => void;
  /** Runs fn soon, after what is waiting on the event loop (the panel: setTimeout). */
  later: (fn: () => void) => void;
  /** The task worker's script (taskScript): charts of many ended runs are answered in query workers of it. */
  script?: string;
  /** Told once when the query workers fail (charts are then answered on this thread). */
  warn?: (message: string) => void;
}

/** Charts of at least this many runs, all ended, are answered in the query workers. */
export const WORKER_RUNS = 64;

/** The longest the model's best-step values are read for at a time, between other work. */
const FILL_SLICE_MS = 40;

type Query = Extract<ViewMessage, { type: 'query' }>;

export class CompareFeed {
  runIds: number[] = [];
  /** The model the webview holds (undefined: it holds none, send it whole). */
  private cache: ModelCache | undefined;
  private liveIds = new Set<number>();
  /** What changed in the store since the last update. */
  private pending = { rows: false, all: false };
  private readonly tail = new LiveTail();
  private extents = new Extents();
  private readonly deps: CompareFeedDeps;
  private readonly workers: QueryWorkers;
  /** Counts resets: an answer from the workers for a webview that started over is dropped. */
  private epoch = 0;

  constructor(deps: CompareFeedDeps) {
    this.deps = deps;
    this.workers = new QueryWorkers(deps.script);
  }

  /** The webview starts over (new, reloaded or shown again, or other runs): forget what it was sent. */
  reset(): void {
    this.epoch++;
    this.cache = undefined;
    this.extents = new Extents();
    this.tail.clear();
  }

  /** Sends the whole model. */
  sendModel(): void {
    const store = this.deps.store();
    this.pending = { rows: false, all: false };
    if (!store) {
      this.cache = undefined;
      this.liveIds.clear();
      this.deps.post({ type: 'model', model: { runs: [], keys: [], primary: null, bestStep: [], params: [], metrics: [], provenance: [], packages: NO_PACKAGES } });
      return;
    }
    const runs = loadRuns(store, this.runIds);
    this.cache = new ModelCache();
    const model = this.cache.build(store, runs, this.deps.primaryMetric());
    this.liveIds = new Set(this.cache.liveRuns());
    this.deps.post({ type: 'model', model });
    this.fillBest(this.cache);
  }

  /** The values at the best step, a slice at a time, each slice sent as a delta. */
  private fillBest(cache: ModelCache): void {
    this.deps.later(() => {
      const store = this.deps.store();
      if (cache !== this.cache || !store) return;
      const delta = cache.fillBest(store, FILL_SLICE_MS);
      if (delta) this.deps.post({ type: 'modelDelta', delta });
      if (cache.bestPending) this.fillBest(cache);
    });
  }

  /**
   * A chart's query: its answer, and live points from then on when it asked for everything. Many ended
   * runs (which no longer change) are bucketed in the query workers, while this thread goes on.
   */
  async query(message: Query): Promise<void> {
    const store = this.deps.store();
    const base = { type: 'series', requestId: message.requestId, key: message.key, axis: message.axis, range: message.range } as const;
    if (!store) return this.deps.post({ ...base, domain: null, series: [] });
    const wanted = message.runIds ? new Set(message.runIds) : undefined;
    const runs = loadRuns(store, wanted ? this.runIds.filter((id) => wanted.has(id)) : this.runIds);
    const epoch = this.epoch;
    const answer = runs.length >= WORKER_RUNS && runs.every((r) => r.status !== 'running' && r.status !== 'queued')
      ? await querySeriesBy(store, runs, message, this.extents, (key, asks) => this.askWorkers(store, key, asks))
      : querySeries(store, runs, message, this.extents);
    if (epoch !== this.epoch || store !== this.deps.store()) return; // the webview started over meanwhile
    if (message.range === null) this.tail.follow(message.key, message.axis, answer, runs, store);
    else this.tail.unfollow(message.key);
    this.deps.post({ ...base, ...answer });
  }

  /** A store change: what the next update looks at. */
  note(change: StoreChange): void {
    if (change.external) {
      this.pending.all = true;
      this.extents = new Extents(); // another process may have written to an ended run
    }
    if (change.kinds.has('runs')) this.pending.rows = true;
  }

  /**
   * After store changes: the new points of the runs that were live, then what changed in the model.
   * It reads the live runs again; every run's row after a change of runs; everything after a change
   * from elsewhere (another window or process).
   */
  update(change?: StoreChange): void {
    if (change) this.note(change);
    const store = this.deps.store();
    if (!store) return;
    // runs that were live at the last look, so their final points still arrive after they end
    const live = loadRuns(store, [...this.liveIds]);
    for (const append of this.tail.collect(store, live)) this.deps.post({ type: 'append', ...append });
    if (!this.cache) return this.sendModel();
    const { rows, all } = this.pending;
    this.pending = { rows: false, all: false };
    const delta = this.cache.refresh(store, {
      rows: rows || all ? this.runIds : [],
      live: [...this.liveIds],
      metrics: all ? this.runIds : [],
    }, this.deps.primaryMetric());
    if (delta === 'rebuild') return this.sendModel();
    this.liveIds = new Set(this.cache.liveRuns());
    if (delta) this.deps.post({ type: 'modelDelta', delta });
  }

  private async askWorkers(store: Store, key: string, asks: [number, DownsampleRequest][]): Promise<Downsampled[] | undefined> {
    const told = this.workers.failure !== undefined;
    const answers = await this.workers.downsample(store, key, asks);
    if (!told && this.workers.failure !== undefined) this.deps.warn?.(`Compare: the query workers stopped (${this.workers.failure}); charts are answered on the editor's thread.`);
    return answers;
  }

  /** Ends the query workers. */
  dispose(): void {
    this.workers.dispose();
  }
}
