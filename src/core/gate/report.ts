/**
 * The gate's result as a one-screen text summary (the terminal) and as Markdown fit for a pull-request
 * comment and VS Code's preview: tables, and unicode sparklines for charts (GitHub strips inline SVG).
 */
import type { Store } from '../store/store.ts';
import type { ParamValue } from '../types.ts';
import { metricValue, shortSha } from '../format.ts';
import { sparkline } from '../hparams/lens.ts';
import type { GateResult, MetricRow, Side } from './check.ts';

const MAX_PARAMS = 30;
const MAX_FILES = 30;
const MAX_COLUMNS = 10;
const CURVE_POINTS = 24;

const signed = (v: number | null) => (v === null ? '' : `${v > 0 ? '+' : v < 0 ? '−' : '±'}${metricValue(Math.abs(v))}`);
const limitText = (r: MetricRow) => (r.limit === null ? '' : `${r.direction === 'max' ? '≥' : '≤'} ${metricValue(r.limit)}`);
const param = (v: ParamValue | null) => (v === null ? '—' : String(v));

function who(s: Side): string {
  return `${s.version ? `v${s.version.version}, ` : ''}run ${s.run.name} (${s.run.uid.slice(0, 8)})`;
}

/** A one-screen summary for the terminal. */
export function textSummary(r: GateResult): string {
  const lines = [`${r.pass ? 'PASS' : 'FAIL'} ${r.model}: ${who(r.candidate)} against ${r.alias} (${who(r.baseline)})`];
  const width = Math.max(...r.metrics.map((m) => m.key.length));
  for (const m of r.metrics) {
    const values = `${metricValue(m.baseline, { missing: '—' })} → ${metricValue(m.candidate, { missing: '—' })}`;
    const detail = m.limit === null ? m.reason ?? '' : `${signed(m.delta)}, passes ${limitText(m)}`;
    lines.push(`  ${m.key.padEnd(width)}  ${m.direction}  ${values}  (${detail})  ${m.pass ? 'ok' : 'REGRESSION'}`);
  }
  if (r.params.length) {
    const shown = r.params.slice(0, 3).map((p) => `${p.key} ${param(p.baseline)} → ${param(p.candidate)}`).join(', ');
    lines.push(`  params: ${r.params.length} differ (${shown}${r.params.length > 3 ? ', …' : ''})`);
  }
  if (r.dataFiles.length) lines.push(`  data: ${r.dataFiles.length} file${r.dataFiles.length === 1 ? '' : 's'} changed (${r.dataFiles.slice(0, 3).join(', ')}${r.dataFiles.length > 3 ? ', …' : ''})`);
  for (const f of r.drift) {
    const worst = f.columns?.find((c) => c.psi !== null);
    lines.push(`  drift ${f.file}: ${worst ? `max PSI ${metricValue(worst.psi, { digits: 2 })} (${worst.column})` : 'no profile'}${f.over.length ? `, over the limits: ${f.over.join(', ')}` : ''}`);
  }
  for (const f of r.failures.filter((x) => !r.metrics.some((m) => m.reason === x))) lines.push(`  ! ${f}`);
  return `${lines.join('\n')}\n`;
}

/** Text safe in a Markdown table cell. */
function cell(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/\|/g, '\\|').replace(/[\r\n]+/g, ' ').replace(/([*_`<>[\]])/g, '\\$1');
}

/** A metric over a run's steps (the last value of each of CURVE_POINTS buckets). */
function curve(store: Store, runId: number, key: string): number[] {
  const range = store.metrics.extent(runId, key, 'step');
  if (!range) return [];
  return Array.from(store.metrics.downsample(runId, key, { axis: 'step', lo: range[0], hi: range[1], buckets: CURVE_POINTS }).last);
}

/** Two runs' curves as sparklines on one scale, so their heights compare. */
function curves(store: Store, a: number, b: number, key: string): [string, string] {
  const ca = curve(store, a, key), cb = curve(store, b, key);
  const both = sparkline([...ca, ...cb]);
  const [sa, sb] = [[...both].slice(0, ca.length).join(''), [...both].slice(ca.length).join('')];
  return [ca.length > 1 ? sa : '', cb.length > 1 ? sb : ''];
}

/** The metric at registration of every version, oldest first; the candidate last when it is not a version. */
function byVersion(store: Store, r: GateResult, key: string): { line: string; from: number; to: number } | undefined {
  const versions = store.models.versions(r.baseline.version.modelId).reverse();
  const values = versions.map((v) => v.metrics.find((m) => m.key === key)?.last ?? null);
  if (!r.candidate.version) values.push(r.candidate.metrics.find((m) => m.key === key)?.last ?? null);
  if (values.filter((v) => v !== null).length < 2) return undefined;
  return { line: sparkline(values), from: versions[0]!.version, to: versions.at(-1)!.version };
}

/** The Markdown report. */
export function markdownReport(store: Store, r: GateResult, now = Date.now()): string {
  const out: string[] = [];
  const base = r.baseline, cand = r.candidate;
  out.push(`## ${r.pass ? '✅' : '❌'} ${cell(r.model)}: the candidate ${r.pass ? 'passes' : 'fails'} against ${cell(r.alias)}`, '');
  out.push(`Candidate: ${cell(who(cand))}${cand.run.git ? ` at \`${shortSha(cand.run.git.commit)}\`` : ''}  `);
  out.push(`Baseline: ${cell(r.alias)} = ${cell(who(base))}${base.run.git ? ` at \`${shortSha(base.run.git.commit)}\`` : ''}`, '');
  if (r.failures.length) out.push(...r.failures.map((f) => `- **${cell(f)}**`), '');

  out.push(`| Metric | Goal | ${cell(r.alias)} | Candidate | Change | Passes | |`, '|---|---|---:|---:|---:|---:|---|');
  for (const m of r.metrics) {
    out.push(`| ${cell(m.key)} | ${m.direction} | ${metricValue(m.baseline, { missing: '—' })} | ${metricValue(m.candidate, { missing: '—' })} | ${signed(m.delta)} | ${limitText(m)} | ${m.pass ? '✅' : '❌'} |`);
  }
  out.push('');

  const charts = r.metrics.map((m) => {
    const [a, b] = curves(store, base.run.id, cand.run.id, m.key);
    return { key: m.key, versions: byVersion(store, r, m.key), a, b };
  }).filter((c) => c.versions || c.a || c.b);
  if (charts.length) {
    out.push('| Chart | By version | Baseline run | Candidate run (same scale) |', '|---|---|---|---|');
    for (const c of charts) {
      const versions = c.versions ? `\`${c.versions.line}\` v${c.versions.from}…v${c.versions.to}${cand.version ? '' : ', candidate'}` : '';
      out.push(`| ${cell(c.key)} | ${versions} | ${c.a ? `\`${c.a}\`` : ''} | ${c.b ? `\`${c.b}\`` : ''} |`);
    }
    out.push('');
  }

  out.push(`### Params that differ (${r.params.length})`, '');
  if (r.params.length) {
    out.push(`| Param | ${cell(r.alias)} | Candidate |`, '|---|---|---|');
    for (const p of r.params.slice(0, MAX_PARAMS)) out.push(`| ${cell(p.key)} | ${cell(param(p.baseline))} | ${cell(param(p.candidate))} |`);
    if (r.params.length > MAX_PARAMS) out.push('', `…and ${r.params.length - MAX_PARAMS} more.`);
  } else out.push('None.');
  out.push('');

  out.push(`### Data files that changed (${r.dataFiles.length})`, '');
  if (r.dataFiles.length) {
    for (const f of r.dataFiles.slice(0, MAX_FILES)) out.push(`- \`${f.replace(/`/g, "'")}\``);
    if (r.dataFiles.length > MAX_FILES) out.push(`- …and ${r.dataFiles.length - MAX_FILES} more`);
  } else out.push('None.');
  out.push('');

  if (r.drift.length) {
    const limits = r.driftLimits ? ` (limits: ${[r.driftLimits.psi !== undefined ? `PSI ${r.driftLimits.psi}` : '', r.driftLimits.ks !== undefined ? `KS ${r.driftLimits.ks}` : ''].filter(Boolean).join(', ')})` : '';
    out.push(`### Drift${limits}`, '');
    for (const f of r.drift) {
      out.push(`**\`${f.file.replace(/`/g, "'")}\`** ${f.baseline ? `\`${shortSha(f.baseline)}\`` : ''} → ${f.candidate ? `\`${shortSha(f.candidate)}\`` : ''}`, '');
      if (!f.columns) { out.push('No profile of one of the two versions of this file.', ''); continue; }
      out.push('| Column | Type | PSI | KS | Missing | |', '|---|---|---:|---:|---:|---|');
      for (const c of f.columns.slice(0, MAX_COLUMNS)) {
        const missing = `${pct(c.missing.a)} → ${pct(c.missing.b)}`;
        out.push(`| ${cell(c.column)} | ${c.type} | ${metricValue(c.psi, { digits: 3, missing: '—' })} | ${metricValue(c.ks, { digits: 3, missing: '—' })} | ${missing} | ${f.over.includes(c.column) ? '❌' : c.note ?? ''} |`);
      }
      if (f.columns.length > MAX_COLUMNS) out.push('', `…and ${f.columns.length - MAX_COLUMNS} more columns.`);
      out.push('');
    }
  }
  out.push(`<sub>RunLens gate, ${new Date(now).toISOString().replace(/\.\d+Z$/, 'Z')}</sub>`, '');
  return out.join('\n');
}

function pct(share: number): string {
  return `${metricValue(share * 100, { digits: 3 })}%`;
}
