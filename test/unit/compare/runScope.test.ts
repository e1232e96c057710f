import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { CompareModel, CompareViewState } from '../../../src/core/compare/protocol.ts';
import { AUTO_TOP_N, rankRuns, runMatcher, runScope, topNOf } from '../../../webview/compare/runScope.ts';

/** n runs; run i has val_loss min 1/(i+1) (the last run is best) except every 7th, which never logged it. */
function model(n: number): CompareModel {
  const runs = Array.from({ length: n }, (_, i) => ({
    id: i + 1, uid: `u${i}`, name: `trial-${i}`, experiment: 'sweep', status: 'finished' as const, color: '#fff',
    startedAt: 0, endedAt: 1, starred: false,
  }));
  const loss = runs.map((_r, i) => (i % 7 === 3 ? null : 1 / (i + 1)));
  return {
    runs, keys: ['val_loss'], primary: { key: 'val_loss', goal: 'min', configured: false }, bestStep: runs.map(() => null),
    params: [
      { key: 'train.lr', values: runs.map((_r, i) => [0.1, 0.01, 0.001][i % 3]!) },
      { key: 'optimizer', values: runs.map((_r, i) => (i % 2 ? 'adam' : 'sgd')) },
    ],
    metrics: [{ key: 'val_loss', last: loss, min: loss, max: loss, atBest: loss, count: loss.map((v) => (v === null ? 0 : 5)) }],
    provenance: runs.map(() => ({ commit: null, branch: null, dirty: false, hasPatch: false, interpreter: null, durationMs: 1, datasets: [], alerts: [], alertCount: 0 })),
    packages: { runs: runs.map(() => null), sets: [], names: [] },
  };
}

const state = (patch: Partial<CompareViewState> = {}): CompareViewState => ({
  runUids: [], axis: 'step', smoothing: 0, logY: false, search: '', onlyDifferences: true, hiddenRuns: [], tab: 'charts', ...patch,
});

test('runs rank best first by the primary metric, runs without it last in model order', () => {
  const r = rankRuns(model(8));
  assert.deepEqual(r, [7, 6, 5, 4, 2, 1, 0, 3]);
  const max = model(3);
  max.primary = { key: 'val_loss', goal: 'max', configured: true };
  assert.deepEqual(rankRuns(max), [0, 1, 2]);
});

test('a sweep of more than 100 runs draws the best 20 unless asked otherwise; 100 runs draw all', () => {
  assert.equal(topNOf(state(), 1000), AUTO_TOP_N);
  assert.equal(topNOf(state(), 100), 0);
  assert.equal(topNOf(state({ topN: 0 }), 1000), 0);
  const m = model(1000);
  const s = runScope(m, state());
  assert.equal(s.mode, 'top');
  assert.equal(s.scope.length, 20);
  assert.equal(s.shown.size, 20);
  assert.ok(s.scope.some((r) => r.uid === 'u999'), 'the best run is drawn');
  assert.ok(!s.scope.some((r) => r.uid === 'u0'), 'the worst is not');
  assert.deepEqual(s.scope.map((r) => r.id), [...s.scope.map((r) => r.id)].sort((a, b) => a - b), 'in model order');
  const all = runScope(m, state({ topN: 0, hiddenRuns: ['u5'] }));
  assert.equal(all.mode, 'all');
  assert.equal(all.scope.length, 1000);
  assert.equal(all.shown.size, 999);
  assert.equal(runScope(model(100), state()).mode, 'all');
  assert.equal(s.byPrimary, true);
  const none = model(200);
  none.metrics[0]!.min = none.metrics[0]!.min.map(() => null);
  const first = runScope(none, state());
  assert.equal(first.byPrimary, false, 'no run has the primary metric: the first 20, not the best');
  assert.deepEqual(first.scope.map((r) => r.uid), none.runs.slice(0, 20).map((r) => r.uid));
});

test('show only: the isolated runs, less the hidden ones, whatever their rank', () => {
  const s = runScope(model(1000), state({ onlyRuns: ['u0', 'u1', 'gone'], hiddenRuns: ['u1'] }));
  assert.equal(s.mode, 'only');
  assert.deepEqual(s.scope.map((r) => r.uid), ['u0', 'u1']);
  assert.deepEqual([...s.shown], ['u0']);
  // isolated runs that are all gone: back to the top N
  assert.equal(runScope(model(1000), state({ onlyRuns: ['gone'] })).mode, 'top');
});

test('the run filter matches names, param=value (by a dotted suffix too), comparisons, and every word', () => {
  const m = model(30);
  const found = (q: string) => m.runs.map((_r, i) => i).filter(runMatcher(q, m));
  assert.deepEqual(found('trial-2'), [2, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29]);
  assert.deepEqual(found('lr=0.1'), found('train.lr=0.1'));
  assert.deepEqual(found('lr=0.1').slice(0, 3), [0, 3, 6]);
  assert.deepEqual(found('lr<0.01').slice(0, 3), [2, 5, 8]);
  assert.deepEqual(found('val_loss<0.04'), [25, 26, 27, 28, 29]);
  assert.deepEqual(found('optimizer=adam lr=0.1'), [3, 9, 15, 21, 27]);
  assert.deepEqual(found('optimizer!=adam val_loss<0.04'), [26, 28]);
  assert.deepEqual(found('ADAM').length, 15, 'a plain word is looked for in the params as well, any case');
  assert.deepEqual(found('nosuchkey=1'), [], 'an unknown key is plain text');
  assert.deepEqual(found(''), m.runs.map((_r, i) => i));
});
