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
