// Migration of a store in the layout before compressed chunks (schema 7, raw float64 chunks): the time and
// peak memory of converting it in place, in a process of its own, against a process that only reads every
// chunk once. BENCH_MIGRATION_RUNS sets the number of runs of 1,000,000 points (default 10).
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { writeOldStore } from '../unit/codecOldStore.ts';
import { compactStore, storeBytes } from '../../src/core/store/compact.ts';
import { shape } from './shapes.ts';
import { type Report, tempDir } from './util.ts';

const scale = Number(process.env.BENCH_SCALE ?? 1);
const RUNS = Number(process.env.BENCH_MIGRATION_RUNS ?? 10);
const POINTS = Math.round(1_000_000 * scale);

function child(mode: 'convert' | 'read', dir: string): { ms: number; cpuMs: number; maxRssMb: number; chunks: number } {
  const out = execFileSync(process.execPath, ['--disable-warning=MODULE_TYPELESS_PACKAGE_JSON', join(import.meta.dirname, 'migration.child.ts'), mode, dir],
    { encoding: 'utf8', maxBuffer: 1 << 20 });
  return JSON.parse(out);
}

export function benchMigration(report: Report): void {
  const dir = tempDir();
  function* runs() {
    for (let r = 0; r < RUNS; r++) yield [`run-${r}`, 'train/loss', shape('noisy', POINTS, 100 + r)] as [string, string, ReturnType<typeof shape>];
  }
  writeOldStore(dir, runs(), 2000);
  const file = join(dir, 'runs.db');
  const rawBytes = storeBytes(file);
  const read = child('read', dir);
  const convert = child('convert', dir);
  const { after } = compactStore(file);
  const what = `${RUNS} runs x ${POINTS.toLocaleString('en')} points (${(rawBytes / 2 ** 20).toFixed(0)} MB, ${convert.chunks.toLocaleString('en')} chunks)`;
  report(`migration of a store in the layout before: ${what}`, convert.ms / 1000, 's', [
    ['a process that only reads every chunk once', read.ms / 1000],
  ], { higherIsBetter: false });
  console.log(`  ${((RUNS * POINTS) / (convert.ms / 1000) / 1e6).toFixed(2)} M points/s (CPU time ${(convert.cpuMs / 1000).toFixed(1)} s, reading alone ${(read.cpuMs / 1000).toFixed(1)} s); the store after Compact Store: ${(after / 2 ** 20).toFixed(0)} MB (${(after / (RUNS * POINTS)).toFixed(2)} bytes a point)`);
  report('peak memory of the migration process', convert.maxRssMb, 'MB', [
    ['a process that only reads every chunk once', read.maxRssMb],
  ], { higherIsBetter: false });
}
