import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { findPythonParams } from '../../../src/core/hparams/findPython.ts';

const fixtures = join(import.meta.dirname, '..', 'fixtures', 'hparams');
const patterns = readFileSync(join(fixtures, 'patterns.py'), 'utf8');

/** [kind, name, value, 0-based line, the text at the range, the value as written] */
const EXPECTED = [
  ['constant', 'LR', 0.001, 5, 'LR', '1e-3'],
  ['constant', 'BATCH_SIZE', 64, 6, 'BATCH_SIZE', '64'],
  ['constant', 'DROPOUT', 0.1, 7, 'DROPOUT', '0.1'],
  ['constant', 'WARMUP', -0.5, 8, 'WARMUP', '-0.5'],
  ['constant', 'MAX_STEPS', 1000, 9, 'MAX_STEPS', '1_000'],
  ['constant', 'OPTIMIZER', 'adam', 10, 'OPTIMIZER', "'adam'"],
  ['constant', 'USE_AMP', true, 11, 'USE_AMP', 'True'],
  ['constant', '_SEED', 42, 12, '_SEED', '0x2A'],
  ['dict', 'epochs', 10, 20, 'epochs', '10'],
  ['dict', 'model.dropout', 0.25, 21, 'dropout', '0.25'],
  ['dict', 'model.act', 'relu', 21, 'act', '"relu"'],
  ['dict', 'wd', 0.0001, 22, 'wd', '1e-4'],
  ['dict', 'seed', 7, 25, 'seed', '7'],
  ['dict', 'name', 'baseline', 25, 'name', '"baseline"'],
  ['dataclass', 'lr', 0.0003, 30, 'lr', '3e-4'],
  ['dataclass', 'steps', 500, 31, 'steps', '500'],
  ['dataclass', 'width', 128, 38, 'width', '128'],
  ['kwarg', 'lr', 0.01, 45, 'lr', '1e-2'],
  ['kwarg', 'epochs', 3, 45, 'epochs', '3'],
  ['argparse', 'learning_rate', 0.002, 56, 'learning-rate', '2e-3'],
  ['argparse', 'batch_size', 32, 57, 'batch-size', '32'],
  ['argparse', 'out_dir', 'runs', 58, 'out_dir', '"runs"'],
  ['argparse', 'fp16', false, 59, 'fp16', undefined],
  ['argparse', 'label_smoothing', undefined, 60, 'label-smoothing', undefined],
];

test('every Python pattern is found with its exact name, value, line and range', () => {
  const found = findPythonParams(patterns, { entryPoints: ['train'] });
  assert.deepEqual(found.map((p) => [p.kind, p.name, p.value, p.line, patterns.slice(p.range.start, p.range.end), p.valueText]), EXPECTED);
  for (const p of found) {
    assert.equal(p.key, p.name);
    assert.equal(patterns.split('\n')[p.line]!.includes(patterns.slice(p.range.start, p.range.end)), true, p.name);
    if (p.valueRange) assert.equal(patterns.slice(p.valueRange.start, p.valueRange.end), p.valueText);
  }
});

test('keyword defaults are params only for the named entry points', () => {
  const names = (entryPoints?: string[]) => findPythonParams(patterns, { entryPoints }).filter((p) => p.kind === 'kwarg').map((p) => p.name);
  assert.deepEqual(names(), []);
  assert.deepEqual(names(['helper']), ['momentum']);
  assert.deepEqual(names(['train', 'helper']), ['lr', 'epochs', 'momentum']);
});

test('constants only at module level; config dicts by name, any case', () => {
  const text = [
    'def f():', '    LR = 1', 'class K:', '    WD = 2', 'if True:', '    EPOCHS = 3',
    'CFG = {"a": 1}', 'Params = {"b": {"c": {"d": "x"}}}', 'settings = {"e": 5}', 'hparams: dict = {"f": False}',
  ].join('\n');
  assert.deepEqual(findPythonParams(text).map((p) => [p.kind, p.name, p.value]),
    [['dict', 'a', 1], ['dict', 'b.c.d', 'x'], ['dict', 'f', false]]);
});

test('literals: signs, bases, underscores, escapes; not complex numbers, bytes, f-strings or None', () => {
  const text = [
    'A = +3', 'B = -1_000.5', 'C = 0o17', 'D = 0b101', 'E = .5', 'F = 2j', 'G = b"x"', 'H = f"{A}"', 'I = None',
    'J = "tab\\there"', "K = r'a\\n'", 'L = """multi\nline"""', 'M = "a" "b"', 'N = -True', 'O = 1e999',
  ].join('\n');
  assert.deepEqual(findPythonParams(text).map((p) => [p.name, p.value]),
    [['A', 3], ['B', -1000.5], ['C', 15], ['D', 5], ['E', 0.5], ['J', 'tab\there'], ['K', 'a\\n'], ['L', 'multi\nline']]);
});

test('argparse: any receiver, dest wins, positional arguments and non-literal defaults', () => {
  const text = [
    'g.add_argument("--wd", default=1e-4)',
    'self.parser.add_argument("-x", "--drop-rate", dest="dropout", default=0.1)',
    'ap.add_argument("--steps", default=STEPS)',
    'ap.add_argument("--no-aug", action="store_false")',
    'ap.add_argument("file")',
    'ap.add_argument("-q")',
    'add_argument("--bare", default=1)',
  ].join('\n');
  const found = findPythonParams(text);
  assert.deepEqual(found.map((p) => [p.name, p.value, p.valueText, text.slice(p.range.start, p.range.end)]), [
    ['wd', 0.0001, '1e-4', 'wd'],
    ['dropout', 0.1, '0.1', 'dropout'],
    ['steps', undefined, undefined, 'steps'],
    ['no_aug', true, undefined, 'no-aug'],
  ]);
});

test('nothing inside strings or comments is found', () => {
  const text = [
    '"""', 'LR = 1e-3', 'p.add_argument("--lr", default=1)', '"""',
    "# BATCH = 32",
    "s = 'p.add_argument(\"--x\", default=2)'",
    'f"{p.add_argument(\'--y\', default=3)}"',
    'EPOCHS = 5',
  ].join('\n');
  assert.deepEqual(findPythonParams(text).map((p) => p.name), ['EPOCHS']);
});

test('a changed text parsed incrementally finds what a fresh parse finds', () => {
  const key = 'file:///incremental.py';
  findPythonParams(patterns, { entryPoints: ['train'], cacheKey: key });
  const edited = patterns.replace('LR = 1e-3', 'LR = 3e-3\nNEW_ONE = 7').replace('"epochs": 10', '"epochs": 12');
  const incremental = findPythonParams(edited, { entryPoints: ['train'], cacheKey: key });
  assert.deepEqual(incremental, findPythonParams(edited, { entryPoints: ['train'] }));
  assert.deepEqual(incremental.slice(0, 2).map((p) => [p.name, p.value]), [['LR', 0.003], ['NEW_ONE', 7]]);
  assert.equal(incremental.find((p) => p.name === 'epochs')?.value, 12);
});
