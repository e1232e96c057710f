import assert from 'node:assert/strict';
import { test } from 'node:test';
import { crc32c, maskedCrc32c } from '../../../src/core/formats/crc32c.ts';

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
