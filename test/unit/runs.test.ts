import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Store } from '../../src/core/store/store.ts';
import { generateRunName } from '../../src/core/names.ts';
import { tempDir, series } from './helpers.ts';

function open() {
  return Store.open(tempDir());
}

test('a run keeps everything it was created with', () => {
  const store = open();
  const run = store.runs.create({
    name: 'baseline', experiment: 'mnist', status: 'running', command: ['python3', 'train.py', '--lr', '0.1'],
    cwd: '/home/ana/demo', startedAt: 1000, git: { commit: 'a'.repeat(40), branch: 'main', dirty: true },
    params: { lr: 0.1, 'model.layers': 3, optimizer: 'adam', augment: false, note: '1e-3' },
    tags: { owner: 'ana' },
  });
  const got = store.runs.get(run.id)!;
  assert.equal(got.name, 'baseline');
  assert.equal(got.experiment, 'mnist');
  assert.equal(got.status, 'running');
  assert.deepEqual(got.command, ['python3', 'train.py', '--lr', '0.1']);
  assert.deepEqual(got.git, { commit: 'a'.repeat(40), branch: 'main', dirty: true });
  assert.match(got.uid, /^[0-9a-f-]{36}$/);
  assert.deepEqual(store.runs.params(run.id), { augment: false, lr: 0.1, 'model.layers': 3, note: '1e-3', optimizer: 'adam' });
  assert.equal(typeof store.runs.params(run.id).note, 'string', 'a numeric-looking string stays a string');
  assert.deepEqual(store.runs.tags(run.id), { owner: 'ana' });
  assert.equal(store.runs.getByUid(run.uid)?.id, run.id);
  store.close();
});

test('a run without git records no git, and a shell command string round-trips', () => {
  const store = open();
  const run = store.runs.create({ command: 'python train.py | tee log' });
  assert.equal(run.git, null);
  assert.equal(run.command, 'python train.py | tee log');
  assert.equal(run.status, 'queued');
  assert.equal(run.experiment, 'default');
  assert.match(run.name, /^[a-z]+-[a-z]+-\d+$/, 'runs get readable generated names');
  store.close();
});

test('runs list newest first and page without gaps or repeats', () => {
  let clock = 0;
  // A clock with ties (three runs per tick): keyset paging must still be exact.
  const store = Store.open(tempDir(), { now: () => Math.floor(clock++ / 3) });
  const runs = store.runs;
  const ids = Array.from({ length: 25 }, (_, i) => runs.create({ name: `r${i}`, experiment: i % 2 ? 'odd' : 'even' }).id);
  const seen: number[] = [];
  let page = runs.list({ limit: 7 });
  while (page.length) {
    seen.push(...page.map((r) => r.id));
    const lastRun = page[page.length - 1]!;
    page = runs.list({ limit: 7, before: { createdAt: lastRun.createdAt, id: lastRun.id } });
  }
  assert.deepEqual(seen, [...ids].reverse());
  const odd = runs.experiments().find((e) => e.name === 'odd')!;
  assert.equal(odd.runCount, 12);
  assert.equal(runs.count({ experimentId: odd.id }), 12);
  assert.ok(runs.list({ experimentId: odd.id, limit: 100 }).every((r) => r.experiment === 'odd'));
  store.close();
});

test('rename, note, star and status changes are saved; bad values are refused', () => {
  const store = open();
  const run = store.runs.create({ name: 'x' });
  store.runs.update(run.id, { name: '  better name ', notes: 'tried warmup', starred: true, status: 'failed', exitCode: 3, endedAt: 5 });
  const got = store.runs.get(run.id)!;
  assert.equal(got.name, 'better name');
  assert.equal(got.notes, 'tried warmup');
  assert.equal(got.starred, true);
  assert.equal(got.status, 'failed');
  assert.equal(got.exitCode, 3);
  assert.throws(() => store.runs.update(run.id, { name: '   ' }), /cannot be empty/);
  assert.throws(() => store.runs.update(run.id, { status: 'exploded' as never }), /unknown run status/);
  assert.throws(() => store.runs.update(9999, { notes: 'x' }), /does not exist/);
  assert.equal(store.runs.count({ status: ['failed'] }), 1);
  store.close();
});

test('deleting a run removes its params, tags and points, and nothing else', () => {
  const store = open();
  const keep = store.runs.create({ params: { lr: 1 }, tags: { a: 'b' } });
  const drop = store.runs.create({ params: { lr: 2 }, tags: { a: 'c' } });
  store.metrics.append(keep.id, 'loss', series(0, 300, (s) => s));
  store.metrics.append(drop.id, 'loss', series(0, 300, (s) => s));
  assert.equal(store.runs.delete(drop.id), true);
  assert.equal(store.runs.delete(drop.id), false);
  assert.equal(store.runs.get(drop.id), undefined);
  assert.deepEqual(store.runs.params(drop.id), {});
  assert.deepEqual(store.runs.tags(drop.id), {});
  assert.equal(store.metrics.points(drop.id, 'loss').values.length, 0);
  assert.equal(store.metrics.summaries(drop.id).length, 0);
  assert.equal(store.metrics.points(keep.id, 'loss').values.length, 300);
  assert.deepEqual(store.runs.params(keep.id), { lr: 1 });
  store.close();
});

test('a param that is not number, string or bool is refused and the run is not half-created', () => {
  const store = open();
  assert.throws(() => store.runs.create({ name: 'bad', params: { nested: { a: 1 } as never } }), /number, string or boolean/);
  assert.equal(store.runs.count(), 0);
  store.close();
});

test('generated names are readable and vary', () => {
  const names = new Set(Array.from({ length: 200 }, () => generateRunName()));
  assert.ok(names.size > 150);
  let i = 0;
  const fixed = [0, 0.999, 0.5];
  assert.equal(generateRunName(() => fixed[i++ % 3]!), 'amber-gull-50');
});
