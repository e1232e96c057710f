/** The domain vocabulary of RunLens, shared by the store and the adapters. */

export const RUN_STATUSES = ['queued', 'running', 'finished', 'failed', 'stopped', 'crashed'] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];

/** A status that will not change any more. */
export function isFinal(status: RunStatus): boolean {
  return status !== 'queued' && status !== 'running';
}

export type ParamValue = number | string | boolean;

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

export interface RunQuery {
  experimentId?: number;
  status?: RunStatus[];
  /** Keyset paging: runs created strictly before this run (newest first). */
  before?: { createdAt: number; id: number };
  limit?: number;
}
