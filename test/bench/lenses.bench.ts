// Hyperparameter CodeLens: what the lenses for a 2,000-line Python file cost against a store of
// 1,000 runs, and what building the index costs at 10,000 runs x 10 params. Each figure is the
// median of several rounds, printed next to baselines measured in the same run.
import Database from 'better-sqlite3';
import { parser } from '@lezer/python';
import { lensesFor } from '../../src/core/hparams/lens.ts';
import { ParamIndex } from '../../src/core/hparams/paramIndex.ts';
import { Store } from '../../src/core/store/store.ts';
import { type Report, tempDir, timeIt } from './util.ts';
import { prng } from '../../src/core/hparams/sweep.ts';

const scale = Number(process.env.BENCH_SCALE ?? 1);
const LINES = 2000;
const ROUNDS = 21;
const PRIMARY = { name: 'val_acc', goal: 'max' as const };


/** A training script of `lines` lines: constants, argparse options, config dicts and plain code. */
export function pythonFile(lines: number): string {
  const out = ['import argparse', 'LR = 1e-3', 'BATCH_SIZE = 64', 'DROPOUT: float = 0.1', 'SEED = 42', 'config = {"model": {"hidden": 128, "layers": 4}, "optimizer": "adam"}', ''];
  for (let i = 0; out.length < lines; i++) {
    out.push(
      `CONST_${i} = ${i % 7 === 0 ? `"name-${i}"` : `${i}e-4`}`,
      `params_${i} = {"a": ${i}, "b": {"c": ${i / 10}}}`,
      'def step(x, y=2):',
      `    return x * y + ${i}  # plain code`,
      `parser.add_argument("--opt-${i}", type=float, default=${i / 100})`,
      i % 10 === 0 ? 'parser.add_argument("--epochs", type=int, default=10)' : `print(CONST_${i})`,
    );
  }
  return out.slice(0, lines).join('\n');
}

/** `runs` runs with 10 params each and a short val_acc curve. */
function buildStore(dir: string, runs: number): { store: Store; ms: number } {
  let clock = 1_700_000_000_000;
  const store = Store.open(dir, { now: () => (clock += 1000) });
  const rnd = prng(7);
  const curve = (final: number) => {
    const steps = new Float64Array(5), times = new Float64Array(5), values = new Float64Array(5);
    for (let i = 0; i < 5; i++) { steps[i] = i; times[i] = clock + i; values[i] = final * (i + 1) / 5; }
    return { steps, times, values };
  };
  const ms = timeIt(() => {
    for (let from = 0; from < runs; from += 500) {
      store.transaction(() => {
        for (let i = from; i < Math.min(runs, from + 500); i++) {
          const run = store.runs.create({
            status: 'finished',
            params: {
              'train.lr': [1e-4, 3e-4, 1e-3, 3e-3, 1e-2][i % 5]!, 'train.batch_size': [32, 64, 128][i % 3]!,
              'train.epochs': 10 + (i % 4) * 10, 'train.l2': 10 ** (-6 + 3 * rnd()), 'model.dropout': Math.round(rnd() * 50) / 100,
              'model.hidden': [64, 128, 256][i % 3]!, 'model.layers': 2 + (i % 3), seed: i, optimizer: i % 3 ? 'adam' : 'sgd', use_amp: i % 2 === 0,
            },
          });
          store.metrics.append(run.id, 'val_acc', curve(0.5 + 0.49 * rnd()));
        }
      });
    }
  });
  return { store, ms };
}

function median(rounds: number, fn: () => void): number {
  const times = Array.from({ length: rounds }, () => timeIt(fn)).sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)]!;
}

export function benchLenses(report: Report): void {
  const text = pythonFile(LINES);
  const small = buildStore(tempDir(), Math.max(50, Math.round(1000 * scale)));
  const index = ParamIndex.build(small.store, PRIMARY);
  console.log(`\nHyperparameter lenses: a ${LINES.toLocaleString('en')}-line Python file (${(text.length / 1024).toFixed(0)} KB), ${index.stats('seed')!.runs.toLocaleString('en')} runs x 10 params`);

  // Baselines: the bare Lezer parse of the same file, and a loop that only reads its characters.
  let sink = 0;
  for (let i = 0; i < 20; i++) parser.parse(text);
  const parseMs = median(ROUNDS, () => { sink += parser.parse(text).length; });
  const scanMs = median(ROUNDS, () => { for (let i = 0; i < text.length; i++) sink += text.charCodeAt(i); });
  const baselines = (): [string, number][] => [['bare @lezer/python parse of the file', parseMs], ['a loop reading every character', scanMs]];

  let n = 0, key = 0;
  for (let i = 0; i < 20; i++) lensesFor(text, 'python', index, { cacheKey: `warm-${i}` });
  const fullMs = median(ROUNDS, () => { n = lensesFor(text, 'python', index, { cacheKey: `full-${key++}` }).length; });
  report(`lenses, full parse (${n} lenses)`, fullMs, 'ms', baselines(), { higherIsBetter: false, target: '< 20 ms' });

  let edit = 0;
  lensesFor(text, 'python', index, { cacheKey: 'edited' });
  const editMs = median(ROUNDS, () => {
    const at = text.indexOf('LR = 1e-3') + 5;
    n = lensesFor(`${text.slice(0, at)}${++edit % 9}${text.slice(at + 1)}`, 'python', index, { cacheKey: 'edited' }).length;
  });
  report(`lenses after a one-character edit (incremental parse, ${n} lenses)`, editMs, 'ms', baselines(), { higherIsBetter: false, target: '< 20 ms' });
  const sameMs = median(ROUNDS, () => { n = lensesFor(text, 'python', index, { cacheKey: 'edited' }).length; });
  report('lenses for an unchanged text (tree kept)', sameMs, 'ms', baselines(), { higherIsBetter: false });
  small.store.close();

  const runs = Math.max(100, Math.round(10_000 * scale));
  const big = buildStore(tempDir(), runs);
  console.log(`\nParam index: ${runs.toLocaleString('en')} runs x 10 params (store built in ${(big.ms / 1000).toFixed(1)} s)`);
  const raw = new Database(big.store.file, { readonly: true });
  const scan = raw.prepare('SELECT * FROM params').raw();
  scan.all();
  const scanParamsMs = median(9, () => { sink += scan.all().length; });
  raw.close();
  ParamIndex.build(big.store, PRIMARY);
  const buildMs = median(9, () => { sink += ParamIndex.build(big.store, PRIMARY).keys().length; });
  report('index build, primary metric given', buildMs, 'ms', [['raw SELECT * FROM params (every row, no join)', scanParamsMs]], { higherIsBetter: false, target: '< 200 ms' });
  const guessMs = median(9, () => { sink += ParamIndex.build(big.store, undefined).keys().length; });
  report('index build, primary metric guessed', guessMs, 'ms', [['raw SELECT * FROM params (every row, no join)', scanParamsMs]], { higherIsBetter: false, target: '< 200 ms' });
  big.store.close();
  if (sink === 0.5) console.log(''); // keeps the measured work from being optimised away
}
