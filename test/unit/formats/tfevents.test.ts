import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { readTfEvents } from '../../../src/core/formats/tfevents.ts';
import { decodeEventColumns } from '../../../src/core/capture/eventColumns.ts';
import type { ScalarPoint } from '../../../src/core/formats/types.ts';
import {
  DT, concat, encodeTfEvent, eventFile, fBytes, fDouble, fMessage, fString, fVarint, float32, frameRecord, histogramValue, imageValue,
  simpleValue, summaryEvent, tensorValue, textValue, type EventSpec,
} from './tfeventsWriter.ts';

const T0 = 1_700_000_000;
const HEADER_RECORD = 12 + 24 + 4; // the file_version record: length, CRC, 24 bytes of Event, CRC

function threeEvents(mode: EventSpec['mode'], more: Partial<EventSpec> = {}): Uint8Array[] {
  return [
    encodeTfEvent({ step: 0, wallTime: T0 + 0.5, scalars: { 'train/loss': 0.9, acc: 0.1 }, mode, ...more }),
    encodeTfEvent({ step: 10, wallTime: T0 + 1.25, scalars: { 'train/loss': 0.7, acc: 0.3 }, mode, ...more }),
    encodeTfEvent({ step: 2 ** 40, wallTime: T0 + 2, scalars: { 'train/loss': 0.123456789 }, mode, ...more }),
  ];
}

function expected(round: (v: number) => number): ScalarPoint[] {
  return [
    { key: 'train/loss', step: 0, time: (T0 + 0.5) * 1000, value: round(0.9) },
    { key: 'acc', step: 0, time: (T0 + 0.5) * 1000, value: round(0.1) },
    { key: 'train/loss', step: 10, time: (T0 + 1.25) * 1000, value: round(0.7) },
    { key: 'acc', step: 10, time: (T0 + 1.25) * 1000, value: round(0.3) },
    { key: 'train/loss', step: 2 ** 40, time: (T0 + 2) * 1000, value: round(0.123456789) },
  ];
}

test('the file_version record starts with the bytes real event files start with', () => {
  const file = eventFile([]);
  assert.equal(file.length, HEADER_RECORD);
  assert.deepEqual(Array.from(file.subarray(0, 12)), [0x18, 0, 0, 0, 0, 0, 0, 0, 0xa3, 0x7f, 0x4b, 0x22]);
  const r = readTfEvents(file);
  assert.deepEqual(r, { points: [], consumed: HEADER_RECORD, problems: [], nonScalar: 0 });
});

test('legacy simple_value scalars round-trip as float32, with steps and wall times', () => {
  const file = eventFile(threeEvents('simple'));
  const r = readTfEvents(file);
  assert.deepEqual(r.points, expected(Math.fround));
  assert.equal(r.consumed, file.length);
  assert.deepEqual(r.problems, []);
  assert.equal(r.nonScalar, 0);
});

for (const [mode, round] of [['tensor-float', Math.fround], ['tensor-double', (v: number) => v], ['tensor-content', (v: number) => v]] as const) {
  for (const packed of mode === 'tensor-content' ? [true] : [true, false]) {
    test(`tensor scalars (${mode}${mode === 'tensor-content' ? '' : packed ? ', packed' : ', one tag per value'}) round-trip`, () => {
      const file = eventFile(threeEvents(mode, { packed }));
      const r = readTfEvents(file);
      assert.deepEqual(r.points, expected(round));
      assert.deepEqual(r.problems, []);
    });
  }
}

test('a tag\'s plugin metadata may come only with its first value', () => {
  const file = eventFile([
    encodeTfEvent({ step: 1, wallTime: T0, scalars: { lr: 0.5 }, mode: 'tensor-double' }),
    encodeTfEvent({ step: 2, wallTime: T0, scalars: { lr: 0.25 }, mode: 'tensor-double', metadata: false }),
    summaryEvent(3, T0, [tensorValue('h', { dtype: DT.DOUBLE, doubleVal: [1] }, 'histograms')]),
    summaryEvent(4, T0, [tensorValue('h', { dtype: DT.DOUBLE, doubleVal: [2] }, null)]),
  ]);
  const r = readTfEvents(file);
  assert.deepEqual(r.points.map((p) => [p.key, p.step, p.value]), [['lr', 1, 0.5], ['lr', 2, 0.25]]);
  assert.equal(r.nonScalar, 2, 'the histogram plugin\'s tag stays non-scalar without its metadata');
});

test('half, bfloat16, int and one-element tensors of rank 1 and 2', () => {
  const half = (bits: number) => { const b = new Uint8Array(2); new DataView(b.buffer).setUint16(0, bits, true); return b; };
  const file = eventFile([summaryEvent(5, T0, [
    tensorValue('half', { dtype: DT.HALF, halfVal: [0x3e00] }), // 1.5
    tensorValue('half-content', { dtype: DT.HALF, content: half(0xc000) }), // -2
    tensorValue('half-tiny', { dtype: DT.HALF, halfVal: [0x0001] }), // smallest subnormal
    tensorValue('bf16', { dtype: DT.BFLOAT16, halfVal: [0x3fc0] }), // 1.5
    tensorValue('f-content', { dtype: DT.FLOAT, content: float32(0.1) }),
    tensorValue('rank1', { dtype: DT.FLOAT, shape: [1], floatVal: [3] }),
    tensorValue('rank2', { dtype: DT.DOUBLE, shape: [1, 1], doubleVal: [4] }),
    tensorValue('i32', { dtype: DT.INT32, intVal: [-7] }),
    tensorValue('i64', { dtype: DT.INT64, int64Val: [2 ** 40], packed: false }),
    tensorValue('vector', { dtype: DT.FLOAT, shape: [3], floatVal: [1, 2, 3] }),
    tensorValue('empty', { dtype: DT.FLOAT, shape: [0] }),
    tensorValue('filled', { dtype: DT.FLOAT, shape: [3], floatVal: [5] }), // one value standing for all three
    tensorValue('wrong-field', { dtype: DT.DOUBLE, floatVal: [1] }),
  ])]);
  const r = readTfEvents(file);
  assert.deepEqual(Object.fromEntries(r.points.map((p) => [p.key, p.value])), {
    half: 1.5, 'half-content': -2, 'half-tiny': 2 ** -24, bf16: 1.5, 'f-content': Math.fround(0.1), rank1: 3, rank2: 4, i32: -7, i64: 2 ** 40,
  });
  assert.equal(r.nonScalar, 4);
});

test('images, histograms and text are skipped and counted; scalars beside them are read', () => {
  const file = eventFile([summaryEvent(7, T0 + 3, [imageValue('img'), simpleValue('loss', 0.5), histogramValue('w'), textValue('note', 'hello')])]);
  const r = readTfEvents(file);
  assert.deepEqual(r.points, [{ key: 'loss', step: 7, time: (T0 + 3) * 1000, value: 0.5 }]);
  assert.equal(r.nonScalar, 3);
  assert.deepEqual(r.problems, []);
});

test('NaN and infinities are kept', () => {
  for (const mode of ['simple', 'tensor-float', 'tensor-double', 'tensor-content'] as const) {
    const file = eventFile([encodeTfEvent({ step: 1, wallTime: T0, scalars: { a: NaN, b: Infinity, c: -Infinity }, mode })]);
    assert.deepEqual(readTfEvents(file).points.map((p) => p.value), [NaN, Infinity, -Infinity], mode);
  }
});

test('a torn last record is held back, then read once it is complete', () => {
  const events = threeEvents('tensor-double');
  const file = eventFile(events);
  const lastStart = file.length - (12 + events[2]!.length + 4);
  for (const cut of [lastStart + 1, lastStart + 11, lastStart + 12, lastStart + 20, file.length - 1]) {
    const first = readTfEvents(file.subarray(0, cut));
    assert.equal(first.consumed, lastStart, `cut at ${cut}`);
    assert.equal(first.points.length, 4);
    assert.deepEqual(first.problems, []);
    // The caller continues at offset + consumed, with the whole file or with only the new bytes.
    const rest = readTfEvents(file, first.consumed);
    assert.deepEqual(rest.points, expected((v) => v).slice(4));
    assert.equal(rest.consumed, file.length - lastStart);
    assert.deepEqual(readTfEvents(file.slice(lastStart)).points, rest.points);
  }
  assert.deepEqual(readTfEvents(file, file.length), { points: [], consumed: 0, problems: [], nonScalar: 0 });
});

test('a record with a bad data checksum is skipped with a problem; the rest are read', () => {
  const events = threeEvents('simple');
  const file = eventFile(events);
  const second = HEADER_RECORD + 12 + events[0]!.length + 4;
  file[second + 12 + 5]! ^= 0x01; // inside the second event's data
  const r = readTfEvents(file);
  assert.deepEqual(r.points.map((p) => p.step), [0, 0, 2 ** 40]);
  assert.equal(r.consumed, file.length);
  assert.equal(r.problems.length, 1);
  assert.match(r.problems[0]!, new RegExp(`data checksum .* byte ${second}`));
});

test('a bad length checksum stops the read there', () => {
  const events = threeEvents('simple');
  const file = eventFile(events);
  const second = HEADER_RECORD + 12 + events[0]!.length + 4;
  file[second]! += 1; // the length no longer matches its CRC
  const r = readTfEvents(file);
  assert.deepEqual(r.points.map((p) => p.step), [0, 0]);
  assert.equal(r.consumed, second);
  assert.equal(r.problems.length, 1);
  assert.match(r.problems[0]!, /length checksum/);
});

test('a record with a good checksum but no valid Event is skipped with a problem', () => {
  const events = threeEvents('simple');
  const bad = frameRecord(Uint8Array.of(0x2a, 0x10, 0x01)); // summary field claiming 16 bytes, holding 1
  const file = concat([eventFile(events.slice(0, 1)), bad, frameRecord(fVarint(2, 3)), frameRecord(events[1]!)]);
  const r = readTfEvents(file);
  assert.deepEqual(r.points.map((p) => p.step), [0, 0, 10, 10]);
  assert.equal(r.consumed, file.length);
  assert.equal(r.problems.length, 1);
  assert.match(r.problems[0]!, /not a valid Event/);
});

test('a 100k-record file parses', () => {
  const n = 100_000;
  const events: Uint8Array[] = [];
  for (let i = 0; i < n; i++) events.push(encodeTfEvent({ step: i, wallTime: T0 + i / 10, scalars: { loss: 1 / (i + 1) }, mode: i % 2 ? 'simple' : 'tensor-float' }));
  const file = eventFile(events);
  const started = performance.now();
  const r = readTfEvents(file);
  const ms = performance.now() - started;
  assert.equal(r.points.length, n);
  assert.equal(r.consumed, file.length);
  assert.equal(r.points[n - 1]!.step, n - 1);
  assert.equal(r.points[n - 1]!.value, Math.fround(1 / n));
  assert.ok(ms < 5000, `took ${ms} ms`);
});

const LOGS = join(import.meta.dirname, '..', 'fixtures', 'logs', 'tensorboard');

test('hparams plugin records become params: PyTorch add_hparams and TF2 hp.hparams (fixtures), on both decoders', () => {
  const pytorch = readFileSync(join(LOGS, 'pytorch_hparams', '1700000003.5', 'events.out.tfevents.1700000003.host.1.1'));
  const r = readTfEvents(pytorch);
  assert.deepEqual(r.params, { lr: 0.01, optimizer: 'adam', use_amp: 1 }, 'PyTorch writes a bool as a number');
  assert.deepEqual(r.points.map((p) => [p.key, p.value]), [['hparam/accuracy', 0.875]]);
  assert.deepEqual(r.problems, []);
  assert.deepEqual(decodeEventColumns(pytorch).params, r.params);
  const tf2 = readFileSync(join(LOGS, 'tf2_hparams', 'events.out.tfevents.1700000000.host.2.v2'));
  assert.deepEqual(readTfEvents(tf2).params, { augment: true, optimizer: 'sgd', units: 64 });
  const cols = decodeEventColumns(tf2);
  assert.deepEqual(cols.params, { augment: true, optimizer: 'sgd', units: 64 });
  assert.deepEqual(cols.batch.map(([k, c]) => [k, [...c.values]]), [['epoch_loss', [0.5, 0.25]]]);
});

test('an hparam holding a list or struct is skipped with a problem; the others are read', () => {
  // google.protobuf.Value: number_value = 2, string_value = 3, list_value = 6 (a ListValue of Values)
  const entry = (name: string, value: Uint8Array) => fMessage(1, fString(1, name), fBytes(2, value));
  const start = fMessage(3, entry('lr', fDouble(2, 0.5)), entry('sizes', fMessage(6, fMessage(1, fDouble(2, 1)))), entry('act', fString(3, 'relu')));
  const value = concat([fString(1, '_hparams_/session_start_info'), fMessage(9, fMessage(1, fString(1, 'hparams'), fBytes(2, start)))]);
  const file = eventFile([summaryEvent(0, T0, [value])]);
  const r = readTfEvents(file);
  assert.deepEqual(r.params, { lr: 0.5, act: 'relu' });
  assert.deepEqual(r.problems, ['hparam "sizes" is a list; skipped']);
  assert.deepEqual(decodeEventColumns(file).params, { lr: 0.5, act: 'relu' });
});
