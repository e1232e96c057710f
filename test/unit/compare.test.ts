import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Store } from '../../src/core/store/store.ts';
import { querySeries, seriesCsv, primaryMetric, loadRuns } from '../../src/core/compare/compareData.ts';
import { buildModel } from '../../src/core/compare/modelCache.ts';
import { LiveTail } from '../../src/core/compare/liveTail.ts';
import { parseViewMessage, ProtocolError, MAX_BUCKETS } from '../../src/core/compare/protocol.ts';
import { runColor } from '../../src/core/compare/colors.ts';
import { tempDir, series } from './helpers.ts';

const T0 = 1_700_000_000_000;

/**
 * What the host posts to the webview arrives JSON-serialized: a NaN, -0, undefined, Map or typed
 * array in it would arrive changed (null, 0, missing, {}), so the round trip must give back the same.
 */
function assertSurvivesJson(value: unknown): void {
  assert.deepEqual(JSON.parse(JSON.stringify(value)), value, 'unchanged by a JSON round trip');
}

/** Two runs: 100,000 smooth loss points each; run b has a one-step spike to 50 at step 77,777. */
function fixture() {
  const store = Store.open(tempDir());
  const a = store.runs.create({ name: 'a', status: 'finished', startedAt: T0, params: { lr: 0.1, batch: 32, opt: 'sgd' } });
  const b = store.runs.create({ name: 'b', status: 'finished', startedAt: T0 + 5000, params: { lr: 0.01, batch: 32 } });
  const loss = (s: number) => 1 / (1 + s / 1000);
  store.metrics.append(a.id, 'loss', series(0, 100_000, loss));
  store.metrics.append(b.id, 'loss', series(0, 100_000, (s) => (s === 77_777 ? 50 : loss(s) * 1.1), T0 + 5000));
  store.metrics.append(a.id, 'val_acc', series(0, 10, (s) => [0.5, 0.6, 0.9, 0.7, 0.8, 0.85, 0.86, 0.87, 0.88, 0.89][s]!));
  store.metrics.append(b.id, 'val_acc', series(0, 10, (s) => 0.5 + s * 0.04));
  return { store, a, b, runs: loadRuns(store, [a.id, b.id]) };
}

test('a chart query returns per-bucket min/max/last for every run, and the spike shows in its bucket max', () => {
  const { store, runs, b } = fixture();
  const answer = querySeries(store, runs, { key: 'loss', axis: 'step', range: null, buckets: 800 });
  assert.deepEqual(answer.domain, [0, 99_999]);
  assert.equal(answer.series.length, 2);
  const sb = answer.series.find((s) => s.runId === b.id)!;
  assert.ok(sb.x.length <= 800 && sb.x.length > 700, `${sb.x.length} buckets`);
  const total = sb.count.reduce((n, c) => n + c, 0);
  assert.equal(total, 100_000, 'every point counted once');
  const spikeBucket = sb.max.findIndex((m) => m === 50);
  assert.ok(spikeBucket >= 0, 'the one-step spike is the max of its bucket');
  assert.equal(sb.max.filter((m) => m !== null && m > 2).length, 1, 'and nowhere else');
  assert.ok(sb.last[spikeBucket]! < 1, 'while the line through last stays smooth');
  assertSurvivesJson(answer);
  store.close();
});

test('zooming re-queries: a narrow range gives raw points there', () => {
  const { store, runs, b } = fixture();
  const answer = querySeries(store, runs, { key: 'loss', axis: 'step', range: [77_700, 77_800], buckets: 1000 });
  const sb = answer.series.find((s) => s.runId === b.id)!;
  assert.equal(sb.x[0], 77_700);
  assert.equal(sb.x.at(-1), 77_800);
  assert.ok(sb.count.every((c) => c === 1));
  assert.equal(sb.last[sb.x.indexOf(77_777)], 50);
  store.close();
});

test('relative time starts each run at zero; wall time keeps epoch ms', () => {
  const { store, runs } = fixture();
  const rel = querySeries(store, runs, { key: 'loss', axis: 'relative', range: null, buckets: 100 });
  assert.deepEqual(rel.domain, [0, 99_999_000]);
  for (const s of rel.series) assert.ok(s.x[0]! < 2_000_000, `run ${s.runId} starts near 0, not at ${s.x[0]}`);
  const wall = querySeries(store, runs, { key: 'loss', axis: 'time', range: null, buckets: 100 });
  assert.deepEqual(wall.domain, [T0, T0 + 5000 + 99_999_000]);
  store.close();
});

test('non-finite values travel as null, never as NaN in JSON', () => {
  const store = Store.open(tempDir());
  const r = store.runs.create({ name: 'r' });
  const vals = [1, NaN, Infinity, 2];
  store.metrics.append(r.id, 'x', series(0, 4, (s) => vals[s]!));
  const { series: [s] } = querySeries(store, [store.runs.get(r.id)!], { key: 'x', axis: 'step', range: null, buckets: 10 });
  assert.deepEqual(s!.last, [1, null, null, 2]);
  assertSurvivesJson(s);
  store.close();
});

test('the model has params aligned per run, metric summaries, and values at the best step', () => {
  const { store, runs } = fixture();
  const model = buildModel(store, runs);
  assert.deepEqual(model.runs.map((r) => r.name), ['a', 'b']);
  assert.deepEqual(model.keys, ['loss', 'val_acc']);
  assert.deepEqual(model.primary, { key: 'val_acc', goal: 'max', configured: false });
  assert.deepEqual(model.bestStep, [2, 9]);
  assert.deepEqual(model.params.find((p) => p.key === 'lr')!.values, [0.1, 0.01]);
  assert.deepEqual(model.params.find((p) => p.key === 'opt')!.values, ['sgd', null]);
  const acc = model.metrics.find((m) => m.key === 'val_acc')!;
  assert.deepEqual(acc.atBest, [0.9, 0.5 + 9 * 0.04]);
  assert.deepEqual(acc.last, [0.89, 0.5 + 9 * 0.04]);
  const loss = model.metrics.find((m) => m.key === 'loss')!;
  assert.equal(loss.atBest[0], 1 / (1 + 2 / 1000));
  assert.equal(loss.max[1], 50);
  assert.equal(model.runs[0]!.color, runColor(runs[0]!.id));
  assert.notEqual(model.runs[0]!.color, model.runs[1]!.color);
  assertSurvivesJson(model);
  const configured = buildModel(store, runs, { name: 'loss', goal: 'min' });
  assert.deepEqual(configured.primary, { key: 'loss', goal: 'min', configured: true });
  assert.deepEqual(configured.bestStep, [99_999, 99_999]);
  store.close();
});

test('the primary metric guess prefers validation accuracy, then validation loss', () => {
  assert.equal(primaryMetric(['train_acc', 'val_acc', 'loss'])?.key, 'val_acc');
  assert.deepEqual(primaryMetric(['train_loss', 'val_loss']), { key: 'val_loss', goal: 'min', configured: false });
  assert.equal(primaryMetric(['lr', 'grad_norm']), null);
});

test('CSV export has every point in the range, with run names quoted when needed', () => {
  const store = Store.open(tempDir());
  const r = store.runs.create({ name: 'a, "quoted" run' });
  store.metrics.append(r.id, 'x', series(0, 5, (s) => (s === 3 ? NaN : s)));
  const csv = seriesCsv(store, [store.runs.get(r.id)!], 'x', 'step', [1, 3]);
  const lines = csv.split('\r\n');
  assert.equal(lines[0], 'run,run_id,step,time,value');
  assert.equal(lines.length, 5);
  assert.equal(lines[4], '', 'every line ends with CRLF');
  assert.ok(lines[1]!.startsWith('"a, ""quoted"" run",'));
  assert.ok(lines[3]!.endsWith(',3,2023-11-14T22:13:23.000Z,NaN'));
  store.close();
});

test('the chart CSV defuses a run name a spreadsheet would run as a formula, and keeps negative values numbers', () => {
  const store = Store.open(tempDir());
  const r = store.runs.create({ name: '=HYPERLINK("x")' });
  store.metrics.append(r.id, 'x', series(0, 2, (s) => (s === 0 ? -0.5 : -Infinity)));
  const [, first, second] = seriesCsv(store, [store.runs.get(r.id)!], 'x', 'step', null).split('\r\n');
  assert.equal(first, `"'=HYPERLINK(""x"")",${r.uid},0,2023-11-14T22:13:20.000Z,-0.5`);
  assert.ok(second!.endsWith(',1,2023-11-14T22:13:21.000Z,-Infinity'), second);
  store.close();
});

test('live updates send only the points logged since the last answer', () => {
  const store = Store.open(tempDir());
  const r = store.runs.create({ name: 'live', status: 'running', startedAt: T0 });
  store.metrics.append(r.id, 'loss', series(0, 100, (s) => s));
  const runs = () => [store.runs.get(r.id)!];
  const tail = new LiveTail();
  const answer = querySeries(store, runs(), { key: 'loss', axis: 'step', range: null, buckets: 1000 });
  tail.follow('loss', 'step', answer, runs(), store);
  assert.deepEqual(tail.collect(store, runs()), [], 'nothing new yet');
  store.metrics.append(r.id, 'loss', series(100, 3, (s) => s * 2));
  const [msg] = tail.collect(store, runs());
  assert.equal(msg!.key, 'loss');
  assert.deepEqual(msg!.series[0]!.x, [100, 101, 102]);
  assert.deepEqual(msg!.series[0]!.last, [200, 202, 204]);
  assert.deepEqual(tail.collect(store, runs()), [], 'and each point only once');
  store.metrics.append(r.id, 'loss', series(103, 5000, (s) => s));
  const [burst] = tail.collect(store, runs());
  assert.ok(burst!.series[0]!.x.length <= 500, 'a burst is bucketed');
  assert.equal(burst!.series[0]!.count.reduce((a, b) => a + b, 0), 5000);
  tail.unfollow('loss');
  store.metrics.append(r.id, 'loss', series(5103, 3, (s) => s));
  assert.deepEqual(tail.collect(store, runs()), [], 'a zoomed chart gets no live points');
  store.close();
});

test('messages from the webview are validated before the host acts on them', () => {
  assert.deepEqual(parseViewMessage({ type: 'query', requestId: 1, key: 'loss', axis: 'step', range: null, buckets: 10 ** 9 }),
    { type: 'query', requestId: 1, key: 'loss', axis: 'step', range: null, buckets: MAX_BUCKETS });
  const bad: unknown[] = [
    null, 'ready', { type: 'nope' }, { type: 'query', requestId: 1.5, key: 'k', axis: 'step', range: null, buckets: 1 },
    { type: 'query', requestId: 1, key: '', axis: 'step', range: null, buckets: 1 },
    { type: 'query', requestId: 1, key: 'k', axis: 'epoch', range: null, buckets: 1 },
    { type: 'query', requestId: 1, key: 'k', axis: 'step', range: [5, 1], buckets: 1 },
    { type: 'query', requestId: 1, key: 'k', axis: 'step', range: [0, Infinity], buckets: 1 },
    { type: 'exportPng', key: 'k', dataUrl: 'javascript:alert(1)' },
    { type: 'openCommit', runId: '1' },
  ];
  for (const m of bad) assert.throws(() => parseViewMessage(m), ProtocolError, JSON.stringify(m));
});

test('the provenance table names the data files that changed from the first run, from the per-file hashes', () => {
  const store = Store.open(tempDir());
  const files = (train: string) => [{ path: 'train.csv', sha256: train, size: 10 }, { path: 'val.csv', sha256: 'b'.repeat(64), size: 5 }];
  const runs = ['1', '1', '2'].map((h, i) => {
    const run = store.runs.create({ name: `r${i}`, status: 'finished' });
    store.provenance.setDataset(run.id, { path: 'data', kind: 'directory', digest: h.repeat(64), fileCount: 2, bytes: 15, files: files(h.repeat(64)) });
    return run;
  });
  const model = buildModel(store, loadRuns(store, runs.map((r) => r.id)));
  assert.deepEqual(model.provenance.map((p) => p.datasets[0]!.changed), [undefined, undefined, ['data/train.csv']]);
  assertSurvivesJson(model);
  store.close();
});
