import assert from 'node:assert/strict';
import { test } from 'node:test';
import { applyOverrides, overrideArgs, parseOverrides } from '../../src/core/config/overrides.ts';

test('overrides are typed like YAML scalars and may be quoted', () => {
  assert.deepEqual(parseOverrides('lr=0.01 train.epochs=5 amp=true name="two words" tag=\'x y\' opt=adam'),
    { lr: 0.01, 'train.epochs': 5, amp: true, name: 'two words', tag: 'x y', opt: 'adam' });
  assert.deepEqual(parseOverrides('  '), {});
  assert.throws(() => parseOverrides('lr 0.1'), /key=value pairs/);
});

test('argparse style uses the last key part as a flag; hydra keeps the dotted key', () => {
  const o = { 'train.lr': 0.1, 'model.hidden_size': 8 };
  assert.deepEqual(overrideArgs('argparse', o), ['--lr', '0.1', '--hidden-size', '8']);
  assert.deepEqual(overrideArgs('hydra', o), ['train.lr=0.1', 'model.hidden_size=8']);
});

test('the recorded params carry the overrides', () => {
  assert.deepEqual(applyOverrides({ 'train.lr': 0.3, seed: 42 }, { 'train.lr': 0.1 }), { 'train.lr': 0.1, seed: 42 });
});

test('a per-run copy of the params file carries the overrides; the original is untouched', async () => {
  const { mkdtempSync, readFileSync, writeFileSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const { parse } = await import('yaml');
  const { writeParamsCopies } = await import('../../src/core/config/paramsCopy.ts');
  const dir = mkdtempSync(join(tmpdir(), 'runlens-params-'));
  const original = '# tuned by hand\nseed: 42\ntrain:\n  lr: 0.3   # learning rate\n  epochs: 30\n';
  writeFileSync(join(dir, 'params.yaml'), original);
  writeFileSync(join(dir, 'extra.json'), '{"model": {"hidden": 16}}');
  const copies = writeParamsCopies(['params.yaml', 'extra.json'], dir, { 'train.lr': 0.05, 'model.hidden': 8, 'new.key': true }, join(dir, 'out'));
  const yamlCopy = readFileSync(copies.get('params.yaml')!, 'utf8');
  assert.match(yamlCopy, /# tuned by hand/);
  assert.match(yamlCopy, /lr: 0\.05 +# learning rate/);
  assert.deepEqual(parse(yamlCopy), { seed: 42, train: { lr: 0.05, epochs: 30 }, new: { key: true } });
  assert.deepEqual(JSON.parse(readFileSync(copies.get('extra.json')!, 'utf8')), { model: { hidden: 8 } });
  assert.equal(readFileSync(join(dir, 'params.yaml'), 'utf8'), original);
});
