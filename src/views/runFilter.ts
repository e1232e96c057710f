import * as vscode from 'vscode';
import { RUN_STATUSES, type RunQuery, type RunSort, type RunStatus } from '../core/types.ts';
import { FilterSyntaxError, compileFilter, describeFilterHelp, parseFilter } from '../core/query/filterExpression.ts';
import { requireKey } from '../core/query/resolveName.ts';
import type { FolderScopes } from '../folders.ts';
import type { Store } from '../core/store/store.ts';
import { STATUS_LABEL } from '../format.ts';

const KEY = 'runlens.runsView.filter';

export interface RunsFilter {
  text?: string;
  status?: RunStatus[];
  where?: string;
  sort?: RunSort;
}

const NEWEST: RunSort = { by: 'created', dir: 'desc' };

/**
 * What the Runs view shows: a free-text filter, statuses, an expression over params and metrics,
 * and the order. Kept per workspace; sets `runlens.filtered` for the view's title buttons.
 */
export class RunsFilterState implements vscode.Disposable {
  private value: RunsFilter;
  private readonly state: vscode.Memento;
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChange = this.changed.event;

  constructor(state: vscode.Memento) {
    this.state = state;
    this.value = state.get<RunsFilter>(KEY, {});
    this.publish();
  }

  get current(): Readonly<RunsFilter> {
    return this.value;
  }

  get active(): boolean {
    return Boolean(this.value.text || this.value.status?.length || this.value.where);
  }

  /** The query fields for the store. */
  query(): Pick<RunQuery, 'text' | 'status' | 'where' | 'sort'> {
    return { text: this.value.text || undefined, status: this.value.status?.length ? this.value.status : undefined,
      where: this.value.where || undefined, sort: this.value.sort ?? NEWEST };
  }

  update(change: RunsFilter): void {
    this.value = { ...this.value, ...change };
    for (const k of Object.keys(this.value) as (keyof RunsFilter)[]) {
      const v = this.value[k];
      if (v === undefined || v === '' || (Array.isArray(v) && !v.length)) delete this.value[k];
    }
    void this.state.update(KEY, this.value);
    this.publish();
    this.changed.fire();
  }

  clear(): void {
    const { sort } = this.value;
    this.value = {};
    this.update({ sort });
  }

  /** One line for the view's description, e.g. `lr < 0.01 · running · by val_acc ↓`. */
  describe(): string {
    const parts: string[] = [];
    if (this.value.text) parts.push(`"${this.value.text}"`);
    if (this.value.status?.length) parts.push(this.value.status.map((s) => STATUS_LABEL[s].toLowerCase()).join('|'));
    if (this.value.where) parts.push(this.value.where);
    const sort = this.value.sort;
    if (sort && !(sort.by === 'created' && sort.dir === 'desc')) parts.push(`by ${sortLabel(sort)} ${sort.dir === 'asc' ? '↑' : '↓'}`);
    return parts.join(' · ');
  }

  private publish(): void {
    void vscode.commands.executeCommand('setContext', 'runlens.filtered', this.active);
  }

  dispose(): void {
    this.changed.dispose();
  }
}

function sortLabel(sort: RunSort): string {
  return sort.by === 'param' || sort.by === 'metric' ? sort.key : sort.by === 'created' ? 'created' : sort.by;
}

/** The filter and sort commands of the Runs view. */
export function registerFilterCommands(scopes: FolderScopes, filter: RunsFilterState,
  guarded: (id: string, fn: (...args: never[]) => unknown) => vscode.Disposable): vscode.Disposable[] {
  // the filter applies to every folder's section: the names any folder's runs have
  const stores = () => scopes.all.map((s) => s.store.get()).filter((s) => s !== undefined);
  const known = () => {
    const all = stores().map((s) => s.runs.filterKeys());
    if (all.length <= 1) return all[0];
    const union = (pick: (k: (typeof all)[number]) => readonly string[]) => [...new Set(all.flatMap(pick))].sort();
    return { params: union((k) => k.params), metrics: union((k) => k.metrics), tags: union((k) => k.tags) };
  };
  const count = (query?: Parameters<Store['runs']['count']>[0]) => stores().reduce((n, s) => n + s.runs.count(query), 0);

  /** Throws a readable error for a bad expression; returns the number of matching runs. */
  const check = (where: string): number => {
    const node = parseFilter(where);
    if (node) compileFilter(node, known());
    return count({ ...filter.query(), where });
  };

  const askText = async () => {
    const text = await vscode.window.showInputBox({
      title: 'Filter Runs by Text', value: filter.current.text ?? '',
      prompt: 'Matches run names, notes, and tag keys and values (ignoring case). Empty clears it.',
    });
    if (text !== undefined) filter.update({ text: text.trim() });
  };

  const askExpression = async () => {
    const total = count();
    const where = await vscode.window.showInputBox({
      title: 'Filter Runs by Params and Metrics', value: filter.current.where ?? '',
      placeHolder: 'lr < 0.01 and val_acc > 0.9', prompt: describeFilterHelp(),
      validateInput: (v) => {
        if (!v.trim()) return undefined;
        try {
          const n = check(v);
          return { message: `${n.toLocaleString()} of ${total.toLocaleString()} runs match`, severity: vscode.InputBoxValidationSeverity.Info };
        } catch (err) {
          if (err instanceof FilterSyntaxError) return err.message;
          throw err;
        }
      },
    });
    if (where !== undefined) filter.update({ where: where.trim() });
  };

  const askStatus = async () => {
    const chosen = new Set(filter.current.status ?? []);
    const picks = await vscode.window.showQuickPick(
      RUN_STATUSES.map((s) => ({ label: STATUS_LABEL[s], status: s, picked: chosen.has(s) })),
      { title: 'Show Runs with Status', canPickMany: true, placeHolder: 'None picked shows every status' });
    if (picks) filter.update({ status: picks.map((p) => p.status) });
  };

  return [
    /** With an argument (tests, keybindings): sets the filter directly. Else asks what to filter by. */
    guarded('runlens.filterRuns', async (arg?: RunsFilter) => {
      if (arg && typeof arg === 'object') {
        if (typeof arg.where === 'string' && arg.where.trim()) check(arg.where);
        if (arg.status && !arg.status.every((s) => RUN_STATUSES.includes(s))) throw new Error(`Unknown status in ${arg.status.join(', ')}`);
        filter.update({ text: arg.text, status: arg.status, where: arg.where });
        return filter.describe();
      }
      const items = [
        { label: '$(search) Text…', detail: filter.current.text ? `Now: "${filter.current.text}"` : 'Names, notes and tags', run: askText },
        { label: '$(symbol-operator) Params and Metrics…', detail: filter.current.where ? `Now: ${filter.current.where}` : 'e.g. lr < 0.01 and val_acc > 0.9', run: askExpression },
        { label: '$(pulse) Status…', detail: filter.current.status?.length ? `Now: ${filter.current.status.join(', ')}` : 'Running, finished, failed…', run: askStatus },
        ...(filter.active ? [{ label: '$(clear-all) Clear Filters', detail: filter.describe(), run: async () => filter.clear() }] : []),
      ];
      const pick = await vscode.window.showQuickPick(items, { title: 'Filter Runs', placeHolder: 'Filter by…' });
      await pick?.run();
      return filter.describe();
    }),

    guarded('runlens.clearFilter', () => filter.clear()),

    guarded('runlens.sortRuns', async (arg?: RunSort) => {
      if (arg && typeof arg === 'object') {
        // A typed key resolves like a filter name (`lr` → `train.lr`); an unknown or ambiguous one throws.
        const keys = known();
        const sort = keys && (arg.by === 'param' || arg.by === 'metric')
          ? { ...arg, key: requireKey(arg.key, arg.by === 'param' ? keys.params : keys.metrics, arg.by) } : arg;
        filter.update({ sort });
        return;
      }
      const keys = known() ?? { params: [], metrics: [], tags: [] };
      type Item = vscode.QuickPickItem & { sort?: RunSort };
      const items: Item[] = [
        { label: 'Newest first', sort: { by: 'created', dir: 'desc' } },
        { label: 'Oldest first', sort: { by: 'created', dir: 'asc' } },
        { label: 'Name', sort: { by: 'name', dir: 'asc' } },
        { label: 'Longest first', description: 'duration', sort: { by: 'duration', dir: 'desc' } },
        { label: 'Status', sort: { by: 'status', dir: 'asc' } },
        { label: 'Metrics', kind: vscode.QuickPickItemKind.Separator },
        ...keys.metrics.flatMap((key): Item[] => [
          { label: `$(graph-line) ${key}`, description: 'highest first', sort: { by: 'metric', key, dir: 'desc' } },
          { label: `$(graph-line) ${key}`, description: 'lowest first', sort: { by: 'metric', key, dir: 'asc' } },
        ]),
        { label: 'Params', kind: vscode.QuickPickItemKind.Separator },
        ...keys.params.flatMap((key): Item[] => [
          { label: `$(symbol-parameter) ${key}`, description: 'ascending', sort: { by: 'param', key, dir: 'asc' } },
          { label: `$(symbol-parameter) ${key}`, description: 'descending', sort: { by: 'param', key, dir: 'desc' } },
        ]),
      ];
      const pick = await vscode.window.showQuickPick(items, { title: 'Sort Runs', placeHolder: 'Sort by a param, a metric, or…', matchOnDescription: true });
      if (pick?.sort) filter.update({ sort: pick.sort });
    }),
  ];
}
