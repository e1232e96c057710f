import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EventDecoder, decodeEventColumns } from '../../../src/core/capture/eventColumns.ts';
import { groupPoints } from '../../../src/core/capture/columns.ts';
import { readTfEvents } from '../../../src/core/formats/tfevents.ts';
import { maskedCrc32c } from '../../../src/core/formats/crc32c.ts';
import {
  DT, concat, encodeTfEvent, eventFile, fString, fVarint, float32, frameRecord, histogramValue, imageValue, simpleValue, summaryEvent,
  tensorValue, textValue,
} from '../formats/tfeventsWriter.ts';

const T0 = 1_700_000_000;

/** Every scalar shape the test writer makes, and non-scalars around them. */
function mixedEvents(): Uint8Array[] {
  const out: Uint8Array[] = [];
  const modes = ['simple', 'tensor-float', 'tensor-double', 'tensor-content'] as const;
  for (let i = 0; i < 40; i++) {
    const mode = modes[i % 4]!;
    out.push(encodeTfEvent({ step: i * 1000, wallTime: T0 + i / 8, scalars: { loss: 1 / (i + 1), [`${mode}/x`]: -i }, mode, packed: i % 3 !== 0, metadata: i % 5 !== 0 }));
  }
  out.push(summaryEvent(2 ** 40, T0, [simpleValue('big', 1.5)])); // a 6-byte step
  out.push(summaryEvent(2 ** 60, T0, [simpleValue('huge', 2)])); // past 2^53: the full decoder's BigInt path
  out.push(summaryEvent(-3, T0, [simpleValue('neg', 3)])); // a 10-byte step
  out.push(summaryEvent(1, T0, [imageValue('img'), histogramValue('h'), textValue('t', 'hello'), simpleValue('after', 4)]));
  out.push(summaryEvent(2, T0, [tensorValue('i32', { dtype: DT.INT32, intVal: [7] })]));
  out.push(summaryEvent(3, T0, [tensorValue('half', { dtype: DT.HALF, halfVal: [0x3c00] })]));
  out.push(summaryEvent(4, T0, [tensorValue('vec', { dtype: DT.FLOAT, shape: [2], floatVal: [1, 2] })]));
  out.push(summaryEvent(5, T0, [tensorValue('shaped1', { dtype: DT.FLOAT, shape: [1], floatVal: [9] })]));
  out.push(summaryEvent(6, T0, [tensorValue('hist', { dtype: DT.FLOAT, floatVal: [5] }, 'histograms')]));
  out.push(summaryEvent(7, T0, [tensorValue('hist', { dtype: DT.FLOAT, floatVal: [6] }, null)])); // plugin remembered: skipped
  out.push(summaryEvent(8, T0, [tensorValue('wrong', { dtype: DT.DOUBLE, floatVal: [1] })]));
  out.push(summaryEvent(9, T0, [concat([fString(1, 'ümlaut/ключ'), fVarint(99, 1), Uint8Array.of(0x15), float32(0.5)])])); // unknown field 99
  out.push(concat([fVarint(2, 10), fString(3, 'brain.Event:2')])); // no summary
  out.push(Uint8Array.of(0x0a, 0x05, 1, 2)); // not a valid Event
  return out;
}

test('the column decoder gives exactly what readTfEvents gives, for every scalar shape and the records around them', () => {
  const bytes = eventFile(mixedEvents());
  const slow = readTfEvents(bytes);
  const fast = decodeEventColumns(bytes, 'p/');
  assert.deepEqual(fast.batch, groupPoints(slow.points, (k) => `p/${k}`));
  assert.equal(fast.consumed, slow.consumed);
  assert.deepEqual(fast.problems, slow.problems);
  assert.equal(fast.broken, false);
  const keys = fast.batch.map(([k]) => k);
  for (const k of ['p/big', 'p/huge', 'p/neg', 'p/after', 'p/i32', 'p/half', 'p/shaped1', 'p/ümlaut/ключ']) assert.ok(keys.includes(k), k);
  for (const k of ['p/img', 'p/h', 'p/t', 'p/vec', 'p/hist', 'p/wrong']) assert.ok(!keys.includes(k), k);
  assert.match(fast.problems[0]!, /the record at byte \d+ is not a valid Event/);
  assert.notEqual(fast.problems[0], 'the record at byte 0 is not a valid Event');
});

test('the column decoder: bad data checksum skipped, torn record left, bad length checksum stops', () => {
  const good = eventFile([encodeTfEvent({ step: 1, wallTime: T0, scalars: { a: 1 }, mode: 'simple' })]);
  const bad = frameRecord(encodeTfEvent({ step: 2, wallTime: T0, scalars: { a: 2 }, mode: 'simple' }));
  bad[14]! ^= 1;
  const after = frameRecord(encodeTfEvent({ step: 3, wallTime: T0, scalars: { a: 3 }, mode: 'simple' }));
  const torn = after.subarray(0, after.length - 1);
  const bytes = concat([good, bad, after, torn]);
  const fast = decodeEventColumns(bytes);
  const slow = readTfEvents(bytes);
  assert.deepEqual(fast.batch, groupPoints(slow.points));
  assert.deepEqual([...fast.batch[0]![1].steps], [1, 3]);
  assert.equal(fast.consumed, bytes.length - torn.length);
  assert.deepEqual(fast.problems, [`bad data checksum in the record at byte ${good.length}; skipped it`]);
  const lenBad = Uint8Array.from(after);
  lenBad[8]! ^= 1;
  const stopped = decodeEventColumns(concat([good, lenBad, after]));
  assert.equal(stopped.broken, true);
  assert.equal(stopped.consumed, good.length);
});

test('steps near the fast path\'s varint limit, and tags of one length, match readTfEvents', () => {
  const steps = [0, 127, 128, 2 ** 42 - 1, 2 ** 42, 2 ** 49 - 1, 2 ** 49, 2 ** 53 - 1];
  const events = steps.flatMap((step, i) => [
    encodeTfEvent({ step, wallTime: T0 + i, scalars: { abcd: i, abce: -i, bbcd: NaN, '': Infinity }, mode: 'simple' }),
    ...Object.entries({ bbcd: NaN, abcd: i, abce: 0.5, '': -Infinity }).map(([k, v]) => encodeTfEvent({ step, wallTime: T0 + i, scalars: { [k]: v }, mode: 'simple' })),
  ]);
  const bytes = eventFile(events);
  const fast = decodeEventColumns(bytes);
  assert.deepEqual(fast.batch, groupPoints(readTfEvents(bytes).points));
  assert.deepEqual([...fast.batch.find(([k]) => k === 'abce')![1].steps], steps.flatMap((s) => [s, s]));
  assert.ok(fast.batch.find(([k]) => k === 'bbcd')![1].values.every((v) => Number.isNaN(v)));
});

test('lent columns hold the same points as copied ones, slice after slice', () => {
  const bytes = eventFile(Array.from({ length: 3000 }, (_, i) => encodeTfEvent({ step: i, wallTime: T0 + i, scalars: { [`k${i % 3}`]: i / 7 }, mode: 'simple' })));
  const copy = new EventDecoder('p/'), lent = new EventDecoder('p/', { lend: true });
  for (let at = 0, round = 0; at < bytes.length; round++) {
    const slice = bytes.subarray(at, at + 10_000);
    const a = copy.decode(slice), b = lent.decode(slice);
    assert.deepEqual(b.batch.map(([k, c]) => [k, [...c.steps], [...c.times], [...c.values]]), a.batch.map(([k, c]) => [k, [...c.steps], [...c.times], [...c.values]]), `slice ${round}`);
    assert.equal(b.consumed, a.consumed);
    assert.ok(a.consumed > 0);
    at += a.consumed;
  }
});

test('a record of 4 GB or more is left unread like a torn one, by both decoders', () => {
  const good = eventFile([encodeTfEvent({ step: 1, wallTime: T0, scalars: { a: 1 }, mode: 'simple' })]);
  const huge = new Uint8Array(40);
  const v = new DataView(huge.buffer);
  v.setUint32(0, 5, true);
  v.setUint32(4, 1, true); // 2^32 + 5 bytes
  v.setUint32(8, maskedCrc32c(huge, 0, 8), true);
  const bytes = concat([good, huge]);
  const fast = decodeEventColumns(bytes), slow = readTfEvents(bytes);
  assert.equal(fast.consumed, good.length);
  assert.equal(slow.consumed, good.length);
  assert.equal(fast.broken, false);
  assert.deepEqual(fast.problems, []);
});
