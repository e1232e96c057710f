import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ambiguityMessage, nameResolver, requireKey, resolveName } from '../../src/core/query/resolveName.ts';

const DEMO = ['model.hidden', 'seed', 'train.batch_size', 'train.epochs', 'train.l2', 'train.lr'];

test('a unique dotted suffix finds its key: lr means train.lr', () => {
  assert.deepEqual(resolveName('lr', DEMO), { kind: 'found', key: 'train.lr', by: 'suffix' });
  assert.deepEqual(resolveName('hidden', DEMO), { kind: 'found', key: 'model.hidden', by: 'suffix' });
  assert.deepEqual(resolveName('b.c', ['a.b.c', 'seed']), { kind: 'found', key: 'a.b.c', by: 'suffix' }, 'a suffix may hold dots');
  assert.deepEqual(resolveName('r', DEMO), { kind: 'none' }, 'a suffix is whole key parts');
  assert.deepEqual(resolveName('rain.lr', DEMO), { kind: 'none' });
  assert.deepEqual(resolveName('train', DEMO), { kind: 'none' }, 'a prefix is not a suffix');
});

test('case and _ - . are ignored, before the suffix step', () => {
  const keys = ['val_acc', 'train.batch_size', 'Train/Loss'];
  for (const name of ['val-acc', 'VAL_ACC', 'Val.Acc', 'valacc']) {
    assert.deepEqual(resolveName(name, keys), { kind: 'found', key: 'val_acc', by: 'loose' }, name);
  }
  assert.deepEqual(resolveName('batch-size', keys), { kind: 'found', key: 'train.batch_size', by: 'suffix' });
  assert.deepEqual(resolveName('TRAIN_BATCH-SIZE', keys), { kind: 'found', key: 'train.batch_size', by: 'loose' });
  assert.deepEqual(resolveName('train/loss', keys), { kind: 'found', key: 'Train/Loss', by: 'loose' });
  assert.deepEqual(resolveName('LR', ['lr', 'train.lr']), { kind: 'found', key: 'lr', by: 'loose' }, 'the loose step comes before suffixes');
});

test('exact wins over every other step, even where those are ambiguous', () => {
  assert.deepEqual(resolveName('lr', ['lr', 'train.lr', 'optim.lr', 'LR']), { kind: 'found', key: 'lr', by: 'exact' });
  assert.deepEqual(resolveName('Seed', ['seed', 'Seed']), { kind: 'found', key: 'Seed', by: 'exact' });
  assert.deepEqual(resolveName('SEED', ['seed', 'Seed']), { kind: 'ambiguous', candidates: ['Seed', 'seed'] });
});

test('an ambiguous suffix lists every candidate, sorted', () => {
  assert.deepEqual(resolveName('lr', ['train.lr', 'optim.lr', 'seed']), { kind: 'ambiguous', candidates: ['optim.lr', 'train.lr'] });
  assert.deepEqual(resolveName('c', ['a.b.c', 'x.c', 'a.b']), { kind: 'ambiguous', candidates: ['a.b.c', 'x.c'] });
  assert.equal(ambiguityMessage('lr', ['optim.lr', 'train.lr']), '"lr" could be optim.lr or train.lr');
  assert.equal(ambiguityMessage('x', ['a.x', 'b.x', 'c.x']), '"x" could be a.x, b.x or c.x');
  const many = Array.from({ length: 9 }, (_, i) => `g${i}.x`);
  assert.equal(ambiguityMessage('x', many), '"x" could be g0.x, g1.x, g2.x, g3.x, g4.x or 4 more');
});

test('requireKey gives the key, or says which candidates or which likely typo', () => {
  assert.equal(requireKey('lr', DEMO, 'param'), 'train.lr');
  assert.throws(() => requireKey('lr', ['a.lr', 'b.lr'], 'param'), { message: '"lr" could be a.lr or b.lr' });
  assert.throws(() => requireKey('trian.lr', DEMO, 'param'), { message: 'No param named "trian.lr". Did you mean "train.lr"?' });
  assert.throws(() => requireKey('dropout', DEMO, 'metric'), { message: 'No metric named "dropout".' });
});

test('params and metrics given as one pool: a key that is in both is one candidate, not two', () => {
  // The filter resolves a plain name over params and metrics together; the same key in both then
  // means the param. Different keys compete like any others.
  const pool = ['train.lr', 'lr_schedule', 'val_acc', 'val_acc'];
  assert.deepEqual(resolveName('VAL_ACC', pool), { kind: 'found', key: 'val_acc', by: 'loose' });
  assert.deepEqual(resolveName('lr', [...pool, 'sched.lr']), { kind: 'ambiguous', candidates: ['sched.lr', 'train.lr'] });
  assert.deepEqual(resolveName('lr', [...pool, 'lr']), { kind: 'found', key: 'lr', by: 'exact' }, 'an exact metric beats a param suffix');
});

test('a resolver can stop before the suffix step', () => {
  const resolve = nameResolver(DEMO);
  assert.deepEqual(resolve('lr', { suffix: false }), { kind: 'none' });
  assert.deepEqual(resolve('SEED', { suffix: false }), { kind: 'found', key: 'seed', by: 'loose' });
  assert.deepEqual(resolve(''), { kind: 'none' });
  assert.deepEqual(resolve('_'), { kind: 'none' }, 'nothing left after ignoring separators');
});
