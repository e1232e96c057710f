import * as vscode from 'vscode';
import type { Experiment, Run, RunStatus } from '../core/types.ts';
import type { FolderScopes, Scope } from '../folders.ts';
import { STATUS_LABEL, ago, duration, metricValue, runDuration } from '../format.ts';
import { config } from '../config.ts';
import type { RunSelection } from './runSelection.ts';
import type { RunsFilterState } from './runFilter.ts';
import { primaryMetric } from '../core/compare/compareData.ts';
import { middleEllipsis } from '../core/format.ts';
import type { SweepSummary } from '../core/store/runRepository.ts';
import type { RunFault } from '../core/runs/runMonitor.ts';
import type { AlertSummary, StoredAlert } from '../core/store/alertRepository.ts';
import { NOTEBOOK_TAG, SOURCE_TAG } from '../core/runs/inboxFormat.ts';
import { JOB_TAG, NODE_TAG, REASON_TAG, STATE_TAG } from '../core/slurm/slurmRuns.ts';

/** Every node knows its folder's scope (a multi-root workspace shows one section per folder). */
export type RunsNode = { scope: Scope } & (
  /** A workspace folder, at the top when the workspace has several. */
  | { kind: 'folder' }
  /** matching: runs that pass the view's filter, when one is set. */
  | { kind: 'experiment'; experiment: Experiment; matching?: number }
  /** metric: the primary metric's last value, shown first in the description; reproductions: its children; alerts: its run-health alerts. */
  | { kind: 'run'; run: Run; metric?: { key: string; value: number }; reproductions?: number; alerts?: AlertSummary }
  /** A sweep's trials, inside their experiment; metric: the key its `best` is of. */
  | { kind: 'sweep'; sweep: SweepSummary; metric?: string }
  | { kind: 'more'; experimentId: number; sweep?: string; after: Run; remaining: number });

const STATUS_ICON: Record<RunStatus, [string, string | undefined]> = {
  queued: ['clock', 'charts.yellow'],
  running: ['sync~spin', 'charts.blue'],
  finished: ['pass', 'testing.iconPassed'],
  failed: ['error', 'testing.iconFailed'],
  stopped: ['debug-stop', 'disabledForeground'],
  crashed: ['warning', 'charts.orange'],
};

export interface RunsTreeDeps {
  scopes: FolderScopes;
  selection: RunSelection;
  filter: RunsFilterState;
}

/**
 * The Runs view: experiments, then their runs (newest first, or as sorted), filtered, one page at a time.
 * Only the first page of each experiment is read, so stores with tens of thousands of runs stay quick.
 * A multi-root workspace shows a section per folder, each with its own store.
 */
export class RunsTreeProvider implements vscode.TreeDataProvider<RunsNode>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<RunsNode | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  /** How many runs each experiment (or sweep, by id) shows, per folder; grows with "Load more". */
  private readonly shown = new Map<string, number>();
  private readonly scopes: FolderScopes;
  private readonly selection: RunSelection;
  private readonly filter: RunsFilterState;
  private readonly subscriptions: vscode.Disposable[];
  /** Each folder's store and fault events, renewed when folders come or go. */
  private perScope: vscode.Disposable[] = [];
  private view: vscode.TreeView<RunsNode> | undefined;
  private fromCheckbox = false;
  private settle: NodeJS.Timeout | undefined;

  constructor(deps: RunsTreeDeps) {
    this.scopes = deps.scopes;
    this.selection = deps.selection;
    this.filter = deps.filter;
    this.listen();
    this.subscriptions = [
      deps.scopes.onDidChange(() => { this.listen(); this.refresh(); }),
      deps.selection.onDidChange(() => { if (!this.fromCheckbox) this.refresh(); }),
      deps.filter.onDidChange(() => { this.shown.clear(); this.refresh(); }),
    ];
  }

  private listen(): void {
    for (const d of this.perScope) d.dispose();
    this.perScope = this.scopes.all.flatMap((scope) => [
      scope.runs.onDidChangeFaults(() => this.refresh()),
      // new points change only the metric in a description: redrawn at most once a second, so a
      // tooltip stays open while runs stream; run changes (status, name, new runs) redraw at once
      scope.store.onChange(['runs', 'metrics'], (c) => (c.kinds.has('runs') || c.external ? this.refresh() : this.refreshSoon())),
      scope.store.onDidChangeError(() => this.showErrors()),
    ]);
  }

  /** A store that cannot be opened: its error is the view's message (named by folder when there are several). */
  private showErrors(): void {
    if (!this.view) return;
    const all = this.scopes.all;
    const errors = all.filter((s) => s.store.error).map((s) => (all.length > 1 ? `${s.folder.name}: ${s.store.error}` : s.store.error!));
    this.view.message = errors.length ? errors.join('\n') : undefined;
  }

  /** The view, to show the filter in its description and filter errors as its message. */
  attach(view: vscode.TreeView<RunsNode>): void {
    this.view = view;
    view.description = this.filter.describe() || undefined;
    this.subscriptions.push(keepAgesFresh(view, () => this.refresh()));
  }

  /** The view's checkboxes changed: they select runs for comparison. */
  checkboxesChanged(items: readonly [RunsNode, vscode.TreeItemCheckboxState][]): void {
    // The view already shows the new state; refreshing at once would race the user's next click,
    // so the view is redrawn from the selection once the clicks settle.
    this.fromCheckbox = true;
    clearTimeout(this.settle);
    this.settle = setTimeout(() => this.refresh(), 300);
    try {
      for (const checked of [true, false]) {
        const uids = items.filter(([n, state]) => n.kind === 'run' && (state === vscode.TreeItemCheckboxState.Checked) === checked)
          .map(([n]) => (n as { run: Run }).run.uid);
        if (uids.length) this.selection.set(uids, checked);
      }
    } finally {
      this.fromCheckbox = false;
    }
  }

  refresh(): void {
    clearTimeout(this.soon);
    this.soon = undefined;
    this.changed.fire(undefined);
  }

  private soon: NodeJS.Timeout | undefined;

  /** One redraw within a second, however many changes come meanwhile. */
  private refreshSoon(): void {
    this.soon ??= setTimeout(() => this.refresh(), 1000);
  }

  showMore(experimentId: number, sweep?: string, folder?: string): void {
    const scope = this.scopes.all.find((s) => s.folder.uri.toString() === folder) ?? this.scopes.first;
    if (!scope) return;
    const key = this.pageKey(scope, sweep ?? experimentId);
    this.shown.set(key, (this.shown.get(key) ?? config.pageSize()) + config.pageSize());
    this.refresh();
  }

  private pageKey(scope: Scope, key: number | string): string {
    return `${scope.folder.uri.toString()}\u0000${key}`;
  }

  getChildren(node?: RunsNode): RunsNode[] {
    const all = this.scopes.all;
    if (!node && all.length > 1) {
      this.setMessage(undefined);
      return all.map((scope) => ({ kind: 'folder', scope }));
    }
    const scope = node?.scope ?? all[0];
    if (!scope?.store.get()) return [];
    try {
      const children = node && node.kind !== 'folder' ? this.runsOf(node) : this.experiments(scope);
      if (!node) this.setMessage(undefined);
      return children;
    } catch (err) {
      // a filter that no longer fits the store (e.g. a key that is gone): say so, show nothing
      this.setMessage(`Filter: ${err instanceof Error ? err.message : String(err)}`);
      return [];
    }
  }

  private experiments(scope: Scope): RunsNode[] {
    const store = scope.store.get()!;
    const experiments = store.runs.experiments().filter((e) => e.runCount > 0);
    if (this.view) this.view.description = this.filter.describe() || undefined;
    if (!this.filter.active) return experiments.map((experiment) => ({ kind: 'experiment', experiment, scope }));
    const counts = store.runs.countByExperiment(this.filter.query());
    const nodes: RunsNode[] = experiments.filter((e) => counts.get(e.id))
      .map((experiment) => ({ kind: 'experiment', experiment, matching: counts.get(experiment.id)!, scope }));
    if (!nodes.length && this.scopes.all.length === 1) this.setMessage(`No runs match ${this.filter.describe()}.`);
    return nodes;
  }

  /** An experiment: its sweeps, newest first, then the runs in no sweep. A sweep: its trials. A run: its reproductions. */
  private runsOf(node: RunsNode): RunsNode[] {
    const { scope } = node;
    const store = scope.store.get()!;
    if (node.kind === 'run') return this.runNodes(scope, store.runs.reproductionsOf(node.run.id), this.metric(scope)?.key);
    if (node.kind !== 'experiment' && node.kind !== 'sweep') return [];
    const metric = this.metric(scope);
    if (node.kind === 'sweep') {
      const { id, experimentId } = node.sweep;
      return this.page(scope, experimentId, id, node.sweep.runs, metric?.key);
    }
    const { id } = node.experiment;
    const sweeps = store.runs.sweeps({ experimentId: id, ...this.filter.query() }, metric);
    // reproductions show under the run they reproduce, so they are not counted here
    const total = store.runs.count({ experimentId: id, sweep: null, originals: true, ...this.filter.query() });
    return [...sweeps.map((sweep): RunsNode => ({ kind: 'sweep', sweep, metric: metric?.key, scope })), ...this.page(scope, id, null, total, metric?.key)];
  }

  /** One page of an experiment's runs in no sweep (sweep null), or of a sweep's trials, with "Load more". */
  private page(scope: Scope, experimentId: number, sweep: string | null, total: number, key: string | undefined): RunsNode[] {
    const store = scope.store.get()!;
    const limit = this.shown.get(this.pageKey(scope, sweep ?? experimentId)) ?? config.pageSize();
    const runs = total > 0 ? store.runs.list({ experimentId, sweep, limit, originals: true, ...this.filter.query() }) : [];
    const children = this.runNodes(scope, runs, key);
    if (total > runs.length && runs.length > 0) {
      children.push({ kind: 'more', experimentId, ...(sweep === null ? {} : { sweep }), after: runs[runs.length - 1]!, remaining: total - runs.length, scope });
    }
    return children;
  }

  /** Run nodes with their metric values, reproduction counts and alerts, three queries for all. */
  private runNodes(scope: Scope, runs: Run[], key: string | undefined): RunsNode[] {
    const store = scope.store.get()!;
    const ids = runs.map((r) => r.id);
    const values = key ? store.runs.lastMetric(ids, key) : undefined;
    const repros = store.runs.reproductionCounts(ids);
    const alerts = store.alerts.summaries(ids);
    return runs.map((run): RunsNode => {
      const value = values?.get(run.id);
      return {
        kind: 'run', run, scope, ...(value === undefined ? {} : { metric: { key: key!, value } }),
        ...(repros.has(run.id) ? { reproductions: repros.get(run.id)! } : {}),
        ...(alerts.has(run.id) ? { alerts: alerts.get(run.id)! } : {}),
      };
    });
  }

  /** The primary metric: from runlens.yaml, else guessed from the store's metric keys. */
  private metric(scope: Scope): { key: string; goal: 'min' | 'max' } | undefined {
    const configured = scope.primaryMetric();
    if (configured) return { key: configured.name, goal: configured.goal ?? 'max' };
    const guess = primaryMetric(scope.store.get()!.runs.metricKeys());
    return guess ? { key: guess.key, goal: guess.goal } : undefined;
  }

  private setMessage(message: string | undefined): void {
    if (this.view && this.view.message !== message && !(this.scopes.all.some((s) => s.store.error) && message === undefined)) this.view.message = message;
  }

  getTreeItem(node: RunsNode): vscode.TreeItem {
    const item = this.itemOf(node);
    // ids are per store: in a multi-root workspace they are made unique by the folder
    if (item.id && this.scopes.all.length > 1) item.id = `${node.scope.folder.uri.toString()}|${item.id}`;
    return item;
  }

  private itemOf(node: RunsNode): vscode.TreeItem {
    switch (node.kind) {
      case 'folder': {
        const item = new vscode.TreeItem(node.scope.folder.name, vscode.TreeItemCollapsibleState.Expanded);
        item.id = 'folder';
        item.iconPath = vscode.ThemeIcon.Folder;
        item.resourceUri = node.scope.folder.uri;
        item.description = node.scope.store.error ? 'store cannot be opened' : node.scope.store.get() ? undefined : 'no runs yet';
        item.tooltip = node.scope.store.error ?? node.scope.store.dir;
        item.contextValue = 'folder';
        return item;
      }
      case 'experiment': {
        const e = node.experiment;
        const item = new vscode.TreeItem(e.name, vscode.TreeItemCollapsibleState.Expanded);
        item.id = `experiment:${e.id}`;
        item.description = node.matching === undefined
          ? `${e.runCount} run${e.runCount === 1 ? '' : 's'}`
          : `${node.matching} of ${e.runCount} run${e.runCount === 1 ? '' : 's'}`;
        item.iconPath = new vscode.ThemeIcon('beaker');
        item.contextValue = 'experiment';
        return item;
      }
      case 'run': {
        const item = runItem(node.run, node.metric, node.scope.runs.faults.get(node.run.id), node.alerts);
        if (node.reproductions) item.collapsibleState = vscode.TreeItemCollapsibleState.Collapsed;
        item.checkboxState = {
          state: this.selection.has(node.run.uid) ? vscode.TreeItemCheckboxState.Checked : vscode.TreeItemCheckboxState.Unchecked,
          tooltip: 'Select for comparison',
          accessibilityInformation: { label: `Select ${node.run.name} for comparison` },
        };
        return item;
      }
      case 'sweep':
        return sweepItem(node.sweep, node.metric);
      case 'more': {
        const item = new vscode.TreeItem(`Load more runs… (${node.remaining} more)`);
        item.id = `more:${node.experimentId}:${node.sweep ?? ''}:${node.after.id}`;
        item.iconPath = new vscode.ThemeIcon('ellipsis');
        item.command = { command: 'runlens.loadMoreRuns', title: 'Load More Runs', arguments: [node.experimentId, node.sweep ?? '', node.scope.folder.uri.toString()] };
        return item;
      }
    }
  }

  /** Tooltips need params and metrics: built only when the user hovers. */
  resolveTreeItem(item: vscode.TreeItem, node: RunsNode): vscode.TreeItem {
    if (node.kind === 'run') item.tooltip = this.tooltip(node.scope, node.run);
    return item;
  }

  getParent(): undefined {
    return undefined;
  }

  private tooltip(scope: Scope, run: Run): vscode.MarkdownString {
    const store = scope.store.get();
    const md = new vscode.MarkdownString(undefined, true);
    md.appendMarkdown(`**${escape(run.name)}** · ${STATUS_LABEL[run.status]}`);
    if (run.exitCode !== null) md.appendMarkdown(` (exit ${run.exitCode})`);
    const fault = scope.runs.faults.get(run.id);
    if (fault) md.appendMarkdown(`\n\n$(warning) Points are not being stored since ${new Date(fault.since).toLocaleTimeString()}: ${escape(fault.message)}`);
    const alerts = store?.alerts.list(run.id) ?? [];
    for (const a of alerts.slice(-MAX_ALERT_LINES)) md.appendMarkdown(`\n\n${alertLine(a)}`);
    if (alerts.length > MAX_ALERT_LINES) md.appendMarkdown(`\n\n… and ${alerts.length - MAX_ALERT_LINES} earlier alerts`);
    const tags = store?.runs.tags(run.id) ?? {};
    md.appendMarkdown(`\n\n$(beaker) ${escape(run.experiment)}`);
    if (run.startedAt !== null) md.appendMarkdown(` · started ${new Date(run.startedAt).toLocaleString()}`);
    const d = runDuration(run);
    if (d !== undefined) md.appendMarkdown(` · ${duration(d)}`);
    const source = sourceLine(tags);
    if (source) md.appendMarkdown(`\n\n${source}`);
    const slurm = slurmLine(tags);
    if (slurm) md.appendMarkdown(`\n\n${slurm}`);
    md.appendMarkdown('\n\n');
    md.appendMarkdown(run.git
      ? `$(git-commit) \`${run.git.commit.slice(0, 8)}\`${run.git.branch ? ` on ${escape(run.git.branch)}` : ''}${run.git.dirty ? ' · **uncommitted changes**' : ''}`
      : '$(git-commit) no git');
    const datasets = store?.provenance.datasets(run.id, { files: false }) ?? [];
    for (const d of datasets.slice(0, 5)) {
      md.appendMarkdown(`\n\n$(database) ${escape(d.path)} \`${d.digest.slice(0, 12)}\` · ${d.fileCount} file${d.fileCount === 1 ? '' : 's'}`);
    }
    if (run.command !== null) {
      md.appendMarkdown('\n\n');
      md.appendCodeblock(Array.isArray(run.command) ? run.command.join(' ') : run.command, 'shell');
    }
    if (store) {
      const params = Object.entries(store.runs.params(run.id));
      if (params.length) {
        md.appendMarkdown('\n\n| Param | Value |\n|:--|--:|\n');
        for (const [k, v] of params.slice(0, 20)) md.appendMarkdown(`| ${escape(k)} | ${escape(String(v))} |\n`);
        if (params.length > 20) md.appendMarkdown(`| … ${params.length - 20} more | |\n`);
      }
      const metrics = store.metrics.summaries(run.id);
      if (metrics.length) {
        md.appendMarkdown('\n\n| Metric | Last | Min | Max |\n|:--|--:|--:|--:|\n');
        for (const m of metrics.slice(0, 20)) {
          md.appendMarkdown(`| ${escape(m.key)} | ${metricValue(m.last)} | ${m.min === null ? '' : metricValue(m.min)} | ${m.max === null ? '' : metricValue(m.max)} |\n`);
        }
      }
    }
    const tagList = Object.entries(tags);
    if (tagList.length) md.appendMarkdown(`\n\n$(tag) ${tagList.map(([k, v]) => `${escape(k)}=${escape(v)}`).join(' · ')}`);
    if (run.notes) md.appendMarkdown(`\n\n$(note) ${escape(run.notes)}`);
    return md;
  }

  dispose(): void {
    clearTimeout(this.settle);
    clearTimeout(this.soon);
    for (const s of [...this.subscriptions, ...this.perScope]) s.dispose();
    this.changed.dispose();
  }
}

/** Longer run names are cut in the middle, so the description (the metric first) stays in a default-width sidebar. */
const MAX_NAME = 28;

function runItem(run: Run, metric?: { key: string; value: number }, fault?: RunFault, alerts?: AlertSummary): vscode.TreeItem {
  const item = new vscode.TreeItem(middleEllipsis(run.name, MAX_NAME), vscode.TreeItemCollapsibleState.None);
  item.id = `run:${run.uid}`;
  // A store fault first; then an alert (info ones, plateau and slow, leave the status icon).
  const [icon, color] = fault ? ['warning', 'list.warningForeground']
    : alerts && alerts.severity !== 'info' ? ['warning', alerts.severity === 'error' ? 'list.errorForeground' : 'list.warningForeground']
      : STATUS_ICON[run.status];
  item.iconPath = new vscode.ThemeIcon(icon, color ? new vscode.ThemeColor(color) : undefined);
  // The metric first: it is what people scan for, and the end is cut off in a narrow sidebar.
  // The status is in the icon and the tooltip.
  const parts: string[] = [];
  if (metric) parts.push(`${metric.key} ${metricValue(metric.value)}`);
  if (fault) parts.push(`not stored: ${fault.kind === 'full' ? 'disk full' : fault.kind}`);
  if (alerts) parts.push(`${alertLabel(alerts.latest)}${alerts.count > 1 ? ` +${alerts.count - 1}` : ''}`);
  if (run.starred) parts.push('★');
  const d = runDuration(run);
  if (d !== undefined) parts.push(duration(d));
  parts.push(ago(run.startedAt ?? run.createdAt));
  item.description = parts.join(' · ');
  item.contextValue = `run ${run.status}${run.starred ? ' starred' : ''}${alerts ? ' alerts' : ''}`;
  item.accessibilityInformation = { label: `Run ${run.name}, ${STATUS_LABEL[run.status].toLowerCase()}, ${item.description}` };
  return item;
}

/** Alert lines in a run's tooltip, the newest. */
const MAX_ALERT_LINES = 10;

/** An alert in a few words, for the run's description: `loss NaN`, `loss diverging`, `stalled`. */
function alertLabel(a: StoredAlert): string {
  switch (a.rule) {
    case 'nan': return `${a.key} ${a.value === null ? 'NaN' : metricValue(a.value)}`;
    case 'divergence': return `${a.key} diverging`;
    case 'plateau': return `${a.key} flat`;
    case 'stall': return 'stalled';
    case 'slow': return 'slow';
    case 'degradation': return `${a.key} degraded`;
  }
}

/** An alert in the tooltip: rule, key, step, value and what it means. */
function alertLine(a: StoredAlert): string {
  const icon = a.severity === 'error' ? '$(error)' : a.severity === 'warning' ? '$(warning)' : '$(info)';
  const value = a.value === null ? (a.rule === 'nan' ? 'NaN' : undefined) : a.rule === 'stall' ? duration(a.value * 1000) : metricValue(a.value);
  const facts = [a.key === null ? undefined : escape(a.key), a.step === null ? undefined : `step ${a.step}`, value].filter((x) => x !== undefined);
  return `${icon} **${a.rule}**${facts.length ? ` · ${facts.join(' · ')}` : ''}: ${escape(a.message)}`;
}

const SOURCES: { [source: string]: [icon: string, text: string] } = {
  terminal: ['terminal', 'Started in a terminal'],
  debug: ['debug-alt', 'Started under the debugger'],
  notebook: ['notebook', 'Started in a notebook'],
  script: ['file-code', 'Started as a script'],
  ci: ['server-process', 'Started in CI'],
};

/** How a run the helper recorded by itself started (its runlens.source tag); nothing for runs RunLens launched. */
function sourceLine(tags: { [k: string]: string }): string | undefined {
  const source = tags[SOURCE_TAG];
  if (source === undefined) return undefined;
  const [icon, text] = SOURCES[source] ?? ['question', `Started from ${source}`];
  const notebook = source === 'notebook' && tags[NOTEBOOK_TAG] ? ` ${escape(tags[NOTEBOOK_TAG])}` : '';
  return `$(${icon}) ${text}${notebook}`;
}

/** A Slurm run: `Slurm job 123 · PENDING (Priority)` while it waits, `Slurm job 123 · RUNNING on node1`. */
function slurmLine(tags: { [k: string]: string }): string | undefined {
  const job = tags[JOB_TAG];
  if (job === undefined) return undefined;
  const state = tags[STATE_TAG], reason = tags[REASON_TAG], node = tags[NODE_TAG];
  let text = `$(server) Slurm job ${escape(job)}`;
  if (state) text += ` · ${escape(state)}`;
  if (state === 'PENDING' && reason) text += ` (${escape(reason)})`;
  if (node && state !== 'PENDING') text += ` on ${escape(node)}`;
  return text;
}

/**
 * Redraws a view every `everyMs` while it is visible, so its ages ("5 min ago") stay right, and once
 * when it shows again. One timer, none while hidden.
 */
export function keepAgesFresh(
  view: Pick<vscode.TreeView<unknown>, 'visible' | 'onDidChangeVisibility'>, refresh: () => void, everyMs = 60_000,
): vscode.Disposable {
  let timer: NodeJS.Timeout | undefined;
  const run = (visible: boolean) => {
    clearInterval(timer);
    timer = visible ? setInterval(refresh, everyMs) : undefined;
  };
  run(view.visible);
  const sub = view.onDidChangeVisibility((e) => { if (e.visible) refresh(); run(e.visible); });
  return { dispose: () => { clearInterval(timer); sub.dispose(); } };
}

/** A sweep: `4 runs · 2 running · 1 queued` while it goes, then `4 runs · best val_acc 0.96`. */
function sweepItem(sweep: SweepSummary, metric: string | undefined): vscode.TreeItem {
  const item = new vscode.TreeItem(sweep.id, vscode.TreeItemCollapsibleState.Collapsed);
  item.id = `sweep:${sweep.experimentId}:${sweep.id}`;
  const going = sweep.running + sweep.queued > 0;
  const parts = [`${sweep.runs} run${sweep.runs === 1 ? '' : 's'}`];
  if (sweep.running) parts.push(`${sweep.running} running`);
  if (sweep.queued) parts.push(`${sweep.queued} queued`);
  if (!going && metric && sweep.best !== undefined) parts.push(`best ${metric} ${metricValue(sweep.best)}`);
  item.description = parts.join(' · ');
  item.iconPath = sweep.running ? new vscode.ThemeIcon('sync~spin', new vscode.ThemeColor('charts.blue')) : new vscode.ThemeIcon('list-tree');
  item.contextValue = going ? 'sweep going' : 'sweep';
  item.tooltip = `Sweep ${sweep.id}: ${item.description}`;
  item.accessibilityInformation = { label: `Sweep ${sweep.id}, ${item.description}` };
  return item;
}

/** Escapes markdown in user text (run names, notes, params). */
function escape(text: string): string {
  return text.replace(/[\\`*_{}[\]()#+\-.!|<>]/g, '\\$&');
}
