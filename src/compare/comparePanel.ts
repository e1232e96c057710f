import * as vscode from 'vscode';
import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import type { Run } from '../core/types.ts';
import type { Goal, HostMessage, CompareViewState, ViewMessage } from '../core/compare/protocol.ts';
import { parseViewMessage } from '../core/compare/protocol.ts';
import { loadRuns, seriesCsv } from '../core/compare/compareData.ts';
import { CompareFeed } from '../core/compare/compareFeed.ts';
import { comparePage } from '../core/compare/page.ts';
import { showRunCommit, showRunPatch } from '../runs/provenanceDocs.ts';
import type { WorkspaceStore } from '../workspaceStore.ts';
import { taskScript } from '../core/tasks/taskClient.ts';

export const COMPARE_VIEW_TYPE = 'runlens.compare';
/** Live points reach the webview at most this often. */
const LIVE_INTERVAL_MS = 300;

export interface ComparePanelDeps {
  store: WorkspaceStore;
  extensionUri: vscode.Uri;
  log: vscode.LogOutputChannel;
  primaryMetric: () => { name: string; goal: Goal } | undefined;
}

/**
 * The Compare editor: one webview panel showing the chosen runs. The host answers the webview's
 * chart queries from the store, and while runs are going sends only their new points.
 */
export class ComparePanel implements vscode.Disposable {
  private panel: vscode.WebviewPanel | undefined;
  private follow = false;
  private ready = false;
  private readonly feed: CompareFeed;
  private timer: NodeJS.Timeout | undefined;
  private lastUpdate = 0;
  private readonly deps: ComparePanelDeps;
  private readonly disposables: vscode.Disposable[] = [];
  private readonly posted = new vscode.EventEmitter<HostMessage>();
  /** Every message sent to the webview (tests watch the contract through it). */
  readonly onDidPost = this.posted.event;

  constructor(deps: ComparePanelDeps) {
    this.deps = deps;
    this.feed = new CompareFeed({
      store: () => deps.store.get(), primaryMetric: deps.primaryMetric, post: (m) => this.post(m), later: (fn) => setTimeout(fn, 0),
      script: taskScript(deps.extensionUri.fsPath), warn: (m) => deps.log.warn(m),
    });
    this.disposables.push(this.posted, deps.store.onChange(['runs', 'metrics'], (c) => {
      this.feed.note(c);
      this.schedule();
    }));
  }

  get isOpen(): boolean {
    return this.panel !== undefined;
  }

  /** The run ids on show, in order. */
  get runs(): readonly number[] {
    return this.feed.runIds;
  }

  /** True while the panel shows the runs checked in the Runs view, and changes with them. */
  get followsSelection(): boolean {
    return this.follow && this.panel !== undefined;
  }

  /**
   * Opens the panel (or brings it forward) showing these runs. `follow`: they are the checked runs,
   * and the panel keeps showing whatever is checked. `reveal: false` updates it without focusing it.
   */
  show(runIds: number[], options: { follow?: boolean; reveal?: boolean } = {}): void {
    this.feed.runIds = [...new Set(runIds)];
    this.follow = options.follow === true;
    if (!this.panel) {
      this.adopt(vscode.window.createWebviewPanel(COMPARE_VIEW_TYPE, this.title(), vscode.ViewColumn.Active, this.options()));
    } else {
      this.panel.title = this.title();
      if (options.reveal !== false) this.panel.reveal();
      this.resetWebviewData();
      this.sendModel();
    }
  }

  /** A panel VS Code restored after a restart, with the state the webview saved. */
  restore(panel: vscode.WebviewPanel, state: Partial<CompareViewState> | undefined): void {
    const store = this.deps.store.get();
    const uids = Array.isArray(state?.runUids) ? state.runUids.filter((u) => typeof u === 'string') : [];
    this.feed.runIds = store ? uids.map((uid) => store.runs.getByUid(uid)?.id).filter((id) => id !== undefined) : [];
    if (this.panel) this.panel.dispose();
    this.follow = false;
    panel.webview.options = this.options();
    this.adopt(panel);
    panel.title = this.title();
  }

  /** Handles one message from the webview; invalid ones are logged and dropped. */
  async receive(raw: unknown): Promise<void> {
    let message: ViewMessage;
    try {
      message = parseViewMessage(raw);
    } catch (err) {
      this.deps.log.warn(`Compare panel sent an invalid message (${String(err)}); ignored.`);
      return;
    }
    try {
      await this.handle(message);
    } catch (err) {
      const text = err instanceof Error ? err.message : String(err);
      this.deps.log.error(`Compare panel: ${message.type}: ${text}`);
      this.post({ type: 'error', requestId: message.type === 'query' ? message.requestId : undefined, message: text });
    }
  }

  private async handle(message: ViewMessage): Promise<void> {
    switch (message.type) {
      case 'ready':
        this.ready = true;
        this.resetWebviewData();
        this.sendModel();
        return;
      case 'query':
        await this.feed.query(message);
        return;
      case 'exportCsv': {
        const store = this.deps.store.require();
        const target = await this.saveTarget(`${safeName(message.key)}.csv`, { CSV: ['csv'] });
        if (!target) return;
        await writeFile(target.fsPath, seriesCsv(store, loadRuns(store, this.feed.runIds), message.key, message.axis, message.range));
        void vscode.window.showInformationMessage(`Saved ${message.key} as ${vscode.workspace.asRelativePath(target)}.`);
        return;
      }
      case 'exportPng': {
        const target = await this.saveTarget(`${safeName(message.key)}.png`, { 'PNG image': ['png'] });
        if (!target) return;
        await writeFile(target.fsPath, Buffer.from(message.dataUrl.slice(message.dataUrl.indexOf(',') + 1), 'base64'));
        void vscode.window.showInformationMessage(`Saved the ${message.key} chart as ${vscode.workspace.asRelativePath(target)}.`);
        return;
      }
      case 'openCommit':
        await showRunCommit(this.deps.store, this.run(message.runId));
        return;
      case 'openPatch':
        await showRunPatch(this.deps.store, this.run(message.runId));
        return;
      case 'revealRun':
        await vscode.commands.executeCommand('runlens.runs.focus');
        return;
    }
  }

  private run(id: number): Run {
    const run = this.feed.runIds.includes(id) ? this.deps.store.get()?.runs.get(id) : undefined;
    if (!run) throw new Error(`Run ${id} is not in this comparison.`);
    return run;
  }

  private adopt(panel: vscode.WebviewPanel): void {
    this.panel = panel;
    this.ready = false;
    this.resetWebviewData();
    panel.iconPath = vscode.Uri.joinPath(this.deps.extensionUri, 'media', 'runlens.svg');
    panel.webview.html = this.html(panel.webview);
    const subscriptions = [
      panel.webview.onDidReceiveMessage((m) => this.receive(m)),
      // A hidden webview is torn down (state lives in getState/setState); it says `ready` again.
      panel.onDidChangeViewState(() => { if (!panel.visible) this.ready = false; }),
    ];
    panel.onDidDispose(() => {
      for (const s of subscriptions) s.dispose();
      if (this.panel === panel) {
        this.panel = undefined;
        this.ready = false;
        this.feed.reset();
      }
    });
  }

  private options(): vscode.WebviewPanelOptions & vscode.WebviewOptions {
    return {
      enableScripts: true,
      enableFindWidget: true,
      localResourceRoots: [vscode.Uri.joinPath(this.deps.extensionUri, 'dist', 'webview')],
    };
  }

  private html(webview: vscode.Webview): string {
    const asset = (file: string) => webview.asWebviewUri(vscode.Uri.joinPath(this.deps.extensionUri, 'dist', 'webview', file)).toString();
    return comparePage({
      cspSource: webview.cspSource, nonce: randomBytes(16).toString('base64'),
      script: asset('compare.js'), style: asset('compare.css'),
    }, this.title());
  }

  private title(): string {
    if (this.feed.runIds.length === 1) {
      const run = this.deps.store.get()?.runs.get(this.feed.runIds[0]!);
      if (run) return `Run: ${run.name}`;
    }
    return `Compare: ${this.feed.runIds.length} run${this.feed.runIds.length === 1 ? '' : 's'}`;
  }

  private resetWebviewData(): void {
    this.feed.reset();
  }

  private post(message: HostMessage): void {
    if (!this.panel) return;
    void this.panel.webview.postMessage(message);
    this.posted.fire(message);
  }

  private sendModel(): void {
    if (!this.panel || !this.ready) return;
    this.feed.sendModel();
  }

  /** Store changes arrive in bursts while runs log; at most one update per LIVE_INTERVAL_MS. */
  private schedule(): void {
    if (!this.panel || this.timer) return;
    const wait = Math.max(0, this.lastUpdate + LIVE_INTERVAL_MS - Date.now());
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.lastUpdate = Date.now();
      try {
        this.update();
      } catch (err) {
        this.deps.log.warn(`Compare panel update failed: ${String(err)}`);
      }
    }, wait);
  }

  private update(): void {
    if (!this.panel || !this.ready) return;
    this.feed.update();
  }

  private async saveTarget(name: string, filters: Record<string, string[]>): Promise<vscode.Uri | undefined> {
    const folder = this.deps.store.folder?.uri;
    return vscode.window.showSaveDialog({ defaultUri: folder ? vscode.Uri.joinPath(folder, name) : undefined, filters });
  }

  dispose(): void {
    clearTimeout(this.timer);
    this.feed.dispose();
    this.panel?.dispose();
    for (const d of this.disposables) d.dispose();
  }
}

function safeName(key: string): string {
  return key.replace(/[^\w.-]+/g, '_').slice(0, 80) || 'metric';
}

