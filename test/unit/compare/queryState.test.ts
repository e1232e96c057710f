import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MAX_BUCKETS } from '../../../src/core/compare/protocol.ts';
import { bucketsFor, QueryState, type Range } from '../../../webview/compare/queryState.ts';

/** A state whose queries are recorded; ids count up from 1. */
function recorder() {
  const q = new QueryState();
  const sent: { range: Range | null; buckets: number }[] = [];
  const send = (buckets: number) => q.send(buckets, (range, b) => {
    sent.push({ range, buckets: b });
    return sent.length;
  });
  return { q, sent, send };
}

/** Queried and answered over everything, domain 0..1000, at 500 buckets. */
function loaded() {
  const r = recorder();
  r.send(500);
  assert.equal(r.q.answer(1, true, [0, 1000]), 'apply');
  return r;
}

test('buckets: one per device pixel, within 16..MAX_BUCKETS', () => {
  assert.equal(bucketsFor(400, 1), 400);
  assert.equal(bucketsFor(400, 2), 800);
  assert.equal(bucketsFor(400, 0), 400);
  assert.equal(bucketsFor(3, 1), 16);
  assert.equal(bucketsFor(10_000, 2), MAX_BUCKETS);
});

test('a query clears dirty and remembers its id and buckets', () => {
  const { q, sent, send } = recorder();
  assert.equal(q.dirty, true);
  send(640);
  assert.deepEqual(sent, [{ range: null, buckets: 640 }]);
  assert.equal(q.dirty, false);
  assert.equal(q.pendingId, 1);
  assert.equal(q.buckets, 640);
});

test('a stale answer (an older request id) is ignored; the newest one applies', () => {
  const { q, send } = recorder();
  send(500);
  send(500);
  assert.equal(q.answer(1, true, [0, 10]), 'stale');
  assert.equal(q.pendingId, 2);
  assert.equal(q.hasData, false);
  assert.equal(q.domain, null);
  assert.equal(q.answer(2, true, [0, 99]), 'apply');
  assert.equal(q.pendingId, null);
  assert.equal(q.hasData, true);
  assert.deepEqual(q.domain, [0, 99]);
  // The same id again is stale too: nothing is in flight.
  assert.equal(q.answer(2, true, [0, 5]), 'stale');
  assert.deepEqual(q.domain, [0, 99]);
});

test('an answer for another x axis ends the query but is not shown', () => {
  const { q, send } = recorder();
  send(500);
  assert.equal(q.answer(1, false, [0, 10]), 'other-axis');
  assert.equal(q.pendingId, null);
  assert.equal(q.hasData, false);
  assert.equal(q.domain, null);
});

test('an error ends the query and stays until an answer arrives', () => {
  const { q, send } = recorder();
  send(500);
  q.failed('busy');
  assert.equal(q.pendingId, null);
  assert.equal(q.error, 'busy');
  send(500);
  assert.equal(q.answer(1, true, [0, 1]), 'stale');
  assert.equal(q.error, 'busy');
  assert.equal(q.answer(2, false, [0, 1]), 'other-axis');
  assert.equal(q.error, null);
});

test('a zoom narrower than the data asks for that range at the current buckets', () => {
  const { q, sent, send } = loaded();
  assert.equal(q.settled([200, 400]), true);
  assert.deepEqual(q.range, [200, 400]);
  send(bucketsFor(500, 1));
  assert.deepEqual(sent.at(-1), { range: [200, 400], buckets: 500 });
  // The same view again (rounding noise only): no new query.
  assert.equal(q.settled([200 + 1e-12, 400 - 1e-12]), false);
  // Panned: a new range.
  assert.equal(q.settled([250, 450]), true);
  assert.deepEqual(q.range, [250, 450]);
});

test('a zoom that covers the whole domain, or a reset, asks for everything once', () => {
  const { q } = loaded();
  assert.equal(q.settled([-5, 1005]), false, 'covers the domain and already unzoomed');
  assert.equal(q.settled([100, 900]), true);
  assert.equal(q.settled([0, 1000]), true);
  assert.equal(q.range, null);
  assert.equal(q.settled([100, 900]), true);
  assert.equal(q.settled(null), true);
  assert.equal(q.range, null);
  assert.equal(q.settled(null), false);
});

test('live appends are dropped while zoomed, before data, with a query in flight, or for another axis', () => {
  const { q, send } = loaded();
  assert.equal(q.appendVerdict(true, true), 'apply');
  assert.equal(q.appendVerdict(false, true), 'ignore');
  q.settled([100, 200]);
  assert.equal(q.appendVerdict(true, true), 'ignore');
  assert.equal(q.dirty, false, 'zoomed and off screen: nothing to catch up on');
  assert.equal(q.appendVerdict(true, false), 'ignore');
  q.settled(null);
  send(500);
  assert.equal(q.appendVerdict(true, true), 'ignore');
  assert.equal(new QueryState().appendVerdict(true, true), 'ignore');
});

test('a live append off screen marks the chart for a re-query', () => {
  const { q } = loaded();
  assert.equal(q.dirty, false);
  assert.equal(q.appendVerdict(true, false), 'later');
  assert.equal(q.dirty, true);
});

test('an append re-queries for a run new to the key, or a trace past twice the buckets', () => {
  const { q } = loaded(); // 500 buckets
  assert.equal(q.appendNeedsQuery(0, 3, 3), true);
  assert.equal(q.appendNeedsQuery(0, 0, 0), false);
  assert.equal(q.appendNeedsQuery(900, 100, 1000), false);
  assert.equal(q.appendNeedsQuery(990, 20, 1001), true);
});

test('appends widen the domain to their last x, and the zoom limits follow', () => {
  const { q } = loaded();
  q.extend([{ x: [1001, 1200] }, { x: [] }, { x: [1100] }]);
  assert.deepEqual(q.domain, [0, 1200]);
  q.extend([{ x: [5] }]);
  assert.deepEqual(q.domain, [0, 1200]);
  assert.deepEqual(q.limits('step'), { min: 0, max: 1200, minRange: 2 });
  assert.deepEqual(q.limits('time'), { min: 0, max: 1200, minRange: 50 });
  const fresh = new QueryState();
  fresh.extend([{ x: [7] }]);
  assert.equal(fresh.domain, null);
  assert.equal(fresh.limits('step'), null);
});

test('a resize re-queries only when much wider than the data, with data, on screen', () => {
  const { q } = loaded(); // 500 buckets
  assert.equal(q.resized(750, true), false);
  assert.equal(q.dirty, false);
  assert.equal(q.resized(751, false), false);
  assert.equal(q.resized(751, true), true);
  assert.equal(q.dirty, true);
  assert.equal(new QueryState().resized(4000, true), false);
});

test('an axis change forgets the data, the range and the query in flight', () => {
  const { q, sent, send } = loaded();
  q.settled([100, 200]);
  send(500);
  q.reset();
  assert.equal(q.dirty, true);
  assert.equal(q.range, null);
  assert.equal(q.domain, null);
  assert.equal(q.hasData, false);
  assert.equal(q.pendingId, null);
  assert.equal(q.answer(2, true, [0, 1]), 'stale', 'the old axis answer is dropped');
  send(300);
  assert.deepEqual(sent.at(-1), { range: null, buckets: 300 });
});
