import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Store } from '../../src/core/store/store.ts';
import { FilterSyntaxError } from '../../src/core/query/filterExpression.ts';
import type { RunQuery, RunSort } from '../../src/core/types.ts';
import { tempDir, series } from './helpers.ts';

const MIN = 60_000;

/** A store whose clock moves one minute per call, so creation order is also time order. */
function open() {
  const clock = { t: 1_700_000_000_000 };
  const store = Store.open(tempDir(), { now: () => (clock.t += MIN) });
  return { store, clock };
}

const namesOf = (store: Store, query: RunQuery) => store.runs.list({ limit: 1000, ...query }).map((r) => r.name);

test('free text matches name, notes, tag keys and tag values, ignoring case', () => {
  const { store } = open();
  const a = store.runs.create({ name: 'ResNet-50 baseline', tags: { owner: 'ana' } });
  const b = store.runs.create({ name: 'vit-small', tags: { dataset: 'imagenet-1k' } });
  store.runs.create({ name: 'mlp' });
  store.runs.update(b.id, { notes: 'Larger warmup, lower LR' });
  store.runs.update(a.id, { notes: 'first try' });
  assert.deepEqual(namesOf(store, { text: 'resnet' }), ['ResNet-50 baseline']);
  assert.deepEqual(namesOf(store, { text: 'WARMUP' }), ['vit-small'], 'notes');
  assert.deepEqual(namesOf(store, { text: 'ImageNet' }), ['vit-small'], 'tag value');
  assert.deepEqual(namesOf(store, { text: 'owner' }), ['ResNet-50 baseline'], 'tag key');
  assert.deepEqual(namesOf(store, { text: '  mlp  ' }), ['mlp'], 'surrounding spaces are ignored');
  assert.equal(namesOf(store, { text: '   ' }).length, 3, 'blank text filters nothing');
  assert.deepEqual(namesOf(store, { text: 'nowhere' }), []);
  store.close();
});

test('% and _ in the search text match only themselves', () => {
  const { store } = open();
  store.runs.create({ name: '100%_done' });
  store.runs.create({ name: '100x-done' });
  store.runs.create({ name: 'lr_sweep' });
  store.runs.create({ name: 'lrxsweep', tags: { note: '50% data' } });
  assert.deepEqual(namesOf(store, { text: '%_' }), ['100%_done']);
  assert.deepEqual(namesOf(store, { text: '0%' }), ['lrxsweep', '100%_done']);
  assert.deepEqual(namesOf(store, { text: 'lr_s' }), ['lr_sweep']);
  assert.deepEqual(namesOf(store, { text: '_' }), ['lr_sweep', '100%_done']);
  store.close();
});

test('status, text, expression and experiment filters combine, and count agrees with list', () => {
  const { store } = open();
  const mk = (name: string, experiment: string, status: 'running' | 'finished' | 'failed', lr: number) =>
    store.runs.create({ name, experiment, status, params: { lr } });
  mk('a-1', 'a', 'running', 0.1);
  mk('a-2', 'a', 'finished', 0.01);
  mk('a-3', 'a', 'failed', 0.001);
  mk('b-1', 'b', 'finished', 0.001);
  mk('b-2', 'b', 'running', 0.01);
  const a = store.runs.experiments().find((e) => e.name === 'a')!;
  const queries: [RunQuery, string[]][] = [
    [{ status: ['running'] }, ['b-2', 'a-1']],
    [{ status: ['running', 'finished'], text: 'b-' }, ['b-2', 'b-1']],
    [{ where: 'lr < 0.05', status: ['finished', 'failed'] }, ['b-1', 'a-3', 'a-2']],
    [{ where: 'lr < 0.05', experimentId: a.id }, ['a-3', 'a-2']],
    [{ where: 'lr < 0.05', text: '2', status: ['running'] }, ['b-2']],
    [{ status: [] }, ['b-2', 'b-1', 'a-3', 'a-2', 'a-1']],
  ];
  for (const [query, expected] of queries) {
    assert.deepEqual(namesOf(store, query), expected, JSON.stringify(query));
    assert.equal(store.runs.count(query), expected.length, `count ${JSON.stringify(query)}`);
  }
  store.close();
});

test('a bad expression reaches the caller as a FilterSyntaxError naming the store\'s keys', () => {
  const { store } = open();
  const run = store.runs.create({ params: { learning_rate: 0.1 } });
  store.metrics.append(run.id, 'val_acc', series(0, 3, (s) => s));
  assert.throws(() => store.runs.list({ where: 'learning_rat < 1' }),
    (err: unknown) => err instanceof FilterSyntaxError && err.message === 'No param or metric named "learning_rat". Did you mean "learning_rate"?');
  assert.throws(() => store.runs.count({ where: 'val_ac > 1' }), /Did you mean "val_acc"\?/);
  assert.throws(() => store.runs.countByExperiment({ where: 'lr <' }), /Expected a value after "<" at column 5/);
  assert.equal(store.runs.list({ where: 'learning_rate < 1' }).length, 1);
  store.close();
});

/** Five runs: lr and val_acc set on some only; r4 logged only NaN for val_acc. */
function sortFixture() {
  const { store, clock } = open();
  const spec: [string, number | undefined, number | undefined][] = [
    ['r0', 0.01, 0.8],
    ['r1', undefined, 0.95],
    ['r2', 0.1, undefined],
    ['r3', 0.001, 0.7],
    ['r4', undefined, NaN],
    ['r5', 0.01, undefined],
  ];
  for (const [name, lr, acc] of spec) {
    const run = store.runs.create({ name, params: lr === undefined ? {} : { lr } });
    if (acc !== undefined) store.metrics.append(run.id, 'val_acc', series(0, 2, (s) => (s ? acc : 0)));
  }
  return { store, clock };
}

test('sorting by a param puts runs without it last in both directions, ties newest first', () => {
  const { store } = sortFixture();
  assert.deepEqual(namesOf(store, { sort: { by: 'param', key: 'lr', dir: 'asc' } }), ['r3', 'r5', 'r0', 'r2', 'r4', 'r1']);
  assert.deepEqual(namesOf(store, { sort: { by: 'param', key: 'lr', dir: 'desc' } }), ['r2', 'r5', 'r0', 'r3', 'r4', 'r1']);
  assert.deepEqual(namesOf(store, { sort: { by: 'param', key: 'nope', dir: 'asc' } }), ['r5', 'r4', 'r3', 'r2', 'r1', 'r0'],
    'a key no run has leaves the newest-first order');
  store.close();
});

test('sorting by a metric uses its last value; runs without it, or with NaN, go last', () => {
  const { store } = sortFixture();
  assert.deepEqual(namesOf(store, { sort: { by: 'metric', key: 'val_acc', dir: 'asc' } }), ['r3', 'r0', 'r1', 'r5', 'r4', 'r2']);
  assert.deepEqual(namesOf(store, { sort: { by: 'metric', key: 'val_acc', dir: 'desc' } }), ['r1', 'r0', 'r3', 'r5', 'r4', 'r2']);
  assert.deepEqual(namesOf(store, { sort: { by: 'metric', key: 'val_acc', dir: 'desc' }, where: 'lr >= 0.01' }), ['r0', 'r5', 'r2'],
    'sort and filter together');
  store.close();
});

test('sorting by name, status, start, duration and creation', () => {
  const { store, clock } = open();
  const t = clock.t;
  const mk = (name: string, status: 'queued' | 'running' | 'finished' | 'failed', startedAt: number | null, endedAt?: number) => {
    const run = store.runs.create({ name, status, startedAt });
    if (endedAt !== undefined) store.runs.update(run.id, { endedAt });
    return run;
  };
  mk('beta', 'finished', t, t + 30_000); // 30 s
  mk('Alpha', 'failed', t + 1000, t + 601_000); // 600 s
  mk('gamma', 'queued', null); // never started
  mk('delta', 'running', t + 2000); // until now
  clock.t = t + 200_000 - MIN; // "now" for duration: delta has run 198 s
  const sorted = (sort: RunSort) => namesOf(store, { sort });
  assert.deepEqual(sorted({ by: 'name', dir: 'asc' }), ['Alpha', 'beta', 'delta', 'gamma'], 'names sort ignoring case');
  assert.deepEqual(sorted({ by: 'name', dir: 'desc' }), ['gamma', 'delta', 'beta', 'Alpha']);
  assert.deepEqual(sorted({ by: 'status', dir: 'asc' }), ['gamma', 'delta', 'beta', 'Alpha'], 'queued, running, finished, failed');
  assert.deepEqual(sorted({ by: 'started', dir: 'asc' }), ['beta', 'Alpha', 'delta', 'gamma']);
  assert.deepEqual(sorted({ by: 'started', dir: 'desc' }), ['delta', 'Alpha', 'beta', 'gamma']);
  assert.deepEqual(sorted({ by: 'duration', dir: 'desc' }), ['Alpha', 'delta', 'beta', 'gamma']);
  assert.deepEqual(sorted({ by: 'duration', dir: 'asc' }), ['beta', 'delta', 'Alpha', 'gamma']);
  assert.deepEqual(sorted({ by: 'created', dir: 'asc' }), ['beta', 'Alpha', 'gamma', 'delta']);
  assert.deepEqual(sorted({ by: 'created', dir: 'desc' }), ['delta', 'gamma', 'Alpha', 'beta']);
  assert.throws(() => sorted({ by: 'colour', dir: 'asc' } as unknown as RunSort), /unknown sort colour/);
  store.close();
});

test('offset paging through a sorted, filtered list yields every run exactly once', () => {
  // Ties everywhere: 3 runs per clock tick and only 4 distinct lr values.
  let tick = 0;
  const store = Store.open(tempDir(), { now: () => Math.floor(tick++ / 3) });
  const expected = new Set<number>();
  for (let i = 0; i < 53; i++) {
    const run = store.runs.create({ name: `r${i}`, params: i % 5 === 0 ? {} : { lr: [0.1, 0.01, 0.001, 0.3][i % 4]!, batch: i } });
    if (i % 5 !== 0 && i % 7 !== 0) expected.add(run.id);
  }
  for (const sort of [
    { by: 'param', key: 'lr', dir: 'asc' }, { by: 'param', key: 'lr', dir: 'desc' }, { by: 'name', dir: 'asc' },
    { by: 'created', dir: 'asc' }, { by: 'status', dir: 'desc' },
  ] as RunSort[]) {
    const seen: number[] = [];
    for (let offset = 0; ; offset += 6) {
      const page = store.runs.list({ sort, where: 'batch >= 0 and not (batch in (7, 14, 21, 28, 35, 42, 49))', limit: 6, offset, before: { createdAt: 0, id: 0 } });
      if (!page.length) break;
      seen.push(...page.map((r) => r.id));
    }
    assert.equal(seen.length, expected.size, `${JSON.stringify(sort)}: no run twice`);
    assert.deepEqual(new Set(seen), expected, `${JSON.stringify(sort)}: every matching run once ('before' is ignored)`);
  }
  store.close();
});

test('keyset paging (before) still works for the default order with filters', () => {
  let tick = 0;
  const store = Store.open(tempDir(), { now: () => Math.floor(tick++ / 4) });
  const ids = Array.from({ length: 30 }, (_, i) => store.runs.create({ name: `r${i}`, params: { even: i % 2 === 0 } }).id);
  const seen: number[] = [];
  let page = store.runs.list({ where: 'even', limit: 4 });
  while (page.length) {
    seen.push(...page.map((r) => r.id));
    const last = page.at(-1)!;
    page = store.runs.list({ where: 'even', limit: 4, before: { createdAt: last.createdAt, id: last.id }, sort: { by: 'created', dir: 'desc' } });
  }
  assert.deepEqual(seen, ids.filter((_, i) => i % 2 === 0).reverse());
  store.close();
});

test('countByExperiment counts matching runs of every experiment in one go, zero included', () => {
  const { store } = open();
  for (let i = 0; i < 12; i++) store.runs.create({ experiment: 'mnist', params: { lr: i / 100 }, status: i % 3 ? 'finished' : 'failed' });
  for (let i = 0; i < 5; i++) store.runs.create({ experiment: 'cifar', params: { lr: 1 }, status: 'finished' });
  store.runs.ensureExperiment('empty');
  const ids = Object.fromEntries(store.runs.experiments().map((e) => [e.name, e.id]));
  const byName = (m: Map<number, number>) => Object.fromEntries(Object.entries(ids).map(([n, id]) => [n, m.get(id)]));
  assert.deepEqual(byName(store.runs.countByExperiment()), { mnist: 12, cifar: 5, empty: 0 });
  assert.deepEqual(byName(store.runs.countByExperiment({ where: 'lr < 0.05' })), { mnist: 5, cifar: 0, empty: 0 });
  assert.deepEqual(byName(store.runs.countByExperiment({ status: ['failed'] })), { mnist: 4, cifar: 0, empty: 0 });
  assert.deepEqual(byName(store.runs.countByExperiment({ where: 'lr >= 0.05', status: ['finished'] })), { mnist: 5, cifar: 5, empty: 0 });
  store.close();
});

test('param, metric and tag keys list what some run has; a deleted run takes its keys along', () => {
  const { store } = open();
  const a = store.runs.create({ params: { lr: 0.1, 'optimizer.name': 'adam' }, tags: { owner: 'ana' } });
  const b = store.runs.create({ params: { lr: 0.2, dropout: 0.5 }, tags: { team: 'x' } });
  store.metrics.appendMany(a.id, [['val_acc', series(0, 3, (s) => s)], ['train/loss', series(0, 3, (s) => s)]]);
  store.metrics.append(b.id, 'gpu_mem', series(0, 3, (s) => s));
  assert.deepEqual(store.runs.paramKeys(), ['dropout', 'lr', 'optimizer.name']);
  assert.deepEqual(store.runs.metricKeys(), ['gpu_mem', 'train/loss', 'val_acc']);
  assert.deepEqual(store.runs.tagKeys(), ['owner', 'team']);
  store.runs.delete(b.id);
  assert.deepEqual(store.runs.filterKeys(), {
    params: ['lr', 'optimizer.name'], metrics: ['train/loss', 'val_acc'], tags: ['owner'],
  });
  assert.throws(() => store.runs.list({ where: 'gpu_mem > 0' }), /No param or metric named "gpu_mem"/,
    'a metric only a deleted run had is unknown');
  store.close();
});

test('lastMetric reads one metric for many runs; runs without it or with NaN/Inf are left out', () => {
  const { store } = open();
  const ids: number[] = [];
  store.transaction(() => {
    for (let i = 0; i < 1500; i++) {
      const run = store.runs.create({ name: `r${i}` });
      ids.push(run.id);
      if (i % 10 === 0) continue;
      const last = i === 1 ? NaN : i === 2 ? Infinity : i / 1000;
      store.metrics.appendMany(run.id, [['val_acc', series(0, 3, (s) => (s === 2 ? last : -1))], ['loss', series(0, 1, () => 7)]]);
    }
  });
  const got = store.runs.lastMetric(ids, 'val_acc');
  assert.equal(got.size, 1500 - 150 - 2, 'more ids than SQLite allows as variables, in one call');
  assert.equal(got.get(ids[3]!), 0.003);
  assert.equal(got.get(ids[1499]!), 1.499);
  assert.equal(got.has(ids[0]!), false);
  assert.equal(got.has(ids[1]!), false, 'NaN');
  assert.equal(got.has(ids[2]!), false, 'Infinity');
  assert.deepEqual([...store.runs.lastMetric([ids[5]!, 99_999], 'loss')], [[ids[5]!, 7]]);
  assert.equal(store.runs.lastMetric(ids, 'no_such_metric').size, 0);
  assert.equal(store.runs.lastMetric([], 'val_acc').size, 0);
  store.close();
});
