/**
 * A table of keys × runs, either way round: keys as rows and runs as columns for a few runs, runs as
 * rows and keys as columns for many (a sweep scrolls down, not sideways). Each key or run may span
 * several stat columns (the metrics' last/min/max/@best). Body rows go through VirtualRows.
 */
import type { CompareRun } from '../../src/core/compare/protocol.ts';
import { h, swatch } from './dom.ts';
import { post } from './host.ts';
import { VirtualRows } from './virtualRows.ts';

/** More runs shown than this: runs are the rows. */
export const RUNS_AS_ROWS_ABOVE = 12;

export interface GridKey {
  key: string;
  label: Node | string;
  title?: string;
  /** The key's values differ across the runs shown; odd: per run column, not the most common value. */
  differs: boolean;
  odd: boolean[];
  cls?: string;
}

export interface GridRun {
  run: CompareRun;
  /** Next to the run's name (the best-run badge). */
  extra?: Node | null;
  title?: string;
  cls?: string;
}

export interface GridStat {
  label: string;
  title: string;
}

export interface GridSpec {
  id: string;
  /** The corner header: what the keys are ("Parameter"). */
  keysTitle: string;
  keys: GridKey[];
  runs: GridRun[];
  /** Columns under each key (runs as rows) or run (keys as rows); none: one. */
  stats?: GridStat[];
  /** The cell of key k, run column r, stat s. */
  cell(k: number, r: number, s: number): HTMLTableCellElement;
}

/** Builds the table into `scroller` (its scroll box), rows made as they come into view. */
export function renderGrid(scroller: HTMLElement, rows: VirtualRows, spec: GridSpec): HTMLTableElement {
  const byRun = spec.runs.length > RUNS_AS_ROWS_ABOVE;
  const stats = spec.stats && spec.stats.length > 1 ? spec.stats : null;
  const span = stats?.length ?? 1;
  const table = h('table', { id: spec.id, class: `grid-table${byRun ? ' by-run' : ''}`, 'data-layout': byRun ? 'runs-as-rows' : 'keys-as-rows' });
  const head = h('thead');
  const top = h('tr');
  const across = byRun ? spec.keys.length : spec.runs.length;
  top.appendChild(h('th', { scope: 'col', class: 'key-col', rowspan: stats ? 2 : null }, byRun ? 'Run' : spec.keysTitle));
  for (let c = 0; c < across; c++) top.appendChild(byRun ? keyHead(spec.keys[c]!, span) : runHead(spec.runs[c]!, span));
  head.appendChild(top);
  if (stats) {
    const sub = h('tr', { class: 'sub-head' });
    for (let c = 0; c < across; c++) {
      stats.forEach((s, k) => sub.appendChild(h('th', { scope: 'col', class: `stat-col${k === 0 ? ' group-start' : ''}${!byRun && spec.runs[c]!.cls ? ` ${spec.runs[c]!.cls}` : ''}`, title: s.title }, s.label)));
    }
    head.appendChild(sub);
  }
  table.appendChild(head);
  const body = h('tbody');
  table.appendChild(body);
  const down = byRun ? spec.runs.length : spec.keys.length;
  table.setAttribute('aria-rowcount', String(down + (stats ? 2 : 1)));
  const left = scroller.scrollLeft;
  scroller.replaceChildren(table);
  scroller.scrollLeft = left;
  rows.show(body, down, 1 + across * span, stats ? 2 : 1, (i) => {
    if (byRun) {
      const r = spec.runs[i]!;
      const tr = h('tr', { 'data-run': r.run.uid, class: r.cls ?? null }, runHead(r, 1, 'row'));
      // no odd cells down a column of many runs: the header says the key differs
      for (let k = 0; k < spec.keys.length; k++) {
        for (let s = 0; s < span; s++) tr.appendChild(mark(spec.cell(k, i, s), false, s === 0 && span > 1));
      }
      return tr;
    }
    const key = spec.keys[i]!;
    const classes = [key.differs ? 'differs' : '', key.cls ?? ''].filter(Boolean).join(' ');
    const tr = h('tr', { 'data-key': key.key, 'data-differs': key.differs ? 'true' : null, class: classes || null },
      h('th', { scope: 'row', class: 'key-col', title: key.title ?? null }, key.label));
    spec.runs.forEach((_r, r) => {
      for (let s = 0; s < span; s++) tr.appendChild(mark(spec.cell(i, r, s), key.differs && key.odd[r] === true, s === 0 && span > 1));
    });
    return tr;
  });
  return table;
}

/** A run's name (a link to it in the Runs view) with its swatch: a column head, or a row head. */
function runHead(r: GridRun, colspan: number, scope: 'col' | 'row' = 'col'): HTMLTableCellElement {
  const name = h('button', { type: 'button', class: 'link run-link', title: `Reveal ${r.run.name} in the Runs view` }, r.run.name);
  name.addEventListener('click', () => post({ type: 'revealRun', runId: r.run.id }));
  const cls = [scope === 'row' ? 'key-col run-row' : 'run-col', r.cls ?? ''].filter(Boolean).join(' ');
  return h('th', {
    scope: colspan > 1 ? 'colgroup' : scope, class: cls, colspan: colspan > 1 ? colspan : null, 'data-run': r.run.uid, title: r.title ?? null,
  }, h('span', { class: 'run-head' }, swatch(r.run.color), name), r.extra ?? null);
}

function keyHead(key: GridKey, colspan: number): HTMLTableCellElement {
  const cls = ['key-head', key.differs ? 'differs' : '', key.cls ?? ''].filter(Boolean).join(' ');
  return h('th', {
    scope: colspan > 1 ? 'colgroup' : 'col', class: cls, colspan: colspan > 1 ? colspan : null,
    'data-key': key.key, 'data-differs': key.differs ? 'true' : null, title: key.title ?? key.key,
  }, key.label);
}

function mark(td: HTMLTableCellElement, odd: boolean, groupStart: boolean): HTMLTableCellElement {
  if (odd) td.classList.add('odd');
  if (groupStart) td.classList.add('group-start');
  return td;
}

/** An info row across the whole table (nothing to list). */
export function infoRow(table: HTMLTableElement, text: string): void {
  let columns = 0;
  for (const cell of table.tHead?.rows[0]?.cells ?? []) columns += cell.colSpan;
  table.tBodies[0]?.appendChild(h('tr', { class: 'info-row' }, h('td', { colspan: Math.max(columns, 2) }, text)));
}
