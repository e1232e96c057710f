import { closeSync, fstatSync, openSync, readSync } from 'node:fs';

const READ_SIZE = 4 << 20;
const SCAN_SIZE = 1 << 20;

/**
 * The longest line read, in bytes (16 MiB). A longer line is skipped and counted, never held in
 * memory whole: the helper writes lines of at most a few MB.
 */
export const MAX_LINE_BYTES = 16 << 20;

/** A followed file is now shorter than the offset already read from it. */
export class FileShrank extends Error {
  readonly file: string;
  readonly offset: number;
  readonly size: number;
  constructor(file: string, offset: number, size: number, message = `${file} shrank from ${offset} to ${size} bytes; it is not read again, to avoid duplicates`) {
    super(message);
    this.name = 'FileShrank';
    this.file = file;
    this.offset = offset;
    this.size = size;
  }
}

export interface TailHandlers {
  /** Whole lines (each ending in \n) and the offset just past them. */
  lines(text: string, end: number): void;
  /** A line longer than the limit, from `from` to `end` (past its newline): skip it. */
  skip?(from: number, end: number): void;
}

/**
 * Follows a growing text file by byte offset. Hands over complete lines in slices of about 4 MB,
 * at most about `budget` bytes per read (so a burst of millions of points is taken in steps). A
 * partial last line waits for its newline, and is scanned once: while it grows, only the new bytes
 * are searched. A line longer than `maxLine` is skipped without being kept in memory.
 */
export class LineTail {
  readonly file: string;
  private readonly maxLine: number;
  /** No newline in [from, to) (what the last read scanned past the last whole line). */
  private scanned = { from: -1, to: 0 };
  private scanBuf: Buffer | undefined;
  /** Bytes searched for newlines so far (a partial line is searched once, however often it is read). */
  bytesScanned = 0;

  constructor(file: string, maxLine = MAX_LINE_BYTES) {
    this.file = file;
    this.maxLine = maxLine;
  }

  /** Reads from `offset`. Returns false when the file is missing; throws FileShrank when it shrank below `offset`. */
  read(offset: number, on: TailHandlers, budget = Infinity): boolean {
    let fd: number;
    try {
      fd = openSync(this.file, 'r');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw err;
    }
    try {
      const size = fstatSync(fd).size;
      if (size < offset) throw new FileShrank(this.file, offset, size);
      const start = offset;
      while (offset < size && (offset - start < budget || offset === start)) {
        const nl = this.findNewline(fd, offset, size);
        if (nl < 0) {
          this.scanned = { from: offset, to: size };
          break; // a partial line: wait for its newline
        }
        if (nl + 1 - offset > this.maxLine) {
          on.skip?.(offset, nl + 1);
          offset = nl + 1;
          continue;
        }
        // The first line fits; read it and whatever whole lines follow it in one slice.
        const want = Math.min(READ_SIZE, Math.max(4096, budget - (offset - start)));
        const len = Math.min(size - offset, Math.max(want, nl + 1 - offset));
        const buf = Buffer.allocUnsafe(len);
        const n = readFull(fd, buf, offset);
        const end = buf.subarray(0, n).lastIndexOf(0x0a);
        if (end < 0) break; // the file changed under us; read again next time
        offset += end + 1;
        on.lines(buf.toString('utf8', 0, end + 1), offset);
      }
      return true;
    } finally {
      closeSync(fd);
    }
  }

  /** The offset of the first newline at or after `from`, or -1. Skips what an earlier read scanned. */
  private findNewline(fd: number, from: number, size: number): number {
    let at = this.scanned.from === from ? Math.max(from, this.scanned.to) : from;
    this.scanBuf ??= Buffer.allocUnsafe(SCAN_SIZE);
    while (at < size) {
      const n = readSync(fd, this.scanBuf, 0, Math.min(SCAN_SIZE, size - at), at);
      if (n <= 0) break;
      const i = this.scanBuf.subarray(0, n).indexOf(0x0a);
      this.bytesScanned += i >= 0 ? i + 1 : n;
      if (i >= 0) return at + i;
      at += n;
    }
    return -1;
  }
}

function readFull(fd: number, buf: Buffer, position: number): number {
  let got = 0;
  while (got < buf.length) {
    const n = readSync(fd, buf, got, buf.length - got, position + got);
    if (n <= 0) break;
    got += n;
  }
  return got;
}

/** One read of `file` from `offset` with a fresh tail (no memory of earlier scans); see LineTail. */
export function tailLines(file: string, offset: number, onLines: (text: string, end: number) => void, budget = Infinity): boolean {
  return new LineTail(file).read(offset, { lines: onLines }, budget);
}
