/**
 * The Tables tab: params, metrics summary and provenance; runs as columns, or as rows when there
 * are many (grid.ts), and only the rows in view made (virtualRows.ts).
 * Plain themed <table>s rather than vscode-table: the tests and screen readers want real
 * rows/cells (data-key on <tr>, th scope), the first column stays put while columns scroll
 * sideways (position: sticky), and a metric column group can span its stats (colspan).
 */
import '@vscode-elements/elements/dist/vscode-checkbox/index.js';
import '@vscode-elements/elements/dist/vscode-single-select/index.js';
import '@vscode-elements/elements/dist/vscode-option/index.js';
import '@vscode-elements/elements/dist/vscode-badge/index.js';
import type { CompareModel, CompareRun, MetricRow, PackagesTable, ProvenanceRow } from '../../src/core/compare/protocol.ts';
import { checkPackagesTable, differingPackages, NO_PACKAGES } from '../../src/core/compare/packageRows.ts';
import type { ParamValue } from '../../src/core/types.ts';
import { h } from './dom.ts';
import { formatParam, formatStep, keyMatcher } from './format.ts';
import { duration, metricValue, shortSha } from '../../src/core/format.ts';
import { driftText } from '../../src/core/compare/driftText.ts';
import { post } from './host.ts';
import type { ViewState } from './state.ts';
import { type GridKey, type GridRun, type GridSpec, infoRow, renderGrid, RUNS_AS_ROWS_ABOVE } from './grid.ts';
import { VirtualRows } from './virtualRows.ts';

type Stat = 'all' | 'last' | 'min' | 'max' | 'atBest';
/** More differing packages than this: the rest behind "Show all". */
const PACKAGES_SHOWN = 10;
const STAT_LABEL: Record<Exclude<Stat, 'all'>, string> = { last: 'last', min: 'min', max: 'max', atBest: '@best' };
const STAT_TITLE: Record<Exclude<Stat, 'all'>, string> = {
  last: 'The last logged value',
  min: 'The smallest value',
  max: 'The largest value',
  atBest: 'The value at the step where the primary metric is best',
};

/** Which cells of a row differ: those not holding the row's single most common value. */
export function differingCells(values: string[]): { differs: boolean; odd: boolean[] } {
  const counts = new Map<string, number>();
  for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
  if (counts.size <= 1) return { differs: false, odd: values.map(() => false) };
  let top = -1;
  let topValue: string | null = null;
  let tie = false;
  for (const [v, c] of counts) {
    if (c > top) {
      top = c;
      topValue = v;
      tie = false;
    } else if (c === top) tie = true;
  }
  const majority = !tie && top > 1 ? topValue : null;
  return { differs: true, odd: values.map((v) => v !== majority) };
}

function paramKey(v: ParamValue | null): string {
  return v === null ? '\u0000missing' : `${typeof v}:${String(v)}`;
}

export class TablesTab {
  readonly el: HTMLElement;
  private readonly state: ViewState;
  private readonly params: HTMLElement;
  private readonly paramsNote: HTMLElement;
  private readonly metrics: HTMLElement;
  private readonly metricsNote: HTMLElement;
  private readonly provenance: HTMLElement;
  private readonly provenanceNote: HTMLElement;
  private readonly packagesToggle: HTMLButtonElement;
  private allPackages = false;
  private readonly rows: Map<HTMLElement, VirtualRows>;
  private readonly onlyDiff: HTMLElement & { checked: boolean };
  private readonly statSelect: HTMLElement & { value: string };
  private stat: Stat | null = null;
  private model: CompareModel | null = null;

  constructor(state: ViewState) {
    this.state = state;
    this.onlyDiff = h('vscode-checkbox', { id: 'only-differences', label: 'Only differences' }) as HTMLElement & { checked: boolean };
    this.onlyDiff.checked = state.value.onlyDifferences;
    this.onlyDiff.addEventListener('change', () => this.state.update({ onlyDifferences: this.onlyDiff.checked }));
    this.statSelect = h('vscode-single-select', { id: 'metric-stat', 'aria-label': 'Statistics to show', class: 'stat-select' }) as HTMLElement & { value: string };
    for (const [v, label] of [['all', 'All statistics'], ['last', 'Last'], ['min', 'Min'], ['max', 'Max'], ['atBest', 'At best step']]) {
      this.statSelect.appendChild(h('vscode-option', { value: v }, label!));
    }
    this.statSelect.addEventListener('change', () => {
      this.stat = this.statSelect.value as Stat;
      this.renderMetrics();
    });
    this.params = h('div', { class: 'table-scroll' });
    this.paramsNote = h('span', { class: 'section-note' });
    this.metrics = h('div', { class: 'table-scroll' });
    this.metricsNote = h('p', { class: 'section-note' });
    this.provenance = h('div', { class: 'table-scroll' });
    this.provenanceNote = h('span', { class: 'section-note' });
    this.packagesToggle = h('button', { type: 'button', class: 'link', id: 'packages-toggle', hidden: true });
    this.packagesToggle.addEventListener('click', () => {
      this.allPackages = !this.allPackages;
      this.renderProvenance();
    });
    this.rows = new Map([this.params, this.metrics, this.provenance].map((el) => [el, new VirtualRows(el)]));
    this.el = h('div', { class: 'tables-tab' },
      h('section', { class: 'table-section', 'aria-labelledby': 'params-heading' },
        h('div', { class: 'section-head' }, h('h2', { id: 'params-heading' }, 'Parameters'), this.paramsNote, h('span', { class: 'spacer' }), this.onlyDiff),
        this.params),
      h('section', { class: 'table-section', 'aria-labelledby': 'metrics-heading' },
        h('div', { class: 'section-head' }, h('h2', { id: 'metrics-heading' }, 'Metrics summary'), h('span', { class: 'spacer' }),
          h('label', { class: 'tb-label', id: 'metric-stat-label' }, 'Show'), this.statSelect),
        this.metricsNote,
        this.metrics),
      h('section', { class: 'table-section', 'aria-labelledby': 'prov-heading' },
        h('div', { class: 'section-head' }, h('h2', { id: 'prov-heading' }, 'Provenance'), this.provenanceNote, h('span', { class: 'spacer' }), this.packagesToggle),
        this.provenance));
    this.statSelect.setAttribute('aria-labelledby', 'metric-stat-label');
    state.onChange((v, changed) => {
      if (changed.has('onlyDifferences')) {
        if (this.onlyDiff.checked !== v.onlyDifferences) this.onlyDiff.checked = v.onlyDifferences;
        this.renderParams();
      }
      if (changed.has('shown')) this.render();
      else if (changed.has('search')) this.renderMetrics();
    });
  }

  setModel(model: CompareModel): void {
    this.model = model;
    this.render();
  }

  private render(): void {
    this.renderParams();
    this.renderMetrics();
    this.renderProvenance();
  }

  /**
   * True when the table in container already shows exactly this (models arrive often while runs
   * are live): then it is left alone, keeping scroll position and focus.
   */
  private unchanged(container: HTMLElement, inputs: unknown): boolean {
    const k = JSON.stringify([inputs, this.columns().map(({ run }) => run)]);
    if (this.memo.get(container) === k) return true;
    this.memo.set(container, k);
    return false;
  }

  private readonly memo = new WeakMap<HTMLElement, string>();

  /** The runs shown (in scope and not switched off in the legend), with their model index. */
  private columns(): { run: CompareRun; i: number }[] {
    const runs = this.model?.runs ?? [];
    return runs.map((run, i) => ({ run, i })).filter(({ run }) => !this.state.isHidden(run.uid));
  }

  private hiddenNote(): string {
    const n = (this.model?.runs.length ?? 0) - this.columns().length;
    return n ? ` · ${n.toLocaleString('en-US')} run${n === 1 ? '' : 's'} not shown` : '';
  }

  private empty(container: HTMLElement, text: string): void {
    this.memo.delete(container);
    container.classList.remove('virtual');
    container.replaceChildren(h('p', { class: 'table-empty' }, text));
  }

  private grid(container: HTMLElement, spec: GridSpec): HTMLTableElement {
    return renderGrid(container, this.rows.get(container)!, spec);
  }

  // ── params ─────────────────────────────────────────────────────────────────

  private renderParams(): void {
    const model = this.model;
    if (!model) return;
    const cols = this.columns();
    if (!cols.length) {
      this.paramsNote.textContent = '';
      return this.empty(this.params, model.runs.length ? 'All runs are hidden.' : 'No runs to compare.');
    }
    const only = this.state.value.onlyDifferences;
    const keys: GridKey[] = [];
    let differing = 0;
    for (const row of model.params) {
      const vals = cols.map(({ i }) => paramKey(row.values[i] ?? null));
      const d = cols.length > 1 ? differingCells(vals) : { differs: false, odd: vals.map(() => false) };
      if (d.differs) differing++;
      if (only && !d.differs) continue;
      keys.push({ key: row.key, label: row.key, title: row.key, ...d });
    }
    const total = model.params.length;
    this.paramsNote.textContent = total
      ? `${differing} of ${total} differ${cols.length < 2 ? ' (one run shown)' : ''}${this.hiddenNote()}`
      : '';
    if (!total) return this.empty(this.params, 'These runs recorded no parameters.');
    const nothing = cols.length < 2 ? 'Only one run is shown: nothing to compare.' : `All ${total} parameters are the same in every run. Clear “Only differences” to list them.`;
    if (!keys.length && cols.length > RUNS_AS_ROWS_ABOVE) return this.empty(this.params, nothing);

    if (this.unchanged(this.params, [model.params, only])) return;
    const byKey = new Map(model.params.map((p) => [p.key, p]));
    const table = this.grid(this.params, {
      id: 'params-table', keysTitle: 'Parameter', keys, runs: cols.map(({ run }) => ({ run })),
      cell: (k, r) => {
        const v = byKey.get(keys[k]!.key)!.values[cols[r]!.i] ?? null;
        const text = formatParam(v);
        return h('td', { class: v === null ? 'missing' : null, title: text }, text);
      },
    });
    if (!keys.length) infoRow(table, nothing);
  }

  // ── metrics ────────────────────────────────────────────────────────────────

  private renderMetrics(): void {
    const model = this.model;
    if (!model) return;
    const cols = this.columns();
    const primary = model.primary;
    if (primary) {
      const goal = primary.goal === 'min' ? 'lowest' : 'highest';
      this.metricsNote.replaceChildren(
        'Best = ', h('strong', null, `${goal} ${primary.key}`),
        primary.configured ? ' (primary_metric in runlens.yaml).' : ' (guessed from the metric’s name: set primary_metric in runlens.yaml to choose).',
        ' ★ marks the best run; @best is each metric at the step where that run’s primary metric was best.');
    } else {
      this.metricsNote.textContent = 'No primary metric: set primary_metric in runlens.yaml to mark the best run.';
    }
    if (!cols.length) return this.empty(this.metrics, model.runs.length ? 'All runs are hidden.' : 'No runs to compare.');
    const match = keyMatcher(this.state.value.search);
    const rows = model.metrics.filter((m) => match(m.key));
    if (this.state.value.search.trim() && rows.length < model.metrics.length) {
      this.metricsNote.append(` Filtered by “${this.state.value.search.trim()}”: ${rows.length} of ${model.metrics.length} metrics.`);
    }
    if (!model.metrics.length) return this.empty(this.metrics, 'These runs have logged no metrics yet.');
    if (!rows.length) return this.empty(this.metrics, `No metric matches “${this.state.value.search}”.`);

    const stat: Stat = this.stat ?? (cols.length <= 4 ? 'all' : 'last');
    if (this.statSelect.value !== stat) this.statSelect.value = stat;
    const stats: Exclude<Stat, 'all'>[] = stat === 'all' ? (primary ? ['last', 'min', 'max', 'atBest'] : ['last', 'min', 'max']) : [stat];

    // The best run among the shown ones, by the primary metric's best value.
    let best = -1;
    const pRow = primary ? model.metrics.find((m) => m.key === primary.key) : undefined;
    if (primary && pRow) {
      let bv = primary.goal === 'min' ? Infinity : -Infinity;
      for (const { i } of cols) {
        const v = pRow.atBest[i] ?? (primary.goal === 'min' ? pRow.min[i] : pRow.max[i]) ?? null;
        if (v === null) continue;
        if (primary.goal === 'min' ? v < bv : v > bv) {
          bv = v;
          best = i;
        }
      }
    }

    if (this.unchanged(this.metrics, [rows, primary, cols.map(({ i }) => model.bestStep[i]), stat])) return;
    const runs: GridRun[] = cols.map(({ run, i }) => {
      const step = model.bestStep[i];
      return {
        run,
        extra: i === best ? h('span', { class: 'best-badge', title: 'Best run by the primary metric' }, '★ best') : null,
        title: step !== null && step !== undefined ? `Primary metric best at step ${formatStep(step)}` : undefined,
        cls: i === best ? 'best-run' : undefined,
      };
    });
    const keys: GridKey[] = rows.map((row) => {
      const isPrimary = row.key === primary?.key;
      return { key: row.key, label: isPrimary ? `★ ${row.key}` : row.key, title: row.key, differs: false, odd: [], cls: isPrimary ? 'primary-row' : undefined };
    });
    this.grid(this.metrics, {
      id: 'metrics-table', keysTitle: 'Metric', keys, runs,
      stats: stats.map((s) => ({ label: STAT_LABEL[s], title: STAT_TITLE[s] })),
      cell: (k, r, si) => {
        const row = rows[k]!;
        const { i } = cols[r]!;
        const s = stats[si]!;
        const v = this.statValue(row, s, i);
        const isPrimary = row.key === primary?.key;
        const isBest = isPrimary && i === best && (s === 'atBest' || (s === (primary!.goal === 'min' ? 'min' : 'max')) || stats.length === 1);
        const cls = ['num', v === null ? 'missing' : '', i === best ? 'best-col' : '', isBest ? 'best' : ''].filter(Boolean).join(' ');
        return h('td', { class: cls, title: v === null ? (row.count[i] ? 'no finite value' : 'not logged by this run') : String(v) }, metricValue(v, { digits: 5, missing: '—' }));
      },
    });
  }

  private statValue(row: MetricRow, s: Exclude<Stat, 'all'>, i: number): number | null {
    const arr = row[s];
    const v = arr[i];
    return typeof v === 'number' && Number.isFinite(v) ? v : null;
  }

  // ── provenance ─────────────────────────────────────────────────────────────

  private renderProvenance(): void {
    const model = this.model;
    if (!model) return;
    const cols = this.columns();
    const packages = this.packagesOf(model);
    const differing = differingPackages(packages, cols.map(({ i }) => i));
    this.showPackagesNote(differing.length);
    if (!cols.length) return this.empty(this.provenance, model.runs.length ? 'All runs are hidden.' : 'No runs to compare.');
    if (this.unchanged(this.provenance, [cols.map(({ i }) => model.provenance[i]), packages, this.allPackages])) return;
    const prov = (i: number): ProvenanceRow | undefined => model.provenance[i];
    const keys: GridKey[] = [];
    const cells: ((i: number) => Node | string)[] = [];
    // compare=false: rows that naturally differ (status, duration) are not flagged as differences.
    const addRow = (key: string, label: Node | string, values: string[], cell: (i: number) => Node | string, compare = true) => {
      const d = compare && cols.length > 1 ? differingCells(values) : { differs: false, odd: values.map(() => false) };
      keys.push({ key, label, ...d });
      cells.push(cell);
    };

    addRow('status', 'Status', cols.map(({ run }) => run.status), (i) => {
      const run = model.runs[i]!;
      return h('span', { class: 'status-cell' }, h('span', { class: `status status-${run.status}` }), run.status);
    }, false);
    addRow('commit', 'Commit', cols.map(({ i }) => prov(i)?.commit ?? ''), (i) => {
      const p = prov(i);
      if (!p?.commit) return h('span', { class: 'missing', title: 'The run was not in a git repository' }, 'not in git');
      const b = h('button', { type: 'button', class: 'link mono', title: `Open commit ${p.commit}` }, shortSha(p.commit));
      b.addEventListener('click', () => post({ type: 'openCommit', runId: model.runs[i]!.id }));
      return h('span', { class: 'commit-cell' }, b, p.branch ? h('span', { class: 'branch', title: `branch ${p.branch}` }, p.branch) : null);
    });
    addRow('dirty', 'Working tree', cols.map(({ i }) => String(prov(i)?.dirty ?? '')), (i) => {
      const p = prov(i);
      if (!p) return h('span', { class: 'missing' }, '—');
      if (!p.dirty) return h('span', { class: 'muted' }, p.commit ? 'clean' : '—');
      if (p.hasPatch) {
        const b = h('button', { type: 'button', class: 'badge dirty', title: 'Uncommitted changes: open the stored patch' }, 'dirty');
        b.addEventListener('click', () => post({ type: 'openPatch', runId: model.runs[i]!.id }));
        return b;
      }
      return h('span', { class: 'badge dirty', title: 'Uncommitted changes (no patch was stored)' }, 'dirty');
    });
    addRow('interpreter', 'Interpreter', cols.map(({ i }) => prov(i)?.interpreter ?? ''), (i) => {
      const v = prov(i)?.interpreter;
      return v ? h('span', { class: 'mono ellipsis', title: v }, v) : h('span', { class: 'missing' }, '—');
    });
    this.addPackageRows(addRow, cols, packages, differing);
    addRow('alerts', 'Alerts', cols.map(({ i }) => String(prov(i)?.alertCount ?? 0)), (i) => {
      const p = prov(i);
      if (!p?.alertCount) return h('span', { class: 'muted' }, 'none');
      const latest = p.alerts.at(-1)!;
      const more = p.alertCount > 1 ? ` +${p.alertCount - 1}` : '';
      return h('span', { class: 'changed-files alerts', title: p.alerts.map((a) => a.message).join('\n') + (p.alertCount > p.alerts.length ? `\n…and ${p.alertCount - p.alerts.length} more` : '') },
        `⚠ ${latest.key ? `${latest.key} ` : ''}${latest.rule}${latest.step !== null ? ` at step ${latest.step}` : ''}${more}`);
    }, false);
    addRow('duration', 'Duration', cols.map(({ i }) => String(prov(i)?.durationMs ?? '')), (i) => {
      const v = prov(i)?.durationMs ?? null;
      return v === null ? h('span', { class: 'missing' }, '—') : duration(v);
    }, false);

    // One row per dataset path, with a same/different badge.
    const paths = [...new Set(cols.flatMap(({ i }) => (prov(i)?.datasets ?? []).map((d) => d.path)))].sort();
    for (const path of paths) {
      const digestOf = (i: number) => prov(i)?.datasets.find((d) => d.path === path)?.digest ?? null;
      const values = cols.map(({ i }) => digestOf(i) ?? '\u0000missing');
      const present = values.filter((k) => k !== '\u0000missing');
      const same = new Set(present).size <= 1 && present.length === values.length;
      const badge = h('span', { class: `badge ${same ? 'same' : 'different'}`, title: same ? 'Every run used the same data' : 'The runs used different data (or some did not record it)' }, same ? 'same' : 'different');
      const label = h('span', { class: 'dataset-label' }, h('span', { class: 'mono ellipsis', title: path }, path), badge);
      addRow(`dataset:${path}`, label, values, (i) => {
        const d = digestOf(i);
        if (!d) return h('span', { class: 'missing', title: 'not recorded for this run' }, '—');
        const digest = h('span', { class: 'mono', title: d }, shortSha(d));
        const ds = prov(i)?.datasets.find((x) => x.path === path);
        const changed = ds?.changed ?? [];
        if (!changed.length) return digest;
        const shown = changed.slice(0, 3).join(', ') + (changed.length > 3 ? ` +${changed.length - 3} more` : '');
        const drift = driftText(ds?.drift ?? []);
        return h('span', { class: 'dataset-cell' }, digest,
          h('span', { class: 'changed-files', title: `Changed from the first run with this dataset:\n${changed.join('\n')}` }, `Δ ${shown}`),
          drift ? h('span', { class: 'changed-files drift', title: drift.title }, drift.text) : null);
      });
    }
    const table = this.grid(this.provenance, {
      id: 'provenance-table', keysTitle: '', keys, runs: cols.map(({ run }) => ({ run })),
      cell: (k, r) => h('td', null, cells[k]!(cols[r]!.i)),
    });
    if (!paths.length && cols.length <= RUNS_AS_ROWS_ABOVE) infoRow(table, 'No dataset digests recorded (list datasets in runlens.yaml to track them).');
  }

  /** The model's packages table, checked (a table that does not fit the model shows as none). */
  private packagesOf(model: CompareModel): PackagesTable {
    try {
      return checkPackagesTable(model.packages, model.runs.length);
    } catch (err) {
      console.warn(`Compare: ${String(err)}`);
      return NO_PACKAGES;
    }
  }

  private showPackagesNote(differing: number): void {
    this.provenanceNote.textContent = differing ? `${differing} package${differing === 1 ? '' : 's'} differ${differing === 1 ? 's' : ''}` : '';
    this.packagesToggle.hidden = differing <= PACKAGES_SHOWN;
    this.packagesToggle.textContent = this.allPackages ? `Show the first ${PACKAGES_SHOWN}` : `Show all ${differing} differing packages`;
    this.packagesToggle.setAttribute('aria-expanded', String(this.allPackages));
  }

  /** A "Packages" row (how many, which conda environment), then a row per package whose version differs. */
  private addPackageRows(
    addRow: (key: string, label: Node | string, values: string[], cell: (i: number) => Node | string, compare?: boolean) => void,
    cols: { i: number }[], t: PackagesTable, differing: { name: string; versions: (string | null)[] }[],
  ): void {
    const setOf = (i: number) => t.runs[i] ?? null;
    addRow('packages', 'Packages', cols.map(({ i }) => String(setOf(i) ?? '')), (i) => {
      const set = setOf(i) === null ? undefined : t.sets[setOf(i)!];
      if (!set) return h('span', { class: 'missing', title: 'No packages were recorded for this run' }, 'not recorded');
      const text = `${set.count.toLocaleString('en-US')} package${set.count === 1 ? '' : 's'}${set.conda ? ` · conda ${set.conda}` : ''}`;
      return h('span', { title: `${set.count} installed packages${set.conda ? ` in the conda environment ${set.conda}` : ''}` }, text);
    });
    const shown = this.allPackages ? differing : differing.slice(0, PACKAGES_SHOWN);
    for (const p of shown) {
      const byCol = new Map(cols.map(({ i }, c) => [i, p.versions[c] ?? null]));
      addRow(`package:${p.name}`, h('span', { class: 'mono ellipsis', title: `${p.name}: differs between the runs` }, p.name),
        cols.map(({ i }) => byCol.get(i) ?? '\u0000missing'), (i) => {
          const v = byCol.get(i) ?? null;
          if (v === null) return h('span', { class: 'missing', title: setOf(i) === null ? 'No packages were recorded for this run' : 'Not installed' }, '—');
          return h('span', { class: 'mono ellipsis', title: `${p.name} ${v}` }, v);
        });
    }
  }
}
