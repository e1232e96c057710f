// A store as RunLens wrote it before compressed chunks: schema 7, raw float64 chunks of 256 points.
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { Store } from '../../src/core/store/store.ts';
import { type Columns, RAW_LAYOUT } from '../../src/core/store/chunks.ts';

/** Writes each series (run name, key, points) in appends of `batch` points, then takes the store back to schema 7. */
export function writeOldStore(dir: string, series: Iterable<[run: string, key: string, points: Columns]>, batch = 1000): void {
  const store = Store.open(dir);
  store.metrics.layout = RAW_LAYOUT;
  const runs = new Map<string, number>();
  for (const [name, key, c] of series) {
    let id = runs.get(name);
    if (id === undefined) runs.set(name, (id = store.runs.create({ name }).id));
    for (let i = 0; i < c.values.length; i += batch) {
      const j = Math.min(c.values.length, i + batch);
      store.metrics.append(id, key, { steps: c.steps.subarray(i, j), times: c.times.subarray(i, j), values: c.values.subarray(i, j) });
    }
  }
  store.close();
  // schema 8 added chunk_conversion, later steps new tables and one column: without them, at user_version 7, this is a schema 7 store
  const db = new Database(join(dir, 'runs.db'));
  for (const table of ['chunk_conversion', 'run_packages', 'package_sets', 'alerts', 'health_state', 'profiles', 'evaluations', 'alert_notices']) db.exec(`DROP TABLE IF EXISTS ${table}`);
  db.exec('ALTER TABLE artifact_requests DROP COLUMN sha256'); // step 13
  db.pragma('user_version = 7');
  db.close();
}
