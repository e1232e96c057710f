/** The domain vocabulary of RunLens, shared by the store and the adapters. */

export const RUN_STATUSES = ['queued', 'running', 'finished', 'failed', 'stopped', 'crashed'] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];

/** A status that will not change any more. */
export function isFinal(status: RunStatus): boolean {
  return status !== 'queued' && status !== 'running';
}

export type ParamValue = number | string | boolean;

/** The tag that makes a run a trial of a sweep; its value is the sweep's id. */
export const SWEEP_TAG = 'runlens.sweep';

export interface Experiment {
  id: number;
  name: string;
  createdAt: number;
  runCount: number;
}

export interface GitState {
  commit: string;
  branch: string | null;
  dirty: boolean;
}

export interface Run {
  id: number;
  /** Stable, globally unique id, used outside this store (exports, links). */
  uid: string;
  name: string;
  experimentId: number;
  experiment: string;
  status: RunStatus;
  /** argv, or a single shell string. */
  command: string[] | string | null;
  cwd: string | null;
  createdAt: number;
  startedAt: number | null;
  endedAt: number | null;
  exitCode: number | null;
  git: GitState | null;
  notes: string;
  starred: boolean;
  /** The run this one reproduces ("RunLens: Reproduce Run"). */
  reproduces: number | null;
  /** Where an imported run came from (`mlflow:<uri>#<run_id>`, `tensorboard:<dir>`); null for runs made here. */
  origin: string | null;
}

export interface NewRun {
  name?: string;
  experiment?: string;
  status?: RunStatus;
  command?: string[] | string | null;
  cwd?: string | null;
  startedAt?: number | null;
  git?: GitState | null;
  params?: Record<string, ParamValue>;
  tags?: Record<string, string>;
  reproduces?: number | null;
  /** Unique: creating a second run with the same origin fails. */
  origin?: string;
}

export interface RunUpdate {
  name?: string;
  status?: RunStatus;
  startedAt?: number | null;
  endedAt?: number | null;
  exitCode?: number | null;
  notes?: string;
  starred?: boolean;
}

/** One logged value. `time` is milliseconds since the Unix epoch. */
export interface MetricPoint {
  step: number;
  time: number;
  value: number;
}

/** Per-run, per-key summary kept up to date on every append. min/max ignore NaN. */
export interface MetricSummary {
  key: string;
  count: number;
  firstStep: number;
  lastStep: number;
  last: number;
  min: number | null;
  max: number | null;
  lastTime: number;
}

/**
 * How the Runs view orders runs. Runs without the sort key (a param or metric they never logged,
 * no start time) come last in both directions; ties go newest first.
 */
export type RunSort =
  | { by: 'created' | 'name' | 'status' | 'duration' | 'started'; dir: 'asc' | 'desc' }
  | { by: 'param' | 'metric'; key: string; dir: 'asc' | 'desc' };

export interface RunQuery {
  experimentId?: number;
  status?: RunStatus[];
  /** Case-insensitive substring of the run's name, notes, or a tag's key or value. */
  text?: string;
  /** A filter expression such as `lr < 0.01 and val_acc > 0.9` (see core/query/filterExpression.ts). */
  where?: string;
  /** Only the trials of this sweep; null: only runs in no sweep. */
  sweep?: string | null;
  /** Default: newest first (created desc). */
  sort?: RunSort;
  /** Keyset paging for the default order: runs created strictly before this run. Ignored for other sorts. */
  before?: { createdAt: number; id: number };
  /** Runs to skip: paging for sorts other than newest first. */
  offset?: number;
  limit?: number;
}
