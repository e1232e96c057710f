// One process of the migration benchmark: `convert` opens the store at argv[3] (schema step 8) and converts
// every raw chunk; `read` opens it and reads every chunk blob once. Prints its time and peak memory as JSON.
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { Store } from '../../src/core/store/store.ts';

const [mode, dir] = [process.argv[2], process.argv[3]!];
const started = performance.now(), cpu = process.cpuUsage();
let chunks = 0;
if (mode === 'convert') {
  const store = Store.open(dir);
  for (let p = store.metrics.convertBatch(500); ; p = store.metrics.convertBatch(500)) {
    chunks = p.done;
    if (p.finished) break;
  }
  store.close();
} else {
  const db = new Database(join(dir, 'runs.db'), { readonly: true });
  let bytes = 0;
  for (const data of db.prepare('SELECT data FROM metric_chunk_points').pluck().iterate()) {
    bytes += (data as Buffer).length;
    chunks++;
  }
  db.close();
  if (!bytes) throw new Error('no chunks');
}
const used = process.cpuUsage(cpu);
process.stdout.write(JSON.stringify({ ms: performance.now() - started, cpuMs: (used.user + used.system) / 1000, maxRssMb: process.resourceUsage().maxRSS / 1024, chunks }));
