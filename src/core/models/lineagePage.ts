import { type Lineage, type DatasetDiff, notablePackages, packageChanges } from './lineage.ts';
import type { PackagesDiff } from '../provenance/packages.ts';
import { bytes, dateTime, metricValue, shortSha, interpreterText } from '../format.ts';
import { DRIFTED_PSI, MODERATE_PSI, driftLevel } from '../drift/fileDrift.ts';
import { tabularDelimiter } from '../drift/profile.ts';
import { type EvaluationHistory, droppedEvaluations } from './evaluations.ts';

/**
 * The lineage panel's HTML: version → run → code → data → params → metrics, as a chain of cards.
 * No script at all: links are command URIs the panel allows one by one. Every value is escaped.
 */
export interface LineagePageOptions {
  cspSource: string;
  style: string;
  /** Per-file data changes against another version of the same model, when there is one. */
  against?: {
    version: number;
    diff: DatasetDiff[];
    /** From that version's packages to this one's; null when that run recorded none; absent: not compared. */
    packages?: PackagesDiff | null;
  };
  /** The version's evaluations over time (models/evaluations.ts); absent: no Evaluations card. */
  evaluations?: EvaluationHistory;
}

const esc = (v: unknown) => String(v ?? '').replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const cmd = (id: string, ...args: unknown[]) => esc(`command:${id}?${encodeURIComponent(JSON.stringify(args))}`);
const link = (label: string, id: string, ...args: unknown[]) => `<a href="${cmd(id, ...args)}">${esc(label)}</a>`;

/** The commands a lineage page links to (the panel's enableCommandUris list). */
export const LINEAGE_COMMANDS = [
  'runlens.showCommit', 'runlens.showPatch', 'runlens.openRun', 'runlens.compareRuns', 'runlens.exportModelCard',
  'runlens.reproduceModelVersion', 'runlens.setModelAlias', 'runlens.compareModelVersions', 'runlens.showNotebookSnapshot',
];

function card(kind: string, title: string, body: string, actions = ''): string {
  return `<section class="card ${kind}"><header><span class="kind">${esc(kind)}</span><h2>${title}</h2>${actions ? `<nav>${actions}</nav>` : ''}</header>${body}</section>`;
}

function table(head: string[], rows: string[][], cls = ''): string {
  if (!rows.length) return '';
  return `<table class="${cls}"><thead><tr>${head.map((h) => `<th>${esc(h)}</th>`).join('')}</tr></thead><tbody>${
    rows.map((r) => `<tr>${r.map((c) => `<td>${c}</td>`).join('')}</tr>`).join('')}</tbody></table>`;
}

/** What differs from `from` to `to`, as a table of versions ("—": not installed). */
function packagesDiffer(d: PackagesDiff, from: string, to: string, what: string): string {
  const changes = packageChanges(d);
  if (!changes.length && !d.conda) return `<p class="same">same packages as ${esc(from)}</p>`;
  const rows = changes.map((c) => [`<code>${esc(c.name)}</code>`, esc(c.from ?? '—'), esc(c.to ?? '—')]);
  if (d.conda) rows.unshift(['conda environment', esc(d.conda.from ?? '—'), esc(d.conda.to ?? '—')]);
  return `<h3>${esc(what)} <span class="changed">${changes.length} package(s) differ from ${esc(from)}</span></h3>${table(['Package', from, to], rows, 'files')}`;
}

function packagesCard(l: Lineage, against: LineagePageOptions['against']): string {
  const p = l.packages;
  if (!p) return card('packages', 'Packages', '<p>No packages were recorded for this run.</p>');
  const notable = notablePackages(p);
  const body = [
    notable.length ? `<p>${notable.map(([n, v]) => `<code>${esc(n)}</code> ${esc(v)}`).join(' · ')}</p>` : '',
    against?.packages === null ? `<p>v${against.version} recorded no packages to compare with.</p>` : '',
    against?.packages ? packagesDiffer(against.packages, `v${against.version}`, `v${l.version.version}`, `Against v${against.version}`) : '',
    l.packagesDiff ? packagesDiffer(l.packagesDiff, 'recorded', 'now', 'Against the current interpreter') : '',
  ].join('');
  return card('packages', `${p.list.length} package(s)${p.conda ? ` in conda <code>${esc(p.conda)}</code>` : ''}`, body);
}

const CHART = { w: 520, h: 150, left: 56, right: 12, top: 10, bottom: 22 };

/**
 * One metric over time as inline SVG (no script, no inline style: theme colours through presentation
 * attributes): the registration value as a dashed line and a square, each evaluation as a dot on a line.
 */
export function evaluationChart(key: string, registration: { at: number; value: number } | null,
  points: { at: number; value: number; degraded: boolean; label: string }[]): string {
  const all = [...(registration ? [registration] : []), ...points];
  if (!all.length) return '';
  const t0 = Math.min(...all.map((p) => p.at)), t1 = Math.max(...all.map((p) => p.at));
  let y0 = Math.min(...all.map((p) => p.value)), y1 = Math.max(...all.map((p) => p.value));
  if (y0 === y1) { const d = Math.abs(y0) * 0.1 || 1; y0 -= d; y1 += d; }
  const { w, h, left, right, top, bottom } = CHART;
  const x = (t: number) => (t1 === t0 ? (left + w - right) / 2 : left + ((t - t0) / (t1 - t0)) * (w - left - right));
  const y = (v: number) => top + (1 - (v - y0) / (y1 - y0)) * (h - top - bottom);
  const n = (v: number) => v.toFixed(1);
  const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);
  const muted = 'var(--vscode-descriptionForeground, gray)';
  const parts = [
    `<line x1="${left}" y1="${n(h - bottom)}" x2="${w - right}" y2="${n(h - bottom)}" stroke="${muted}" stroke-width="1"/>`,
    `<text x="${left - 4}" y="${n(y(y1) + 4)}" text-anchor="end" font-size="10" fill="${muted}">${esc(metricValue(y1))}</text>`,
    `<text x="${left - 4}" y="${n(y(y0) + 4)}" text-anchor="end" font-size="10" fill="${muted}">${esc(metricValue(y0))}</text>`,
    `<text x="${left}" y="${h - 6}" font-size="10" fill="${muted}">${esc(day(t0))}</text>`,
    t1 > t0 ? `<text x="${w - right}" y="${h - 6}" text-anchor="end" font-size="10" fill="${muted}">${esc(day(t1))}</text>` : '',
  ];
  if (registration) {
    const ry = n(y(registration.value));
    parts.push(`<line class="registration" x1="${left}" y1="${ry}" x2="${w - right}" y2="${ry}" stroke="var(--vscode-charts-green, green)" stroke-dasharray="4 3" stroke-width="1"/>`,
      `<rect class="point registration" x="${n(x(registration.at) - 4)}" y="${n(y(registration.value) - 4)}" width="8" height="8" fill="var(--vscode-charts-green, green)"><title>${esc(`registration ${day(registration.at)}: ${key} ${metricValue(registration.value)}`)}</title></rect>`);
  }
  const sorted = [...points].sort((a, b) => a.at - b.at);
  if (sorted.length > 1) {
    parts.push(`<polyline points="${sorted.map((p) => `${n(x(p.at))},${n(y(p.value))}`).join(' ')}" fill="none" stroke="var(--vscode-charts-blue, steelblue)" stroke-width="1.5"/>`);
  }
  for (const p of sorted) {
    parts.push(`<circle class="point evaluation${p.degraded ? ' degraded' : ''}" cx="${n(x(p.at))}" cy="${n(y(p.value))}" r="4" fill="${p.degraded ? 'var(--vscode-charts-red, red)' : 'var(--vscode-charts-blue, steelblue)'}"><title>${esc(`${p.label} ${day(p.at)}: ${key} ${metricValue(p.value)}`)}</title></circle>`);
  }
  return `<svg class="chart" role="img" aria-label="${esc(`${key} over time`)}" viewBox="0 0 ${w} ${h}" width="${w}" height="${h}" xmlns="http://www.w3.org/2000/svg">${parts.join('')}</svg>`;
}

/** The Evaluations card: degradation alerts, a chart per watched metric, and a table of every evaluation. */
function evaluationsCard(l: Lineage, h: EvaluationHistory): string {
  const v = l.version;
  if (!h.evaluations.length) return card('evaluations', 'No evaluations', '<p>No evaluation names this version yet (<code>runlens.log_eval</code>).</p>');
  const degradedRuns = new Set([...h.alerts.map((a) => `${a.runId}\u0000${a.key}`), ...droppedEvaluations(v, h)]);
  const alerts = h.alerts.map((a) => `<p class="changed">⚠ ${esc(a.message)}</p>`).join('');
  const charts = h.metrics.map((m) => {
    const reg = v.metrics.find((s) => s.key === m.key);
    const points = h.evaluations.filter((e) => e.metrics[m.key] !== undefined).map((e) => ({
      at: e.at, value: e.metrics[m.key]!, degraded: degradedRuns.has(`${e.runId}\u0000${m.key}`), label: e.run.name,
    }));
    return points.length ? `<h3><code>${esc(m.key)}</code> <span class="ver">${m.direction === 'max' ? 'higher' : 'lower'} is better</span></h3>${
      evaluationChart(m.key, reg ? { at: v.createdAt, value: reg.last } : null, points)}` : '';
  }).join('');
  const watched = h.metrics.map((m) => m.key);
  const keys = [...new Set([...watched, ...h.evaluations.flatMap((e) => Object.keys(e.metrics))])].slice(0, 6);
  const regRow = [esc(dateTime(v.createdAt)), 'registration', ...keys.map((k) => esc(metricValue(v.metrics.find((s) => s.key === k)?.last))),
    `<a href="${cmd('runlens.openRun', l.run.id)}">${esc(l.run.name)}</a>`];
  const rows = h.evaluations.map((e) => [
    esc(dateTime(e.at)),
    e.datasets.map((d) => `<code title="${esc(`${d.path} ${d.digest}`)}">${esc(shortSha(d.digest))}</code>`).join(' ') || '—',
    ...keys.map((k) => `${degradedRuns.has(`${e.runId}\u0000${k}`) ? '<span class="changed-mark" title="degraded">●</span> ' : ''}${esc(metricValue(e.metrics[k]))}`),
    `<a href="${cmd('runlens.openRun', e.run.id)}">${esc(e.run.name)}</a> <span class="ver">${esc(e.ref)}</span>`,
  ]);
  return card('evaluations', `${h.evaluations.length} evaluation(s)`,
    `${alerts}${charts}${table(['Date', 'Dataset', ...keys, 'Run'], [regRow, ...rows], 'evaluations')}${evaluationDriftSection(h.drift)}`);
}

/** The latest evaluation's data against the training data, as the data card's drift table. */
function evaluationDriftSection(d: EvaluationHistory['drift']): string {
  if (!d) return '';
  const diff: DatasetDiff = { path: d.evaluated.file, kind: 'file', a: d.training.sha256, b: d.evaluated.sha256, added: [], removed: [], changed: [d.evaluated.file],
    drift: [{ file: d.evaluated.file, a: d.training.sha256, b: d.evaluated.sha256, columns: d.columns }] };
  return `<h3 class="eval-drift">Data drift of the latest evaluation: <code>${esc(d.evaluated.file)}</code> (<a href="${cmd('runlens.openRun', d.run.id)}">${esc(d.run.name)}</a>) against the training data <code>${esc(d.training.file)}</code></h3>${driftTables(diff, 'training', 'evaluation')}`;
}

/** Columns shown per changed file in the data card's drift table. */
const DRIFT_ROWS = 30;
const share = (x: number) => `${metricValue(x * 100, { digits: 3 })}%`;

/** Per changed CSV or TSV file of a dataset, its columns' drift from `from` to `to`, the most drifted first. */
function driftTables(d: DatasetDiff, from: string, to: string): string {
  return (d.drift ?? []).map((f) => {
    const name = d.kind === 'file' ? '' : ` of <code>${esc(f.file)}</code>`;
    if (!f.columns) return tabularDelimiter(f.file) ? `<p>No drift${name}: ${esc(from)} or ${esc(to)} has no data profile of it.</p>` : '';
    const rows = f.columns.slice(0, DRIFT_ROWS).map((c) => {
      const level = driftLevel(c);
      return [`<code>${esc(c.column)}</code>`, esc(c.type), esc(metricValue(c.psi, { digits: 2, missing: '—' })),
        esc(metricValue(c.ks, { digits: 2, missing: '—' })), `${esc(share(c.missing.a))} → ${esc(share(c.missing.b))}`,
        `<span class="drift ${level}">${esc(c.note ?? level)}</span>`];
    });
    const more = f.columns.length > DRIFT_ROWS ? `<p>…and ${f.columns.length - DRIFT_ROWS} more column(s).</p>` : '';
    const drifted = f.columns.filter((c) => driftLevel(c) === 'drifted').length;
    return `<h4>Drift${name} from ${esc(from)} to ${esc(to)}: ${drifted ? `<span class="changed">${drifted} column(s) drifted</span>` : '<span class="same">no column drifted</span>'}</h4>${
      table(['Column', 'Type', 'PSI', 'KS', `Missing ${from} → ${to}`, 'Level'], rows, 'drift')}${more}<p class="legend">PSI ≥ ${DRIFTED_PSI}: drifted; ≥ ${MODERATE_PSI}: moderate.</p>`;
  }).join('');
}

export function lineagePage(l: Lineage, o: LineagePageOptions): string {
  const { version: v, run } = l;
  const csp = `default-src 'none'; style-src ${o.cspSource}; img-src ${o.cspSource} data:`;
  const aliases = v.aliases.map((a) => `<span class="alias">@${esc(a)}</span>`).join(' ');
  const parts: string[] = [];

  parts.push(card('model version', `${esc(v.model)} <span class="ver">v${v.version}</span> ${aliases}`,
    `<p>${esc(v.description || 'No description.')}</p>
    <dl><dt>Registered</dt><dd>${esc(dateTime(v.createdAt))}</dd>
    <dt>Artifact</dt><dd><code>${esc(v.path)}</code> · ${esc(v.kind)} · ${v.fileCount} file(s) · ${esc(bytes(v.size))}</dd>
    <dt>sha256</dt><dd><code title="${esc(v.digest)}">${esc(v.digest)}</code></dd></dl>`,
    [link('Reproduce', 'runlens.reproduceModelVersion', v.id), link('Set alias…', 'runlens.setModelAlias', v.id),
      link('Export model card', 'runlens.exportModelCard', v.id)].join('')));

  const repro = [
    l.reproduces ? `<p>Reproduces <a href="${cmd('runlens.openRun', l.reproduces.id)}">${esc(l.reproduces.name)}</a>.</p>` : '',
    ...l.reproductions.map((r) => `<p>Reproduced by <a href="${cmd('runlens.openRun', r.run.id)}">${esc(r.run.name)}</a>: <span class="verdict">${esc(r.verdict ?? r.run.status)}</span></p>`),
  ].join('');
  parts.push(card('run', esc(run.name), `<dl><dt>Experiment</dt><dd>${esc(run.experiment)}</dd><dt>Status</dt><dd>${esc(run.status)}</dd>
    <dt>Command</dt><dd><code>${esc(l.environment.commandLine ?? '')}</code></dd>${l.notebook ? `
    <dt>Notebook</dt><dd><code>${esc(l.notebook.path)}</code> · ${l.notebook.snapshot ? link('Open snapshot', 'runlens.showNotebookSnapshot', run.uid) : 'no snapshot was kept'}</dd>` : ''}
    <dt>Environment</dt><dd>${esc([l.environment.interpreterVersion && interpreterText(l.environment.interpreterVersion), l.environment.os, l.environment.hostname].filter(Boolean).join(' · '))}</dd>
    <dt>Run id</dt><dd><code>${esc(run.uid)}</code></dd>${l.alerts.length ? `
    <dt>Alerts</dt><dd>${l.alerts.map((a) => `<p class="changed alert">⚠ ${esc(a.message)}</p>`).join('')}</dd>` : ''}</dl>${repro}`,
  [link('Open in Compare', 'runlens.openRun', run.id)].join('')));

  if (!l.code) parts.push(card('code', 'No git', '<p>The run was not started in a git repository.</p>'));
  else {
    const c = l.code;
    const patch = c.dirty
      ? `<p class="dirty">Uncommitted changes: patch <code>${esc(shortSha(c.patchSha256 ?? ''))}</code>, ${esc(bytes(c.patchBytes))}${c.untracked.length ? `, ${c.untracked.length} untracked file(s)` : ''}</p>`
      : '<p class="clean">Working tree clean at launch.</p>';
    parts.push(card('code', `commit <code>${esc(shortSha(c.commit))}</code>${c.branch ? ` on <code>${esc(c.branch)}</code>` : ''}`,
      `${c.remote ? `<p>${esc(c.remote)}</p>` : ''}${patch}`,
      [link('Show commit', 'runlens.showCommit', run.id), c.patchSha256 ? link('Show patch', 'runlens.showPatch', run.id) : ''].join('')));
  }

  parts.push(packagesCard(l, o.against));

  const diffs = new Map((o.against?.diff ?? []).map((d) => [d.path, d]));
  const dataBody = l.datasets.length ? l.datasets.map((d) => {
    const diff = diffs.get(d.path);
    const changed = new Set([...(diff?.changed ?? []), ...(diff?.added ?? [])]);
    const note = o.against && diff ? (diff.a === diff.b ? `<span class="same">same as v${o.against.version}</span>`
      : `<span class="changed">differs from v${o.against.version}: ${esc([...diff.changed, ...diff.added, ...diff.removed].join(', '))}</span>`) : '';
    const files = d.kind === 'directory'
      ? table(['File', 'Size', 'sha256'], d.files.slice(0, 200).map((f) => [
        `${changed.has(f.path) ? '<span class="changed-mark" title="changed">●</span> ' : ''}<code>${esc(f.path)}</code>`,
        esc(bytes(f.size)), `<code title="${esc(f.sha256)}">${esc(shortSha(f.sha256))}</code>`]), 'files')
      : '';
    const drift = diff && o.against ? driftTables(diff, `v${o.against.version}`, `v${v.version}`) : '';
    return `<h3><code>${esc(d.path)}</code> ${note}</h3><p>${esc(d.kind)} · ${d.fileCount} file(s) · ${esc(bytes(d.bytes))} · sha256 <code title="${esc(d.digest)}">${esc(shortSha(d.digest))}</code></p>${files}${drift}`;
  }).join('') : '<p>No datasets were declared for this run.</p>';
  parts.push(card('data', `${l.datasets.length} dataset(s)`, dataBody));

  const params = Object.entries(l.params);
  parts.push(card('params', `${params.length} param(s)`,
    table(['Param', 'Value'], params.map(([k, val]) => [`<code>${esc(k)}</code>`, esc(JSON.stringify(val))])) || '<p>No params were recorded.</p>'));

  parts.push(card('metrics', 'at registration', table(['Metric', 'Last', 'Min', 'Max', 'Steps'],
    v.metrics.map((m) => [`<code>${esc(m.key)}</code>`, esc(metricValue(m.last)), esc(metricValue(m.min)), esc(metricValue(m.max)), String(m.count)]), 'num')
    || '<p>No metrics were recorded.</p>'));

  if (o.evaluations) parts.push(evaluationsCard(l, o.evaluations));

  const history = l.aliasHistory.length ? `<footer><h3>Alias history</h3><ul>${l.aliasHistory.map((h) =>
    `<li>${esc(dateTime(h.at))}: <span class="alias">@${esc(h.alias)}</span> ${h.version === null ? `removed from v${h.previous}` : `${h.previous === null ? 'set on' : `moved from v${h.previous} to`} v${h.version}`}</li>`).join('')}</ul></footer>` : '';

  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link rel="stylesheet" href="${esc(o.style)}">
<title>${esc(`${v.model} v${v.version}`)}</title></head>
<body><main class="lineage">${parts.join('<div class="arrow" aria-hidden="true"></div>')}${history}</main></body></html>`;
}
