/**
 * Following a CSV logger's file (Lightning's metrics.csv, Keras' CSVLogger) by data rows.
 * Lightning rewrites the whole file with a longer header when a new key appears, keeping the old
 * rows in order; so what was read is counted in data rows, not bytes, and a rewrite (the file
 * shrank or its header changed) is read again from the top, skipping the rows already stored.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { byteLength, parseRows } from '../formats/delimited.ts';
import { csvLayout, isCsvHeader, rowPoints } from '../formats/csvLogger.ts';
import type { ScalarPoint } from '../formats/types.ts';

export interface CsvCursor {
  /** The file's first line when last read: a change means the file was rewritten. */
  headerLine: string;
  header: string[] | undefined;
  /** Bytes of complete rows read. */
  bytes: number;
  /** Data rows in the file up to `bytes`. */
  rows: number;
}

export interface CsvTail {
  points: ScalarPoint[];
  cursor: CsvCursor | undefined;
  problems: string[];
  bytesRead: number;
}

/**
 * Reads the rows after `cursor` (or the whole file, after a rewrite or without a cursor). Points
 * come only from data rows numbered `stored` or more. Rows without a time column get `now`.
 */
export function readCsvTail(file: string, cursor: CsvCursor | undefined, stored: number, now: number, badColumns = new Set<string>()): CsvTail {
  const out: CsvTail = { points: [], cursor, problems: [], bytesRead: 0 };
  const fd = openSync(file, 'r');
  let text: string, start: number, headerLine: string;
  try {
    const size = fstatSync(fd).size;
    const head = Buffer.allocUnsafe(Math.min(size, 1 << 16));
    const n = readSync(fd, head, 0, head.length, 0);
    const nl = head.subarray(0, n).indexOf(0x0a);
    if (nl < 0) return out; // no complete header yet (or the file is being rewritten)
    headerLine = head.toString('utf8', 0, nl);
    const rewrite = !cursor || size < cursor.bytes || headerLine !== cursor.headerLine;
    start = rewrite ? 0 : cursor!.bytes;
    if (rewrite) cursor = undefined;
    const body = Buffer.allocUnsafe(size - start);
    const m = readSync(fd, body, 0, body.length, start);
    out.bytesRead = m;
    text = body.toString('utf8', 0, m);
  } finally {
    closeSync(fd);
  }
  const c: CsvCursor = cursor ? { ...cursor } : { headerLine, header: undefined, bytes: 0, rows: 0 };
  const { rows, end } = parseRows(text);
  let layout = c.header && csvLayout(c.header);
  for (const row of rows) {
    if (row.length === 1 && row[0]!.trim() === '') continue;
    if (!c.header || isCsvHeader(row)) {
      c.header = row.map((cell) => cell.trim());
      layout = csvLayout(c.header);
      if (!layout) out.problems.push(`the header ${JSON.stringify(c.header.join(','))} has no step or epoch column; its rows are skipped`);
      continue;
    }
    if (c.rows++ < stored || !layout) continue;
    out.points.push(...rowPoints(row, c.header, layout, now, badColumns, out.problems));
  }
  c.bytes = start + byteLength(text, end);
  out.cursor = c;
  return out;
}

/** Data rows in a file (for a baseline: rows already there before the run started). */
export function countCsvRows(file: string): number {
  return readCsvTail(file, undefined, Infinity, 0).cursor?.rows ?? 0;
}
