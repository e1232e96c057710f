import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compareValues, ParamIndex } from '../../../src/core/hparams/paramIndex.ts';
import { Store } from '../../../src/core/store/store.ts';
import type { ParamValue } from '../../../src/core/types.ts';
import { series, tempDir } from '../helpers.ts';
import { fixture } from './storeFixture.ts';

test('per value: runs, run ids, best / mean / last of the primary metric; the best value overall', () => {
  const { store, runs: [r1, r2, r3, r4, r5, r6] } = fixture();
  const index = ParamIndex.build(store, { name: 'val_acc', goal: 'max' });
  assert.deepEqual(index.primary, { name: 'val_acc', goal: 'max' });
  assert.deepEqual(index.keys(), ['amp', 'hidden', 'lr', 'opt']);
  const lr = index.stats('lr')!;
  assert.equal(lr.runs, 6);
  assert.deepEqual(lr.values.map((v) => [v.value, v.runs, v.runIds, v.best, v.bestRunId, v.mean, v.scored, v.last]), [
    [0.001, 2, [r1, r2], 0.875, r1, 0.8125, 2, 0.75], // last is the newer run's, though worse
    [0.003, 2, [r3, r5], 0.9375, r3, 0.9375, 1, 0.9375],
    [0.01, 2, [r4, r6], 0.625, r4, 0.625, 1, 0.625], // r4's last value, not its peak; r6's NaN is no value
  ]);
  assert.deepEqual(lr.best, { value: 0.003, metric: 0.9375, runId: r3 });
  assert.deepEqual(index.stats('amp')!.values.map((v) => [v.value, v.runs, v.best]), [[false, 1, 0.75], [true, 1, 0.875]]);
  assert.deepEqual(index.stats('opt')!.values.map((v) => [v.value, v.runIds]), [['adam', [r1, r3]], ['sgd', [r2]]]);
  assert.deepEqual(index.stats('hidden')!.best, { value: 16, metric: 0.9375, runId: r3 });
  assert.equal(index.stats('nope'), undefined);
  store.close();
});

test('goal min ranks the other way', () => {
  const { store, runs } = fixture();
  const index = ParamIndex.build(store, { name: 'train_loss', goal: 'min' });
  assert.deepEqual(index.stats('lr')!.best, { value: 0.01, metric: 0.1, runId: runs[5] });
  assert.deepEqual(index.stats('lr')!.values.map((v) => v.best), [0.4, 0.3, 0.1]);
  store.close();
});

test('without a configured primary metric, the one most runs log is used, its goal guessed', () => {
  const { store, runs } = fixture();
  const index = ParamIndex.build(store, undefined);
  assert.deepEqual(index.primary, { name: 'train_loss', goal: 'min', guessed: true }); // on 6 runs; val_acc on 5
  assert.deepEqual(index.stats('lr')!.best, { value: 0.01, metric: 0.1, runId: runs[5] });

  // When metrics tie, the one that looks like a validation score wins; an unknown name is maximised.
  const tied = Store.open(tempDir());
  for (const key of ['zeta', 'val_loss', 'val_acc']) {
    const r = tied.runs.create({ params: { k: key } });
    for (const other of ['zeta', 'val_loss', 'val_acc']) tied.metrics.append(r.id, other, series(0, 1, () => 1));
  }
  assert.deepEqual(ParamIndex.build(tied, undefined).primary, { name: 'val_acc', goal: 'max', guessed: true });
  const unknown = Store.open(tempDir());
  unknown.metrics.append(unknown.runs.create({ params: { k: 1 } }).id, 'reward', series(0, 1, () => 1));
  assert.deepEqual(ParamIndex.build(unknown, undefined).primary, { name: 'reward', goal: 'max', guessed: true });
  for (const s of [store, tied, unknown]) s.close();
});

test('an empty store, or one without metrics, gives counts and no best', () => {
  const empty = Store.open(tempDir());
  const index = ParamIndex.build(empty, undefined);
  assert.equal(index.primary, undefined);
  assert.deepEqual(index.keys(), []);
  empty.runs.create({ params: { lr: 0.1 } });
  const again = ParamIndex.build(empty, { name: 'val_acc', goal: 'max' });
  assert.deepEqual(again.stats('lr'), {
    key: 'lr', runs: 1, best: undefined,
    values: [{ value: 0.1, runs: 1, runIds: [1], best: null, bestRunId: null, mean: null, scored: 0, last: null, lastAt: null }],
  });
  assert.deepEqual(ParamIndex.empty().keys(), []);
  empty.close();
});

test('the index sees runs committed after the store was opened, and reads a read-only store', () => {
  const { store } = fixture();
  const before = ParamIndex.build(store, undefined).stats('lr')!.runs;
  store.runs.create({ params: { lr: 0.5 } });
  assert.equal(ParamIndex.build(store, undefined).stats('lr')!.runs, before + 1);
  const reader = Store.open(store.dir, { readonly: true });
  assert.equal(ParamIndex.build(reader, undefined).stats('lr')!.runs, before + 1);
  reader.close();
  store.close();
});

test('values order: numbers, then false and true, then strings', () => {
  const values: ParamValue[] = ['b', true, 10, 'a', false, -1, 2.5];
  assert.deepEqual(values.sort(compareValues), [-1, 2.5, 10, false, true, 'a', 'b']);
});

test('"last" is the newest run by creation time, not by id', () => {
  let now = 0;
  const store = Store.open(tempDir(), { now: () => now });
  for (const [t, acc] of [[5000, 0.5], [1000, 0.75]] as const) {
    now = t;
    store.metrics.append(store.runs.create({ params: { lr: 0.1 } }).id, 'val_acc', series(0, 1, () => acc));
  }
  const v = ParamIndex.build(store, { name: 'val_acc', goal: 'max' }).stats('lr')!.values[0]!;
  assert.deepEqual([v.last, v.lastAt, v.best, v.bestRunId], [0.5, 5000, 0.75, 2]);
  store.close();
});

test('reproductions are left out of the counts, runs and metrics', () => {
  const { store, runs } = fixture();
  const repro = store.runs.create({ status: 'finished', params: { lr: 0.001, hidden: 8 }, reproduces: runs[0] });
  store.metrics.append(repro.id, 'val_acc', series(0, 1, () => 0.99));
  const lr = ParamIndex.build(store, { name: 'val_acc', goal: 'max' }).stats('lr')!;
  assert.equal(lr.runs, 6);
  assert.deepEqual(lr.values[0]!.runIds, [runs[0], runs[1]]);
  assert.equal(lr.values[0]!.best, 0.875);
  store.close();
});
