// The Runs view at 10,000 runs: what its first render costs, with and without filters and sorting.
// Each figure is the median of several rounds, printed next to raw better-sqlite3 reads of the
// same file measured in the same run.
import Database from 'better-sqlite3';
import { Store } from '../../src/core/store/store.ts';
import type { RunQuery } from '../../src/core/types.ts';
import { type Report, tempDir, timeIt } from './util.ts';
import { prng } from '../../src/core/hparams/sweep.ts';

const scale = Number(process.env.BENCH_SCALE ?? 1);
const RUNS = Math.max(50, Math.round(10_000 * scale));
const EXPERIMENTS = 5;
const POINTS = 200; // per metric per run
const METRICS = ['train/loss', 'val_loss', 'val_acc', 'grad_norm'];
const PAGE = 200;
const ROUNDS = 15;
const PRIMARY_METRIC = 'val_acc';


function curve(n: number, f: (i: number) => number, t0: number) {
  const steps = new Float64Array(n), times = new Float64Array(n), values = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    steps[i] = i * 10;
    times[i] = t0 + i * 5000;
    values[i] = f(i);
  }
  return { steps, times, values };
}

/** 10,000 runs over 5 experiments, 8 params and 4 metrics of POINTS points each; ~1/3 tagged owner=ana. */
export function buildRunsViewStore(dir: string): { ms: number } {
  let clock = 1_700_000_000_000;
  const store = Store.open(dir, { now: () => (clock += 1000) });
  const rnd = prng(42);
  const ms = timeIt(() => {
    for (let from = 0; from < RUNS; from += 500) {
      store.transaction(() => {
        for (let i = from; i < Math.min(RUNS, from + 500); i++) {
          const lr = 10 ** (-4 + 3 * rnd());
          const final = 0.5 + 0.49 * rnd();
          const status = i % 50 === 0 ? 'failed' : i >= RUNS - 20 ? 'running' : 'finished';
          const run = store.runs.create({
            experiment: `experiment-${i % EXPERIMENTS}`, status, startedAt: clock,
            params: {
              lr, batch_size: [32, 64, 128, 256][i % 4]!, optimizer: i % 3 ? 'adam' : 'sgd', use_amp: i % 2 === 0,
              dropout: Math.round(rnd() * 50) / 100, weight_decay: 10 ** (-6 + 3 * rnd()), epochs: 10 + (i % 5) * 10, seed: i,
            },
            tags: i % 3 === 0 ? { owner: 'ana', sweep: `sweep-${i % 17}` } : { owner: 'bo' },
          });
          if (status !== 'running') store.runs.update(run.id, { endedAt: clock + 600_000 + i, notes: i % 11 === 0 ? 'warmup tried' : '' });
          const t0 = run.createdAt;
          store.metrics.appendMany(run.id, METRICS.map((key, k) => [key, curve(POINTS, (s) => {
            const p = (s + 1) / POINTS;
            if (key === 'val_acc') return final * (1 - Math.exp(-5 * p));
            return (k + 1) * Math.exp(-3 * p) + 0.01 * rnd();
          }, t0)] as [string, ReturnType<typeof curve>]));
        }
      });
    }
  });
  store.close();
  return { ms };
}

/** Exactly what the Runs view does for its first render. Returns how many items it would show. */
function firstItems(store: Store, filter: RunQuery = {}): number {
  const experiments = store.runs.experiments();
  const { sort, ...matching } = filter;
  const counts = store.runs.countByExperiment(matching);
  const first = experiments.find((e) => (counts.get(e.id) ?? 0) > 0);
  if (!first) return 0;
  const runs = store.runs.list({ ...filter, experimentId: first.id, limit: PAGE });
  store.runs.lastMetric(runs.map((r) => r.id), PRIMARY_METRIC);
  return runs.length;
}

function median(rounds: number, fn: () => void): number {
  const times = Array.from({ length: rounds }, () => timeIt(fn)).sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)]!;
}

export function benchRunsView(report: Report): void {
  const dir = tempDir();
  const { ms: setupMs } = buildRunsViewStore(dir);
  console.log(`\nRuns view: ${RUNS.toLocaleString('en')} runs, ${EXPERIMENTS} experiments, ${METRICS.length} metrics x ${POINTS} points each (built in ${(setupMs / 1000).toFixed(1)} s)`);

  // Baselines: raw reads of the same file.
  const raw = new Database(`${dir}/runs.db`, { readonly: true });
  const newest = raw.prepare(`SELECT * FROM runs ORDER BY created_at DESC LIMIT ${PAGE}`);
  const scan = raw.prepare('SELECT * FROM runs');
  newest.all();
  scan.all();
  const newestMs = median(ROUNDS, () => newest.all());
  const scanMs = median(ROUNDS, () => scan.all());
  raw.close();
  const baselines = (): [string, number][] => [
    [`raw SELECT * FROM runs ORDER BY created_at DESC LIMIT ${PAGE}`, newestMs],
    ['raw full SELECT * FROM runs scan', scanMs],
  ];

  let shown = 0;
  const coldMs = median(5, () => {
    const s = Store.open(dir);
    shown = firstItems(s);
    s.close();
  });
  report(`cold: open store + first items (${shown} runs)`, coldMs, 'ms', baselines(), { higherIsBetter: false, target: '< 100 ms' });

  const store = Store.open(dir);
  const cases: [string, RunQuery][] = [
    ['first items', {}],
    ['first items, text filter "ana"', { text: 'ana' }],
    ['first items, filter "lr < 0.01 and val_acc > 0.9"', { where: 'lr < 0.01 and val_acc > 0.9' }],
    [`first items, sorted by ${PRIMARY_METRIC} desc`, { sort: { by: 'metric', key: PRIMARY_METRIC, dir: 'desc' } }],
    ['first items, filter + sort by param lr asc', { where: 'optimizer == "adam" and use_amp', sort: { by: 'param', key: 'lr', dir: 'asc' } }],
  ];
  for (const [name, query] of cases) {
    firstItems(store, query); // warm
    const ms = median(ROUNDS, () => { shown = firstItems(store, query); });
    report(`${name} (${shown} runs)`, ms, 'ms', baselines(), { higherIsBetter: false, target: '< 50 ms' });
  }
  const keysMs = median(ROUNDS, () => store.runs.filterKeys());
  report('filter keys (params, metrics, tags for "did you mean")', keysMs, 'ms', baselines(), { higherIsBetter: false });
  store.close();
}
