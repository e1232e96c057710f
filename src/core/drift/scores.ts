/**
 * Drift between two profiles of a table, per column: the population stability index (PSI) and, for
 * numbers, the two-sample Kolmogorov–Smirnov statistic (the largest gap between the two CDFs).
 *
 * PSI = Σ (b − a) · ln(b / a) over bins, a and b the shares of each profile's cells in the bin; a share
 * of 0 counts as 0.0001 so an empty bin is finite. Number bins are cut at the reference's deciles
 * (ties merged): (−∞, q1], (q1, q2], …, (q9, ∞), with −∞ in the first bin and +∞ in the last. Text bins
 * are the top values of either profile, then one bin for the rest. Missing cells, and text in a number
 * column, get a bin each when either profile has any, so a column going missing drifts too.
 * Rules of thumb: PSI below 0.1 is stable, 0.1–0.25 a moderate shift, above 0.25 a major one.
 */
import { Cdf } from './kll.ts';
import type { ColumnProfile, TableProfile } from './profile.ts';

export const EMPTY_SHARE = 1e-4;
export const PSI_BINS = 10;

export interface ColumnDrift {
  column: string;
  /** The reference's type (or the new one's, for a new column). */
  type: ColumnProfile['type'];
  /** null when the column is in only one profile. */
  psi: number | null;
  /** Numbers only. */
  ks: number | null;
  missing: { a: number; b: number };
  note?: 'new column' | 'column removed' | 'type changed';
}

/** PSI of two distributions over the same bins (each a list of shares or counts; normalised here). */
export function psi(a: readonly number[], b: readonly number[]): number {
  const sa = a.reduce((x, y) => x + y, 0), sb = b.reduce((x, y) => x + y, 0);
  if (!sa || !sb) return 0;
  let total = 0;
  for (let i = 0; i < a.length; i++) {
    const p = Math.max(a[i]! / sa, EMPTY_SHARE), q = Math.max(b[i]! / sb, EMPTY_SHARE);
    total += (q - p) * Math.log(q / p);
  }
  return total;
}

/** The two-sample KS statistic: the largest |Fa(x) − Fb(x)| over every value of either sample. */
export function ks(a: Cdf, b: Cdf): number {
  if (!a.total || !b.total) return 0;
  let d = 0;
  for (const x of a.values) d = Math.max(d, Math.abs(a.at(x) - b.at(x)));
  for (const x of b.values) d = Math.max(d, Math.abs(a.at(x) - b.at(x)));
  return d;
}

/** The cut points of number bins: the reference's deciles, each once. */
export function binEdges(ref: Cdf, bins = PSI_BINS): number[] {
  const edges: number[] = [];
  for (let i = 1; i < bins; i++) {
    const q = ref.quantile(i / bins);
    if (Number.isFinite(q) && (!edges.length || q > edges[edges.length - 1]!)) edges.push(q);
  }
  return edges;
}

/** A column's cells by number bin (the edges'), then missing, then text. */
function numberCounts(c: ColumnProfile, cdf: Cdf | undefined, edges: number[]): number[] {
  const finite = c.numbers - c.negInf - c.posInf;
  const out: number[] = [];
  let below = 0;
  for (const e of edges) {
    const upTo = cdf ? cdf.at(e) * finite : 0;
    out.push(upTo - below);
    below = upTo;
  }
  out.push(finite - below);
  out[0]! += c.negInf;
  out[out.length - 1]! += c.posInf;
  out.push(c.missing, c.count - c.missing - c.numbers);
  return out;
}

/** A column's cells by text value (the given values, then the rest), then missing, then numbers. */
function textCounts(c: ColumnProfile, values: string[]): number[] {
  const top = new Map(c.top);
  const text = c.count - c.missing - c.numbers;
  const out = values.map((v) => top.get(v) ?? 0);
  out.push(text - out.reduce((x, y) => x + y, 0), c.missing, c.numbers);
  return out;
}

/** Drops the bins empty in both. */
function bothNonEmpty(a: number[], b: number[]): [number[], number[]] {
  const keep = a.map((x, i) => x > 0 || b[i]! > 0);
  return [a.filter((_, i) => keep[i]), b.filter((_, i) => keep[i])];
}

/** Drift of one column from `a` (the reference: training data) to `b`. */
export function columnDrift(a: ColumnProfile, b: ColumnProfile): ColumnDrift {
  const missing = { a: a.count ? a.missing / a.count : 0, b: b.count ? b.missing / b.count : 0 };
  const out: ColumnDrift = { column: a.name, type: a.type, psi: null, ks: null, missing };
  if (a.type !== b.type && a.type !== 'empty' && b.type !== 'empty') out.note = 'type changed';
  if (a.type === 'number') {
    const ca = a.sketch ? new Cdf(a.sketch) : undefined, cb = b.sketch ? new Cdf(b.sketch) : undefined;
    const edges = ca ? binEdges(ca) : [];
    out.psi = psi(...bothNonEmpty(numberCounts(a, ca, edges), numberCounts(b, cb, edges)));
    out.ks = ca && cb ? ks(ca, cb) : null;
  } else {
    const values = [...new Set([...a.top.map(([v]) => v), ...b.top.map(([v]) => v)])];
    out.psi = psi(...bothNonEmpty(textCounts(a, values), textCounts(b, values)));
  }
  return out;
}

/** Per column of either profile, the most drifted first (by PSI); columns in one profile only come first. */
export function tableDrift(a: TableProfile, b: TableProfile): ColumnDrift[] {
  const bs = new Map(b.columns.map((c) => [c.name, c]));
  const as = new Set(a.columns.map((c) => c.name));
  const out: ColumnDrift[] = [];
  for (const c of a.columns) {
    const other = bs.get(c.name);
    if (other) out.push(columnDrift(c, other));
    else out.push({ column: c.name, type: c.type, psi: null, ks: null, missing: { a: c.count ? c.missing / c.count : 0, b: 1 }, note: 'column removed' });
  }
  for (const c of b.columns) {
    if (!as.has(c.name)) out.push({ column: c.name, type: c.type, psi: null, ks: null, missing: { a: 1, b: c.count ? c.missing / c.count : 0 }, note: 'new column' });
  }
  const rank = (d: ColumnDrift) => (d.psi === null ? Infinity : d.psi);
  return out.sort((x, y) => rank(y) - rank(x) || (y.ks ?? 0) - (x.ks ?? 0));
}
