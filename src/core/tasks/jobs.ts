import type { Store } from '../store/store.ts';
import { hashRunDatasets } from '../provenance/runDatasets.ts';
import { importMlflowFrom } from '../importers/importMlflow.ts';
import { importTensorBoard } from '../importers/importTensorBoard.ts';
import type { Job, JobResult } from './taskProtocol.ts';

export interface JobOptions {
  signal?: AbortSignal;
  /** Bytes hashed, or runs imported, so far and in all. */
  onProgress?: (done: number, total: number) => void;
  /** A dataset file that got no profile, and why. */
  warn?: (message: string) => void;
  /** The task worker's script: an import reads big event files in a worker of it (capture/eventReader.ts). */
  script?: string;
}

/** Runs a job on `store`: what the task worker does, and what the window does when the worker cannot start. */
export function runJob<J extends Job>(store: Store, job: J, options: JobOptions = {}): Promise<JobResult<J>> {
  const j: Job = job;
  const done = j.kind === 'hash' ? hashRunDatasets(store, j.paths, j.cwd, options)
    : j.from === 'mlflow' ? importMlflowFrom(store, j.source, options) : importTensorBoard(store, j.source, options);
  return done as Promise<JobResult<J>>;
}
