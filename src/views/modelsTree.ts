import * as vscode from 'vscode';
import type { FolderScopes, Scope } from '../folders.ts';
import type { Model, ModelVersion } from '../core/store/modelRepository.ts';
import { type Lineage, lineage } from '../core/models/lineage.ts';
import { degradationSummaries } from '../core/models/evaluations.ts';
import { primaryMetric } from '../core/compare/compareData.ts';
import { bytes, dateTime, metricValue, shortSha } from '../core/format.ts';
import { ago } from '../format.ts';
import { keepAgesFresh } from './runsTree.ts';

/** Every node knows its folder's scope (a multi-root workspace shows one section per folder). */
export type ModelsNode = { scope: Scope } & ({ kind: 'folder' } | { kind: 'model'; model: Model }
  | { kind: 'version'; version: ModelVersion; /** "val_acc 0.95 at registration → 0.70 (3 evaluations)" when it degraded. */ degraded?: string });

export interface ModelsTreeDeps {
  scopes: FolderScopes;
  /** The clock for ages ("5 min ago"); tests set it. */
  now?: () => number;
}

/** The Models view: models, then their versions (newest first) with aliases, the primary metric and a lineage hover. */
export class ModelsTreeProvider implements vscode.TreeDataProvider<ModelsNode>, vscode.Disposable {
  private readonly deps: ModelsTreeDeps;
  private readonly changed = new vscode.EventEmitter<ModelsNode | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  private readonly subscriptions: vscode.Disposable[];
  private perScope: vscode.Disposable[] = [];
  private readonly now: () => number;

  constructor(deps: ModelsTreeDeps) {
    this.deps = deps;
    this.now = deps.now ?? Date.now;
    this.listen();
    this.subscriptions = [deps.scopes.onDidChange(() => { this.listen(); this.refresh(); })];
  }

  private listen(): void {
    for (const d of this.perScope) d.dispose();
    this.perScope = this.deps.scopes.all.map((scope) => scope.store.onChange(['models', 'runs'], () => this.refresh()));
  }

  /** The view: while it is visible, ages are redrawn every `everyMs`. */
  attach(view: Pick<vscode.TreeView<unknown>, 'visible' | 'onDidChangeVisibility'>, everyMs?: number): void {
    this.subscriptions.push(keepAgesFresh(view, () => this.refresh(), everyMs));
  }

  refresh(): void {
    this.changed.fire(undefined);
  }

  getChildren(node?: ModelsNode): ModelsNode[] {
    const all = this.deps.scopes.all;
    if (!node && all.length > 1) {
      // folders without models are left out: most folders of a workspace hold none
      const withModels = all.filter((scope) => (scope.store.get()?.models.models().length ?? 0) > 0);
      return withModels.map((scope) => ({ kind: 'folder', scope }));
    }
    const scope = node?.scope ?? all[0];
    const store = scope?.store.get();
    if (!scope || !store) return [];
    if (!node || node.kind === 'folder') return store.models.models().map((model) => ({ kind: 'model', model, scope }));
    if (node.kind === 'model') {
      const versions = store.models.versions(node.model.id);
      const degraded = degradationSummaries(store, versions);
      return versions.map((version) => ({ kind: 'version', version, scope, degraded: degraded.get(version.id) }));
    }
    return [];
  }

  getTreeItem(node: ModelsNode): vscode.TreeItem {
    const item = this.itemOf(node);
    if (item.id && this.deps.scopes.all.length > 1) item.id = `${node.scope.folder.uri.toString()}|${item.id}`;
    return item;
  }

  private itemOf(node: ModelsNode): vscode.TreeItem {
    if (node.kind === 'folder') {
      const item = new vscode.TreeItem(node.scope.folder.name, vscode.TreeItemCollapsibleState.Expanded);
      item.id = 'folder';
      item.iconPath = vscode.ThemeIcon.Folder;
      item.resourceUri = node.scope.folder.uri;
      item.contextValue = 'folder';
      return item;
    }
    if (node.kind === 'model') {
      const m = node.model;
      const item = new vscode.TreeItem(m.name, vscode.TreeItemCollapsibleState.Expanded);
      item.id = `model:${m.id}`;
      item.iconPath = new vscode.ThemeIcon('library');
      item.contextValue = 'model';
      item.description = `${m.versionCount} version${m.versionCount === 1 ? '' : 's'}`;
      item.tooltip = m.description || `${m.name}: ${item.description}, latest v${m.latestVersion ?? '—'}`;
      return item;
    }
    const v = node.version;
    const item = new vscode.TreeItem(`v${v.version}`, vscode.TreeItemCollapsibleState.None);
    item.id = `version:${v.id}`;
    item.iconPath = node.degraded ? new vscode.ThemeIcon('warning', new vscode.ThemeColor('list.warningForeground'))
      : new vscode.ThemeIcon(v.aliases.length ? 'verified' : 'package');
    item.contextValue = 'modelVersion';
    const metric = node.degraded ? `degraded: ${node.degraded}` : this.metric(node.scope, v);
    item.description = [v.aliases.map((a) => `@${a}`).join(' '), metric, ago(v.createdAt, this.now())].filter(Boolean).join(' · ');
    item.command = { command: 'runlens.showLineage', title: 'Show Lineage', arguments: [node] };
    item.accessibilityInformation = { label: `${v.model} version ${v.version}${v.aliases.length ? `, aliases ${v.aliases.join(', ')}` : ''}${metric ? `, ${metric}` : ''}` };
    return item;
  }

  /** The hover: the lineage, built only when the user hovers. */
  resolveTreeItem(item: vscode.TreeItem, node: ModelsNode): vscode.TreeItem {
    const store = node.scope.store.get();
    if (node.kind !== 'version' || !store) return item;
    try {
      item.tooltip = lineageHover(lineage(store, node.version.id), node.degraded);
    } catch (err) {
      item.tooltip = String(err instanceof Error ? err.message : err);
    }
    return item;
  }

  private metric(scope: Scope, v: ModelVersion): string {
    const name = scope.primaryMetric()?.name ?? primaryMetric(v.metrics.map((m) => m.key))?.key;
    const m = name ? v.metrics.find((x) => x.key === name) : undefined;
    return m ? `${m.key} ${metricValue(m.last)}` : '';
  }

  dispose(): void {
    for (const s of [...this.subscriptions, ...this.perScope]) s.dispose();
    this.changed.dispose();
  }
}

const cmd = (id: string, ...args: unknown[]) => `command:${id}?${encodeURIComponent(JSON.stringify(args))}`;
const md = (s: string) => s.replace(/[\\`*_{}[\]()#+\-.!|<>]/g, '\\$&');

/** version → run → commit (+ patch) → datasets → params → metrics, as Markdown with links. */
export function lineageHover(l: Lineage, degraded?: string): vscode.MarkdownString {
  const v = l.version;
  const lines = [
    `**${md(v.model)} v${v.version}** ${v.aliases.map((a) => `\`@${a}\``).join(' ')}  `,
    ...(degraded ? [`$(warning) degraded: ${md(degraded)}  `] : []),
    `${md(v.path)} · ${bytes(v.size)} · sha256 \`${shortSha(v.digest)}\` · ${dateTime(v.createdAt)}`,
    '',
    `$(play) run [${md(l.run.name)}](${cmd('runlens.openRun', l.run.uid)}) · ${l.run.status}  `,
    l.code
      ? `$(git-commit) [\`${l.code.commit.slice(0, 10)}\`](${cmd('runlens.showCommit', l.run.uid)})${l.code.branch ? ` on ${md(l.code.branch)}` : ''}${l.code.dirty ? ` + [patch](${cmd('runlens.showPatch', l.run.uid)}) (${bytes(l.code.patchBytes)})` : ' · clean'}  `
      : '$(git-commit) no git  ',
    ...l.datasets.map((d) => `$(database) ${md(d.path)} · ${d.fileCount} file(s) · \`${d.digest.slice(0, 12)}\`  `),
    `$(settings) ${Object.entries(l.params).slice(0, 8).map(([k, x]) => `${md(k)}=${md(String(x))}`).join(', ') || 'no params'}  `,
    `$(graph-line) ${v.metrics.slice(0, 6).map((m) => `${md(m.key)} ${metricValue(m.last)}`).join(', ') || 'no metrics'}`,
    '',
    `[Show lineage](${cmd('runlens.showLineage', `${v.model}:${v.version}`)}) · [Compare](${cmd('runlens.openRun', l.run.uid)}) · [Reproduce](${cmd('runlens.reproduceModelVersion', `${v.model}:${v.version}`)})`,
  ];
  const s = new vscode.MarkdownString(lines.join('\n'), true);
  s.isTrusted = { enabledCommands: ['runlens.openRun', 'runlens.showCommit', 'runlens.showPatch', 'runlens.showLineage', 'runlens.reproduceModelVersion'] };
  return s;
}
