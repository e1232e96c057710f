import { isAbsolute, join } from 'node:path';
import type { Store } from '../store/store.ts';
import type { StoredDataset } from '../store/provenanceRepository.ts';
import { hashDataset } from './datasetHash.ts';

export interface RunDatasetsOptions {
  signal?: AbortSignal;
  onProgress?: (doneBytes: number, totalBytes: number) => void;
  /** A CSV or TSV file that got no profile, and why (the hash goes on). */
  warn?: (message: string) => void;
}

/**
 * A run's declared datasets (paths relative to `cwd`), hashed with the store's cache, their CSV and TSV
 * files profiled from the same reads (profiles kept by content). What a run records before it starts.
 */
export async function hashRunDatasets(store: Store, paths: string[], cwd: string, options: RunDatasetsOptions = {}): Promise<StoredDataset[]> {
  const cache = store.provenance.hashCache();
  const profiles = store.profiles.sink((file, reason) => options.warn?.(`RunLens: no data profile of ${file}: ${reason}`));
  const out: StoredDataset[] = [];
  for (const path of paths) {
    const h = await hashDataset(isAbsolute(path) ? path : join(cwd, path), { cache, profiles, signal: options.signal, onProgress: options.onProgress });
    out.push({ path, kind: h.kind, digest: h.digest, fileCount: h.fileCount, bytes: h.bytes, files: h.files });
  }
  return out;
}
