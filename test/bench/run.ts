// npm run bench: prints every benchmark figure next to a baseline measured in the same run.
// BENCH_SCALE=0.1 runs a quick, smaller version.
import { benchLayout } from './layout.bench.ts';
import { benchIngest } from './ingest.bench.ts';
import { printReport } from './util.ts';

console.log(`RunLens benchmarks (Node ${process.version}, scale ${process.env.BENCH_SCALE ?? 1})`);
const only = process.env.BENCH_ONLY;
if (!only || only === 'layout') benchLayout(printReport);
if (!only || only === 'ingest') await benchIngest(printReport);
