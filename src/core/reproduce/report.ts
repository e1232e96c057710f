// The reproducibility report: params, data and final metrics of a run and its reproduction.
import type { StoredDataset } from '../store/provenanceRepository.ts';
import type { ParamValue, Run } from '../types.ts';
import { type PackagesReport, changeText } from './packages.ts';

export interface ReproReport {
  original: { id: number; name: string; uid: string };
  reproduction: { id: number; name: string; uid: string; status: string };
  params: { identical: boolean; differences: { key: string; original: ParamValue | undefined; reproduced: ParamValue | undefined }[] };
  data: { identical: boolean; datasets: { path: string; original: string | null; reproduced: string | null; changedFiles: string[] }[] };
  metrics: {
    identical: boolean;
    withinTolerance: boolean;
    tolerance: number;
    rows: { key: string; original: number | null; reproduced: number | null; diff: number | null; verdict: MetricVerdict }[];
  };
  /** Artifacts both runs kept at the same path, by content digest (informational: files may hold timestamps). */
  artifacts: { path: string; original: string; reproduced: string | null; same: boolean }[];
  /** The packages now against the recorded ones (informational: they do not change the verdict); null: not checked. */
  packages: PackagesReport | null;
  verdict: 'identical' | 'within-tolerance' | 'differs';
}

export type MetricVerdict = 'exact' | 'within' | 'differs' | 'missing';

export type ReportRun = Pick<Run, 'id' | 'name' | 'uid' | 'status'> & {
  params: Record<string, ParamValue>;
  datasets: StoredDataset[];
  /** Last value of each metric key. */
  finals: Map<string, number | null>;
  /** Kept artifacts: path and digest. */
  artifacts?: { path: string; digest: string }[];
};

/**
 * Compares a reproduction with its original. Metrics: the original's keys, by final value,
 * NaN equal to NaN, within `tolerance` when |a-b| <= tolerance*max(|a|,|b|). The verdict needs
 * identical params and data, and the reproduction ending in the original's status.
 */
export function buildReport(input: { original: ReportRun; reproduction: ReportRun; tolerance: number; packages?: PackagesReport }): ReproReport {
  const { original: a, reproduction: b } = input;
  const tolerance = Math.max(0, input.tolerance);

  const differences = [...new Set([...Object.keys(a.params), ...Object.keys(b.params)])].sort()
    .filter((key) => !same(a.params[key], b.params[key]))
    .map((key) => ({ key, original: a.params[key], reproduced: b.params[key] }));

  const after = new Map(b.datasets.map((d) => [d.path, d]));
  const datasets: ReproReport['data']['datasets'] = a.datasets.map((d) => {
    const r = after.get(d.path);
    return { path: d.path, original: d.digest, reproduced: r?.digest ?? null, changedFiles: r ? fileChanges(d, r) : [] };
  });
  for (const r of b.datasets) {
    if (!a.datasets.some((d) => d.path === r.path)) datasets.push({ path: r.path, original: null, reproduced: r.digest, changedFiles: [] });
  }

  const rows = [...a.finals.keys()].sort().map((key) => {
    const x = a.finals.get(key) ?? null, y = b.finals.get(key) ?? null;
    return { key, original: x, reproduced: y, ...compare(x, y, tolerance) };
  });

  const params = { identical: differences.length === 0, differences };
  const data = { identical: datasets.every((d) => d.original !== null && d.original === d.reproduced), datasets };
  const metrics = {
    identical: rows.every((r) => r.verdict === 'exact'),
    withinTolerance: rows.every((r) => r.verdict === 'exact' || r.verdict === 'within'),
    tolerance, rows,
  };
  const kept = new Map((b.artifacts ?? []).map((x) => [x.path, x.digest]));
  const artifacts = (a.artifacts ?? []).map((x) => ({ path: x.path, original: x.digest, reproduced: kept.get(x.path) ?? null, same: kept.get(x.path) === x.digest }));
  const inputsSame = params.identical && data.identical && a.status === b.status;
  return {
    original: { id: a.id, name: a.name, uid: a.uid },
    reproduction: { id: b.id, name: b.name, uid: b.uid, status: b.status },
    params, data, metrics, artifacts, packages: input.packages ?? null,
    verdict: !inputsSame ? 'differs' : metrics.identical ? 'identical' : metrics.withinTolerance ? 'within-tolerance' : 'differs',
  };
}

function same(x: ParamValue | undefined, y: ParamValue | undefined): boolean {
  return x === y || (Number.isNaN(x) && Number.isNaN(y));
}

function compare(x: number | null, y: number | null, tolerance: number): { diff: number | null; verdict: MetricVerdict } {
  if (x === null && y === null) return { diff: null, verdict: 'exact' };
  if (x === null || y === null) return { diff: null, verdict: 'missing' };
  if (same(x, y)) return { diff: 0, verdict: 'exact' };
  const diff = Number.isFinite(x) && Number.isFinite(y) ? y - x : null;
  const within = diff !== null && tolerance > 0 && Math.abs(diff) <= tolerance * Math.max(Math.abs(x), Math.abs(y));
  return { diff, verdict: within ? 'within' : 'differs' };
}

/** Files added, removed or changed between two recordings of a dataset, sorted. */
function fileChanges(a: StoredDataset, b: StoredDataset): string[] {
  const before = new Map(a.files.map((f) => [f.path, f.sha256]));
  const out = new Set<string>();
  for (const f of b.files) if (before.get(f.path) !== f.sha256) out.add(f.path);
  const now = new Set(b.files.map((f) => f.path));
  for (const f of a.files) if (!now.has(f.path)) out.add(f.path);
  return [...out].sort();
}

/** The report as Markdown: verdict, params, data, and a metrics table. */
export function reportMarkdown(r: ReproReport): string {
  const lines: string[] = [];
  const tol = formatTolerance(r.metrics.tolerance);
  lines.push(`# ${r.verdict === 'identical' ? '✅ Reproduced exactly' : r.verdict === 'within-tolerance' ? `≈ Reproduced within tolerance ${tol}` : '❌ Did not reproduce'}`);
  lines.push('', `Original: ${esc(r.original.name)} (#${r.original.id}) · Reproduction: ${esc(r.reproduction.name)} (#${r.reproduction.id}, ${esc(r.reproduction.status)})`);

  lines.push('', '## Params', '');
  if (r.params.identical) lines.push('Identical.');
  else {
    lines.push('| param | original | reproduced |', '| --- | --- | --- |');
    for (const d of r.params.differences) lines.push(`| ${esc(d.key)} | ${param(d.original)} | ${param(d.reproduced)} |`);
  }

  lines.push('', '## Data', '');
  if (r.data.datasets.length === 0) lines.push('No datasets recorded.');
  for (const d of r.data.datasets) {
    const ok = d.original !== null && d.original === d.reproduced;
    const state = ok ? 'identical' : d.original === null ? 'only in the reproduction' : d.reproduced === null ? 'missing in the reproduction' : 'changed';
    lines.push(`- ${esc(d.path)}: ${state}`);
    const shown = d.changedFiles.slice(0, 50);
    for (const f of shown) lines.push(`  - ${esc(f)}`);
    if (d.changedFiles.length > shown.length) lines.push(`  - and ${d.changedFiles.length - shown.length} more`);
  }

  if (r.packages) lines.push('', '## Packages', '', ...packagesLines(r.packages));

  lines.push('', '## Metrics', '');
  if (r.metrics.rows.length === 0) lines.push('The original logged no metrics.');
  else {
    lines.push(`Final values; tolerance ${tol} (relative).`, '', '| key | original | reproduced | Δ | verdict |', '| --- | ---: | ---: | ---: | --- |');
    for (const m of r.metrics.rows) {
      const diff = m.diff === null ? '' : String(Number(m.diff.toPrecision(3)));
      lines.push(`| ${esc(m.key)} | ${num(m.original)} | ${num(m.reproduced)} | ${diff} | ${m.verdict} |`);
    }
  }
  if (r.artifacts.length) {
    lines.push('', '## Artifacts', '', '| path | original sha256 | reproduced | bytes |', '| --- | --- | --- | --- |');
    for (const x of r.artifacts) {
      lines.push(`| ${esc(x.path)} | \`${x.original.slice(0, 12)}\` | ${x.reproduced ? `\`${x.reproduced.slice(0, 12)}\`` : '—'} | ${x.same ? 'identical' : x.reproduced ? 'differ' : 'not kept'} |`);
    }
  }
  return `${lines.join('\n')}\n`;
}

function packagesLines(p: PackagesReport): string[] {
  if (p.state === 'not-recorded') return ['No packages were recorded for this run.'];
  if (p.state === 'unknown') return [`The current packages could not be listed: ${esc(p.error ?? 'unknown error')}`];
  if (p.state === 'same') return ['The current interpreter has the packages the run recorded.'];
  const n = p.changes.length;
  return [
    `⚠ ${n ? `${n} package${n === 1 ? '' : 's'} differ${n === 1 ? 's' : ''}` : 'The conda environment differs'} from the recorded run (recorded → now; — is not installed):`, '',
    ...(p.conda ? [`- ${esc(changeText({ name: 'conda environment', ...p.conda }))}`] : []),
    ...p.changes.map((c) => `- ${esc(changeText(c))}`),
  ];
}

function formatTolerance(t: number): string {
  return t !== 0 && Math.abs(t) < 1e-3 ? t.toExponential() : String(t);
}

const num = (v: number | null) => (v === null ? '—' : String(v));
const param = (v: ParamValue | undefined) => (v === undefined ? '—' : typeof v === 'string' ? esc(JSON.stringify(v)) : String(v));

/** Markdown-safe text on one line: punctuation Markdown acts on is backslash-escaped. */
function esc(s: string): string {
  return s.replace(/[\r\n]+/g, ' ').replace(/[\\`*_[\]<>|#~]/g, '\\$&');
}
