import assert from 'node:assert/strict';
import { test } from 'node:test';
import { dvcLiveMetricKey, isDvcLiveHeader, readDvcLiveParams, readDvcLiveTsv } from '../../../src/core/formats/dvclive.ts';

// What DVCLive writes: csv.DictWriter with delimiter "\t", so \r\n line ends; timestamps in ms.
const TSV = 'timestamp\tstep\tloss\r\n1700000000123\t0\t0.9\r\n1700000000456\t1\t0.5\r\n1700000000789\t2\tnan\r\n';

test('a metric .tsv: exact steps, ms timestamps and values, NaN kept', () => {
  const r = readDvcLiveTsv('train/loss', TSV);
  assert.deepEqual(r.points, [
    { key: 'train/loss', step: 0, time: 1_700_000_000_123, value: 0.9 },
    { key: 'train/loss', step: 1, time: 1_700_000_000_456, value: 0.5 },
    { key: 'train/loss', step: 2, time: 1_700_000_000_789, value: NaN },
  ]);
  assert.equal(r.consumed, Buffer.byteLength(TSV));
  assert.deepEqual(r.problems, []);
});

test('a torn last line waits; the rest of the file reads with the header kept in the state, and without one is skipped', () => {
  const cut = TSV.length - 5;
  const state = {};
  const first = readDvcLiveTsv('loss', TSV.slice(0, cut), state);
  assert.deepEqual(first.points.map((p) => p.step), [0, 1]);
  assert.equal(first.consumed, TSV.indexOf('1700000000789'));
  const rest = readDvcLiveTsv('loss', TSV.slice(first.consumed), state);
  assert.deepEqual(rest.points.map((p) => [p.step, p.time]), [[2, 1_700_000_000_789]]);
  const lost = readDvcLiveTsv('loss', TSV.slice(first.consumed));
  assert.deepEqual([lost.points, lost.problems], [[], ['loss: skipped 1 row(s) before any header line']]);
});

test('the header names the columns, in any order; bad rows are counted in one problem', () => {
  const r = readDvcLiveTsv('acc', 'step\tacc\ttimestamp\n3\t0.5\t1000\nx\t0.1\t2000\n4\toops\t3000\n5\t0.75\t4000\n');
  assert.deepEqual(r.points, [{ key: 'acc', step: 3, time: 1000, value: 0.5 }, { key: 'acc', step: 5, time: 4000, value: 0.75 }]);
  assert.equal(r.problems.length, 2);
  assert.match(r.problems.join('\n'), /1 row\(s\) without a numeric step and timestamp/);
  assert.match(r.problems.join('\n'), /1 row\(s\) whose value is not a number/);
});

test('metric keys come from the path below plots/metrics', () => {
  assert.equal(dvcLiveMetricKey('dvclive/plots/metrics/train/loss.tsv'), 'train/loss');
  assert.equal(dvcLiveMetricKey('/w/dvclive/plots/metrics/acc.tsv'), 'acc');
  assert.equal(dvcLiveMetricKey('C:\\w\\dvclive\\plots\\metrics\\eval\\f1.tsv'), 'eval/f1');
  assert.equal(dvcLiveMetricKey('dvclive/plots/images/x.tsv'), undefined);
  assert.equal(dvcLiveMetricKey('dvclive/metrics.json'), undefined);
});

test('params.yaml: nested keys flattened with dots, lists as JSON', () => {
  const r = readDvcLiveParams('lr: 0.001\nepochs: 10\nuse_amp: true\nmodel:\n  name: resnet\n  depth: 18\n  opt:\n    beta: 0.9\nlayers: [64, 128]\nnothing: null\n');
  assert.deepEqual(r.params, { lr: 0.001, epochs: 10, use_amp: true, 'model.name': 'resnet', 'model.depth': 18, 'model.opt.beta': 0.9, layers: '[64,128]' });
  assert.deepEqual(r.problems, []);
});

test('broken or odd params.yaml gives a problem, not an exception', () => {
  const broken = readDvcLiveParams('lr: [0.1\n');
  assert.deepEqual(broken.params, {});
  assert.match(broken.problems[0]!, /not valid YAML/);
  assert.match(readDvcLiveParams('- 1\n- 2\n').problems[0]!, /not hold a mapping/);
  assert.deepEqual(readDvcLiveParams(''), { params: {}, problems: [] });
});

test('DVCLive 3 writes no timestamp: rows take `now`; the header is kept for the reads after it', () => {
  const state = {};
  const first = readDvcLiveTsv('train/loss', 'step\tloss\n0\t0.9\n1\t0.5\n', state, 42);
  assert.deepEqual(first.points, [{ key: 'train/loss', step: 0, time: 42, value: 0.9 }, { key: 'train/loss', step: 1, time: 42, value: 0.5 }]);
  assert.deepEqual(first.problems, []);
  const next = readDvcLiveTsv('train/loss', '2\t0.25\n', state, 43);
  assert.deepEqual(next.points, [{ key: 'train/loss', step: 2, time: 43, value: 0.25 }]);
  // With a timestamp column remembered, a later slice reads it too.
  const timed = {};
  readDvcLiveTsv('acc', 'step\tacc\ttimestamp\n', timed);
  assert.deepEqual(readDvcLiveTsv('acc', '7\t0.5\t1000\n', timed, 0).points, [{ key: 'acc', step: 7, time: 1000, value: 0.5 }]);
});

test('DVCLive 0.x/1.x: scalars/<name>.tsv is found and keyed like plots/metrics', () => {
  assert.equal(dvcLiveMetricKey('/w/dvclive/scalars/train/acc.tsv'), 'train/acc');
  assert.equal(dvcLiveMetricKey('/home/scalars/w/dvclive/plots/metrics/loss.tsv'), 'loss', 'the nearest layout folder counts');
  assert.equal(isDvcLiveHeader('timestamp\tstep\tacc'), true);
  assert.equal(isDvcLiveHeader('step\tloss'), true);
  assert.equal(isDvcLiveHeader('name\tvalue'), false);
  assert.equal(isDvcLiveHeader('timestamp\tstep\ta\tb'), false);
});
