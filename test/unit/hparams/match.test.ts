import assert from 'node:assert/strict';
import { test } from 'node:test';
import { makeMatcher, matchParam } from '../../../src/core/hparams/match.ts';

const DEMO = ['model.hidden', 'seed', 'train.batch_size', 'train.epochs', 'train.l2', 'train.lr'];

test('exact, then case-insensitive, then the one key with that last part', () => {
  const match = makeMatcher(DEMO);
  assert.equal(match('seed'), 'seed');
  assert.equal(match('SEED'), 'seed');
  assert.equal(match('train.lr'), 'train.lr');
  assert.equal(match('lr'), 'train.lr');
  assert.equal(match('LR'), 'train.lr');
  assert.equal(match('HIDDEN'), 'model.hidden');
  assert.equal(match('batch-size'), 'train.batch_size');
  assert.equal(match('BATCH_SIZE'), 'train.batch_size');
  assert.equal(match('Train.LR'), 'train.lr');
  assert.equal(match('dropout'), undefined);
  assert.equal(match('r'), undefined, 'a suffix is a whole key part');
  assert.equal(match('rain.lr'), undefined);
});

test('ambiguous names match nothing, unless one is exact', () => {
  const keys = ['opt.lr', 'sched.lr', 'Seed', 'seed', 'a.b.c', 'x.b.c'];
  assert.equal(matchParam('lr', keys), undefined);
  assert.equal(matchParam('opt.lr', keys), 'opt.lr');
  assert.equal(matchParam('seed', keys), 'seed');
  assert.equal(matchParam('SEED', keys), undefined);
  assert.equal(matchParam('b.c', keys), undefined);
  assert.equal(matchParam('a.b.c', keys), 'a.b.c');
  assert.equal(matchParam('LR', ['lr', 'train.lr']), 'lr', 'case-insensitive before suffix');
});

test('a dotted name matches the recorded key it ends with, the longest first', () => {
  assert.equal(matchParam('train.lr', ['lr', 'seed']), 'lr');
  assert.equal(matchParam('cfg.train.lr', ['train.lr', 'lr']), 'train.lr');
  assert.equal(matchParam('cfg.Train-LR', ['train_lr']), 'train_lr');
  assert.equal(matchParam('a.Lr', ['LR', 'lr']), undefined, 'ambiguous');
  assert.equal(matchParam('a.lr', ['LR', 'lr']), 'lr', 'an exact tail wins');
  assert.equal(matchParam('a.lr', ['x.lr']), undefined, 'suffixes are not matched against suffixes');
});

test('the explicit map wins, even over an exact key', () => {
  const match = makeMatcher(DEMO, { LR: 'train.lr', seed: 'train.seed', toString: 'model.hidden' });
  assert.equal(match('LR'), 'train.lr');
  assert.equal(match('seed'), 'train.seed');
  assert.equal(match('toString'), 'model.hidden');
  assert.equal(match('constructor'), undefined, 'only own keys of the map');
});
