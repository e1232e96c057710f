import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Store } from '../../src/core/store/store.ts';
import { namesNoRun, resolveRuns } from '../../src/core/runs/runRefs.ts';
import { flatten } from '../../src/core/flatten.ts';
import { tempDir } from './helpers.ts';

test('run references: view nodes, ids, uids and digit strings, each run once, in order; other nodes skipped', () => {
  const store = Store.open(tempDir());
  const a = store.runs.create({ name: 'a' });
  const b = store.runs.create({ name: 'b' });
  const ids = (refs: Parameters<typeof resolveRuns>[1]) => resolveRuns(store, refs).map((r) => r.id);
  assert.deepEqual(ids(b.uid), [b.id]);
  assert.deepEqual(ids([b.id, { kind: 'run', run: a }, String(b.id), a.uid]), [b.id, a.id]);
  assert.deepEqual(ids([{ kind: 'experiment' }, { kind: 'version' }, undefined, null, '']), []);
  assert.deepEqual(ids(undefined), []);
  assert.throws(() => resolveRuns(store, 999), /^Error: Run 999 does not exist; it may have been deleted in another window\.$/);
  assert.throws(() => resolveRuns(store, ` ${a.id}`), new RegExp(`Run  ${a.id} does not exist`), 'only plain digits are ids');
  assert.throws(() => resolveRuns(store, { kind: 'run', run: { id: 999, uid: 'gone-uid' } }), /Run gone-uid does not exist/);
  assert.deepEqual([undefined, null, '', 0, 'x', { kind: 'run' }].map((r) => namesNoRun(r)), [true, true, true, false, false, false]);
  store.close();
});

test('params flatten with dots; bigints become numbers, lists and dates JSON text, nulls are left out', () => {
  const out = flatten({ lr: 0.1, model: { depth: 3, act: 'relu', drop: null }, layers: [64, 32], big: 2n, at: new Date(0), ok: true });
  assert.deepEqual(out, { lr: 0.1, 'model.depth': 3, 'model.act': 'relu', layers: '[64,32]', big: 2, at: '"1970-01-01T00:00:00.000Z"', ok: true });
  assert.deepEqual(flatten({ a: { b: 2 } }, { 'a.b': 1, c: 3 }), { 'a.b': 2, c: 3 }, 'later values win');
});
