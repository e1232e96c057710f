import assert from 'node:assert/strict';
import { appendFileSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { Store } from '../../src/core/store/store.ts';
import { JsonlIngestor } from '../../src/core/ingest/jsonlIngestor.ts';
import { decodeLine } from '../../src/core/ingest/jsonl.ts';
import { tempDir } from './helpers.ts';

function setup() {
  const dir = tempDir();
  const store = Store.open(join(dir, '.runlens'));
  const run = store.runs.create({ name: 'r', status: 'running' });
  const file = join(dir, 'metrics.jsonl');
  return { dir, store, runId: run.id, file };
}

const values = (store: Store, runId: number, key: string) => Array.from(store.metrics.points(runId, key).values);
const steps = (store: Store, runId: number, key: string) => Array.from(store.metrics.points(runId, key).steps);

test('complete lines are stored; a partial last line waits for its newline', () => {
  const { store, runId, file } = setup();
  writeFileSync(file, '{"t": 1700000000, "step": 0, "metrics": {"loss": 0.9, "acc": 0.4}}\n{"t": 1700000001, "step": 1, "metr');
  const ingest = new JsonlIngestor(store, runId, file);
  assert.equal(ingest.poll(), 2);
  assert.deepEqual(values(store, runId, 'loss'), [0.9]);
  assert.equal(ingest.poll(), 0, 'nothing new until the line is finished');
  appendFileSync(file, 'ics": {"loss": 0.7, "acc": 0.5}}\n');
  assert.equal(ingest.poll(), 2);
  assert.deepEqual(values(store, runId, 'loss'), [0.9, 0.7]);
  assert.deepEqual(steps(store, runId, 'acc'), [0, 1]);
  assert.equal(store.metrics.points(runId, 'loss').times[1], 1_700_000_001_000);
  assert.equal(ingest.stats.malformed, 0);
  store.close();
});

test('after a reload a new reader resumes where the last one stopped: no gaps, no duplicates', () => {
  const { store, runId, file } = setup();
  const line = (i: number) => `{"t": ${1700000000 + i}, "metrics": {"loss": ${1 / (i + 1)}}}\n`;
  writeFileSync(file, Array.from({ length: 500 }, (_, i) => line(i)).join(''));
  new JsonlIngestor(store, runId, file).poll();
  appendFileSync(file, Array.from({ length: 300 }, (_, i) => line(500 + i)).join(''));
  const second = new JsonlIngestor(store, runId, file); // the window reloaded
  assert.equal(second.poll(), 300);
  assert.equal(second.poll(), 0);
  assert.deepEqual(steps(store, runId, 'loss'), Array.from({ length: 800 }, (_, i) => i), 'implicit steps continue');
  assert.deepEqual(values(store, runId, 'loss'), Array.from({ length: 800 }, (_, i) => 1 / (i + 1)));
  store.close();
});

test('NaN and infinities arrive as such, from strings or from Python\'s bare tokens', () => {
  const { store, runId, file } = setup();
  writeFileSync(file, [
    '{"t": 1, "step": 0, "metrics": {"loss": "NaN", "g": "Infinity"}}',
    '{"t": 2, "step": 1, "metrics": {"loss": NaN, "g": -Infinity}}',
    '{"t": 3, "step": 2, "metrics": {"loss": 1e308, "g": "-Infinity", "note": "NaN is fine in strings"}}',
  ].join('\n') + '\n');
  const ingest = new JsonlIngestor(store, runId, file);
  ingest.poll();
  assert.deepEqual(values(store, runId, 'loss').map(String), ['NaN', 'NaN', '1e+308']);
  assert.deepEqual(values(store, runId, 'g'), [Infinity, -Infinity, -Infinity]);
  assert.equal(ingest.stats.skippedValues, 1, 'the text value is skipped and counted');
  store.close();
});

test('malformed lines are skipped and counted, and the lines after them still count', () => {
  const { store, runId, file } = setup();
  writeFileSync(file, [
    '{"t": 1, "step": 0, "metrics": {"loss": 1}}',
    'Traceback (most recent call last):',
    '{"t": 2, "step": "two", "metrics": {"loss": 2}}',
    '[1, 2, 3]',
    '{"t": 3, "unknown": {}}',
    '{"t": 4, "step": 3, "metrics": {"loss": 3}}',
  ].join('\n') + '\n');
  const ingest = new JsonlIngestor(store, runId, file);
  ingest.poll();
  assert.deepEqual(values(store, runId, 'loss'), [1, 3]);
  assert.equal(ingest.stats.malformed, 4);
  assert.match(ingest.stats.problems.join('\n'), /line 2: not valid JSON: Traceback/);
  store.close();
});

test('params are flattened with dots and typed; tags are strings; batch lines carry many points', () => {
  const { store, runId, file } = setup();
  writeFileSync(file, [
    '{"t": 1, "params": {"lr": 0.001, "model": {"depth": 3, "act": "relu"}, "amp": true}}',
    '{"t": 1, "tags": {"owner": "ana", "gpu": 1}}',
    '{"t": 2, "batch": [[0, 1.5, {"loss": 0.9}], [1, 2.0, {"loss": 0.8, "acc": 0.1}], [null, 2.5, {"loss": 0.7}]]}',
  ].join('\n') + '\n');
  new JsonlIngestor(store, runId, file).poll();
  assert.deepEqual(store.runs.params(runId), { amp: true, lr: 0.001, 'model.act': 'relu', 'model.depth': 3 });
  assert.deepEqual(store.runs.tags(runId), { gpu: '1', owner: 'ana' });
  assert.deepEqual(steps(store, runId, 'loss'), [0, 1, 2]);
  assert.deepEqual(Array.from(store.metrics.points(runId, 'loss').times), [1500, 2000, 2500]);
  assert.deepEqual(values(store, runId, 'acc'), [0.1]);
  store.close();
});

test('a missing file is not an error; a file that shrank is reported and nothing is read twice', () => {
  const { store, runId, file } = setup();
  const ingest = new JsonlIngestor(store, runId, file);
  assert.equal(ingest.poll(), 0);
  writeFileSync(file, '{"t": 1, "metrics": {"loss": 1}}\n{"t": 2, "metrics": {"loss": 2}}\n');
  ingest.poll();
  truncateSync(file, 10);
  assert.equal(ingest.poll(), 0);
  assert.match(ingest.stats.problems.join(), /shrank/);
  assert.deepEqual(values(store, runId, 'loss'), [1, 2]);
  store.close();
});

test('artifact and model records are handed on', () => {
  const { store, runId, file } = setup();
  writeFileSync(file, '{"t": 1, "artifact": {"path": "out/m.json"}}\n{"t": 1, "model": {"name": "clf", "path": "out/m.json"}}\n');
  const ingest = new JsonlIngestor(store, runId, file);
  const seen: string[] = [];
  ingest.onRecord = (r) => seen.push(r.kind);
  ingest.poll();
  assert.deepEqual(seen, ['artifact', 'model']);
  assert.equal(decodeLine('{"model": {"name": "x", "path": "p"}}').kind, 'model');
  store.close();
});

test('decodeLine gives one record per line, with non-numeric values listed as skipped', () => {
  assert.deepEqual(decodeLine('{"t": 2, "step": 3, "metrics": {"a": 1, "b": "x", "c": true}}'), {
    kind: 'metrics', time: 2000, points: [{ step: 3, time: 2000, values: [['a', 1], ['c', 1]] }], skipped: ['b'],
  });
  assert.throws(() => decodeLine('{"t": 1, "step": "x", "metrics": {"a": 1}}'), /step is not a number/);
});

test('a byte budget takes a large file in steps, and the steps add up to everything exactly once', () => {
  const { store, runId, file } = setup();
  writeFileSync(file, Array.from({ length: 5000 }, (_, i) => `{"t": 1, "step": ${i}, "metrics": {"loss": ${i}}}\n`).join(''));
  const ingest = new JsonlIngestor(store, runId, file);
  let polls = 0;
  while (ingest.poll(4096) > 0) {
    // Bounded: if the offset were not saved, poll() would return the same points forever.
    if (++polls > 1000) assert.fail('poll() still returns points after 1000 calls of 4 KB for a 230 KB file');
  }
  assert.ok(polls > 20, `many small steps (${polls})`);
  assert.deepEqual(steps(store, runId, 'loss'), Array.from({ length: 5000 }, (_, i) => i));
  store.close();
});

test('columnar batches (base64 float64 columns) arrive exactly, NaN and infinities included', () => {
  const { store, runId, file } = setup();
  const b64 = (xs: number[]) => Buffer.from(Float64Array.from(xs).buffer).toString('base64');
  writeFileSync(file, [
    JSON.stringify({ t: 1, columns: { n: 3, step: b64([0, 1, 2]), time: b64([10, 11, 12]), values: { loss: b64([0.5, NaN, -Infinity]), acc: b64([0.1, 0.2, 0.3]) } } }),
    '{"t": 13, "metrics": {"loss": 0.25}}',
  ].join('\n') + '\n');
  new JsonlIngestor(store, runId, file).poll();
  assert.deepEqual(values(store, runId, 'loss').map(String), ['0.5', 'NaN', '-Infinity', '0.25']);
  assert.deepEqual(steps(store, runId, 'loss'), [0, 1, 2, 3], 'the implicit step continues after a column');
  assert.deepEqual(Array.from(store.metrics.points(runId, 'acc').times), [10_000, 11_000, 12_000]);
  assert.throws(() => decodeLine(JSON.stringify({ t: 1, columns: { n: 2, step: b64([0]), time: b64([1, 2]), values: {} } })), /holds 1 values, not n = 2/);
});

test('a slice with one bad record is redone line by line: the good lines count once, the bad one is reported', () => {
  const { store, runId, file } = setup();
  writeFileSync(file, [
    '{"t": 1, "params": {"lr": 0.1}}',
    '{"t": 1, "metrics": {"loss": 1}}',
    '{"t": 2, "nothing": {}}',
    '{"t": 3, "metrics": {"loss": 2}}',
  ].join('\n') + '\n');
  const ingest = new JsonlIngestor(store, runId, file);
  ingest.poll();
  assert.deepEqual(steps(store, runId, 'loss'), [0, 1]);
  assert.deepEqual(values(store, runId, 'loss'), [1, 2]);
  assert.deepEqual(store.runs.params(runId), { lr: 0.1 });
  assert.equal(ingest.stats.malformed, 1);
  assert.equal(ingest.stats.lines, 4);
});
