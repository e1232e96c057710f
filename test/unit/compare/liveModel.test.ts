// The Compare panel's model while a run is live: only what changed travels, and only the runs
// that changed are read again. Drives CompareFeed (what the panel runs) on a real store.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Store } from '../../../src/core/store/store.ts';
import { CompareFeed } from '../../../src/core/compare/compareFeed.ts';
import { loadRuns } from '../../../src/core/compare/compareData.ts';
import { buildModel } from '../../../src/core/compare/modelCache.ts';
import { type CompareModel, type HostMessage, parseViewMessage, ProtocolError } from '../../../src/core/compare/protocol.ts';
import { applyModelDelta } from '../../../src/core/compare/modelDelta.ts';
import type { StoreChange } from '../../../src/core/store/storeWrites.ts';
import { series, tempDir } from '../helpers.ts';

const T0 = 1_700_000_000_000;
const metricsChange: StoreChange = { kinds: new Set(['metrics']), external: false };
const runsChange: StoreChange = { kinds: new Set(['runs', 'metrics']), external: false };
const external: StoreChange = { kinds: new Set(['runs', 'metrics', 'models']), external: true };

/** 40 finished runs and one running run, three metrics each. */
function sweep(finished = 40) {
  const store = Store.open(tempDir());
  const ids: number[] = [];
  for (let i = 0; i < finished; i++) {
    const run = store.runs.create({ name: `done-${i}`, status: 'finished', startedAt: T0, params: { lr: i / 100, seed: i } });
    store.runs.update(run.id, { endedAt: T0 + 60_000 });
    for (const key of ['loss', 'val_loss', 'val_acc']) store.metrics.append(run.id, key, series(0, 200, (s) => (i + 1) / (s + 1)));
    ids.push(run.id);
  }
  const live = store.runs.create({ name: 'live', status: 'running', startedAt: T0, params: { lr: 0.5, seed: 99 } });
  store.metrics.append(live.id, 'loss', series(0, 100, (s) => 1 / (s + 1)));
  store.metrics.append(live.id, 'val_acc', series(0, 10, (s) => s / 10));
  ids.push(live.id);
  return { store, ids, live };
}

function feedOn(store: Store, ids: number[]) {
  const sent: HostMessage[] = [];
  const queue: (() => void)[] = [];
  const feed = new CompareFeed({
    store: () => store, primaryMetric: () => undefined, post: (m) => sent.push(structuredClone(m)), later: (fn) => queue.push(fn),
  });
  /** Runs what the feed left for later (the values at the best step, read after the model is sent). */
  const drain = () => { while (queue.length) queue.shift()!(); };
  feed.runIds = ids;
  feed.sendModel();
  return { feed, sent, drain };
}

/** Counts calls of the store's per-run reads while fn runs. */
function countReads(store: Store, fn: () => void): { summaries: number[]; params: number[]; provenance: number[] } {
  const seen = { summaries: [] as number[], params: [] as number[], provenance: [] as number[] };
  const spy = <T extends object>(obj: T, name: keyof T, into: number[]) => {
    const orig = obj[name] as unknown as (id: number, ...a: unknown[]) => unknown;
    (obj as Record<keyof T, unknown>)[name] = (id: number, ...a: unknown[]) => (into.push(id), orig.call(obj, id, ...a));
    return () => { (obj as Record<keyof T, unknown>)[name] = orig; };
  };
  const undo = [spy(store.metrics, 'summaries', seen.summaries), spy(store.runs, 'params', seen.params), spy(store.provenance, 'get', seen.provenance)];
  try {
    fn();
  } finally {
    for (const u of undo) u();
  }
  return seen;
}

test('live updates send only the live run\'s changes, never the whole model again, and read only that run', () => {
  const { store, ids, live } = sweep();
  const { feed, sent, drain } = feedOn(store, ids);
  assert.deepEqual(sent.map((m) => m.type), ['model']);
  const full = JSON.stringify(sent[0]).length;
  drain();
  feed.query({ type: 'query', requestId: 1, key: 'loss', axis: 'step', range: null, buckets: 500 });
  sent.length = 0;

  const perUpdate: { types: string[]; bytes: number }[] = [];
  for (let i = 0; i < 10; i++) {
    store.metrics.append(live.id, 'loss', series(100 + i * 10, 10, (s) => 1 / (s + 1)));
    const reads = countReads(store, () => feed.update(metricsChange));
    assert.deepEqual([...new Set(reads.summaries)], [live.id], `update ${i} reads the summaries of the live run only`);
    assert.ok([...reads.params, ...reads.provenance].every((id) => id === live.id), 'nor the params or provenance of another run');
    perUpdate.push({ types: sent.map((m) => m.type), bytes: sent.filter((m) => m.type !== 'append').reduce((n, m) => n + JSON.stringify(m).length, 0) });
    for (const m of sent) {
      if (m.type === 'modelDelta') assert.deepEqual(m.delta.runs.map((r) => r.id), [live.id], 'the delta names the live run only');
    }
    sent.length = 0;
  }
  for (const [i, u] of perUpdate.entries()) {
    assert.deepEqual(u.types, ['append', 'modelDelta'], `update ${i}: the new points and what changed in the model`);
    assert.ok(u.bytes < full / 20, `update ${i}: ${u.bytes} bytes of model sent, the whole model is ${full}`);
  }
  // nothing new: nothing sent
  feed.update(metricsChange);
  assert.deepEqual(sent, []);
  store.close();
});

test('applying the deltas gives the model a fresh build gives: new keys, a run ending, params logged late', () => {
  const { store, ids, live } = sweep(5);
  const files = (train: string) => [{ path: 'train.csv', sha256: train, size: 10 }, { path: 'val.csv', sha256: 'b'.repeat(64), size: 5 }];
  const dataset = (h: string) => ({ path: 'data', kind: 'directory' as const, digest: h.repeat(64), fileCount: 2, bytes: 15, files: files(h.repeat(64)) });
  store.provenance.setDataset(ids[0]!, dataset('1'));
  const { feed, sent, drain } = feedOn(store, ids);
  let model = (sent[0] as Extract<HostMessage, { type: 'model' }>).model;
  const apply = (change?: StoreChange) => {
    if (change) {
      sent.length = 0;
      feed.update(change);
    }
    drain();
    for (const m of sent) {
      if (m.type === 'model') model = m.model;
      if (m.type === 'modelDelta') model = applyModelDelta(model, m.delta);
    }
    const fresh = buildModel(store, loadRuns(store, ids));
    assert.deepEqual(withoutDurations(model), withoutDurations(fresh));
    return sent.map((m) => m.type);
  };
  assert.deepEqual(apply(), ['model', 'modelDelta'], 'the model, then the values at the best step');
  store.metrics.append(live.id, 'loss', series(100, 5, () => 0.001));
  assert.deepEqual(apply(metricsChange), ['modelDelta']);
  store.metrics.append(live.id, 'grad_norm', series(0, 5, (s) => s)); // a key no run had
  assert.deepEqual(apply(metricsChange), ['modelDelta']);
  store.metrics.append(live.id, 'val_acc', series(10, 1, () => 0.99)); // the live run becomes the best at a new step
  assert.deepEqual(apply(metricsChange), ['modelDelta']);
  store.runs.setParams(live.id, { lr: 0.5, seed: 99, warmup: 100 });
  store.provenance.setDataset(live.id, dataset('2')); // other data than the first run's
  store.runs.update(live.id, { status: 'finished', endedAt: T0 + 5000 });
  assert.deepEqual(apply(runsChange), ['modelDelta']);
  assert.deepEqual(model.provenance.at(-1)!.datasets[0]!.changed, ['data/train.csv']);
  // another window renamed a finished run: found by looking at every run
  store.runs.update(ids[0]!, { name: 'renamed' });
  assert.deepEqual(apply(external), ['modelDelta']);
  assert.equal(model.runs[0]!.name, 'renamed');
  assert.deepEqual(apply(external), [], 'nothing changed: nothing sent');
  store.close();
});

test('a delta that does not fit the model is refused, not half applied', () => {
  const { store, ids } = sweep(2);
  const model = buildModel(store, loadRuns(store, ids));
  const before = JSON.stringify(model);
  assert.throws(() => applyModelDelta(model, { runs: [{ id: 9999 }] }));
  assert.throws(() => applyModelDelta(model, { runs: [{ id: ids[0]!, metrics: [{ key: 'nope', last: 1, min: 1, max: 1, atBest: null, count: 1 }] }] }));
  assert.equal(JSON.stringify(model), before);
  store.close();
});

/** Durations of running runs change with the clock; they are sent when something else changes. */
function withoutDurations(m: CompareModel): CompareModel {
  return { ...m, provenance: m.provenance.map((p, i) => (m.runs[i]!.status === 'running' ? { ...p, durationMs: null } : p)) };
}

test('a chart that asks for some runs gets their answer and their live points only', () => {
  const { store, ids, live } = sweep(3);
  const other = store.runs.create({ name: 'live-2', status: 'running', startedAt: T0 });
  store.metrics.append(other.id, 'loss', series(0, 50, (s) => s));
  const { feed, sent, drain } = feedOn(store, [...ids, other.id]);
  drain();
  sent.length = 0;
  feed.query({ type: 'query', requestId: 7, key: 'loss', axis: 'step', range: null, buckets: 100, runIds: [ids[0]!, live.id] });
  const answer = sent.find((m) => m.type === 'series');
  assert.ok(answer?.type === 'series');
  assert.deepEqual(answer.series.map((s) => s.runId), [ids[0], live.id]);
  sent.length = 0;
  store.metrics.append(live.id, 'loss', series(100, 5, () => 1));
  store.metrics.append(other.id, 'loss', series(50, 5, () => 1));
  feed.update(metricsChange);
  const appends = sent.filter((m) => m.type === 'append');
  assert.deepEqual(appends.flatMap((m) => (m.type === 'append' ? m.series.map((s) => s.runId) : [])), [live.id], 'not the run the chart left out');
  store.close();
});

test('the runs a query names are validated: a list of integers', () => {
  const q = { type: 'query', requestId: 1, key: 'loss', axis: 'step', range: null, buckets: 10 };
  assert.deepEqual(parseViewMessage({ ...q, runIds: [1, 2] }), { ...q, runIds: [1, 2] });
  assert.deepEqual(parseViewMessage(q), q, 'absent: every run');
  for (const runIds of [[1.5], ['1'], 'all', null, new Array(100_001).fill(1)]) {
    assert.throws(() => parseViewMessage({ ...q, runIds }), ProtocolError, JSON.stringify(runIds).slice(0, 40));
  }
});
