import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ProtoError, ProtoReader } from '../../../src/core/formats/protobuf.ts';

const reader = (...bytes: number[]) => new ProtoReader(Uint8Array.from(bytes));

test('varints: one byte, several bytes, 64-bit', () => {
  const r = reader(0x08, 0x96, 0x01); // field 1 = 150, the protobuf docs' example
  const tag = r.tag();
  assert.equal(tag >>> 3, 1);
  assert.equal(tag & 7, 0);
  assert.equal(r.varint(), 150);
  assert.ok(r.done());
  const max = [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01];
  assert.equal(reader(...max).varint64(), 2n ** 64n - 1n);
  assert.equal(reader(...max).int64(), -1);
  assert.equal(reader(...max).int32(), -1);
  assert.equal(reader(0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01).int64(), -(2 ** 63));
  assert.equal(reader(0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x08).int64(), 2 ** 52);
  assert.equal(reader(0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x10).int64(), 2 ** 53);
  assert.equal(reader(0x81, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x10).varint64(), 2n ** 53n + 1n);
  assert.equal(reader(0xff, 0xff, 0xff, 0xff, 0x0f).varint(), 0xffffffff);
});

test('fixed-width fields and length-delimited fields', () => {
  const r = reader(
    0x0d, 0x00, 0x00, 0xc0, 0x3f, // 1: float 1.5
    0x11, 0, 0, 0, 0, 0, 0, 0xf0, 0xbf, // 2: double -1
    0x1a, 0x02, 0x68, 0x69, // 3: "hi"
    0x22, 0x02, 0x08, 0x07, // 4: message { 1: 7 }
    0x2d, 0x01, 0x02, 0x03, 0x04, // 5: fixed32
  );
  r.tag(); assert.equal(r.float(), 1.5);
  r.tag(); assert.equal(r.double(), -1);
  r.tag(); assert.equal(r.string(), 'hi');
  r.tag();
  const sub = r.sub();
  assert.equal(sub.tag(), 0x08);
  assert.equal(sub.varint(), 7);
  assert.ok(sub.done());
  r.tag(); assert.equal(r.fixed32(), 0x04030201);
  assert.ok(r.done());
});

test('unknown fields of every wire type are skipped, groups included', () => {
  const r = reader(
    0x08, 0xac, 0x02, // 1: varint
    0x11, 1, 2, 3, 4, 5, 6, 7, 8, // 2: fixed64
    0x1a, 0x03, 1, 2, 3, // 3: bytes
    0x23, 0x08, 0x01, 0x2b, 0x2c, 0x24, // 4: group { 1: 1, 5: group {} }
    0x2d, 1, 2, 3, 4, // 5: fixed32
    0x30, 0x2a, // 6: 42
  );
  for (let i = 0; i < 5; i++) r.skip(r.tag());
  assert.equal(r.tag(), 0x30);
  assert.equal(r.varint(), 42);
  assert.ok(r.done());
});

test('truncated or malformed input throws ProtoError', () => {
  assert.throws(() => reader(0x96).varint(), ProtoError);
  assert.throws(() => reader(0x0d, 0x00, 0x00).float(), ProtoError);
  assert.throws(() => { const r = reader(0x1a, 0x05, 0x01); r.tag(); r.bytes(); }, ProtoError);
  assert.throws(() => reader(0x00).tag(), ProtoError, 'field number 0');
  assert.throws(() => { const r = reader(0x23, 0x34); r.skip(r.tag()); }, ProtoError, 'end group for another field');
  assert.throws(() => reader(...new Array(11).fill(0xff)).varint(), ProtoError);
  assert.throws(() => { const r = reader(0x0e); r.skip(r.tag()); }, ProtoError, 'wire type 6');
});
