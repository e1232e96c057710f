import { metricValue } from '../format.ts';
import type { ParamValue } from '../types.ts';
import { findConfigParams } from './findConfig.ts';
import { findPythonParams } from './findPython.ts';
import type { FoundParam, Span } from './found.ts';
import { type ParamMap, makeMatcher } from './match.ts';
import type { Goal, ParamIndex, ParamStats, Primary, ValueStats } from './paramIndex.ts';

/** A param value, short: 1e-3 for 0.001, 64, true, strings cut at 24 characters. */
export function paramText(v: ParamValue): string {
  if (typeof v === 'boolean') return String(v);
  if (typeof v === 'string') return v.length > 24 ? `${v.slice(0, 23)}…` : v;
  if (!Number.isFinite(v)) return String(v);
  const a = Math.abs(v);
  if (Number.isInteger(v) && a < 1e6) return String(v);
  if (a !== 0 && (a < 0.01 || a >= 1e6)) return Number(v.toPrecision(4)).toExponential().replace('e+', 'e');
  return String(Number(v.toPrecision(4)));
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

function hereText(found: FoundParam, stats: ParamStats): string | undefined {
  if (found.value === undefined) return undefined;
  const tried = stats.values.some((v) => v.value === found.value);
  const note = stats.best && stats.best.value === found.value ? ' (best)' : tried ? '' : ' (untried)';
  return `here ${paramText(found.value)}${note}`;
}

/**
 * The CodeLens line: `train.lr · 12 runs · best val_acc 0.962 @ 3e-3 · here 1e-3`, or
 * `lr · not in any run yet` for a param no run recorded.
 */
export function lensTitle(found: FoundParam, stats: ParamStats | undefined, primary: Primary | undefined): string {
  if (!stats) return `${found.name} · not in any run yet`;
  const parts = [stats.key, plural(stats.runs, 'run')];
  if (stats.best && primary) parts.push(`best ${primary.name} ${metricValue(stats.best.metric)} @ ${paramText(stats.best.value)}`);
  else parts.push(plural(stats.values.length, 'value'));
  const here = hereText(found, stats);
  if (here) parts.push(here);
  return parts.join(' · ');
}

const SPARKS = '▁▂▃▄▅▆▇█';

/** One character per number, ▁ for the smallest to █ for the largest; · for none. */
export function sparkline(values: readonly (number | null)[]): string {
  const finite = values.filter((v): v is number => v !== null && Number.isFinite(v));
  const lo = Math.min(...finite), hi = Math.max(...finite);
  return values.map((v) => {
    if (v === null || !Number.isFinite(v)) return '·';
    if (hi === lo) return SPARKS[3];
    return SPARKS[Math.round(((v - lo) / (hi - lo)) * (SPARKS.length - 1))];
  }).join('');
}

interface Row { label: string; runs: number; best: number | null; mean: number | null; last: number | null; here: boolean; isBest: boolean }

/** Table rows: one per value, or at most `max` rows of neighbouring values merged. */
function tableRows(stats: ParamStats, goal: Goal, here: ParamValue | undefined, max: number): Row[] {
  const groups: ValueStats[][] = [];
  const n = stats.values.length;
  const count = Math.min(n, max);
  for (let g = 0; g < count; g++) groups.push(stats.values.slice(Math.floor((g * n) / count), Math.floor(((g + 1) * n) / count)));
  return groups.map((vs) => {
    let best: number | null = null, last: number | null = null, lastAt = -Infinity, sum = 0, scored = 0, runs = 0;
    for (const v of vs) {
      runs += v.runs;
      if (v.best !== null && (best === null || (goal === 'max' ? v.best > best : v.best < best))) best = v.best;
      if (v.mean !== null) { sum += v.mean * v.scored; scored += v.scored; }
      if (v.lastAt !== null && v.lastAt >= lastAt) { last = v.last; lastAt = v.lastAt; }
    }
    const first = paramText(vs[0]!.value), end = paramText(vs[vs.length - 1]!.value);
    return {
      label: vs.length === 1 ? first : `${first} – ${end}`, runs, best, mean: scored ? sum / scored : null, last,
      here: vs.some((v) => v.value === here), isBest: vs.some((v) => stats.best !== undefined && v.value === stats.best.value),
    };
  });
}

const escapeMd = (s: string) => s.replace(/[\\`*_{}[\]<>|#]/g, (c) => `\\${c}`);

/**
 * Hover Markdown: the values tried (value | runs | best | mean | last of the primary metric), sorted by
 * value, at most 20 rows (neighbouring values merged beyond that), and a sparkline of the best metric.
 */
export function hoverMarkdown(found: FoundParam, stats: ParamStats | undefined, primary: Primary | undefined, runName: (id: number) => string = (id) => `run ${id}`): string {
  if (!stats) return `**${escapeMd(found.name)}** is not in any run yet.`;
  const metric = primary ? escapeMd(primary.name) : 'metric';
  const here = hereText(found, stats);
  const lines = [
    `**${escapeMd(stats.key)}** · ${plural(stats.runs, 'run')} · ${plural(stats.values.length, 'value')}${here ? ` · ${escapeMd(here)}` : ''}`,
    '',
  ];
  if (primary && stats.best) lines.push(`Best ${metric} (${primary.goal}) ${metricValue(stats.best.metric)} @ ${escapeMd(paramText(stats.best.value))}, ${escapeMd(runName(stats.best.runId))}.`, '');
  const rows = tableRows(stats, primary?.goal ?? 'max', found.value, 20);
  lines.push(`| value | runs | best ${metric} | mean | last |`, '|---|---:|---:|---:|---:|');
  for (const r of rows) {
    const label = escapeMd(r.label) + (r.isBest ? ' ★' : '') + (r.here ? ' ← here' : '');
    lines.push(`| ${label} | ${r.runs} | ${metricValue(r.best)} | ${metricValue(r.mean)} | ${metricValue(r.last)} |`);
  }
  if (primary && rows.some((r) => r.best !== null)) lines.push('', `Best ${metric} by value: ${sparkline(rows.map((r) => r.best))}`);
  return lines.join('\n');
}

export interface LensOptions {
  /** Python: functions whose keyword defaults are params. */
  entryPoints?: string[];
  /** Explicit found name → recorded key. */
  map?: ParamMap;
  /** Config files: put before every key (a Hydra config group). */
  prefix?: string;
  /** Python: the document's URI, so its next version is parsed incrementally. */
  cacheKey?: string;
}

export interface HparamLens {
  range: Span;
  line: number;
  name: string;
  /** The recorded key; undefined when no run recorded this param. */
  key: string | undefined;
  title: string;
  value?: ParamValue;
  valueRange?: Span;
  /** The value of the best run, when there is one. */
  bestValue?: ParamValue;
  runs: number;
  found: FoundParam;
}

const matchers = new WeakMap<ParamIndex, { map: ParamMap | undefined; match: (name: string) => string | undefined }>();

function matcherFor(index: ParamIndex, map: ParamMap | undefined): (name: string) => string | undefined {
  const cached = matchers.get(index);
  if (cached && cached.map === map) return cached.match;
  const match = makeMatcher(index.keys(), map);
  matchers.set(index, { map, match });
  return match;
}

/** Finds the params in a document, matches them to recorded keys and titles each. Unknown languages give none. */
export function lensesFor(text: string, languageOrFormat: string, index: ParamIndex, options: LensOptions = {}): HparamLens[] {
  let found: FoundParam[];
  switch (languageOrFormat) {
    case 'python': found = findPythonParams(text, options); break;
    case 'yaml': found = findConfigParams(text, 'yaml', options); break;
    case 'json': case 'jsonc': found = findConfigParams(text, 'json', options); break;
    case 'toml': found = findConfigParams(text, 'toml', options); break;
    default: return [];
  }
  const match = matcherFor(index, options.map);
  return found.map((f) => {
    const key = options.map && Object.hasOwn(options.map, f.name) ? options.map[f.name] : match(f.key);
    const stats = key === undefined ? undefined : index.stats(key);
    return {
      range: f.range, line: f.line, name: f.name, key: stats ? key : undefined, title: lensTitle(f, stats, index.primary),
      value: f.value, valueRange: f.valueRange, bestValue: stats?.best?.value, runs: stats?.runs ?? 0, found: f,
    };
  });
}
