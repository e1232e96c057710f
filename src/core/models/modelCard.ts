import { type Lineage, notablePackages } from './lineage.ts';
import { bytes, dateTime, metricValue, shortSha, interpreterText } from '../format.ts';

const cell = (v: unknown) => String(v ?? '').replace(/\\/g, '\\\\').replace(/\|/g, '\\|').replace(/`/g, "'").replace(/\r?\n/g, ' ');
const code = (v: string) => `\`${v.replace(/`/g, "'")}\``;
const row = (cells: unknown[]) => `| ${cells.map(cell).join(' | ')} |`;
const MAX_FILES = 200;

/** A Markdown model card: what the version is, and everything it came from. */
export function modelCard(l: Lineage): string {
  const { version: v, run } = l;
  const out: string[] = [`# ${v.model} v${v.version}`, ''];
  const aliases = v.aliases.length ? ` · aliases ${v.aliases.map(code).join(', ')}` : '';
  out.push(`Registered ${dateTime(v.createdAt)} from run **${cell(run.name)}** (${code(run.uid)}), experiment ${cell(run.experiment)}${aliases}.`, '');
  if (v.description) out.push(v.description, '');

  out.push('## Artifact', '', row(['Path', 'Kind', 'Files', 'Size', 'sha256']), '|---|---|---:|---:|---|',
    row([v.path, v.kind, v.fileCount, bytes(v.size), v.digest]), '');

  out.push('## Code', '');
  if (!l.code) out.push('The run was not started in a git repository.', '');
  else {
    out.push(`- Commit ${code(l.code.commit)}${l.code.branch ? ` on ${code(l.code.branch)}` : ''}${l.code.remote ? ` (${cell(l.code.remote)})` : ''}`);
    out.push(l.code.dirty
      ? `- Uncommitted changes: stored patch ${code(shortSha(l.code.patchSha256 ?? ''))}, ${bytes(l.code.patchBytes)}${l.code.untracked.length ? `, with ${l.code.untracked.length} untracked file(s)` : ''}`
      : '- Working tree clean');
    out.push('');
  }
  if (l.environment.commandLine) out.push(`Command: ${code(l.environment.commandLine)}`, '');
  const env = [l.environment.interpreterVersion && interpreterText(l.environment.interpreterVersion), l.environment.os, l.environment.hostname,
    l.environment.gpu.length ? l.environment.gpu.join(', ') : 'no GPU'].filter(Boolean);
  out.push(`Environment: ${env.map(cell).join(' · ')}`, '');
  if (l.notebook) out.push(`Notebook: ${code(l.notebook.path)}${l.notebook.snapshot ? `, snapshot sha256 ${code(l.notebook.snapshot.digest)}` : ' (no snapshot was kept)'}`, '');

  out.push('## Packages', '');
  if (!l.packages) out.push('No packages were recorded for this run.', '');
  else {
    const p = l.packages;
    const notable = notablePackages(p);
    out.push(`${p.list.length} installed package(s)${p.conda ? ` in the conda environment ${code(p.conda)}` : ''}.${
      notable.length ? ` Notable: ${notable.map(([n, v]) => `${cell(n)} ${cell(v)}`).join(', ')}.` : ''}`, '');
    if (p.list.length) {
      out.push('<details><summary>All packages</summary>', '', row(['Package', 'Version']), '|---|---|');
      for (const [name, version] of p.list) out.push(row([name, version]));
      out.push('', '</details>', '');
    }
  }

  out.push('## Data', '');
  if (!l.datasets.length) out.push('No datasets were declared for this run.', '');
  for (const d of l.datasets) {
    out.push(`### ${cell(d.path)}`, '', `${d.kind}, ${d.fileCount} file(s), ${bytes(d.bytes)}, sha256 ${code(d.digest)}`, '');
    if (d.kind === 'directory' && d.files.length) {
      out.push(row(['File', 'Size', 'sha256']), '|---|---:|---|');
      for (const f of d.files.slice(0, MAX_FILES)) out.push(row([f.path, bytes(f.size), f.sha256]));
      if (d.files.length > MAX_FILES) out.push(row([`… ${d.files.length - MAX_FILES} more`, '', '']));
      out.push('');
    }
  }

  out.push('## Hyperparameters', '');
  const params = Object.entries(l.params);
  if (!params.length) out.push('No params were recorded.', '');
  else out.push(row(['Param', 'Value']), '|---|---|', ...params.map(([k, val]) => row([k, JSON.stringify(val)])), '');

  out.push('## Metrics at registration', '');
  if (!v.metrics.length) out.push('No metrics were recorded.', '');
  else {
    out.push(row(['Metric', 'Last', 'Min', 'Max', 'Steps']), '|---|---:|---:|---:|---:|');
    for (const m of v.metrics) out.push(row([m.key, metricValue(m.last), metricValue(m.min), metricValue(m.max), m.count]));
    out.push('');
  }

  if (l.reproductions.length || l.reproduces) {
    out.push('## Reproductions', '');
    if (l.reproduces) out.push(`- This run reproduces **${cell(l.reproduces.name)}** (${code(l.reproduces.uid)}).`);
    for (const r of l.reproductions) out.push(`- **${cell(r.run.name)}** (${r.run.status}): ${r.verdict ?? 'no report yet'}`);
    out.push('');
  }
  if (v.metadata !== null && v.metadata !== undefined) out.push('## Metadata', '', '```json', JSON.stringify(v.metadata, null, 2), '```', '');
  out.push(`_Written by RunLens. Store run id ${code(run.uid)}._`, '');
  return out.join('\n');
}
