/**
 * What the Compare panel shows, computed from the store: the runs and their tables, and per chart
 * the downsampled series of one metric key. Nothing here touches the UI thread's DOM or vscode.
 */
import type { Store } from '../store/store.ts';
import type { DownsampleRequest, Downsampled } from '../store/metricRepository.ts';
import type { Run } from '../types.ts';
import { type CsvCell, csvText } from '../csvWriter.ts';
import { runColor } from './colors.ts';
import { type CompareRun, type Goal, type PrimaryMetric, type SeriesData, type XAxis, finiteOrNull } from './protocol.ts';

export interface SeriesRequest {
  key: string;
  axis: XAxis;
  /** Inclusive x range on the axis (for 'relative': ms since each run started); null = everything. */
  range: [number, number] | null;
  buckets: number;
}

export interface SeriesAnswer {
  domain: [number, number] | null;
  series: SeriesData[];
}

/** The runs that still exist, in the order asked for. */
export function loadRuns(store: Store, ids: number[]): Run[] {
  const out: Run[] = [];
  for (const id of ids) {
    const run = store.runs.get(id);
    if (run) out.push(run);
  }
  return out;
}

export function compareRun(run: Run): CompareRun {
  return {
    id: run.id, uid: run.uid, name: run.name, experiment: run.experiment, status: run.status, color: runColor(run.id),
    startedAt: run.startedAt, endedAt: run.endedAt, starred: run.starred,
  };
}

/**
 * The primary metric: the one runlens.yaml names, else a guess from the keys' names
 * (accuracy-like keys are maximised, loss-like ones minimised; validation keys first).
 */
export function primaryMetric(keys: string[], configured?: { name: string; goal: Goal }): PrimaryMetric | null {
  if (configured) return { key: configured.name, goal: configured.goal, configured: true };
  const rank = (k: string) => (/(^|[/_.-])(val|valid|validation|eval|test)([/_.-]|$)/i.test(k) ? 0 : 1);
  const guesses: [RegExp, Goal][] = [
    [/acc|accuracy|f1|auc|precision|recall|bleu|map\b|iou|r2/i, 'max'],
    [/loss|error|err\b|mse|mae|rmse|perplexity|ppl/i, 'min'],
  ];
  for (const [pattern, goal] of guesses) {
    const hits = keys.filter((k) => pattern.test(k)).sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
    if (hits.length) return { key: hits[0]!, goal, configured: false };
  }
  return null;
}

/** Where a run's relative time starts: when it started, else its first point. */
function origin(store: Store, run: Run, key: string): number {
  return run.startedAt ?? store.metrics.extent(run.id, key, 'time')?.[0] ?? 0;
}

/**
 * The x extents of ended runs, which no longer change: a chart's queries after the first (zoom,
 * resize) then read no extent per run. Running runs are read each time.
 */
export class Extents {
  private readonly ended = new Map<string, [number, number] | undefined>();

  of(store: Store, run: Run, key: string, axis: 'step' | 'time'): [number, number] | undefined {
    return this.ofMany(store, [run], key, axis)[0];
  }

  /** of() for many runs: the extents not kept are read in one batch. */
  ofMany(store: Store, runs: Run[], key: string, axis: 'step' | 'time'): ([number, number] | undefined)[] {
    const id = (run: Run) => `${run.id}\u0000${axis}\u0000${key}`;
    const ask = runs.filter((run) => run.endedAt === null || !this.ended.has(id(run)));
    const read = ask.length ? store.metrics.extents(ask.map((run) => run.id), key, axis) : [];
    const fresh = new Map(ask.map((run, i) => [run, read[i]]));
    return runs.map((run) => {
      if (run.endedAt === null) return fresh.get(run);
      if (fresh.has(run)) this.ended.set(id(run), fresh.get(run));
      return this.ended.get(id(run));
    });
  }
}

/** The x extent of one key over the runs, on the axis shown. */
export function domainOf(store: Store, runs: Run[], key: string, axis: XAxis, extents = new Extents()): [number, number] | null {
  let lo = Infinity;
  let hi = -Infinity;
  const all = extents.ofMany(store, runs, key, axis === 'step' ? 'step' : 'time');
  runs.forEach((run, i) => {
    const e = all[i];
    if (!e) return;
    const shift = axis === 'relative' ? origin(store, run, key) : 0;
    lo = Math.min(lo, e[0] - shift);
    hi = Math.max(hi, e[1] - shift);
  });
  return lo <= hi ? [lo, hi] : null;
}

/**
 * Per run, per bucket min / max / last over the range. Every run is bucketed over the same x range,
 * so buckets line up across runs.
 */
export function querySeries(store: Store, runs: Run[], req: SeriesRequest, extents = new Extents()): SeriesAnswer {
  const p = plan(store, runs, req, extents);
  // one batched read for every run's buckets (the store checks all their chunk summaries at once)
  return p.asks.length ? answer(runs, p, store.metrics.downsampleMany(req.key, p.asks)) : { domain: p.domain, series: [] };
}

/** querySeries() with the buckets from `downsample` (the query workers), or from the store when it gives undefined. */
export async function querySeriesBy(
  store: Store, runs: Run[], req: SeriesRequest, extents: Extents,
  downsample: (key: string, asks: [number, DownsampleRequest][]) => Promise<Downsampled[] | undefined>,
): Promise<SeriesAnswer> {
  const p = plan(store, runs, req, extents);
  if (!p.asks.length) return { domain: p.domain, series: [] };
  return answer(runs, p, (await downsample(req.key, p.asks)) ?? store.metrics.downsampleMany(req.key, p.asks));
}

/** The chart's domain, and what to ask the store for each run (none when no run has the key). */
function plan(store: Store, runs: Run[], req: SeriesRequest, extents: Extents) {
  const domain = domainOf(store, runs, req.key, req.axis, extents);
  const [lo, hi] = req.range ?? domain ?? [0, 0];
  const shifts = runs.map((run) => (domain && req.axis === 'relative' ? origin(store, run, req.key) : 0));
  const asks: [number, DownsampleRequest][] = domain ? runs.map((run, i) => [run.id, {
    axis: req.axis === 'step' ? 'step' : 'time', lo: lo + shifts[i]!, hi: hi + shifts[i]!, buckets: req.buckets,
  }]) : [];
  return { domain, shifts, asks };
}

function answer(runs: Run[], p: { domain: [number, number] | null; shifts: number[] }, answers: Downsampled[]): SeriesAnswer {
  const series: SeriesData[] = [];
  answers.forEach((d, i) => { if (d.x.length) series.push(toSeries(runs[i]!.id, d, p.shifts[i]!)); });
  return { domain: p.domain, series };
}

export function toSeries(runId: number, d: Downsampled, shift = 0): SeriesData {
  const n = d.x.length;
  // arrays of their final length, filled by index (Array.from over a typed array costs several times more)
  const x = new Array<number>(n);
  const last = new Array<number | null>(n);
  const min = new Array<number | null>(n);
  const max = new Array<number | null>(n);
  const count = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    x[i] = d.x[i]! - shift;
    last[i] = finiteOrNull(d.last[i]);
    min[i] = finiteOrNull(d.min[i]);
    max[i] = finiteOrNull(d.max[i]);
    count[i] = d.count[i]!;
  }
  return { runId, x, last, min, max, count };
}

/** Every point of one key for the runs within the range, as CSV (run, step, time, value). */
export function seriesCsv(store: Store, runs: Run[], key: string, axis: XAxis, range: [number, number] | null): string {
  return csvText(seriesRows(store, runs, key, axis, range));
}

function* seriesRows(store: Store, runs: Run[], key: string, axis: XAxis, range: [number, number] | null): Generator<CsvCell[]> {
  yield ['run', 'run_id', 'step', 'time', 'value'];
  for (const run of runs) {
    const p = store.metrics.points(run.id, key);
    const shift = axis === 'relative' ? origin(store, run, key) : 0;
    const xs = axis === 'step' ? p.steps : p.times;
    for (let i = 0; i < p.values.length; i++) {
      const x = xs[i]! - shift;
      if (range && (x < range[0] || x > range[1])) continue;
      yield [run.name, run.uid, p.steps[i], isoTime(p.times[i]!), p.values[i]];
    }
  }
}

function isoTime(ms: number): string {
  const d = new Date(ms);
  return Number.isNaN(d.getTime()) ? '' : d.toISOString();
}
