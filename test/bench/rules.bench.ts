// Run-health rules: their cost per ingested point, against the same ingest commits without them.
// Two shapes: large commits (a columnar line's worth of points per key) and tiny ones (one point per key
// per commit, where the per-commit state read and write shows); and the evaluator alone against the
// same loop over the points without rules.
import { join } from 'node:path';
import { Store } from '../../src/core/store/store.ts';
import type { Columns } from '../../src/core/store/chunks.ts';
import { HealthMonitor } from '../../src/core/health/healthMonitor.ts';
import { evaluate, newRunHealth } from '../../src/core/health/evaluate.ts';
import { resolveRules } from '../../src/core/health/rules.ts';
import { type Report, tempDir, timeIt } from './util.ts';

const scale = Number(process.env.BENCH_SCALE ?? 1);
const POINTS = Math.max(200_000, Math.round(4_000_000 * scale));
const SMALL_COMMITS = Math.max(1000, Math.round(5000 * scale));
const T0 = 1_700_000_000_000;

function columns(from: number, n: number, f: (s: number) => number): Columns {
  const steps = new Float64Array(n), times = new Float64Array(n), values = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    steps[i] = from + i;
    times[i] = T0 + (from + i) * 100;
    values[i] = f(from + i);
  }
  return { steps, times, values };
}

const rules = resolveRules({ name: 'val_acc', goal: 'max' });
const loss = (s: number) => 2 / (1 + s / 1000) + 0.01 * Math.sin(s);
const acc = (s: number) => 1 - loss(s) / 2;

/** Nanoseconds per point: every batch appended in its own commit, with or without the rules. */
function ingest(dir: string, name: string, batches: [string, Columns][][], withRules: boolean): number {
  const store = Store.open(join(dir, name));
  const run = store.runs.create({ name: 'bench' });
  const monitor = new HealthMonitor(store, run, rules);
  let points = 0;
  const ms = timeIt(() => {
    for (const batch of batches) {
      store.transaction(() => {
        store.metrics.appendMany(run.id, batch);
        if (withRules) monitor.ingest(batch);
      });
      for (const [, c] of batch) points += c.values.length;
    }
  });
  store.close();
  return (ms * 1e6) / points;
}

export function benchRules(report: Report): void {
  const dir = tempDir();
  const per = 2000; // points per key per commit: one columnar line of the Python helper
  const large: [string, Columns][][] = [];
  for (let from = 0; from < POINTS / 2; from += per) large.push([['loss', columns(from, per, loss)], ['val_acc', columns(from, per, acc)]]);
  const small: [string, Columns][][] = [];
  for (let s = 0; s < SMALL_COMMITS; s++) small.push([['loss', columns(s, 1, loss)], ['val_acc', columns(s, 1, acc)]]);

  let ingestPerPoint = 0;
  for (const [label, batches] of [['commits of 2 × 2,000 points', large], ['commits of one point for each of 2 keys', small]] as const) {
    ingest(dir, `warm-${label.length}`, batches.slice(0, 50), true);
    let plain = Infinity, ruled = Infinity;
    for (const round of [1, 2, 3]) { // in turn, best of each: the machine may be shared
      plain = Math.min(plain, ingest(dir, `plain-${label.length}-${round}`, batches, false));
      ruled = Math.min(ruled, ingest(dir, `rules-${label.length}-${round}`, batches, true));
    }
    if (batches === large) ingestPerPoint = plain;
    report(`ingest with run-health rules, ${label}`, ruled, 'ns/point', [['the same commits without rules', plain]],
      { higherIsBetter: false, target: batches === large ? '<= 1.1x without rules' : 'reported (each commit waits for its fsync: noisy)' });
  }

  // The evaluator alone, against the same pass over the points doing no rule work.
  const c = columns(0, POINTS, loss);
  let sink = 0;
  const loop = () => {
    let s = 0;
    for (let i = 0; i < c.values.length; i++) s += c.values[i]! + c.times[i]! * 0 + c.steps[i]! * 0;
    sink += s;
  };
  const rulesPass = () => { sink += evaluate(newRunHealth(), rules, 'loss', c).length; };
  loop(); rulesPass();
  let loopMs = Infinity, rulesMs = Infinity;
  for (let i = 0; i < 3; i++) { loopMs = Math.min(loopMs, timeIt(loop)); rulesMs = Math.min(rulesMs, timeIt(rulesPass)); }
  if (sink === 42) console.log('');
  report('evaluate() alone (NaN, divergence, pace, stall clock)', (rulesMs * 1e6) / POINTS, 'ns/point', [
    ['a plain loop over the same columns', (loopMs * 1e6) / POINTS],
    ['ingest without rules, per point (large commits, above)', ingestPerPoint],
  ], { higherIsBetter: false, target: '<= 5% of the ingest cost per point' });
}
