/**
 * The one message contract between the Compare panel (extension host) and its webview.
 * Both sides import this file; it uses neither `vscode` nor the DOM.
 * Every message the webview sends is checked with parseViewMessage before the host acts on it.
 */
import type { ParamValue, RunStatus } from '../types.ts';

export type XAxis = 'step' | 'time' | 'relative';
export type Goal = 'min' | 'max';

/** The most buckets a chart may ask for (a very wide chart on a HiDPI screen). */
export const MAX_BUCKETS = 4000;

export interface CompareRun {
  id: number;
  uid: string;
  name: string;
  experiment: string;
  status: RunStatus;
  /** Stable per run: the same run has the same colour in every chart and every session. */
  color: string;
  /** Epoch ms; the origin of the relative-time axis (null: the run's first point is used). */
  startedAt: number | null;
  endedAt: number | null;
  starred: boolean;
}

export interface PrimaryMetric {
  key: string;
  goal: Goal;
  /** True when runlens.yaml names it; false when RunLens guessed from the key's name. */
  configured: boolean;
}

export interface ParamRow {
  key: string;
  /** One per run, in `runs` order; null when the run has no such param. */
  values: (ParamValue | null)[];
}

/** Non-finite values (NaN, ±Infinity) and missing ones travel as null. */
export interface MetricRow {
  key: string;
  last: (number | null)[];
  min: (number | null)[];
  max: (number | null)[];
  /** The value at the step where the primary metric is best, per run. */
  atBest: (number | null)[];
  count: number[];
}

export interface ProvenanceRow {
  /** Full SHA, or null when the run was not in a git repository. */
  commit: string | null;
  branch: string | null;
  dirty: boolean;
  /** A stored patch of uncommitted changes exists (open it with `openPatch`). */
  hasPatch: boolean;
  interpreter: string | null;
  durationMs: number | null;
  /**
   * `changed`: files (by per-file hash) that differ from the first run with this dataset, when the digests differ.
   * `drift`: those of them that are profiled CSV or TSV files, with their most drifted columns.
   */
  datasets: { path: string; digest: string; changed?: string[]; drift?: DataFileDrift[] }[];
  /** The run's run-health alerts (NaN, divergence, plateau, stall, slow, degradation), the newest last, at most 5. */
  alerts: { rule: string; key: string | null; step: number | null; message: string }[];
  /** How many alerts the run has in all. */
  alertCount: number;
}

/** A changed data file's most drifted columns from the first run's content (at most 3, the most drifted first; drift/scores.ts). */
export interface DataFileDrift {
  /** As in `changed`. */
  file: string;
  columns: { column: string; psi: number | null; ks: number | null; level: 'drifted' | 'moderate' | 'stable'; note?: string }[];
}

export interface CompareModel {
  runs: CompareRun[];
  /** Metric keys logged by any of the runs, sorted. */
  keys: string[];
  primary: PrimaryMetric | null;
  /** Per run, in `runs` order: the step where the primary metric is best. */
  bestStep: (number | null)[];
  params: ParamRow[];
  metrics: MetricRow[];
  provenance: ProvenanceRow[];
  packages: PackagesTable;
}

/**
 * The runs' installed packages, kept small for the wire: each distinct set once, and of each set only
 * its size, its conda environment and its versions of the packages that differ between the sets.
 */
export interface PackagesTable {
  /** Per run, in `runs` order: its set in `sets`; null when the run recorded none. */
  runs: (number | null)[];
  sets: PackageSet[];
  /** The packages whose version differs between the sets (or that some sets lack), by normalized name. */
  names: string[];
}

export interface PackageSet {
  count: number;
  conda: string | null;
  /** This set's version of each of `names`; null when it does not have the package. */
  versions: (string | null)[];
}

/**
 * One run's series, downsampled: one entry per non-empty bucket, arrays aligned.
 * x is the x of the bucket's last point (step, epoch ms, or ms since the run started).
 * A bucket with count 1 is a raw point (min = max = last).
 */
export interface SeriesData {
  runId: number;
  x: number[];
  last: (number | null)[];
  min: (number | null)[];
  max: (number | null)[];
  count: number[];
}

/** One run's metric summary for one key: a column cell of each MetricRow. */
export interface MetricCell {
  key: string;
  last: number | null;
  min: number | null;
  max: number | null;
  atBest: number | null;
  count: number;
}

/** What changed in one run of the model; absent fields are as they were. */
export interface RunDelta {
  /** A run of the model (the delta never adds or removes runs: a new run set is a new model). */
  id: number;
  run?: CompareRun;
  bestStep?: number | null;
  /** Only the keys whose summary changed. A key the run has no longer: count 0 and nulls. */
  metrics?: MetricCell[];
  /** All of the run's params, when any changed. */
  params?: Record<string, ParamValue>;
  provenance?: ProvenanceRow;
}

export interface ModelDelta {
  /** Every metric key, sorted, when the set changed (rows for new keys start empty). */
  keys?: string[];
  /** Every param key, sorted, when the set changed. */
  paramKeys?: string[];
  /** The whole table, when some run's packages changed (recorded when a launched run ends). */
  packages?: PackagesTable;
  runs: RunDelta[];
}

export type HostMessage =
  /** The runs and tables; sent after `ready` and whenever the set of runs or the primary metric changes. */
  | { type: 'model'; model: CompareModel }
  /** Live: only the runs and keys that changed since the last `model` or `modelDelta` (applyModelDelta). */
  | { type: 'modelDelta'; delta: ModelDelta }
  /**
   * The answer to a `query`. `domain` is the full x extent of the key over all runs on that axis
   * (null when no run has points), so the view can bound zoom and pan.
   */
  | { type: 'series'; requestId: number; key: string; axis: XAxis; range: [number, number] | null;
      domain: [number, number] | null; series: SeriesData[] }
  /** Live: only the points logged since the last `series` or `append` for this key and axis. */
  | { type: 'append'; key: string; axis: XAxis; series: SeriesData[] }
  | { type: 'error'; requestId?: number; message: string };

export type ViewMessage =
  | { type: 'ready' }
  /**
   * range null: the whole extent, and live points are then appended as they arrive.
   * runIds: only these runs of the comparison (the ones the chart draws); absent: every run.
   */
  | { type: 'query'; requestId: number; key: string; axis: XAxis; range: [number, number] | null; buckets: number; runIds?: number[] }
  /** Save the key's full-resolution points of all runs within the range as CSV (the host asks where). */
  | { type: 'exportCsv'; key: string; axis: XAxis; range: [number, number] | null }
  /** Save a chart image; dataUrl is a `data:image/png;base64,` URL. */
  | { type: 'exportPng'; key: string; dataUrl: string }
  | { type: 'openCommit'; runId: number }
  | { type: 'openPatch'; runId: number }
  | { type: 'revealRun'; runId: number };

/** What the webview keeps with setState, and what the panel serializer restores from. */
export interface CompareViewState {
  runUids: string[];
  axis: XAxis;
  /** 0 (off) to 0.999. */
  smoothing: number;
  logY: boolean;
  search: string;
  onlyDifferences: boolean;
  hiddenRuns: string[];
  /** The legend's run filter (names, experiments, statuses, params as key=value). */
  runFilter?: string;
  /** Draw only the best N runs by the primary metric; 0: every run; absent: 20 when there are more than 100. */
  topN?: number;
  /** Draw only these runs (the legend's "show only"); absent: the top N. */
  onlyRuns?: string[];
  tab: string;
  scatter?: { param: string; metric: string };
}

export class ProtocolError extends Error {}

const AXES: readonly string[] = ['step', 'time', 'relative'];
const MAX_KEY = 1024;
/** The most run ids one query may name. */
const MAX_QUERY_RUNS = 100_000;

/** Checks an untrusted message from the webview; throws ProtocolError saying what is wrong. */
export function parseViewMessage(raw: unknown): ViewMessage {
  if (!isObject(raw) || typeof raw.type !== 'string') throw new ProtocolError('a message must be an object with a type');
  switch (raw.type) {
    case 'ready':
      return { type: 'ready' };
    case 'query': {
      const q: ViewMessage = {
        type: 'query', requestId: int(raw, 'requestId'), key: key(raw), axis: axis(raw), range: range(raw),
        buckets: Math.min(MAX_BUCKETS, Math.max(1, int(raw, 'buckets'))),
      };
      if (raw.runIds !== undefined) q.runIds = runIds(raw.runIds);
      return q;
    }
    case 'exportCsv':
      return { type: 'exportCsv', key: key(raw), axis: axis(raw), range: range(raw) };
    case 'exportPng': {
      const url = raw.dataUrl;
      if (typeof url !== 'string' || !url.startsWith('data:image/png;base64,')) throw new ProtocolError('dataUrl must be a PNG data URL');
      return { type: 'exportPng', key: key(raw), dataUrl: url };
    }
    case 'openCommit':
    case 'openPatch':
    case 'revealRun':
      return { type: raw.type, runId: int(raw, 'runId') };
    default:
      throw new ProtocolError(`unknown message type ${JSON.stringify(raw.type).slice(0, 40)}`);
  }
}

/** A value fit for JSON: non-finite numbers become null. */
export function finiteOrNull(v: number | null | undefined): number | null {
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function int(m: Record<string, unknown>, name: string): number {
  const v = m[name];
  if (typeof v !== 'number' || !Number.isSafeInteger(v)) throw new ProtocolError(`${name} must be an integer`);
  return v;
}

function key(m: Record<string, unknown>): string {
  const v = m.key;
  if (typeof v !== 'string' || v.length === 0 || v.length > MAX_KEY) throw new ProtocolError('key must be a metric name');
  return v;
}

function axis(m: Record<string, unknown>): XAxis {
  if (typeof m.axis !== 'string' || !AXES.includes(m.axis)) throw new ProtocolError('axis must be step, time or relative');
  return m.axis as XAxis;
}

function runIds(v: unknown): number[] {
  if (!Array.isArray(v) || v.length > MAX_QUERY_RUNS || !v.every((n) => Number.isSafeInteger(n))) {
    throw new ProtocolError(`runIds must be at most ${MAX_QUERY_RUNS} integers`);
  }
  return v as number[];
}

function range(m: Record<string, unknown>): [number, number] | null {
  const v = m.range;
  if (v === null || v === undefined) return null;
  if (!Array.isArray(v) || v.length !== 2 || !v.every((n) => typeof n === 'number' && Number.isFinite(n)) || v[0] > v[1]) {
    throw new ProtocolError('range must be null or [lo, hi] with finite lo <= hi');
  }
  return [v[0], v[1]];
}
