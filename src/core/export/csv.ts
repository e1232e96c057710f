/** Runs as a CSV table: one row per run, params and metric summaries as columns (RFC 4180). */
import type { Store } from '../store/store.ts';
import type { MetricSummary, ParamValue, Run } from '../types.ts';
import { type CsvCell, csvText } from '../csvWriter.ts';

/**
 * Columns: name, uid, experiment, status, start (ISO 8601, UTC), duration (seconds), then
 * `param.<key>` for every param key of these runs, then `<key>.last`, `<key>.min`, `<key>.max` for
 * every metric key. Unknown runs are left out.
 */
export function exportRunsCsv(store: Store, runIds: readonly number[]): string {
  const runs = runIds.map((id) => store.runs.get(id)).filter((r): r is Run => r !== undefined);
  const params = new Map<number, { [k: string]: ParamValue }>();
  const metrics = new Map<number, Map<string, MetricSummary>>();
  const paramKeys = new Set<string>(), metricKeys = new Set<string>();
  for (const r of runs) {
    const p = store.runs.params(r.id);
    params.set(r.id, p);
    for (const k of Object.keys(p)) paramKeys.add(k);
    const m = new Map(store.metrics.summaries(r.id).map((s) => [s.key, s]));
    metrics.set(r.id, m);
    for (const k of m.keys()) metricKeys.add(k);
  }
  const pk = [...paramKeys].sort(), mk = [...metricKeys].sort();
  const header = ['name', 'uid', 'experiment', 'status', 'start', 'duration', ...pk.map((k) => `param.${k}`),
    ...mk.flatMap((k) => [`${k}.last`, `${k}.min`, `${k}.max`])];
  const rows: CsvCell[][] = [header];
  for (const r of runs) {
    const p = params.get(r.id)!, m = metrics.get(r.id)!;
    rows.push([
      r.name, r.uid, r.experiment, r.status,
      r.startedAt === null ? null : new Date(r.startedAt).toISOString(),
      r.startedAt !== null && r.endedAt !== null ? (r.endedAt - r.startedAt) / 1000 : null,
      ...pk.map((k) => p[k] ?? null),
      ...mk.flatMap((k) => {
        const s = m.get(k);
        return s ? [s.last, s.min, s.max] : [null, null, null];
      }),
    ]);
  }
  return csvText(rows);
}
