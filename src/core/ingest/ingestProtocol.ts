// The messages between a window's RunMonitor and its ingest worker (ingestWorker.ts). Plain data:
// they cross threads by structured clone.
import type { Run } from '../types.ts';
import type { LeaseOwner } from '../store/leaseRepository.ts';
import type { RunFault } from '../runs/runMonitor.ts';
import type { HealthRules } from '../health/rules.ts';

/** What the worker needs to follow runs the way the window would. */
export interface WorkerSetup {
  storeDir: string;
  /** The window's lease owner: the worker ingests in its name. */
  owner: LeaseOwner;
  /** The user's metric patterns (runlens.yaml metric_patterns), for the worker's own StdoutParser. */
  patterns: string[];
  budget?: number;
  leaseMs?: number;
  busyWaitMs?: number;
  busyReportMs?: number;
  /** Time between ticks when nothing was stored (default 250 ms). */
  tickMs: number;
  /** Least time between two change notices (default tickMs). */
  noticeMs: number;
  /** Set to 1 by the window when it lets go (an Int32Array of one element). */
  stop: SharedArrayBuffer;
}

export type ToWorker =
  | { type: 'start'; setup: WorkerSetup }
  /** `rules`: the run-health rules it is watched with (runlens.yaml, read by the window); none: not watched. */
  | { type: 'track'; run: Run; rules?: HealthRules }
  | { type: 'stopping'; runId: number }
  | { type: 'dispose' };

export type FromWorker =
  /** The worker has the store open and follows what it is given. */
  | { type: 'ready' }
  /** The store could not be opened in the worker: the window ingests inline instead. */
  | { type: 'failed'; message: string }
  /**
   * Runs that got points or ended (`ended`: no longer followed); `others`: another connection (another
   * window or process, or the window's own connection) committed since the worker last looked.
   */
  | { type: 'notice'; changed: number[]; ended: number[]; others: boolean }
  | { type: 'fault'; run: Run; fault: RunFault | undefined }
  | { type: 'log'; message: string };
