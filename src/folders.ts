import * as vscode from 'vscode';
import { WorkspaceStore } from './workspaceStore.ts';
import type { RunController } from './runs/runController.ts';
import type { SweepRunner } from './runs/sweeps.ts';
import type { ComparePanel } from './compare/comparePanel.ts';
import type { LineagePanel } from './models/lineagePanel.ts';
import type { Store } from './core/store/store.ts';
import type { ProjectConfig } from './core/config/runConfig.ts';
import { readProjectConfig } from './runs/startRun.ts';

/** One workspace folder's RunLens: its store, its runs and sweeps, its panels, its runlens.yaml. */
export interface Scope extends ScopeServices {
  readonly folder: vscode.WorkspaceFolder;
  readonly store: WorkspaceStore;
  /** runlens.yaml, read once and again only after the file changed. */
  project(): ProjectConfig | undefined;
  primaryMetric(): ProjectConfig['primaryMetric'];
}

export interface ScopeServices {
  readonly runs: RunController;
  readonly sweeps: SweepRunner;
  readonly compare: ComparePanel;
  readonly lineage: LineagePanel;
}

/** What a scope is made of beyond its folder and store (built by the composition root). */
export type ScopeParts = (store: WorkspaceStore, project: () => ProjectConfig | undefined) => ScopeServices & vscode.Disposable;

/** Whether a store holds what a string ref names (beyond run uids, which every scope knows). */
export type Owns = (store: Store, ref: string) => boolean;

interface Entry { scope: Scope; disposables: vscode.Disposable[]; forget: () => void }

/**
 * Every workspace folder gets its scope (a multi-root workspace has several), made when the folder
 * appears and disposed when it goes. Commands find theirs with `for()`: from a view node, a run uid,
 * the active editor, or by asking.
 */
export class FolderScopes implements vscode.Disposable {
  private readonly entries = new Map<string, Entry>();
  private readonly changed = new vscode.EventEmitter<void>();
  /** Fires when folders (and so scopes) come or go. */
  readonly onDidChange = this.changed.event;
  private readonly subscription: vscode.Disposable;
  private readonly log: vscode.LogOutputChannel;
  private readonly parts: ScopeParts;

  constructor(log: vscode.LogOutputChannel, parts: ScopeParts) {
    this.log = log;
    this.parts = parts;
    for (const folder of vscode.workspace.workspaceFolders ?? []) this.add(folder);
    this.subscription = vscode.workspace.onDidChangeWorkspaceFolders((e) => {
      for (const folder of e.removed) this.remove(folder);
      for (const folder of e.added) this.add(folder);
      this.changed.fire();
    });
  }

  /** The scopes in the order of the workspace's folders. */
  get all(): Scope[] {
    const index = (s: Scope) => vscode.workspace.getWorkspaceFolder(s.folder.uri)?.index ?? s.folder.index;
    return [...this.entries.values()].map((e) => e.scope).sort((a, b) => index(a) - index(b));
  }

  /** The first folder's scope (a single-folder workspace has only this one). */
  get first(): Scope | undefined {
    return this.all[0];
  }

  /** The scope of the folder that holds `uri`. */
  of(uri: vscode.Uri | undefined): Scope | undefined {
    const folder = uri && vscode.workspace.getWorkspaceFolder(uri);
    return folder ? this.entries.get(folder.uri.toString())?.scope : undefined;
  }

  /** runlens.yaml changed somewhere: forget what each scope read. */
  forgetConfig(): void {
    for (const entry of this.entries.values()) entry.forget();
  }

  /** The scope whose store holds the run with this uid, or what `owns` recognises (stores that exist only). */
  owner(ref: string, owns?: Owns): Scope | undefined {
    return this.all.find((scope) => {
      const store = scope.store.get();
      return store && (store.runs.getByUid(ref) !== undefined || owns?.(store, ref) === true);
    });
  }

  /**
   * The scope a command acts on: the one a view node or run uid belongs to; else the only folder;
   * else the active editor's; else the user picks one (undefined when they cancel).
   */
  async for(ref?: unknown, owns?: Owns, placeHolder = 'Which folder?'): Promise<Scope | undefined> {
    if (Array.isArray(ref)) ref = ref[0];
    const node = ref && typeof ref === 'object' ? (ref as { scope?: unknown }).scope : undefined;
    if (node && this.all.includes(node as Scope)) return node as Scope;
    if (typeof ref === 'string' && !/^\d+$/.test(ref) && this.all.length > 1) {
      const owner = this.owner(ref, owns);
      if (owner) return owner;
    }
    const all = this.all;
    if (all.length <= 1) {
      if (!all[0]) throw new Error('Open a folder to use RunLens.');
      return all[0];
    }
    const active = this.of(vscode.window.activeTextEditor?.document.uri);
    if (active) return active;
    const folder = await vscode.window.showWorkspaceFolderPick({ placeHolder });
    return folder && this.entries.get(folder.uri.toString())?.scope;
  }

  private add(folder: vscode.WorkspaceFolder): void {
    const key = folder.uri.toString();
    if (this.entries.has(key)) return;
    const store = new WorkspaceStore(folder, this.log);
    let project: { config: ProjectConfig | undefined } | undefined;
    const config = () => (project ??= { config: readProjectConfig(folder) }).config;
    const parts = this.parts(store, config);
    const scope: Scope = {
      folder, store, runs: parts.runs, sweeps: parts.sweeps, compare: parts.compare, lineage: parts.lineage,
      project: config, primaryMetric: () => config()?.primaryMetric,
    };
    this.entries.set(key, { scope, disposables: [store, parts], forget: () => { project = undefined; } });
  }

  private remove(folder: vscode.WorkspaceFolder): void {
    const key = folder.uri.toString();
    const entry = this.entries.get(key);
    if (!entry) return;
    this.entries.delete(key);
    for (const d of entry.disposables.reverse()) d.dispose();
  }

  dispose(): void {
    this.subscription.dispose();
    for (const entry of this.entries.values()) for (const d of entry.disposables.reverse()) d.dispose();
    this.entries.clear();
    this.changed.dispose();
  }
}

/**
 * Registers commands that act on one folder's scope, found from their first argument (see
 * FolderScopes.for); a command that gets none (the user cancelled the folder pick) does nothing.
 */
export function scopedCommands(scopes: FolderScopes, register: (id: string, fn: (...args: never[]) => unknown) => vscode.Disposable, owns?: Owns) {
  return <A extends unknown[]>(id: string, fn: (scope: Scope, ...args: A) => unknown): vscode.Disposable =>
    register(id, async (...args: never[]) => {
      const scope = await scopes.for(args[0], owns);
      return scope ? fn(scope, ...(args as unknown as A)) : undefined;
    });
}
