/** Runs as one JSON document with everything the store has about them. */
import type { Store } from '../store/store.ts';
import type { Run } from '../types.ts';

export const EXPORT_FORMAT = 'runlens-export/1';

/** JSON has no NaN or infinities: they are written as the strings "NaN", "Infinity", "-Infinity". */
export type JsonNumber = number | 'NaN' | 'Infinity' | '-Infinity';

const num = (v: number): JsonNumber => (Number.isFinite(v) ? v : Number.isNaN(v) ? 'NaN' : v > 0 ? 'Infinity' : '-Infinity');

/**
 * `{ format: 'runlens-export/1', exportedAt, runs: [...] }`. Each run has its fields, params, tags,
 * provenance (with the uncommitted patch's text), datasets with their files, model versions, and
 * every metric point as `{ steps, times, values }` arrays in log order. Unknown runs are left out.
 */
export function exportRunsJson(store: Store, runIds: readonly number[], now = Date.now()): object {
  const runs = runIds.map((id) => store.runs.get(id)).filter((r): r is Run => r !== undefined);
  return {
    format: EXPORT_FORMAT,
    exportedAt: new Date(now).toISOString(),
    runs: runs.map((r) => {
      const provenance = store.provenance.get(r.id) ?? null;
      const patch = provenance?.patchSha256 ? store.provenance.blob(provenance.patchSha256)?.toString('utf8') ?? null : null;
      const metrics: { [key: string]: { steps: JsonNumber[]; times: number[]; values: JsonNumber[] } } = {};
      for (const s of store.metrics.summaries(r.id)) {
        const c = store.metrics.points(r.id, s.key);
        metrics[s.key] = { steps: Array.from(c.steps, num), times: Array.from(c.times), values: Array.from(c.values, num) };
      }
      return {
        ...r,
        params: store.runs.params(r.id),
        tags: store.runs.tags(r.id),
        provenance: provenance && { ...provenance, patch },
        datasets: store.provenance.datasets(r.id),
        models: store.models.versionsOfRun(r.id).map((v) => ({ model: v.model, version: v.version, path: v.path, digest: v.digest, aliases: v.aliases })),
        metrics,
      };
    }),
  };
}
