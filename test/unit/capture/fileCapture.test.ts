import assert from 'node:assert/strict';
import { appendFileSync, mkdirSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { Store } from '../../../src/core/store/store.ts';
import { FileCapture } from '../../../src/core/capture/fileCapture.ts';
import { tagPrefix } from '../../../src/core/capture/eventFiles.ts';
import { tempDir } from '../helpers.ts';
import { encodeTfEvent, eventFile, frameRecord } from '../formats/tfeventsWriter.ts';

const T0 = 1_700_000_000;
const NOW = 1_800_000_000_000;

function setup() {
  const dir = tempDir();
  const store = Store.open(join(dir, '.runlens'));
  const run = store.runs.create({ name: 'r', status: 'running', startedAt: Date.now() - 1000 });
  return { dir, store, run };
}

const write = (path: string, data: string | Uint8Array) => { mkdirSync(dirname(path), { recursive: true }); writeFileSync(path, data); };
const append = (path: string, data: string | Uint8Array) => appendFileSync(path, data);
/** One event, unframed (for eventFile) and framed (to append). */
const enc = (step: number, scalars: { [k: string]: number }) => encodeTfEvent({ step, wallTime: T0 + step / 4, scalars, mode: 'tensor-double' });
const ev = (step: number, scalars: { [k: string]: number }) => frameRecord(enc(step, scalars));

function points(store: Store, runId: number, key: string) {
  const c = store.metrics.points(runId, key);
  return { steps: [...c.steps], times: [...c.times], values: [...c.values] };
}

test('event files: pieces, a torn last record held back, a bad data checksum skipped, split folders prefixed', () => {
  const { dir, store, run } = setup();
  const file = join(dir, 'runs', 'exp', 'events.out.tfevents.1.host');
  write(file, eventFile([enc(0, { loss: 1.5, acc: 0.25 })], T0));
  const capture = new FileCapture(store, run.id, [dir], { rescanMs: 0 });
  assert.equal(capture.poll(), 2);
  const e1 = ev(1, { loss: 1.25 }), e2 = ev(2, { loss: 1.0, acc: 0.5 });
  append(file, e1);
  append(file, e2.subarray(0, 20)); // torn
  assert.equal(capture.poll(), 1);
  assert.equal(capture.poll(), 0, 'the torn record waits');
  const bad = ev(3, { loss: 99 });
  bad[bad.length - 1]! ^= 0xff; // data CRC wrong
  append(file, e2.subarray(20));
  append(file, bad);
  append(file, ev(4, { loss: 0.5 }));
  assert.equal(capture.poll(), 3);
  assert.deepEqual(points(store, run.id, 'loss'), {
    steps: [0, 1, 2, 4], times: [T0 * 1000, (T0 + 0.25) * 1000, (T0 + 0.5) * 1000, (T0 + 1) * 1000], values: [1.5, 1.25, 1.0, 0.5],
  });
  assert.deepEqual(points(store, run.id, 'acc').values, [0.25, 0.5]);
  assert.equal(capture.stats.problems.length, 1);
  assert.match(capture.stats.problems[0]!, /runs\/exp\/events\.out\.tfevents\.1\.host: bad data checksum in the record at byte \d+; skipped it/);
  assert.deepEqual(capture.stats.files, ['runs/exp/events.out.tfevents.1.host']);

  // Keras: logs/train and logs/validation
  write(join(dir, 'logs', 'train', 'events.out.tfevents.2.host'), eventFile([enc(0, { epoch_loss: 0.75 })]));
  write(join(dir, 'logs', 'validation', 'events.out.tfevents.3.host'), eventFile([enc(0, { epoch_loss: 0.875 })]));
  assert.equal(capture.poll(), 2);
  assert.deepEqual(points(store, run.id, 'train/epoch_loss').values, [0.75]);
  assert.deepEqual(points(store, run.id, 'validation/epoch_loss').values, [0.875]);
  assert.equal(tagPrefix('/x/runs/exp/events.out.tfevents.1'), '');

  // A reloaded window: nothing twice, and it goes on.
  const again = new FileCapture(store, run.id, [dir], { rescanMs: 0 });
  assert.equal(again.poll(), 0);
  append(file, ev(5, { loss: 0.25 }));
  assert.equal(again.poll(), 1);
  assert.deepEqual(points(store, run.id, 'loss').steps, [0, 1, 2, 4, 5]);
  assert.equal(store.offset(run.id, 'capture:runs/exp/events.out.tfevents.1.host') > 0, true);
  store.close();
});

test('event files: a bad length checksum stops that file, with one problem', () => {
  const { dir, store, run } = setup();
  const file = join(dir, 'events.out.tfevents.9.h');
  const broken = ev(1, { loss: 2 });
  broken[8]! ^= 1;
  write(file, eventFile([enc(0, { loss: 1 })]));
  append(file, broken);
  append(file, ev(2, { loss: 3 }));
  const capture = new FileCapture(store, run.id, [dir]);
  assert.equal(capture.poll(), 1);
  assert.equal(capture.poll(), 0);
  assert.deepEqual(capture.stats.problems, [`events.out.tfevents.9.h: bad length checksum at byte ${eventFile([enc(0, { loss: 1 })]).length}; the rest of the file is not read`]);
  store.close();
});

test('Lightning metrics.csv: sparse rows, a partial line, then a rewrite with a new column, without duplicates', () => {
  const { dir, store, run } = setup();
  const file = join(dir, 'lightning_logs', 'version_0', 'metrics.csv');
  write(file, 'epoch,step,train_loss\r\n0,0,1.5\r\n0,1,1.25\r\n');
  let now = NOW;
  const capture = new FileCapture(store, run.id, [dir], { now: () => now, rescanMs: 0 });
  assert.equal(capture.poll(), 4);
  now += 1000;
  append(file, '0,2,1.0\r\n0,3,0.');
  assert.equal(capture.poll(), 2, 'step 2 (loss and epoch); the partial line waits');
  now += 1000;
  // Lightning rewrites the file whole when val_loss appears; the old rows keep their place.
  write(file, 'epoch,step,train_loss,val_loss\r\n0,0,1.5,\r\n0,1,1.25,\r\n0,2,1.0,\r\n0,3,0.75,\r\n0,3,,2.5\r\n1,4,0.5,\r\n');
  assert.equal(capture.poll(), 5, 'step 3 loss + epoch, val_loss, step 4 loss + epoch');
  assert.deepEqual(points(store, run.id, 'train_loss'), {
    steps: [0, 1, 2, 3, 4], times: [NOW, NOW, NOW + 1000, NOW + 2000, NOW + 2000], values: [1.5, 1.25, 1.0, 0.75, 0.5],
  });
  assert.deepEqual(points(store, run.id, 'val_loss'), { steps: [3], times: [NOW + 2000], values: [2.5] });
  assert.deepEqual(points(store, run.id, 'epoch'), { steps: [0, 1, 2, 3, 4], times: [NOW, NOW, NOW + 1000, NOW + 2000, NOW + 2000], values: [0, 0, 0, 0, 1] });
  assert.equal(store.offset(run.id, 'capture:lightning_logs/version_0/metrics.csv'), 6, 'data rows');

  // A reloaded window reads the file from the top and skips the 6 stored rows.
  const again = new FileCapture(store, run.id, [dir], { now: () => now, rescanMs: 0 });
  assert.equal(again.poll(), 0);
  append(file, '1,5,0.25,\r\n');
  assert.equal(again.poll(), 2);
  assert.deepEqual(points(store, run.id, 'train_loss').steps, [0, 1, 2, 3, 4, 5]);
  assert.deepEqual(capture.stats.problems, []);
  store.close();
});

test('a Keras CSVLogger file counts only when named; other CSVs found by search are ignored', () => {
  const { dir, store, run } = setup();
  write(join(dir, 'training.csv'), 'epoch,accuracy,loss\n0,0.5,0.9\n1,0.75,0.5\n');
  write(join(dir, 'data', 'table.csv'), 'epoch,x\n0,1\n');
  const found = new FileCapture(store, run.id, [dir], { now: () => NOW });
  assert.equal(found.poll(), 0);
  const named = new FileCapture(store, run.id, [dir, join(dir, 'training.csv')], { now: () => NOW });
  assert.equal(named.poll(), 4);
  assert.deepEqual(points(store, run.id, 'accuracy'), { steps: [0, 1], times: [NOW, NOW], values: [0.5, 0.75] });
  assert.deepEqual(named.stats.files, ['training.csv']);
  store.close();
});

test('DVCLive: .tsv plots appended in pieces, params.yaml into params', () => {
  const { dir, store, run } = setup();
  const tsv = join(dir, 'dvclive', 'plots', 'metrics', 'train', 'loss.tsv');
  write(tsv, 'timestamp\tstep\tloss\n1700000000000\t0\t0.5\n1700000001000\t1\t0.4');
  write(join(dir, 'dvclive', 'params.yaml'), 'lr: 0.01\nmodel:\n  depth: 3\n');
  store.runs.setParams(run.id, { lr: 0.1 });
  const capture = new FileCapture(store, run.id, [dir], { rescanMs: 0 });
  assert.equal(capture.poll(), 1, 'the line without its newline waits');
  append(tsv, '5\n1700000002000\t2\t0.3\n');
  assert.equal(capture.poll(), 2);
  assert.deepEqual(points(store, run.id, 'train/loss'), { steps: [0, 1, 2], times: [1.7e12, 1.7e12 + 1000, 1.7e12 + 2000], values: [0.5, 0.45, 0.3] });
  assert.deepEqual(store.runs.params(run.id), { lr: 0.1, 'model.depth': 3 }, 'the run\'s own lr wins');
  const again = new FileCapture(store, run.id, [dir], { rescanMs: 0 });
  assert.equal(again.poll(), 0);
  store.close();
});

test('HF trainer_state.json: read when it changes (checkpoints rewrite it whole), steps never twice', () => {
  const { dir, store, run } = setup();
  const state = (entries: object[]) => JSON.stringify({ log_history: entries, train_batch_size: 8 });
  const ckpt = join(dir, 'out', 'checkpoint-2', 'trainer_state.json');
  const h1 = [{ loss: 2.5, epoch: 0.5, step: 1 }, { loss: 2.0, epoch: 1.0, step: 2 }, { eval_loss: 2.25, epoch: 1.0, step: 2 }];
  write(ckpt, state(h1));
  utimesSync(ckpt, new Date(), new Date(Date.now() + 60_000)); // after the run started
  const ckptTime = statSync(ckpt).mtimeMs;
  const capture = new FileCapture(store, run.id, [dir], { rescanMs: 0 });
  assert.equal(capture.poll(), 5);
  assert.equal(capture.poll(), 0, 'unchanged: not read again');
  const final = join(dir, 'out', 'trainer_state.json');
  write(final, state([...h1, { loss: 1.5, epoch: 1.5, step: 3 }, { loss: 1.0, epoch: 2.0, step: 4 }]));
  utimesSync(final, new Date(), new Date(Date.now() + 120_000));
  const finalTime = statSync(final).mtimeMs;
  assert.equal(capture.finish(), 4);
  const loss = points(store, run.id, 'loss');
  assert.deepEqual(loss.steps, [1, 2, 3, 4]);
  assert.deepEqual(loss.values, [2.5, 2.0, 1.5, 1.0]);
  assert.deepEqual(points(store, run.id, 'eval_loss').steps, [2]);
  assert.deepEqual(points(store, run.id, 'epoch').values, [0.5, 1.0, 1.5, 2.0]);
  assert.deepEqual(loss.times, [ckptTime, ckptTime, finalTime, finalTime], 'the file has no times: each point gets its file\'s mtime');
  assert.equal(store.runs.params(run.id).train_batch_size, 8);
  const again = new FileCapture(store, run.id, [dir]);
  assert.equal(again.finish(), 0);
  store.close();
});

test('files left by earlier runs: what they held is skipped, what this run adds is read', () => {
  const { dir, store, run } = setup();
  const old = join(dir, 'lightning_logs', 'version_0', 'metrics.csv');
  const oldEvents = join(dir, 'runs', 'old', 'events.out.tfevents.1.h');
  write(old, 'epoch,step,loss\n0,0,9\n');
  write(oldEvents, eventFile([enc(0, { loss: 9 })]));
  const past = new Date(Date.now() - 3600_000);
  utimesSync(old, past, past);
  utimesSync(oldEvents, past, past);
  const capture = new FileCapture(store, run.id, [dir], { now: () => NOW, rescanMs: 0 });
  assert.equal(capture.poll(), 0);
  append(oldEvents, ev(1, { loss: 1 }));
  append(old, '0,1,2\n');
  assert.equal(capture.poll(), 2, 'loss and epoch from the CSV');
  assert.deepEqual(points(store, run.id, 'loss'), { steps: [1], times: [NOW], values: [2] }, 'CSV first (lightning_logs sorts first); one source per key');
  store.close();
});

test('a small budget takes a big file in several polls, losing nothing', () => {
  const { dir, store, run } = setup();
  const events = [];
  for (let i = 0; i < 3000; i++) events.push(encodeTfEvent({ step: i, wallTime: T0 + i, scalars: { loss: i / 2 }, mode: 'tensor-double' }));
  write(join(dir, 'events.out.tfevents.5.h'), eventFile(events));
  const capture = new FileCapture(store, run.id, [dir]);
  let polls = 0, total = 0;
  for (let added; (added = capture.poll(20_000)) > 0; polls++) total += added;
  assert.equal(total, 3000);
  assert.ok(polls > 3, `${polls} polls`);
  const loss = points(store, run.id, 'loss');
  assert.deepEqual(loss.steps, Array.from({ length: 3000 }, (_, i) => i));
  store.close();
});
