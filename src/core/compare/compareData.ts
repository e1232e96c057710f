/**
 * What the Compare panel shows, computed from the store: the runs and their tables, and per chart
 * the downsampled series of one metric key. Nothing here touches the UI thread's DOM or vscode.
 */
import { changedDataFiles, datasetDiff } from '../models/lineage.ts';
import type { StoredDataset } from '../store/provenanceRepository.ts';
import type { Store } from '../store/store.ts';
import type { Downsampled } from '../store/metricRepository.ts';
import type { Run } from '../types.ts';
import { type CsvCell, csvText } from '../csvWriter.ts';
import { runColor } from './colors.ts';
import {
  type CompareModel, type CompareRun, type Goal, type MetricRow, type ParamRow, type PrimaryMetric, type ProvenanceRow,
  type SeriesData, type XAxis, finiteOrNull,
} from './protocol.ts';

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

/** The runs, params, metric summaries and provenance the panel's tables show. */
export function buildModel(store: Store, runs: Run[], configured?: { name: string; goal: Goal }): CompareModel {
  const summaries = runs.map((r) => new Map(store.metrics.summaries(r.id).map((s) => [s.key, s])));
  const keys = [...new Set(summaries.flatMap((m) => [...m.keys()]))].sort((a, b) => a.localeCompare(b));
  const primary = primaryMetric(keys, configured);
  const bestStep = runs.map((r) => (primary ? store.metrics.best(r.id, primary.key, primary.goal)?.step ?? null : null));

  const params = runs.map((r) => store.runs.params(r.id));
  const paramKeys = [...new Set(params.flatMap((p) => Object.keys(p)))].sort((a, b) => a.localeCompare(b));
  const paramRows: ParamRow[] = paramKeys.map((key) => ({ key, values: params.map((p) => (key in p ? p[key]! : null)) }));

  const metricRows: MetricRow[] = keys.map((key) => ({
    key,
    last: summaries.map((m) => finiteOrNull(m.get(key)?.last)),
    min: summaries.map((m) => finiteOrNull(m.get(key)?.min)),
    max: summaries.map((m) => finiteOrNull(m.get(key)?.max)),
    atBest: runs.map((r, i) => {
      const step = bestStep[i];
      return step === null || step === undefined || !summaries[i]!.has(key) ? null : finiteOrNull(store.metrics.valueAt(r.id, key, step));
    }),
    count: summaries.map((m) => m.get(key)?.count ?? 0),
  }));

  const provenance: ProvenanceRow[] = runs.map((r) => {
    const p = store.provenance.get(r.id);
    return {
      commit: r.git?.commit ?? null, branch: r.git?.branch ?? null, dirty: r.git?.dirty ?? false,
      hasPatch: Boolean(p?.patchSha256), interpreter: p?.interpreterVersion ?? p?.interpreter ?? null,
      durationMs: r.startedAt === null ? null : (r.endedAt ?? Date.now()) - r.startedAt,
      datasets: store.provenance.datasets(r.id, { files: false }).map((d) => ({ path: d.path, digest: d.digest })),
    };
  });
  markChangedDataFiles(store, runs, provenance);

  return { runs: runs.map(compareRun), keys, primary, bestStep, params: paramRows, metrics: metricRows, provenance };
}

/** For datasets whose digest differs from the first run's, which files changed (per-file hashes, loaded only then). */
function markChangedDataFiles(store: Store, runs: Run[], provenance: ProvenanceRow[]): void {
  const reference = new Map<string, number>(); // dataset path -> index of the first run with it
  provenance.forEach((p, i) => { for (const d of p.datasets) if (!reference.has(d.path)) reference.set(d.path, i); });
  const files = new Map<number, StoredDataset[]>();
  const filesOf = (i: number) => {
    if (!files.has(i)) files.set(i, store.provenance.datasets(runs[i]!.id));
    return files.get(i)!;
  };
  provenance.forEach((p, i) => {
    for (const d of p.datasets) {
      const ref = reference.get(d.path)!;
      const base = provenance[ref]!.datasets.find((x) => x.path === d.path)!;
      if (ref === i || base.digest === d.digest) continue;
      const diff = datasetDiff(filesOf(ref).filter((x) => x.path === d.path), filesOf(i).filter((x) => x.path === d.path));
      d.changed = changedDataFiles(diff);
    }
  });
}

/** Where a run's relative time starts: when it started, else its first point. */
function origin(store: Store, run: Run, key: string): number {
  return run.startedAt ?? store.metrics.extent(run.id, key, 'time')?.[0] ?? 0;
}

/** The x extent of one key over the runs, on the axis shown. */
export function domainOf(store: Store, runs: Run[], key: string, axis: XAxis): [number, number] | null {
  let lo = Infinity;
  let hi = -Infinity;
  for (const run of runs) {
    const e = store.metrics.extent(run.id, key, axis === 'step' ? 'step' : 'time');
    if (!e) continue;
    const shift = axis === 'relative' ? origin(store, run, key) : 0;
    lo = Math.min(lo, e[0] - shift);
    hi = Math.max(hi, e[1] - shift);
  }
  return lo <= hi ? [lo, hi] : null;
}

/**
 * Per run, per bucket min / max / last over the range. Every run is bucketed over the same x range,
 * so buckets line up across runs.
 */
export function querySeries(store: Store, runs: Run[], req: SeriesRequest): SeriesAnswer {
  const domain = domainOf(store, runs, req.key, req.axis);
  const [lo, hi] = req.range ?? domain ?? [0, 0];
  const series: SeriesData[] = [];
  if (!domain) return { domain, series };
  for (const run of runs) {
    const shift = req.axis === 'relative' ? origin(store, run, req.key) : 0;
    const d = store.metrics.downsample(run.id, req.key, {
      axis: req.axis === 'step' ? 'step' : 'time', lo: lo + shift, hi: hi + shift, buckets: req.buckets,
    });
    if (d.x.length) series.push(toSeries(run.id, d, shift));
  }
  return { domain, series };
}

export function toSeries(runId: number, d: Downsampled, shift = 0): SeriesData {
  const n = d.x.length;
  const x = new Array<number>(n);
  const last = new Array<number | null>(n);
  const min = new Array<number | null>(n);
  const max = new Array<number | null>(n);
  for (let i = 0; i < n; i++) {
    x[i] = d.x[i]! - shift;
    last[i] = finiteOrNull(d.last[i]);
    min[i] = finiteOrNull(d.min[i]);
    max[i] = finiteOrNull(d.max[i]);
  }
  return { runId, x, last, min, max, count: Array.from(d.count) };
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
