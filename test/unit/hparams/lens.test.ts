import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { FoundParam } from '../../../src/core/hparams/found.ts';
import { hoverMarkdown, lensesFor, lensTitle, paramText, sparkline } from '../../../src/core/hparams/lens.ts';
import { ParamIndex, type ParamStats, type ValueStats } from '../../../src/core/hparams/paramIndex.ts';
import { fixture } from './storeFixture.ts';

const found = (name: string, value?: FoundParam['value']): FoundParam =>
  ({ name, key: name, range: { start: 0, end: name.length }, kind: 'constant', line: 0, ...(value === undefined ? {} : { value }) });

const v = (value: number, runs: number, best: number | null, mean: number | null, last: number | null, at: number): ValueStats =>
  ({ value, runs, runIds: [], best, bestRunId: best === null ? null : at, mean, scored: best === null ? 0 : runs, last, lastAt: at });

const STATS: ParamStats = {
  key: 'train.lr', runs: 5, best: { value: 0.003, metric: 0.9375, runId: 3 },
  values: [v(0.001, 2, 0.875, 0.8125, 0.75, 2), v(0.003, 2, 0.9375, 0.9375, 0.9375, 3), v(0.01, 1, 0.625, 0.625, 0.625, 4)],
};
const PRIMARY = { name: 'val_acc', goal: 'max' as const };

test('param values print short', () => {
  const cases: [FoundParam['value'] & {}, string][] = [
    [0.001, '1e-3'], [0.003, '3e-3'], [0.0015, '1.5e-3'], [-0.0001, '-1e-4'], [0.1, '0.1'], [0.25, '0.25'], [0.123456, '0.1235'],
    [0, '0'], [64, '64'], [1e6, '1e6'], [1234567, '1.235e6'], [2.5e-7, '2.5e-7'], [true, 'true'], ['adam', 'adam'],
    ['a'.repeat(30), `${'a'.repeat(23)}…`],
  ];
  for (const [value, text] of cases) assert.equal(paramText(value), text, String(value));
});

test('lens titles', () => {
  assert.equal(lensTitle(found('LR', 0.001), STATS, PRIMARY), 'train.lr · 5 runs · best val_acc 0.9375 @ 3e-3 · here 1e-3');
  assert.equal(lensTitle(found('LR', 0.003), STATS, PRIMARY), 'train.lr · 5 runs · best val_acc 0.9375 @ 3e-3 · here 3e-3 (best)');
  assert.equal(lensTitle(found('LR', 0.02), STATS, PRIMARY), 'train.lr · 5 runs · best val_acc 0.9375 @ 3e-3 · here 0.02 (untried)');
  assert.equal(lensTitle(found('lr'), STATS, PRIMARY), 'train.lr · 5 runs · best val_acc 0.9375 @ 3e-3');
  const noMetric: ParamStats = { key: 'lr', runs: 1, values: [v(0.1, 1, null, null, null, 1)] };
  assert.equal(lensTitle(found('lr', 0.1), noMetric, undefined), 'lr · 1 run · 1 value · here 0.1');
  assert.equal(lensTitle(found('lr', 0.1), noMetric, PRIMARY), 'lr · 1 run · 1 value · here 0.1');
  assert.equal(lensTitle(found('LR', 0.1), undefined, PRIMARY), 'LR · not in any run yet');
});

test('hover: a table of values tried, the best and here marked, and a sparkline', () => {
  assert.equal(hoverMarkdown(found('LR', 0.001), STATS, PRIMARY), [
    '**train.lr** · 5 runs · 3 values · here 1e-3',
    '',
    'Best val\\_acc (max) 0.9375 @ 3e-3, run 3.',
    '',
    '| value | runs | best val\\_acc | mean | last |',
    '|---|---:|---:|---:|---:|',
    '| 1e-3 ← here | 2 | 0.875 | 0.8125 | 0.75 |',
    '| 3e-3 ★ | 2 | 0.9375 | 0.9375 | 0.9375 |',
    '| 0.01 | 1 | 0.625 | 0.625 | 0.625 |',
    '',
    'Best val\\_acc by value: ▇█▁',
  ].join('\n'));
  assert.equal(hoverMarkdown(found('LR'), undefined, PRIMARY), '**LR** is not in any run yet.');
});

test('hover: more than 20 values are merged into 20 rows of neighbours', () => {
  const values = Array.from({ length: 45 }, (_, i) => v(i + 1, 1, i === 30 ? 1 : 0.5, 0.5, 0.5, i));
  const stats: ParamStats = { key: 'width', runs: 45, values, best: { value: 31, metric: 1, runId: 30 } };
  const md = hoverMarkdown(found('WIDTH', 7), stats, PRIMARY);
  const rows = md.split('\n').filter((l) => /^\| \d/.test(l));
  assert.equal(rows.length, 20);
  assert.equal(rows[0], '| 1 – 2 | 2 | 0.5 | 0.5 | 0.5 |');
  assert.equal(rows[3], '| 7 – 9 ← here | 3 | 0.5 | 0.5 | 0.5 |');
  assert.equal(rows.filter((r) => r.includes('★')).length, 1);
  assert.match(md, /\| 30 – 31 ★ \| 2 \| 1 \| 0\.5 \| 0\.5 \|/);
  assert.equal(rows.reduce((n, r) => n + Number(r.split('|')[2]), 0), 45);
});

test('sparkline', () => {
  assert.equal(sparkline([1, 2, null, 3, 8]), '▁▂·▃█');
  assert.equal(sparkline([5, 5]), '▄▄');
  assert.equal(sparkline([null]), '·');
});

test('lensesFor: find, match to recorded keys, title; unrecorded params say so', () => {
  const { store } = fixture();
  const index = ParamIndex.build(store, { name: 'val_acc', goal: 'max' });
  const py = 'LR = 0.003\nHIDDEN = 8\np.add_argument("--opt", default="sgd")\nDROPOUT = 0.5\n';
  assert.deepEqual(lensesFor(py, 'python', index).map((l) => [l.line, l.name, l.key, l.title, l.bestValue, l.runs]), [
    [0, 'LR', 'lr', 'lr · 6 runs · best val_acc 0.9375 @ 3e-3 · here 3e-3 (best)', 0.003, 6],
    [1, 'HIDDEN', 'hidden', 'hidden · 5 runs · best val_acc 0.9375 @ 16 · here 8', 16, 5],
    [2, 'opt', 'opt', 'opt · 3 runs · best val_acc 0.9375 @ adam · here sgd', 'adam', 3],
    [3, 'DROPOUT', undefined, 'DROPOUT · not in any run yet', undefined, 0],
  ]);
  const yaml = 'train:\n  lr: 0.01\n  amp: false\n';
  assert.deepEqual(lensesFor(yaml, 'yaml', index, { map: { 'train.lr': 'lr' } }).map((l) => [l.key, l.title]), [
    ['lr', 'lr · 6 runs · best val_acc 0.9375 @ 3e-3 · here 0.01'],
    ['amp', 'amp · 2 runs · best val_acc 0.875 @ true · here false'],
  ]);
  assert.deepEqual(lensesFor('{"opt": "adam"}', 'jsonc', index).map((l) => l.key), ['opt']);
  assert.deepEqual(lensesFor('hidden = 16\n', 'toml', index).map((l) => l.title), ['hidden · 5 runs · best val_acc 0.9375 @ 16 · here 16 (best)']);
  assert.deepEqual(lensesFor('LR = 1', 'rust', index), []);
  store.close();
});
