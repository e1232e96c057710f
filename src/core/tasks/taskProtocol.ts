// The messages between the window and a task worker (taskWorker.ts), which runs one job on its own
// store connection. Plain data: they cross threads by structured clone.
import type { StoredDataset } from '../store/provenanceRepository.ts';
import type { ImportReport } from '../importers/report.ts';

/** Hash a run's declared datasets (see hashRunDatasets), or import runs from MLflow or TensorBoard. */
export type Job =
  | { kind: 'hash'; paths: string[]; cwd: string }
  | { kind: 'import'; from: 'mlflow' | 'tensorboard'; source: string };

export type JobResult<J extends Job> = J extends { kind: 'hash' } ? StoredDataset[] : ImportReport;

export type ToTask =
  /** `script`: the worker's own script, for the readers an import starts. */
  | { type: 'run'; storeDir: string; job: Job; script: string }
  /** Aborts the job's signal: hashing throws an AbortError, an import stops and reports `cancelled`. */
  | { type: 'cancel' };

/** An error as it crosses threads (structured clone keeps neither a custom name nor `code`). */
export interface TaskError { name: string; message: string; code?: string; stack?: string }

export type FromTask =
  /** The worker has the store open and runs the job. */
  | { type: 'started' }
  /** The store could not be opened in the worker: the window runs the job itself. */
  | { type: 'failed'; message: string }
  | { type: 'progress'; done: number; total: number }
  | { type: 'warn'; message: string }
  /** The job's result; the worker has closed its store. */
  | { type: 'done'; result: JobResult<Job> }
  | { type: 'error'; error: TaskError };
