import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Store } from '../../src/core/store/store.ts';
import { ALL_KINDS, type ChangeKind, type StoreChange, StoreWrites } from '../../src/core/store/storeWrites.ts';
import { series, tempDir } from './helpers.ts';

function setup() {
  const dir = tempDir();
  const store = Store.open(dir);
  const events: StoreChange[] = [];
  const strays: string[] = [];
  const writes = new StoreWrites({ store: () => store, fire: (c) => events.push(c), stray: (m) => strays.push(m) });
  writes.check(store); // what WorkspaceStore does when it opens a store
  return { dir, store, writes, events, strays };
}

const own = (kinds: ChangeKind[]) => ({ kinds: new Set(kinds), external: false });
const external = { kinds: new Set(ALL_KINDS), external: true };

/** Every public method of StoreWrites but check() is a write; each has a case here, or this test fails. */
const cases: { [method: string]: ((w: StoreWrites, s: Store) => unknown)[] } = {
  write: [(w) => w.write(['runs'], (s) => s.runs.create({ name: 'one transaction' }))],
  writeSteps: [
    (w) => w.writeSteps(['runs', 'metrics'], (s) => {
      const run = s.transaction(() => s.runs.create({ name: 'steps' }));
      s.transaction(() => s.metrics.append(run.id, 'loss', series(0, 3, (x) => x)));
    }),
    (w) => w.writeSteps(['models'], async (s) => {
      await new Promise((r) => setTimeout(r, 5));
      const runId = s.runs.create({ name: 'for a model' }).id;
      return s.models.register({ runId, model: 'clf', artifactId: null, path: 'm.json', kind: 'file', digest: 'ab'.repeat(32), size: 1, fileCount: 1, params: {}, metrics: [] });
    }),
    (w) => w.writeSteps((n: number) => (n ? ['metrics'] : []), (s) => { s.runs.create({ name: 'ingested' }); return 1; }),
  ],
};

test('every public write fires exactly one change event, naming its kinds; none is mistaken for a stray or another window', async () => {
  const methods = Object.getOwnPropertyNames(StoreWrites.prototype).filter((m) => m !== 'constructor' && m !== 'check');
  assert.deepEqual(methods.sort(), Object.keys(cases).sort(), 'a new write method needs a case here');
  const { store, writes, events, strays } = setup();
  const expected = [['runs'], ['runs', 'metrics'], ['models'], ['metrics']];
  let i = 0;
  for (const method of methods) {
    for (const write of cases[method]!) {
      events.length = 0;
      const before = store.changeCount();
      await write(writes, store);
      assert.ok(store.changeCount() > before, `${method} case ${i} wrote`);
      assert.deepEqual(events, [own(expected[i]! as ChangeKind[])], `${method} case ${i}`);
      i++;
    }
  }
  events.length = 0;
  writes.check(store);
  assert.deepEqual(events, [], 'own writes do not move data_version, and none skipped the path');
  assert.deepEqual(strays, []);
});

test('a write that throws is rolled back and announces nothing; work in steps that fails announces what it may have committed', async () => {
  const { store, writes, events } = setup();
  assert.throws(() => writes.write(['runs'], (s) => { s.runs.create({ name: 'rolled back' }); throw new Error('no'); }), /no/);
  assert.equal(store.runs.count(), 0);
  assert.deepEqual(events, []);
  assert.throws(() => writes.writeSteps(['runs'], (s) => { s.runs.create({ name: 'kept' }); throw new Error('half'); }), /half/);
  assert.equal(store.runs.count(), 1);
  assert.deepEqual(events, [own(['runs'])]);
  events.length = 0;
  await assert.rejects(writes.writeSteps(() => ['metrics'], async () => { throw new Error('late'); }), /late/);
  assert.deepEqual(events, [own([...ALL_KINDS])], 'kinds that depend on the result: every kind');
  events.length = 0;
  assert.equal(writes.writeSteps(() => [], () => 'nothing shown changed'), 'nothing shown changed');
  assert.deepEqual(events, [], 'no kinds, no event');
});

test('overlapping writes with awaits each announce once, when each is done', async () => {
  const { writes, events } = setup();
  let release!: () => void;
  const gate = new Promise<void>((r) => { release = r; });
  const slow = writes.writeSteps(['models'], async (s) => { await gate; s.runs.create({ name: 'slow' }); });
  writes.write(['runs'], (s) => s.runs.create({ name: 'quick' }));
  assert.deepEqual(events, [own(['runs'])]);
  release();
  await slow;
  assert.deepEqual(events, [own(['runs']), own(['models'])]);
});

test('check() announces another connection\'s commit once, as external and of every kind', () => {
  const { dir, store, writes, events } = setup();
  writes.check(store);
  assert.deepEqual(events, [], 'nothing changed');
  const other = Store.open(dir);
  other.runs.create({ name: 'from another window' });
  other.close();
  writes.check(store);
  assert.deepEqual(events, [external]);
  writes.check(store);
  assert.equal(events.length, 1, 'once');
});

test('a write that skipped the path is found, announced once and reported, by the next check or the next write', () => {
  const { store, writes, events, strays } = setup();
  const run = store.runs.create({ name: 'direct' });
  writes.check(store);
  assert.deepEqual(events, [external]);
  assert.equal(strays.length, 1);
  assert.match(strays[0]!, /without StoreWrites/);
  writes.check(store);
  assert.equal(events.length, 1, 'once');

  events.length = 0;
  store.runs.update(run.id, { name: 'direct again' });
  writes.write(['runs'], (s) => s.runs.update(run.id, { notes: 'through the path' }));
  assert.deepEqual(events, [external, own(['runs'])], 'the stray before the write is not taken for part of it');
  assert.equal(strays.length, 2);
});
