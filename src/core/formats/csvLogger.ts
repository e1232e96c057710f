/**
 * metrics.csv from Lightning's CSVLogger (a `step` column, sparse: an empty cell means "not logged
 * in this row") and from Keras' CSVLogger (an `epoch` column, which is then the step).
 */
import { byteLength, cellNumber, parseRows } from './delimited.ts';
import type { ReadResult, ScalarPoint } from './types.ts';

/** What one read leaves for the next: the header, since later reads start past it. */
export interface CsvState {
  header?: string[];
}

export interface CsvResult extends ReadResult {
  header: string[] | undefined;
}

const TIME_COLUMNS = ['timestamp', 'time'];

/**
 * Reads the complete lines of `text`. `state.header` is read and updated, so a later call can pass
 * only the text after `consumed`. A header line anywhere (Lightning rewrites the file when new keys
 * appear) replaces the header. Rows without a time column get `now`.
 */
export function readCsvMetrics(text: string, state: CsvState = {}, now = Date.now()): CsvResult {
  const { rows, end } = parseRows(text);
  const points: ScalarPoint[] = [];
  const problems: string[] = [];
  const badColumns = new Set<string>();
  // Lightning repeats `epoch` in every row; a key's value repeated at the same step is one point.
  const last = new Map<string, ScalarPoint>();
  let header = state.header;
  let layout = header && csvLayout(header);
  for (const row of rows) {
    if (row.length === 1 && row[0]!.trim() === '') continue;
    if (!header || isCsvHeader(row)) {
      header = row.map((c) => c.trim());
      layout = csvLayout(header);
      if (!layout) problems.push(`the header ${JSON.stringify(header.join(','))} has no step or epoch column; skipped its rows`);
      continue;
    }
    if (!layout) continue;
    for (const p of rowPoints(row, header, layout, now, badColumns, problems)) {
      const prev = last.get(p.key);
      if (prev && prev.step === p.step && Object.is(prev.value, p.value)) continue;
      points.push(p);
      last.set(p.key, p);
    }
  }
  state.header = header;
  return { points, consumed: byteLength(text, end), problems, header };
}

/** A header line: no numbers in it, and a step or epoch column. */
export function isCsvHeader(row: string[]): boolean {
  const names = row.map((c) => c.trim());
  return (names.includes('step') || names.includes('epoch')) && names.every((c) => cellNumber(c) === null || c === '');
}

/** Which columns hold the step (Keras: the epoch), the time, and the metrics. */
export interface CsvLayout { step: number; time: number; metrics: number[] }

export function csvLayout(header: string[]): CsvLayout | undefined {
  let step = header.indexOf('step');
  if (step < 0) step = header.indexOf('epoch'); // Keras: one row per epoch
  if (step < 0) return undefined;
  const time = header.findIndex((c) => TIME_COLUMNS.includes(c));
  const metrics = header.map((_, i) => i).filter((i) => i !== step && i !== time && header[i] !== '');
  return { step, time, metrics };
}

/**
 * The points of one data row: empty cells are "not logged here"; a column holding text is reported
 * once (through `badColumns`) and skipped; a row whose step is not a number gives none.
 */
export function rowPoints(row: string[], header: string[], layout: CsvLayout, now: number, badColumns: Set<string>, problems: string[]): ScalarPoint[] {
  const step = cellNumber(row[layout.step] ?? '');
  if (typeof step !== 'number' || !Number.isFinite(step)) {
    problems.push(`skipped a row whose ${header[layout.step]} is ${JSON.stringify(row[layout.step] ?? '')}`);
    return [];
  }
  const seconds = layout.time < 0 ? undefined : cellNumber(row[layout.time] ?? '');
  const time = typeof seconds === 'number' && Number.isFinite(seconds) ? seconds * 1000 : now;
  const points: ScalarPoint[] = [];
  for (const col of layout.metrics) {
    const value = cellNumber(row[col] ?? '');
    if (value === undefined) continue;
    const key = header[col]!;
    if (value === null) {
      if (!badColumns.has(key)) problems.push(`column ${JSON.stringify(key)} holds values that are not numbers (${JSON.stringify(row[col])}); skipped them`);
      badColumns.add(key);
      continue;
    }
    points.push({ key, step, time, value });
  }
  return points;
}
