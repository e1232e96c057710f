/** The words of a dataset cell's drift in Compare's provenance table (webview/compare/tables.ts). */
import { metricValue } from '../format.ts';
import type { DataFileDrift } from './protocol.ts';

type Column = DataFileDrift['columns'][number];

const figures = (c: Column) => (c.psi === null
  ? `(${c.note ?? 'in one version only'})`
  : `PSI ${metricValue(c.psi, { digits: 2 })}${c.ks === null ? '' : ` KS ${metricValue(c.ks, { digits: 2 })}`}`);

/** `text`: the most drifted column of all the files ("drift: age PSI 0.31"); `title`: every file's columns, one file a line. */
export function driftText(drift: readonly DataFileDrift[]): { text: string; title: string } | undefined {
  const rank = (c: Column) => (c.psi === null ? Infinity : c.psi);
  const top = drift.flatMap((f) => f.columns).sort((a, b) => rank(b) - rank(a))[0];
  if (!top) return undefined;
  const short = (c: Column) => (c.psi === null ? `${c.column} ${figures(c)}` : `${c.column} PSI ${metricValue(c.psi, { digits: 2 })}`);
  return {
    text: `drift: ${short(top)}`,
    title: `Most drifted columns from the first run's data (PSI ≥ 0.25 drifted, ≥ 0.1 moderate):\n${drift.map((f) =>
      `${f.file}: ${f.columns.map((c) => `${c.column} ${c.psi === null ? figures(c) : `${figures(c)} (${c.level})`}`).join(', ')}`).join('\n')}`,
  };
}
