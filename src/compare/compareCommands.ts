import * as vscode from 'vscode';
import type { Store } from '../core/store/store.ts';
import type { Run } from '../core/types.ts';
import type { CompareViewState } from '../core/compare/protocol.ts';
import type { WorkspaceStore } from '../workspaceStore.ts';
import { type FolderScopes, scopedCommands } from '../folders.ts';
import type { RunsNode } from '../views/runsTree.ts';
import type { RunSelection } from '../views/runSelection.ts';
import { runPickItem } from '../format.ts';
import { guardedCommands } from '../commands.ts';
import { COMPARE_VIEW_TYPE } from './comparePanel.ts';
import { resolveRuns } from '../core/runs/runRefs.ts';

/** Runs named by a command: view nodes, run ids, or uids. */
type RunRefs = RunsNode | RunsNode[] | number | string | (number | string)[] | undefined;

export interface CompareCommandDeps {
  scopes: FolderScopes;
  selection: RunSelection;
  log: vscode.LogOutputChannel;
}

export function registerCompareCommands(deps: CompareCommandDeps): vscode.Disposable[] {
  const { scopes, selection, log } = deps;
  const guarded = guardedCommands(log);
  const scoped = scopedCommands(scopes, guarded);
  /** With nothing named, the folder whose runs are checked (the first, when several are). */
  const checkedScope = (first: unknown) => (first === undefined
    ? scopes.all.find((scope) => { const s = scope.store.get(); return s && selection.list().some((uid) => s.runs.getByUid(uid)); })
    : undefined);

  return [
    // A panel opened on the checked runs follows the checkboxes.
    selection.onDidChange(() => {
      for (const { store, compare: panel } of scopes.all) {
        const s = store.get();
        if (panel.followsSelection && s) panel.show(checkedRuns(s, selection).map((r) => r.id), { follow: true, reveal: false });
      }
    }),

    /**
     * Compare: the runs given (ids, uids, or the view's multi-selection); from a run's context menu,
     * the checked runs plus that run; with nothing given, the checked runs, else the user picks.
     */
    guarded('runlens.compareRuns', async (first?: RunRefs, multi?: RunsNode[]) => {
      const scope = checkedScope(first) ?? await scopes.for(first);
      if (!scope) return undefined;
      const { store, compare: panel } = scope;
      const s = requireStore(store);
      let runs = resolveRuns(s, Array.isArray(multi) && multi.length > 1 ? multi : first);
      if (isNode(first) && !(Array.isArray(multi) && multi.length > 1)) {
        runs = uniqueRuns([...checkedRuns(s, selection), ...runs]);
      }
      let follow = false;
      if (!runs.length) {
        runs = checkedRuns(s, selection);
        follow = runs.length > 0;
      }
      if (!runs.length) runs = await pickRuns(s);
      if (!runs.length) return undefined;
      panel.show(runs.map((r) => r.id), { follow });
      return runs.map((r) => r.id);
    }),

    scoped('runlens.openRun', ({ store, compare: panel }, ref?: RunRefs) => {
      const runs = resolveRuns(requireStore(store), ref);
      if (!runs.length) throw new Error('Open which run? Pick one in the Runs view.');
      panel.show([runs[0]!.id]);
      return runs[0]!.id;
    }),

    /** Checks (or unchecks) runs for comparison: the same as their checkboxes in the Runs view. */
    scoped('runlens.selectRuns', ({ store }, ref?: RunRefs, checked?: boolean) => {
      const runs = resolveRuns(requireStore(store), ref);
      selection.set(runs.map((r) => r.uid), checked !== false);
      return selection.list();
    }),

    guarded('runlens.clearSelection', () => {
      selection.replace([]);
    }),

    vscode.window.registerWebviewPanelSerializer(COMPARE_VIEW_TYPE, {
      async deserializeWebviewPanel(webviewPanel, state: unknown) {
        // a panel from the last session comes back in the first folder
        scopes.first?.compare.restore(webviewPanel, state as Partial<CompareViewState> | undefined);
      },
    }),
  ];
}

function requireStore(store: WorkspaceStore): Store {
  const s = store.get();
  if (!s) throw new Error(store.error ?? 'There are no runs in this workspace yet.');
  return s;
}

function isNode(v: unknown): v is RunsNode {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && 'kind' in v;
}

function uniqueRuns(runs: Run[]): Run[] {
  const seen = new Set<number>();
  return runs.filter((r) => !seen.has(r.id) && seen.add(r.id));
}

function checkedRuns(s: Store, selection: RunSelection): Run[] {
  selection.prune((uid) => s.runs.getByUid(uid) !== undefined);
  return selection.list().map((uid) => s.runs.getByUid(uid)).filter((r) => r !== undefined)
    .sort((a, b) => a.createdAt - b.createdAt || a.id - b.id);
}

async function pickRuns(s: Store): Promise<Run[]> {
  const recent = s.runs.list({ limit: 500 });
  if (!recent.length) throw new Error('There are no runs in this workspace yet.');
  const picks = await vscode.window.showQuickPick(
    recent.map(runPickItem),
    { canPickMany: true, placeHolder: 'Compare which runs? (tip: check runs in the Runs view)', matchOnDescription: true });
  return picks?.map((p) => p.run) ?? [];
}
