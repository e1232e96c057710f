import assert from 'node:assert/strict';
import { test } from 'node:test';
import { crc32c, dataChecks, headerChecks, maskedCrc32c } from '../../../src/core/formats/crc32c.ts';

/** Bit-at-a-time CRC-32C: slow, but too simple to get wrong in the same way as the tables. */
function reference(buf: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of buf) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
  }
  return (c ^ 0xffffffff) >>> 0;
}

test('CRC-32C known vectors', () => {
  assert.equal(crc32c(new TextEncoder().encode('123456789')), 0xe3069283);
  assert.equal(crc32c(new Uint8Array(32)), 0x8a9136aa);
  assert.equal(crc32c(new Uint8Array(32).fill(0xff)), 0x62a8ab43); // RFC 3720 B.4
  assert.equal(crc32c(Uint8Array.from({ length: 32 }, (_, i) => i)), 0x46dd794e); // RFC 3720 B.4
  assert.equal(crc32c(new Uint8Array(0)), 0);
});

test('the 8-byte path and the byte path agree with a bitwise CRC at every length and offset', () => {
  const data = Uint8Array.from({ length: 300 }, (_, i) => (i * 151 + 7) & 0xff);
  for (let start = 0; start < 9; start++) {
    for (let end = start; end <= 80; end++) {
      assert.equal(crc32c(data, start, end), reference(data.subarray(start, end)), `[${start}, ${end})`);
    }
  }
  assert.equal(crc32c(data), reference(data));
});

test('with and without a DataView, in a buffer at an odd offset, the 16-, 8- and 4-byte steps agree with a bitwise CRC', () => {
  const whole = Uint8Array.from({ length: 400 }, (_, i) => (i * 197 + 11) & 0xff);
  const data = whole.subarray(3, 390); // byteOffset 3: no word is aligned
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  for (let start = 0; start < 20; start++) {
    for (let end = start; end <= 200; end++) {
      const want = reference(data.subarray(start, end));
      assert.equal(crc32c(data, start, end, view), want, `[${start}, ${end}) with a view`);
      assert.equal(crc32c(data, start, end), want, `[${start}, ${end})`);
    }
  }
});

test('the masked CRC of a length 24 is the one real event files start with', () => {
  // Every events.out.tfevents file begins 18 00 00 00 00 00 00 00 a3 7f 4b 22 (the file_version record).
  assert.equal(maskedCrc32c(Uint8Array.of(0x18, 0, 0, 0, 0, 0, 0, 0)), 0x224b7fa3);
  const c = 0xe3069283;
  assert.equal(maskedCrc32c(new TextEncoder().encode('x123456789'), 1), (((c >>> 15) | (c << 17)) + 0xa282ead8) >>> 0);
});

/** A TFRecord of `data`: uint64 length, its masked CRC, the data, the data's masked CRC. */
function record(data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length + 4);
  const v = new DataView(out.buffer);
  v.setUint32(0, data.length, true);
  v.setUint32(8, maskedCrc32c(out, 0, 8), true);
  out.set(data, 12);
  v.setUint32(12 + data.length, maskedCrc32c(data), true);
  return out;
}

test('dataChecks agrees with maskedCrc32c at every length, at an odd offset', () => {
  const whole = Uint8Array.from({ length: 120 }, (_, i) => (i * 89 + 5) & 0xff);
  for (let len = 0; len <= 100; len++) {
    const r = record(whole.subarray(7, 7 + len));
    const shifted = new Uint8Array(r.length + 3);
    shifted.set(r, 3);
    const view = new DataView(shifted.buffer, 1, shifted.length - 1); // byteOffset 1: nothing aligned
    assert.equal(dataChecks(view, 14, 14 + len), true, `length ${len}`);
    assert.equal(new DataView(shifted.buffer).getUint32(15 + len, true), maskedCrc32c(shifted, 15, 15 + len));
    for (const at of [15, 15 + len - 1, 15 + len]) {
      if (at < 15 || at >= shifted.length) continue;
      shifted[at]! ^= 0x10;
      assert.equal(dataChecks(view, 14, 14 + len), false, `length ${len}, byte ${at} changed`);
      shifted[at]! ^= 0x10;
    }
  }
});

test('headerChecks: a remembered good header does not let a changed one through', () => {
  const r = record(new TextEncoder().encode('123456789'));
  const view = new DataView(r.buffer);
  assert.equal(headerChecks(view, 0), true);
  assert.equal(headerChecks(view, 0), true); // remembered
  for (let at = 0; at < 12; at++) {
    for (const bit of [0x01, 0x80]) {
      r[at]! ^= bit;
      assert.equal(headerChecks(view, 0), false, `byte ${at} bit ${bit}`);
      r[at]! ^= bit;
    }
  }
  assert.equal(headerChecks(view, 0), true);
  assert.equal(headerChecks(new DataView(new ArrayBuffer(12)), 0), false, 'twelve zero bytes are no header');
  // The real file_version header, then a header of length 2^32 + 24 whose CRC is the one of length 24.
  const real = Uint8Array.of(0x18, 0, 0, 0, 0, 0, 0, 0, 0xa3, 0x7f, 0x4b, 0x22);
  assert.equal(headerChecks(new DataView(real.buffer), 0), true);
  real[4] = 1;
  assert.equal(headerChecks(new DataView(real.buffer), 0), false);
});
