import { closeSync, fstatSync, openSync, readSync } from 'node:fs';

const READ_SIZE = 4 << 20;

/**
 * Reads complete lines appended to `file` after byte `offset`, in slices of about 4 MB, and at most
 * about `budget` bytes per call (so a burst of millions of points is taken in steps, never in one
 * long block). `onLines` gets the text of whole lines and the offset just past them; a partial last
 * line is left for the next call. Returns false when the file is missing, and throws when it shrank.
 */
export function tailLines(file: string, offset: number, onLines: (text: string, end: number) => void, budget = Infinity): boolean {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
  try {
    const size = fstatSync(fd).size;
    if (size < offset) throw new Error(`${file} shrank from ${offset} to ${size} bytes; it is not read again, to avoid duplicates`);
    const buf = Buffer.allocUnsafe(READ_SIZE);
    let carry = Buffer.alloc(0);
    const start = offset;
    // Within the budget; past it only to finish the first line, so a tiny budget still moves on.
    while (offset + carry.length < size && (offset - start < budget || offset === start)) {
      const want = Math.min(READ_SIZE, size - offset - carry.length, Math.max(4096, budget - (offset - start)));
      const n = readSync(fd, buf, 0, want, offset + carry.length);
      if (n <= 0) break;
      const data = carry.length ? Buffer.concat([carry, buf.subarray(0, n)]) : buf.subarray(0, n);
      const end = data.lastIndexOf(0x0a);
      if (end < 0) { carry = Buffer.from(data); continue; } // no complete line yet
      offset += end + 1;
      onLines(data.toString('utf8', 0, end + 1), offset);
      carry = Buffer.from(data.subarray(end + 1));
    }
    return true;
  } finally {
    closeSync(fd);
  }
}
