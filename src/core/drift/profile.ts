/**
 * A streaming profile of a CSV or TSV file, fed the bytes as they are read for hashing: rows, and per
 * column its type, missing share, and a compact sketch (a KLL sketch of the numbers, the most frequent
 * text values).
 *
 * Speed: rows are counted over every byte (four bytes at a time where a stretch has no quote), so `rows`
 * is exact. Cells are parsed on the rows starting in a sample of 64 KB blocks, evenly spaced, adding up
 * to 1/32 of the file (at least 4 MB, at most 16 MB; a file up to 4 MB is parsed whole), so profiling a
 * large file costs less than hashing it. The sample depends only on the file's size and bytes.
 *
 * Rows end at \n (a \r before it is dropped); quoting is RFC 4180's, as formats/delimited.ts reads it
 * (a quote opens a quoted cell only at its start, `""` inside is a quote, text after the closing quote
 * is kept), except that a lone \r does not end a row here. The first row names the columns.
 * A row over MAX_ROW_BYTES (no line breaks, a quote never closed) or more than MAX_COLUMNS columns
 * throws: such a file is not a table to profile (hashing goes on without its profile).
 */
import { open } from 'node:fs/promises';
import { extname } from 'node:path';
import { cellNumber } from '../formats/delimited.ts';
import type { KllJson } from './kll.ts';
import { ColumnStats } from './columnStats.ts';
import { POW10, cells, countLf, fastNumber, maybeSpecial, quoted } from './cells.ts';

export const PROFILE_FORMAT = 1;
const BLOCK = 64 << 10;
/** The sample: 1/32 of the file, at least 4 MB and at most 16 MB (all of a file up to 4 MB). */
const sampleFor = (size: number) => Math.max(4 << 20, Math.min(16 << 20, size / 32));
/** A parsed row (the header too) may be this long; a longer one (no line breaks, a quote never closed) stops the profile. */
export const MAX_ROW_BYTES = 16 << 20;
/** A wider table is not profiled (its sketches would take too much memory, its profile too much room). */
export const MAX_COLUMNS = 2_000;

export interface ColumnProfile {
  name: string;
  /** number: at least 95% of the present cells are numbers; empty: no cell present. */
  type: 'number' | 'string' | 'empty';
  /** Cells looked at (one per sampled row). */
  count: number;
  /** Empty, NA or NaN (a missing cell at the end of a short row counts too). */
  missing: number;
  /** Cells that are numbers, infinities included. */
  numbers: number;
  negInf: number;
  posInf: number;
  min: number | null;
  max: number | null;
  mean: number | null;
  /** The finite numbers: a KLL sketch of a uniform sample of up to 4,096 of them (columnStats.ts; shares, not counts). */
  sketch: KllJson | null;
  /** The most frequent text values (cells that are not numbers) with their counts, most first. */
  top: [string, number][];
  /** Text cells not in `top`. */
  other: number;
  /** Distinct text values seen (at most 1,000 are told apart). */
  distinct: number;
}

export interface TableProfile {
  format: typeof PROFILE_FORMAT;
  delimiter: ',' | '\t';
  bytes: number;
  /** Data rows (the header row not counted). */
  rows: number;
  /** Rows the column figures come from. */
  sampledRows: number;
  columns: ColumnProfile[];
}

export interface ProfileOptions {
  delimiter?: ',' | '\t';
  /** The file's size, known before reading: spreads the sample over it. Without it everything is parsed. */
  size?: number;
  sampleBytes?: number;
}


/** The delimiter of a file the profiler reads, by extension (.csv; .tsv or .tab), or undefined. */
export function tabularDelimiter(path: string): ',' | '\t' | undefined {
  const ext = extname(path).toLowerCase();
  return ext === '.csv' ? ',' : ext === '.tsv' || ext === '.tab' ? '\t' : undefined;
}

const QUOTE = 0x22, LF = 0x0a, CR = 0x0d;
/** Quote states between bytes: mid-cell, at a cell's start, inside quotes, just after a closing quote. */
const MID = 0, START = 1, INSIDE = 2, CLOSED = 3;

/** Profiles a table from its bytes, in order, in slices of any size. */
export class TableProfiler {
  private readonly sep: number;
  private readonly delimiter: ',' | '\t';
  /** Sampled blocks out of all blocks (all when m >= n). */
  private readonly m: number;
  private readonly n: number;
  private pos = 0;
  private state = START;
  /** Inside a row (it started before the current position), and whether that row is parsed. */
  private inRow = false;
  private keep = false;
  private carry: Buffer[] = [];
  private carried = 0;
  private names: string[] | undefined;
  private columns: ColumnStats[] = [];
  private rows = 0;
  private sampled = 0;
  /** The next quote in the current slice, from where it was searched. */
  private quote = -1;
  private quoteFrom = Infinity;

  constructor(options: ProfileOptions = {}) {
    this.delimiter = options.delimiter ?? ',';
    this.sep = this.delimiter.charCodeAt(0);
    const sample = options.sampleBytes ?? sampleFor(options.size ?? 0);
    this.n = options.size === undefined ? Infinity : Math.max(1, Math.ceil(options.size / BLOCK));
    this.m = options.size === undefined || options.size <= sample ? Infinity : Math.max(1, Math.round(sample / BLOCK));
  }

  update(chunk: Uint8Array): void {
    const b = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    const g = this.pos, len = b.length;
    this.quoteFrom = Infinity;
    let i = 0;
    while (i < len) {
      if (!this.inRow) {
        this.inRow = true;
        this.keep = this.names === undefined || this.sampledAt(g + i);
        if (!this.keep) {
          const end = Math.min(len, this.nextSampled(g + i) - g);
          i = this.skip(b, i, end);
          continue;
        }
      }
      const j = this.rowEnd(b, i, len);
      if (j < 0) {
        if (this.keep) {
          this.carried += len - i;
          if (this.carried > MAX_ROW_BYTES) throw new Error(`a row at byte ${g + i - (this.carried - (len - i))} is longer than ${MAX_ROW_BYTES >> 20} MB: not a table`);
          this.carry.push(Buffer.from(b.subarray(i)));
        }
        break;
      }
      if (this.keep) {
        if (this.carry.length) {
          this.carry.push(b.subarray(i, j));
          const row = Buffer.concat(this.carry);
          this.carry = [];
          this.carried = 0;
          this.row(row, 0, row.length);
        } else this.row(b, i, j);
      } else this.rows++;
      this.inRow = false;
      i = j + 1;
    }
    this.pos = g + len;
  }

  finish(): TableProfile {
    if (this.inRow && (!this.keep || this.carry.length)) { // a last row without its line break
      if (this.keep) {
        const row = Buffer.concat(this.carry);
        this.row(row, 0, row.length);
      } else this.rows++;
    }
    this.inRow = false;
    this.carry = [];
    this.carried = 0;
    const names = this.names ?? [];
    return {
      format: PROFILE_FORMAT, delimiter: this.delimiter, bytes: this.pos, rows: this.rows, sampledRows: this.sampled,
      columns: names.map((name, c) => this.columns[c]!.profile(name)),
    };
  }

  private sampledAt(offset: number): boolean {
    return this.m >= this.n || this.sampledBlock(Math.floor(offset / BLOCK));
  }

  /** m of the n blocks, evenly spaced from block 0. */
  private sampledBlock(block: number): boolean {
    return block === 0 || Math.floor((block * this.m) / this.n) > Math.floor(((block - 1) * this.m) / this.n);
  }

  /** Where the next sampled block starts, after `offset`'s block. */
  private nextSampled(offset: number): number {
    if (this.m >= this.n) return offset;
    for (let block = Math.floor(offset / BLOCK) + 1; ; block++) if (block >= this.n || this.sampledBlock(block)) return block * BLOCK;
  }

  /** Counts the rows ending in b[i..end) (the row open at i included), leaving inRow for the byte at end. */
  private skip(b: Buffer, i: number, end: number): number {
    if (i >= end) return end;
    if (this.state !== INSIDE && this.state !== CLOSED) {
      const q = this.quoteAt(b, i);
      if (q < 0 || q >= end) {
        this.rows += countLf(b, i, end);
        const last = b[end - 1]!;
        this.inRow = last !== LF;
        this.state = last === LF || last === this.sep ? START : MID;
        return end;
      }
    }
    for (let k = i; k < end; k++) {
      const c = b[k]!;
      if (this.step(c) && c === LF) this.rows++;
    }
    this.inRow = !(this.state === START && b[end - 1] === LF);
    return end;
  }

  /** The quote state after byte c; true when c is outside quotes (a separator or line break there counts). */
  private step(c: number): boolean {
    switch (this.state) {
      case INSIDE:
        if (c === QUOTE) this.state = CLOSED;
        return false;
      case START:
        if (c === QUOTE) { this.state = INSIDE; return false; }
        break;
      case CLOSED:
        if (c === QUOTE) { this.state = INSIDE; return false; }
        break;
    }
    this.state = c === this.sep || c === LF ? START : MID;
    return true;
  }

  /** The index of the line break ending the row open at i, or -1 when it is not in b yet. */
  private rowEnd(b: Buffer, i: number, len: number): number {
    while (i < len) {
      if (this.state === INSIDE || this.state === CLOSED) {
        for (; i < len; i++) { // until the quotes close and a byte outside them comes
          const c = b[i]!;
          if (this.step(c)) {
            if (c === LF) return i;
            i++;
            break;
          }
        }
        continue;
      }
      const lf = b.indexOf(LF, i), q = this.quoteAt(b, i);
      if (q < 0 || (lf >= 0 && lf < q)) {
        if (lf >= 0) { this.state = START; return lf; }
        this.state = b[len - 1] === this.sep ? START : MID;
        return -1;
      }
      if (q > i) this.state = b[q - 1] === this.sep ? START : MID; // b[i..q) holds no quote and no line break
      this.step(QUOTE);
      i = q + 1;
    }
    return -1;
  }

  /** The first quote in b at or after i (-1: none), searched once per stretch of the slice. */
  private quoteAt(b: Buffer, i: number): number {
    if (this.quoteFrom > i || (this.quote >= 0 && this.quote < i)) {
      this.quote = b.indexOf(QUOTE, i);
      this.quoteFrom = i;
    }
    return this.quote;
  }

  /** Parses one row's cells (the bytes before its line break). */
  private row(b: Buffer, a: number, e: number): void {
    if (e > a && b[e - 1] === CR) e--;
    if (this.names === undefined) {
      if (b[a] === 0xef && b[a + 1] === 0xbb && b[a + 2] === 0xbf) a += 3; // a UTF-8 byte order mark
      this.names = cells(b, a, e, this.sep).map((c) => c.text ?? b.toString('utf8', c.from, c.to).trim());
      if (this.names.length > MAX_COLUMNS) throw new Error(`${this.names.length} columns: more than ${MAX_COLUMNS} are not profiled`);
      this.columns = this.names.map(() => new ColumnStats());
      return;
    }
    this.rows++;
    this.sampled++;
    const cols = this.columns, ncol = cols.length, sep = this.sep;
    let col = 0, i = a;
    for (; col < ncol; col++) {
      const s = cols[col]!;
      s.count++;
      if (i > e) { s.missing++; continue; } // the row ended before this column
      let j = i;
      if (b[i] === QUOTE) {
        const c = quoted(b, i, e, sep);
        j = c.to;
        const v = cellNumber(c.text);
        if (v === undefined) s.missing++;
        else if (v === null) s.word(c.text);
        else s.number(v);
      } else {
        // One pass: find the separator while reading a plain decimal (sign, digits, one point).
        let x = 0, digits = 0, frac = -1, plain = true, high = 0;
        const neg = b[j] === 0x2d;
        if (neg || b[j] === 0x2b) j++;
        for (; j < e; j++) {
          const c = b[j]!, d = c - 48;
          if (d >= 0 && d <= 9) { x = x * 10 + d; digits++; if (frac >= 0) frac++; } else if (c === sep) break;
          else if (c === 0x2e && frac < 0) frac = 0;
          else { plain = false; high |= c; }
        }
        if (plain && digits > 0 && digits <= 15) { // exact: see fastNumber
          const v = frac > 0 ? x / POW10[frac]! : x;
          s.number(neg ? -v : v);
          i = j + 1;
          continue;
        }
        const v = digits > 0 ? fastNumber(b, i, j) : NaN; // an exponent, or many digits
        if (v === v) s.number(v);
        else if (j === i) s.missing++;
        else if (high < 0x80 && !maybeSpecial(b, i, j)) s.ascii(b, i, j);
        else {
          const text = b.toString(high < 0x80 ? 'latin1' : 'utf8', i, j);
          const w = cellNumber(text);
          if (w === undefined) s.missing++;
          else if (w === null) s.word(text);
          else s.number(w);
        }
      }
      i = j + 1;
    }
  }
}

/** Profiles a file (read in 1 MB slices). */
export async function profileFile(path: string, options: ProfileOptions = {}): Promise<TableProfile> {
  const f = await open(path, 'r');
  try {
    const size = (await f.stat()).size;
    const p = new TableProfiler({ delimiter: tabularDelimiter(path), size, ...options });
    const buf = Buffer.allocUnsafeSlow(1 << 20);
    for (;;) {
      const { bytesRead } = await f.read(buf, 0, buf.length, null);
      if (!bytesRead) break;
      p.update(buf.subarray(0, bytesRead));
    }
    return p.finish();
  } finally {
    await f.close();
  }
}

/** Profiles text (tests, small files). */
export function profileText(text: string, options: ProfileOptions = {}): TableProfile {
  const p = new TableProfiler(options);
  p.update(Buffer.from(text, 'utf8'));
  return p.finish();
}
