/** DVCLive: dvclive/plots/metrics/**\/*.tsv (timestamp in ms, step, value) and dvclive/params.yaml. */
import { parse } from 'yaml';
import type { ParamValue } from '../types.ts';
import { byteLength, cellNumber, parseRows } from './delimited.ts';
import type { ReadResult, ScalarPoint } from './types.ts';

/** The metric key of a DVCLive .tsv path: the part below `plots/metrics/`, without `.tsv`. */
export function dvcLiveMetricKey(path: string): string | undefined {
  const m = /(?:^|\/)plots\/metrics\/(.+)\.tsv$/.exec(path.replaceAll('\\', '/'));
  return m?.[1];
}

/**
 * Reads the complete lines of one metric's .tsv. `text` may start mid-file (after an earlier
 * `consumed`): without a header line, the columns are DVCLive's timestamp, step, value.
 */
export function readDvcLiveTsv(key: string, text: string): ReadResult {
  const { rows, end } = parseRows(text, '\t');
  const points: ScalarPoint[] = [];
  const problems: string[] = [];
  let cols = { time: 0, step: 1, value: 2 };
  let badRows = 0, badValues = 0;
  for (const row of rows) {
    if (row.length === 1 && row[0]!.trim() === '') continue;
    if (row.includes('timestamp') || row.includes('step')) {
      const time = row.indexOf('timestamp'), step = row.indexOf('step');
      const value = row.findIndex((_, i) => i !== time && i !== step);
      cols = { time, step, value };
      continue;
    }
    const time = cellNumber(row[cols.time] ?? ''), step = cellNumber(row[cols.step] ?? '');
    if (typeof time !== 'number' || !Number.isFinite(time) || typeof step !== 'number' || !Number.isFinite(step)) {
      badRows++;
      continue;
    }
    const value = cellNumber(row[cols.value] ?? '');
    if (typeof value !== 'number') {
      badValues++;
      continue;
    }
    points.push({ key, step, time, value });
  }
  if (badRows) problems.push(`${key}: skipped ${badRows} row(s) without a numeric timestamp and step`);
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
  flatten(doc, '', params);
  return { params, problems: [] };
}

function flatten(value: unknown, prefix: string, out: { [key: string]: ParamValue }): void {
  if (value !== null && typeof value === 'object' && !Array.isArray(value) && !(value instanceof Date)) {
    for (const [k, v] of Object.entries(value)) flatten(v, prefix ? `${prefix}.${k}` : k, out);
  } else if (typeof value === 'number' || typeof value === 'string' || typeof value === 'boolean') {
    out[prefix] = value;
  } else if (typeof value === 'bigint') {
    out[prefix] = Number(value);
  } else if (value !== null && value !== undefined) {
    out[prefix] = JSON.stringify(value);
  }
}
