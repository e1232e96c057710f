import assert from 'node:assert/strict';
import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { Store } from '../../../src/core/store/store.ts';
import { importTensorBoard } from '../../../src/core/importers/importTensorBoard.ts';
import { tempDir } from '../helpers.ts';
import { encodeTfEvent, eventFile, frameRecord } from '../formats/tfeventsWriter.ts';

const T0 = 1_700_000_000;
const enc = (step: number, scalars: { [k: string]: number }) => encodeTfEvent({ step, wallTime: T0 + step, scalars, mode: 'tensor-double' });
const write = (path: string, data: string | Uint8Array) => { mkdirSync(dirname(path), { recursive: true }); writeFileSync(path, data); };

test('a TensorBoard log folder: one run per folder with event files, split folders as key prefixes, importing again adds only what is new', async () => {
  const dir = tempDir();
  const logs = join(dir, 'tb');
  const aFile = join(logs, 'lr_0.1', 'events.out.tfevents.100.host');
  write(aFile, eventFile([enc(0, { loss: 2 }), enc(1, { loss: 1.5 })]));
  write(join(logs, 'lr_0.1', 'events.out.tfevents.200.host'), eventFile([enc(2, { loss: 1 })])); // a restart: same run
  write(join(logs, 'lr_0.1', 'hparams.yaml'), 'lr: 0.1\noptim:\n  name: sgd\n');
  write(join(logs, 'keras', 'train', 'events.out.tfevents.1.h'), eventFile([enc(0, { epoch_loss: 0.5 }), enc(1, { epoch_loss: 0.25 })]));
  write(join(logs, 'keras', 'validation', 'events.out.tfevents.2.h'), eventFile([enc(0, { epoch_loss: 0.75 })]));
  const store = Store.open(join(dir, '.runlens'));
  const report = await importTensorBoard(store, logs);
  assert.deepEqual(report, { runs: 2, unchanged: 0, updated: 0, points: 6, models: 0, skipped: [], cancelled: false });
  const runs = store.runs.list({}).sort((x, y) => x.name.localeCompare(y.name));
  assert.deepEqual(runs.map((r) => [r.name, r.experiment, r.status, r.origin]), [
    ['keras', 'tensorboard', 'finished', `tensorboard:${join(logs, 'keras')}`],
    ['lr_0.1', 'tensorboard', 'finished', `tensorboard:${join(logs, 'lr_0.1')}`],
  ]);
  const [keras, a] = runs as [typeof runs[0], typeof runs[0]];
  const pts = (id: number, key: string) => { const c = store.metrics.points(id, key); return { steps: [...c.steps], times: [...c.times], values: [...c.values] }; };
  assert.deepEqual(pts(a.id, 'loss'), { steps: [0, 1, 2], times: [T0 * 1000, (T0 + 1) * 1000, (T0 + 2) * 1000], values: [2, 1.5, 1] });
  assert.deepEqual([a.startedAt, a.endedAt], [T0 * 1000, (T0 + 2) * 1000]);
  assert.deepEqual(store.runs.params(a.id), { lr: 0.1, 'optim.name': 'sgd' });
  assert.deepEqual(store.runs.tags(a.id), { 'runlens.origin': `tensorboard:${join(logs, 'lr_0.1')}` });
  assert.deepEqual(pts(keras.id, 'train/epoch_loss').values, [0.5, 0.25]);
  assert.deepEqual(pts(keras.id, 'validation/epoch_loss').values, [0.75]);

  const again = await importTensorBoard(store, logs);
  assert.deepEqual([again.runs, again.points, again.unchanged, again.updated], [0, 0, 2, 0]);
  assert.equal(store.runs.count(), 2);

  appendFileSync(aFile, frameRecord(enc(3, { loss: 0.5 })));
  const more = await importTensorBoard(store, logs);
  assert.deepEqual([more.runs, more.points, more.unchanged, more.updated], [0, 1, 1, 1]);
  assert.deepEqual(pts(a.id, 'loss').steps, [0, 1, 2, 3], 'the new point after the stored ones');
  assert.equal(store.runs.get(a.id)!.endedAt, (T0 + 3) * 1000);
  store.close();
});

test('a TensorBoard import reports a bad record, a torn end and an empty folder, and imports the rest', async () => {
  const dir = tempDir();
  const file = join(dir, 'run', 'events.out.tfevents.1.h');
  const good = eventFile([enc(0, { loss: 1 })]);
  const bad = frameRecord(enc(1, { loss: 2 }));
  bad[bad.length - 2]! ^= 0x55;
  write(file, Buffer.concat([good, bad, frameRecord(enc(2, { loss: 3 })), frameRecord(enc(3, { loss: 4 })).subarray(0, 30)]));
  const store = Store.open(join(dir, '.runlens'));
  const report = await importTensorBoard(store, dir);
  assert.equal(report.points, 2);
  assert.deepEqual(report.skipped, [
    { what: file, why: `bad data checksum in the record at byte ${good.length}; skipped it` },
    { what: file, why: 'the last 30 bytes are an incomplete record' },
  ]);
  const empty = await importTensorBoard(store, join(dir, 'run', 'nothing'));
  assert.match(empty.skipped[0]!.why, /no TensorBoard event files/);
  store.close();
});
