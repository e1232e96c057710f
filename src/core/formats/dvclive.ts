/**
 * DVCLive's metric histories, one .tsv per metric: `<dir>/plots/metrics/<name>.tsv` (DVCLive 2 and
 * later) and `<dir>/scalars/<name>.tsv` (0.x and 1.x). Columns: `timestamp` (ms; DVCLive 3 writes
 * it only with log_metric(..., timestamp=True)), `step`, then the value. And dvclive/params.yaml.
 */
import { parse } from 'yaml';
import type { ParamValue } from '../types.ts';
import { flatten } from '../flatten.ts';
import { byteLength, cellNumber, parseRows } from './delimited.ts';
import type { ReadResult, ScalarPoint } from './types.ts';

const LAYOUTS = ['/plots/metrics/', '/scalars/'];

/** The metric key of a DVCLive .tsv path: the part below `plots/metrics/` (or `scalars/`), without `.tsv`. */
export function dvcLiveMetricKey(path: string): string | undefined {
  const p = `/${path.replaceAll('\\', '/')}`;
  if (!p.endsWith('.tsv')) return undefined;
  for (const dir of LAYOUTS) {
    const at = p.lastIndexOf(dir);
    if (at >= 0) return p.slice(at + dir.length, -'.tsv'.length) || undefined;
  }
  return undefined;
}

/** A DVCLive header line: [`timestamp`,] `step` and the metric's name, tab-separated. */
export function isDvcLiveHeader(line: string): boolean {
  const cells = (parseRows(`${line}\n`, '\t').rows[0] ?? []).map((c) => c.trim());
  if (cells[0] === 'timestamp') cells.shift();
  return cells.length === 2 && cells[0] === 'step' && cells[1] !== '';
}

/** What one read leaves for the next: the header, since later reads start past it. */
export interface TsvState {
  header?: string[];
}

/**
 * Reads the complete lines of one metric's .tsv. `state.header` is read and updated, so a later call
 * can pass only the text after `consumed`; rows before any header are skipped. Rows without a
 * timestamp column get `now`.
 */
export function readDvcLiveTsv(key: string, text: string, state: TsvState = {}, now = Date.now()): ReadResult {
  const { rows, end } = parseRows(text, '\t');
  const points: ScalarPoint[] = [];
  const problems: string[] = [];
  let noHeader = 0, badRows = 0, badValues = 0;
  for (const row of rows) {
    if (row.length === 1 && row[0]!.trim() === '') continue;
    const cells = row.map((c) => c.trim());
    if (cells.includes('step') && cells.every((c) => cellNumber(c) === null)) {
      state.header = cells;
      continue;
    }
    const h = state.header;
    if (!h) { noHeader++; continue; }
    const step = h.indexOf('step'), time = h.indexOf('timestamp');
    const value = h.findIndex((_, i) => i !== time && i !== step);
    const s = cellNumber(cells[step] ?? '');
    const t = time < 0 ? now : cellNumber(cells[time] ?? '');
    if (typeof t !== 'number' || !Number.isFinite(t) || typeof s !== 'number' || !Number.isFinite(s)) {
      badRows++;
      continue;
    }
    const v = value < 0 ? null : cellNumber(cells[value] ?? '');
    if (typeof v !== 'number') {
      badValues++;
      continue;
    }
    points.push({ key, step: s, time: t, value: v });
  }
  if (noHeader) problems.push(`${key}: skipped ${noHeader} row(s) before any header line`);
  if (badRows) problems.push(`${key}: skipped ${badRows} row(s) without a numeric step${state.header?.includes('timestamp') ? ' and timestamp' : ''}`);
  if (badValues) problems.push(`${key}: skipped ${badValues} row(s) whose value is not a number`);
  return { points, consumed: byteLength(text, end), problems };
}

/** dvclive/params.yaml, with nested keys flattened with dots (`model.depth`); lists become JSON text. */
export function readDvcLiveParams(yamlText: string): { params: { [key: string]: ParamValue }; problems: string[] } {
  const params: { [key: string]: ParamValue } = {};
  let doc: unknown;
  try {
    doc = parse(yamlText, { logLevel: 'error' });
  } catch (err) {
    return { params, problems: [`params.yaml is not valid YAML: ${(err as Error).message.split('\n')[0]}`] };
  }
  if (doc === null || doc === undefined) return { params, problems: [] };
  if (typeof doc !== 'object' || Array.isArray(doc)) return { params, problems: ['params.yaml does not hold a mapping'] };
  return { params: flatten(doc, params), problems: [] };
}
