import * as vscode from 'vscode';

const KEY = 'runlens.selectedRuns';

/**
 * The runs checked in the Runs view for comparison, by uid, kept per workspace.
 * Sets the `runlens.selectionCount` context key for menus.
 */
export class RunSelection implements vscode.Disposable {
  private readonly uids: Set<string>;
  private readonly state: vscode.Memento;
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChange = this.changed.event;

  constructor(state: vscode.Memento) {
    this.state = state;
    this.uids = new Set(state.get<string[]>(KEY, []));
    this.publish();
  }

  has(uid: string): boolean {
    return this.uids.has(uid);
  }

  get size(): number {
    return this.uids.size;
  }

  list(): string[] {
    return [...this.uids];
  }

  set(uids: Iterable<string>, checked: boolean): void {
    let changed = false;
    for (const uid of uids) {
      if (checked === this.uids.has(uid)) continue;
      if (checked) this.uids.add(uid);
      else this.uids.delete(uid);
      changed = true;
    }
    if (changed) this.save();
  }

  replace(uids: Iterable<string>): void {
    this.uids.clear();
    for (const uid of uids) this.uids.add(uid);
    this.save();
  }

  /** Forgets runs that no longer exist. */
  prune(exists: (uid: string) => boolean): void {
    const gone = [...this.uids].filter((uid) => !exists(uid));
    if (gone.length) this.set(gone, false);
  }

  private save(): void {
    void this.state.update(KEY, [...this.uids]);
    this.publish();
    this.changed.fire();
  }

  private publish(): void {
    void vscode.commands.executeCommand('setContext', 'runlens.selectionCount', this.uids.size);
  }

  dispose(): void {
    this.changed.dispose();
  }
}
