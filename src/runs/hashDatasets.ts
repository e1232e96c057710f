import * as vscode from 'vscode';
import type { Store } from '../core/store/store.ts';
import type { StoredDataset } from '../core/store/provenanceRepository.ts';
import { runTask } from '../core/tasks/taskClient.ts';

const QUIET_MS = 500;
const mb = (bytes: number) => (bytes / 1e6).toFixed(bytes < 1e7 ? 1 : 0);

export interface HashDatasetsOptions {
  /** The task worker's script (taskScript(extensionPath)); without one, they are hashed on this thread. */
  script?: string | URL;
  /** A file that got no profile, or why the worker could not be used. Default console.warn. */
  warn?: (message: string) => void;
}

/**
 * Hashes the declared datasets (paths relative to `cwd`) in the task worker, profiling their CSV and TSV
 * files as they are read. Quick hashes stay silent; one that takes longer shows a progress notification
 * that can cancel it (then no run is started).
 */
export async function hashDatasets(store: Store, paths: string[], cwd: string, options: HashDatasetsOptions = {}): Promise<StoredDataset[]> {
  if (!paths.length) return [];
  const warn = options.warn ?? console.warn;
  const abort = new AbortController();
  let report: ((done: number, total: number) => void) | undefined;
  const work = runTask(options.script, store, { kind: 'hash', paths, cwd }, { signal: abort.signal, onProgress: (done, total) => report?.(done, total), warn, log: warn });
  const finished = await Promise.race([work.then(() => true, () => true), new Promise<boolean>((r) => setTimeout(() => r(false), QUIET_MS))]);
  if (!finished) {
    await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: 'RunLens: hashing datasets', cancellable: true },
      (progress, token) => {
        token.onCancellationRequested(() => abort.abort());
        let last = 0;
        report = (done, total) => {
          const pct = total ? (100 * done) / total : 0;
          progress.report({ message: `${mb(done)} of ${mb(total)} MB`, increment: pct - last });
          last = pct;
        };
        return work.catch(() => undefined);
      });
  }
  try {
    return await work;
  } catch (err) {
    if ((err as Error).name === 'AbortError') throw new Error('Run not started: hashing the datasets was cancelled.');
    throw err;
  }
}
