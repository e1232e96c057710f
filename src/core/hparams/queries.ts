import Database from 'better-sqlite3';
import type { Store } from '../store/store.ts';

/** Every run: id, created_at, its last value of the chosen metric (null without one). */
export type RunRow = [runId: number, createdAt: number, metric: number | null];
/** One param of one run, in run id order. */
export type ParamRow = [runId: number, key: string, type: 'number' | 'string' | 'bool', value: number | string];

/**
 * Reads what the hyperparameter index needs in three queries, on a second read-only connection
 * (WAL lets it read beside the store's own): how many runs log each metric (most first), every
 * run with its last value of the metric `chooseMetric` picks from those, and every param.
 * Reproductions (runs.reproduces set) are left out: they repeat a run, they do not try a value.
 */
export function readParamRows(
  store: Store, chooseMetric: (metricRuns: [name: string, runs: number][]) => string | undefined,
): { runs: RunRow[]; params: ParamRow[] } {
  const db = new Database(store.file, { readonly: true, fileMustExist: true });
  try {
    return db.transaction(() => {
      const metricRuns = db.prepare(`SELECT k.name, c.n FROM (SELECT key_id, count(*) AS n FROM metric_summaries GROUP BY key_id) c
        JOIN metric_keys k ON k.id = c.key_id ORDER BY c.n DESC, k.name`).raw().all() as [string, number][];
      const runs = db.prepare(`SELECT r.id, r.created_at, s.last_value FROM runs r
        LEFT JOIN metric_summaries s ON s.run_id = r.id AND s.key_id = (SELECT id FROM metric_keys WHERE name = ?)
        WHERE r.reproduces IS NULL`)
        .raw().all(chooseMetric(metricRuns) ?? '') as RunRow[];
      const params = db.prepare(`SELECT p.run_id, p.key, p.type, p.value FROM params p JOIN runs r ON r.id = p.run_id
        WHERE r.reproduces IS NULL ORDER BY p.run_id`).raw().all() as ParamRow[];
      return { runs, params };
    })();
  } finally {
    db.close();
  }
}
