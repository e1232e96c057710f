import * as vscode from 'vscode';
import type { WorkspaceStore } from '../workspaceStore.ts';
import { type Lineage, datasetDiff, lineage } from '../core/models/lineage.ts';
import { diffPackages } from '../core/provenance/packages.ts';
import { LINEAGE_COMMANDS, lineagePage } from '../core/models/lineagePage.ts';
import { type EvaluationHistory, evaluationHistory } from '../core/models/evaluations.ts';
import { readProjectConfig } from '../runs/startRun.ts';

export const LINEAGE_VIEW_TYPE = 'runlens.lineage';

/**
 * The lineage of one model version in an editor tab. The page has no script: its links are
 * command URIs, allowed one by one. It redraws when the store changes (aliases, reproductions).
 */
export class LineagePanel implements vscode.Disposable {
  private readonly store: WorkspaceStore;
  private readonly extensionUri: vscode.Uri;
  private panel: vscode.WebviewPanel | undefined;
  private shown: { versionId: number; againstId?: number } | undefined;
  private readonly subscription: vscode.Disposable;

  constructor(store: WorkspaceStore, extensionUri: vscode.Uri) {
    this.store = store;
    this.extensionUri = extensionUri;
    this.subscription = store.onChange(['models', 'runs'], () => { if (this.panel && this.shown) this.render(); });
  }

  /** Shows a version, marking the data files that differ from `againstId` (default: the model's previous version). */
  show(versionId: number, againstId?: number): void {
    this.shown = { versionId, againstId };
    if (!this.panel) {
      this.panel = vscode.window.createWebviewPanel(LINEAGE_VIEW_TYPE, 'Lineage', vscode.ViewColumn.Active, {
        enableScripts: false,
        enableCommandUris: LINEAGE_COMMANDS,
        localResourceRoots: [vscode.Uri.joinPath(this.extensionUri, 'media')],
      });
      this.panel.onDidDispose(() => { this.panel = undefined; });
    }
    this.render();
    this.panel.reveal();
  }

  get versionId(): number | undefined {
    return this.panel ? this.shown?.versionId : undefined;
  }

  /** The page's HTML as last rendered (for tests). */
  get html(): string | undefined {
    return this.panel?.webview.html;
  }

  private render(): void {
    const store = this.store.get();
    if (!store || !this.panel || !this.shown) return;
    const l = lineage(store, this.shown.versionId);
    const other = this.shown.againstId === undefined
      ? store.models.versions(l.version.modelId).find((v) => v.version < l.version.version)
      : store.models.version(this.shown.againstId);
    const otherPackages = other && store.packages.get(other.runId);
    const against = other && {
      version: other.version, diff: datasetDiff(store.provenance.datasets(other.runId), l.datasets, store.profiles),
      packages: l.packages && (otherPackages ? diffPackages(otherPackages, l.packages) : null),
    };
    const webview = this.panel.webview;
    this.panel.title = `Lineage: ${l.version.model} v${l.version.version}`;
    const html = lineagePage(l, {
      cspSource: webview.cspSource,
      style: webview.asWebviewUri(vscode.Uri.joinPath(this.extensionUri, 'media', 'lineage.css')).toString(),
      against,
      evaluations: this.evaluations(l.version),
    });
    // The store changes several times a second while runs go; setting the same page again would
    // reload it (and lose the scroll position).
    if (webview.html !== html) webview.html = html;
  }

  /** The version's evaluations, with the metrics runlens.yaml's gates (else its primary metric) watch. */
  private evaluations(v: Lineage['version']): EvaluationHistory | undefined {
    const store = this.store.get();
    if (!store) return undefined;
    let project;
    try {
      project = readProjectConfig(this.store.folder);
    } catch {
      project = undefined; // a runlens.yaml that cannot be read: the primary metric is guessed
    }
    return evaluationHistory(store, v, { gates: project?.gates ?? [], primaryMetric: project?.primaryMetric });
  }

  dispose(): void {
    this.subscription.dispose();
    this.panel?.dispose();
  }
}
