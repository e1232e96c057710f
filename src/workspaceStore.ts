import * as vscode from 'vscode';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { DB_FILE, Store } from './core/store/store.ts';
import { ALL_KINDS, type ChangeKind, type Kinds, type StoreAccess, type StoreChange, StoreWrites, touches } from './core/store/storeWrites.ts';
import { notAFolder, StoreError } from './core/store/database.ts';
import { excludeFromGit } from './core/gitExclude.ts';
import { config } from './config.ts';
import { convertOldChunks } from './store/convertChunks.ts';

/**
 * The store of one workspace folder, opened on first use (never at activation).
 * Reads go through get(); every write goes through write() or writeSteps(), which fire onDidChange
 * naming what changed. Changes by other windows or processes are found by polling.
 */
export class WorkspaceStore implements StoreAccess, vscode.Disposable {
  private store: Store | undefined;
  private lastError: string | undefined;
  private timer: NodeJS.Timeout | undefined;
  private disposed = false;
  /** True while this window's ingest worker watches the store's commits itself (the poll then stays quiet). */
  watched: (() => boolean) | undefined;
  private readonly changed = new vscode.EventEmitter<StoreChange>();
  readonly onDidChange = this.changed.event;
  private readonly writes: StoreWrites;
  private readonly errorChanged = new vscode.EventEmitter<string | undefined>();
  /** Fires when the store starts or stops failing to open. */
  readonly onDidChangeError = this.errorChanged.event;
  private readonly log: vscode.LogOutputChannel;
  private readonly disposables: vscode.Disposable[] = [];
  readonly folder: vscode.WorkspaceFolder;

  constructor(folder: vscode.WorkspaceFolder, log: vscode.LogOutputChannel) {
    this.folder = folder;
    this.log = log;
    this.writes = new StoreWrites({
      store: () => this.require(), fire: (c) => this.changed.fire(c), stray: (m) => log.warn(m), watched: () => this.watched?.() ?? false,
    });
    this.disposables.push(
      this.changed,
      this.errorChanged,
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (e.affectsConfiguration('runlens.storeDir', this.folder.uri)) this.reopen();
      }),
    );
  }

  get dir(): string {
    return config.storeDir(this.folder);
  }

  /** The last error that kept the store from opening, if any. */
  get error(): string | undefined {
    return this.lastError;
  }

  /**
   * The open store, or undefined when there is none yet (and `create` is false) or it cannot be opened.
   * Viewing never creates a store; recording a run does.
   */
  get(options: { create?: boolean } = {}): Store | undefined {
    if (this.store?.isOpen) return this.store;
    if (this.disposed) return undefined; // its folder left the workspace
    const dir = this.dir;
    const notFolder = dir ? notAFolder(dir) : undefined;
    if (notFolder) {
      this.setError(notFolder.message);
      return undefined;
    }
    if (!dir || (!options.create && !existsSync(join(dir, DB_FILE)))) {
      this.setError(undefined);
      this.startWatching();
      return undefined;
    }
    const started = performance.now();
    try {
      this.store = this.openWritableOrReadOnly(dir);
      this.setError(undefined);
      this.log.info(`Opened run store ${this.store.file} in ${(performance.now() - started).toFixed(1)} ms`);
      this.writes.check(this.store);
      this.startWatching();
      void convertOldChunks(this, this.store, this.log); // a store from before compressed chunks: convert it in the background
      return this.store;
    } catch (err) {
      this.setError(err instanceof Error ? err.message : String(err));
      this.log.error(`Could not open the run store in ${dir}: ${this.lastError}`);
      return undefined;
    }
  }

  /** The store for a write; throws with a readable message when it cannot be had. */
  require(): Store {
    const store = this.get({ create: true });
    if (!store) throw new Error(this.lastError ?? 'Open a folder to use RunLens.');
    return store;
  }

  /** fn in one transaction (creating the store if need be), then one change event naming `kinds`. */
  write<T>(kinds: readonly ChangeKind[], fn: (store: Store) => T): T {
    return this.writes.write(kinds, fn);
  }

  /** Work that commits by itself, in steps or across awaits: one change event when it is done (see StoreWrites). */
  writeSteps<T>(kinds: Kinds<Awaited<T>>, fn: (store: Store) => T): T {
    return this.writes.writeSteps(kinds, fn);
  }

  /** Calls `listener` on changes that touch any of `kinds` (changes from elsewhere touch all). */
  onChange(kinds: readonly ChangeKind[], listener: (change: StoreChange) => void): vscode.Disposable {
    return this.onDidChange((c) => { if (touches(c, kinds)) listener(c); });
  }

  private openWritableOrReadOnly(dir: string): Store {
    try {
      const store = Store.open(dir);
      try {
        const pattern = excludeFromGit(dir);
        if (pattern) this.log.debug(`Store excluded from git as ${pattern}`);
      } catch (err) {
        this.log.warn(`Could not add the store to .git/info/exclude: ${String(err)}`);
      }
      return store;
    } catch (err) {
      if (!existsSync(join(dir, DB_FILE)) || !(err instanceof StoreError && err.kind === 'readonly')) throw err;
      this.log.warn(`${String(err)} Opening it read-only: runs can be browsed but not changed.`);
      return Store.open(dir, { readonly: true });
    }
  }

  private setError(message: string | undefined): void {
    if (message === this.lastError) return;
    this.lastError = message;
    void vscode.commands.executeCommand('setContext', 'runlens.storeError', message !== undefined);
    this.errorChanged.fire(message);
  }

  /** Polls PRAGMA data_version (or the store's appearance): cheap, and sees other windows' commits. */
  private startWatching(): void {
    if (this.timer) return;
    this.timer = setInterval(() => this.poll(), config.watchInterval());
    this.timer.unref?.();
  }

  private poll(): void {
    try {
      if (!this.store?.isOpen) {
        const dir = this.dir;
        if (dir && existsSync(join(dir, DB_FILE)) && this.get()) this.changedEverything();
        return;
      }
      this.writes.check(this.store);
    } catch (err) {
      this.log.warn(`Store check failed: ${String(err)}`);
    }
  }

  private reopen(): void {
    this.store?.close();
    this.store = undefined;
    this.setError(undefined);
    this.changedEverything();
  }

  private changedEverything(): void {
    this.changed.fire({ kinds: new Set(ALL_KINDS), external: true });
  }

  dispose(): void {
    this.disposed = true;
    clearInterval(this.timer);
    this.store?.close();
    for (const d of this.disposables) d.dispose();
  }
}
