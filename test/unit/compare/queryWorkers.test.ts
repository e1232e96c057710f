// Compare's chart answers for many ended runs in query workers (compare/queryWorkers.ts): the same buckets,
// bit for bit, as the store answers here; the panel's feed uses them only for ended runs; a worker that
// cannot start or stops leaves the answer to this thread.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { Store } from '../../../src/core/store/store.ts';
import { slice } from '../../../src/core/store/chunks.ts';
import { QueryWorkers } from '../../../src/core/compare/queryWorkers.ts';
import { CompareFeed, WORKER_RUNS } from '../../../src/core/compare/compareFeed.ts';
import { Extents, loadRuns, querySeries, querySeriesBy } from '../../../src/core/compare/compareData.ts';
import type { HostMessage } from '../../../src/core/compare/protocol.ts';
import type { Downsampled } from '../../../src/core/store/metricRepository.ts';
import { shape } from '../../bench/shapes.ts';
import { tempDir } from '../helpers.ts';

const TASK_WORKER = new URL('../../../src/core/tasks/taskWorker.ts', import.meta.url);

/** Ended runs of noisy and smooth curves (one with NaN, ±Inf and -0 among its values), through the store's append. */
function sweep(runs = WORKER_RUNS + 6) {
  const store = Store.open(join(tempDir(), 'store'));
  const ids: number[] = [];
  for (let r = 0; r < runs; r++) {
    const run = store.runs.create({ name: `trial-${r}`, status: 'finished' });
    const c = shape(r % 2 ? 'noisy' : 'smooth', 3000 + 37 * r, 100 + r);
    if (r === 3) c.values.set([NaN, Infinity, -Infinity, -0], 500);
    store.metrics.append(run.id, 'loss', slice(c, 0, c.values.length));
    store.runs.update(run.id, { status: 'finished', endedAt: 1 });
    ids.push(run.id);
  }
  return { store, ids };
}

const plain = (ds: Downsampled[]) => ds.map((d) => Object.fromEntries(Object.entries(d).map(([k, a]) => [k, Array.from(a as Float64Array, (v) => Object.is(v, -0) ? '-0' : v)])));

test('the workers answer every run bit for bit as the store does here, on every axis and a zoomed range', async () => {
  const { store, ids } = sweep();
  const workers = new QueryWorkers(TASK_WORKER, 2);
  try {
    for (const req of [{ axis: 'step', lo: 0, hi: 5000, buckets: 700 }, { axis: 'step', lo: 1200, hi: 1300, buckets: 300 }] as const) {
      const asks = ids.map((id) => [id, req] as [number, typeof req]);
      const there = await workers.downsample(store, 'loss', asks);
      assert.ok(there, workers.failure);
      assert.deepEqual(plain(there), plain(store.metrics.downsampleMany('loss', asks)));
    }
    const runs = loadRuns(store, ids);
    for (const axis of ['step', 'time', 'relative'] as const) {
      const req = { key: 'loss', axis, range: null, buckets: 400 };
      const by = await querySeriesBy(store, runs, req, new Extents(), (key, asks) => workers.downsample(store, key, asks));
      assert.deepEqual(by, querySeries(store, runs, req));
    }
  } finally {
    workers.dispose();
    store.close();
  }
});

test('a worker that cannot start, or stops, leaves the answer to this thread', async () => {
  const { store, ids } = sweep(8);
  const asks = ids.map((id) => [id, { axis: 'step', lo: 0, hi: 4000, buckets: 100 }] as [number, { axis: 'step'; lo: number; hi: number; buckets: number }]);
  const missing = new QueryWorkers(join(tempDir(), 'no-such-worker.js'));
  assert.equal(await missing.downsample(store, 'loss', asks), undefined);
  assert.match(missing.failure ?? '', /no-such-worker|Cannot find|ENOENT/);

  const workers = new QueryWorkers(TASK_WORKER, 2);
  const first = workers.downsample(store, 'loss', asks);
  workers['workers'][0]!.terminate(); // stops while it answers
  assert.equal(await first, undefined, 'no half answer');
  const runs = loadRuns(store, ids);
  const req = { key: 'loss', axis: 'step' as const, range: null, buckets: 100 };
  assert.deepEqual(await querySeriesBy(store, runs, req, new Extents(), (key, a) => workers.downsample(store, key, a)), querySeries(store, runs, req));
  workers.dispose();
  store.close();
});

test("the panel's feed answers many ended runs in the workers and running ones here, the same series either way", async () => {
  const { store, ids } = sweep();
  const answers = async (script: URL | undefined, runIds: number[]) => {
    const sent: HostMessage[] = [];
    const feed = new CompareFeed({ store: () => store, primaryMetric: () => undefined, post: (m) => sent.push(m), later: () => {}, script: script && String(script.pathname) });
    feed.runIds = runIds;
    const pending = feed.query({ type: 'query', requestId: 1, key: 'loss', axis: 'step', range: null, buckets: 300 });
    const here = sent.length; // answered before query() returned: on this thread
    await pending;
    feed.dispose();
    return { here: here > 0, series: sent.find((m) => m.type === 'series') };
  };
  const inWorkers = await answers(TASK_WORKER, ids);
  assert.equal(inWorkers.here, false, 'the ended sweep went to the workers');
  assert.deepEqual(inWorkers.series, (await answers(undefined, ids)).series);

  store.runs.update(ids[0]!, { status: 'running', endedAt: null });
  const live = await answers(TASK_WORKER, ids);
  assert.equal(live.here, true, 'a running run among them: answered here');
  assert.deepEqual((await answers(TASK_WORKER, ids.slice(0, WORKER_RUNS - 1).slice(1))).here, true, 'fewer runs: here');
  store.close();
});

test('idle workers end and start again for the next query; ending them while a query waits answers it here, never leaves it waiting', { timeout: 20_000 }, async () => {
  const { store, ids } = sweep(8);
  const asks = ids.map((id) => [id, { axis: 'step', lo: 0, hi: 4000, buckets: 100 }] as [number, { axis: 'step'; lo: number; hi: number; buckets: number }]);
  const want = plain(store.metrics.downsampleMany('loss', asks));
  const workers = new QueryWorkers(TASK_WORKER, 2, 50);
  assert.deepEqual(plain((await workers.downsample(store, 'loss', asks))!), want);
  await new Promise((resolve) => setTimeout(resolve, 300));
  assert.equal(workers['workers'].length, 0, 'ended after 50 ms without a query');
  assert.deepEqual(plain((await workers.downsample(store, 'loss', asks))!), want, 'started again');
  const waiting = workers.downsample(store, 'loss', asks);
  workers.dispose();
  assert.equal(await waiting, undefined);
  store.close();
});
