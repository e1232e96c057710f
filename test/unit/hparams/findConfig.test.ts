import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { type ConfigFormat, findConfigParams } from '../../../src/core/hparams/findConfig.ts';
import { tomlKeys } from '../../../src/core/hparams/tomlKeys.ts';

const fixtures = join(import.meta.dirname, '..', 'fixtures', 'hparams');

/** [key, value, line, the text at the range, the value as written] for every param found. */
function read(file: string, format: ConfigFormat, text = readFileSync(join(fixtures, file), 'utf8')) {
  return findConfigParams(text, format).map((p) => {
    assert.equal(p.kind, 'config');
    assert.equal(p.name, p.key);
    assert.equal(text.slice(p.valueRange!.start, p.valueRange!.end), p.valueText);
    return [p.key, p.value, p.line, text.slice(p.range.start, p.range.end), p.valueText];
  });
}

test('params.yaml: every leaf scalar with its dotted key; lists and nulls skipped', () => {
  assert.deepEqual(read('params.yaml', 'yaml'), [
    ['seed', 42, 1, 'seed', '42'],
    ['train.lr', 0.3, 4, 'lr', '0.3'],
    ['train.epochs', 30, 5, 'epochs', '30'],
    ['train.batch_size', 32, 6, 'batch_size', '32'],
    ['train.l2', 0.0001, 7, 'l2', '1e-4'],
    ['train.amp', true, 9, 'amp', 'true'],
    ['train.quoted key', 'fast', 10, 'quoted key', 'fast'],
    ['model.hidden', 16, 13, 'hidden', '16'],
    ['model.encoder.layers', 2, 15, 'layers', '2'],
    ['model.encoder.act', 'gelu', 16, 'act', 'gelu'],
  ]);
});

test('the demo params.yaml gives the keys the demo records', () => {
  const text = readFileSync(join(import.meta.dirname, '..', '..', '..', 'demo', 'params.yaml'), 'utf8');
  assert.deepEqual(findConfigParams(text, 'yaml').map((p) => p.key),
    ['seed', 'train.lr', 'train.epochs', 'train.batch_size', 'train.l2', 'model.hidden']);
});

test('nested JSON with comments and trailing commas', () => {
  assert.deepEqual(read('config.json', 'json'), [
    ['seed', 7, 2, 'seed', '7'],
    ['optimizer.name', 'adam', 4, 'name', '"adam"'],
    ['optimizer.lr', 0.001, 5, 'lr', '0.001'],
    ['optimizer.schedule.warmup', 500, 7, 'warmup', '500'],
    ['optimizer.schedule.cosine', true, 7, 'cosine', 'true'],
    ['data.path', 'data/train.csv', 9, 'path', '"data/train.csv"'],
  ]);
});

test('TOML: tables, dotted and quoted keys, multi-line values; arrays, inline and array tables skipped', () => {
  assert.deepEqual(read('config.toml', 'toml'), [
    ['seed', 1234, 1, 'seed', '1_234'],
    ['name', 'baseline', 2, 'name', '"baseline"'],
    ['optim.lr', 0.0003, 3, 'lr', '3e-4'],
    ['notes', 'spans lines\nwith = signs', 6, 'notes', '"""\nspans lines\nwith = signs"""'],
    ['model.hidden', 256, 11, 'hidden', '256'],
    ['model.dropout', 0.1, 12, 'dropout', '0.1'],
    ['model.act', 'relu', 13, 'act', "'relu'"],
    ['model.encoder.layers', 4, 17, 'layers', '4'],
    ['train.epochs', 20, 23, 'epochs', '20'],
    ['train.amp', false, 24, 'amp', 'false'],
  ]);
});

test('a prefix goes before every key (a Hydra config group)', () => {
  assert.deepEqual(findConfigParams('lr: 0.1\n', 'yaml', { prefix: 'optim' }).map((p) => [p.name, p.key]), [['lr', 'optim.lr']]);
});

test('on a syntax error only what comes before its line is kept, and nothing throws', () => {
  const keys = (text: string, format: ConfigFormat) => findConfigParams(text, format).map((p) => `${p.key}=${p.value}`);
  assert.deepEqual(keys('a: 1\nb:\n  c: 2\nd: [1, 2\ne: 3\n', 'yaml'), ['a=1', 'b.c=2']);
  assert.deepEqual(keys('a: 1\n  b: 2\nc: 3\n', 'yaml'), []); // the error is on a's line
  assert.deepEqual(keys('a: "open\nb: 2\n', 'yaml'), []);
  assert.deepEqual(keys('{"a": 1, "b": {"c": 2,\n "d": }, "e": 3}', 'json'), ['a=1', 'b.c=2']);
  assert.deepEqual(keys('a = 1\n[t]\nb = 2\nc = \nd = 4\n', 'toml'), ['a=1', 't.b=2']);
  assert.deepEqual(keys('a = """never closed\nb = 2\n', 'toml'), []);
  for (const format of ['yaml', 'json', 'toml'] as const) {
    for (const text of ['', '\0\0', '{{{{', ']]]', '"', 'a:\n\t- b', '[a', '= 1', 'x'.repeat(100_000), '[' .repeat(5000)]) {
      assert.ok(Array.isArray(findConfigParams(text, format)), `${format}: ${text.slice(0, 10)}`);
    }
  }
});

test('the TOML key scanner stops at the given offset', () => {
  const text = 'a = 1\nb = 2\n';
  assert.deepEqual(tomlKeys(text, 6).map((k) => k.path), [['a']]);
  assert.deepEqual(tomlKeys(text).map((k) => [k.path, text.slice(k.valueRange.start, k.valueRange.end)]), [[['a'], '1'], [['b'], '2']]);
});
