// npm run bench: prints every benchmark figure next to a baseline measured in the same run.
// BENCH_SCALE=0.1 runs a quick, smaller version.
import { benchLayout } from './layout.bench.ts';
import { benchDensity } from './density.bench.ts';
import { benchMigration } from './migration.bench.ts';
import { benchIngest } from './ingest.bench.ts';
import { benchHash } from './hash.bench.ts';
import { benchRunsView } from './runsView.bench.ts';
import { benchImport } from './import.bench.ts';
import { benchLenses } from './lenses.bench.ts';
import { printReport } from './util.ts';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

console.log(`RunLens benchmarks (Node ${process.version}, scale ${process.env.BENCH_SCALE ?? 1})`);
const only = process.env.BENCH_ONLY;
if (!only || only === 'layout') benchLayout(printReport);
if (!only || only === 'density') benchDensity(printReport);
if (!only || only === 'migration') benchMigration(printReport);
if (!only || only === 'ingest') await benchIngest(printReport);
if (!only || only === 'hash') await benchHash(printReport);
if (!only || only === 'runsview') benchRunsView(printReport);
if (!only || only === 'import') await benchImport(printReport);
if (!only || only === 'lenses') benchLenses(printReport);
if (!only || only === 'compare') await (await import('./compareQuery.bench.ts')).benchCompare(printReport);
if (!only || only === 'eventloop') await (await import('./eventLoop.bench.ts')).benchEventLoop(printReport);
if (!only || only === 'profile') await (await import('./profile.bench.ts')).benchProfile(printReport);
if (!only || only === 'rules') (await import('./rules.bench.ts')).benchRules(printReport);
if (!only || only === 'helper') {
  // The Python helper's cost per runlens.log call, against an empty loop and a naive json.dumps + write.
  console.log('');
  spawnSync('python3', [join(import.meta.dirname, 'helper.bench.py')], { stdio: 'inherit' });
}
