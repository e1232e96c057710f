import * as vscode from 'vscode';
import { readFileSync } from 'node:fs';
import { posix } from 'node:path';
import type { Run } from '../core/types.ts';
import type { FolderScopes } from '../folders.ts';
import type { WorkspaceStore } from '../workspaceStore.ts';
import { notebookText } from '../core/models/notebook.ts';
import { type RunRef, resolveRuns } from '../core/runs/runRefs.ts';

/**
 * Read-only documents of a notebook run's snapshot, its cells as a `# %%` script:
 * `runlens-notebook:/<notebook>.py?<run id>#<folder>` (the same pattern as patchDocument.ts).
 */
export const NOTEBOOK_SCHEME = 'runlens-notebook';

function snapshotUri(store: WorkspaceStore, run: Run, path: string): vscode.Uri {
  return vscode.Uri.from({ scheme: NOTEBOOK_SCHEME, path: `/${posix.basename(path.replace(/\\/g, '/'))}.py`, query: String(run.id), fragment: store.folder.uri.toString() });
}

/** The snapshot the run kept of its notebook (path and bytes), or undefined when it has none. */
function snapshot(store: WorkspaceStore, runId: number): { path: string; text: string } | undefined {
  const s = store.require();
  const a = s.artifacts.list(runId).find((x) => x.source === 'notebook' && x.kind === 'file');
  return a && { path: a.path, text: readFileSync(s.objects.path(a.digest), 'utf8') };
}

function documentText(store: WorkspaceStore, runId: number): string {
  const snap = snapshot(store, runId);
  const run = store.require().runs.get(runId);
  return snap ? notebookText(snap.text, `${snap.path} as run ${run?.name ?? runId} ran it (a snapshot; outputs left out)`).text : '';
}

/** Opens a notebook run's snapshot beside the current editor, read-only. */
export async function showNotebookSnapshot(store: WorkspaceStore, run: Run): Promise<vscode.TextDocument> {
  const snap = snapshot(store, run.id);
  if (!snap) throw new Error(`Run ${run.name} kept no snapshot of a notebook.`);
  const doc = await vscode.workspace.openTextDocument(snapshotUri(store, run, snap.path));
  const typed = await vscode.languages.setTextDocumentLanguage(doc, notebookText(snap.text).language).then((d) => d, () => doc);
  await vscode.window.showTextDocument(typed, { preview: true, viewColumn: vscode.ViewColumn.Beside });
  return typed;
}

/** The snapshot documents and `runlens.showNotebookSnapshot` (a run id, uid or Runs view node). */
export function registerNotebookDocuments(scopes: FolderScopes): vscode.Disposable {
  return vscode.Disposable.from(
    vscode.workspace.registerTextDocumentContentProvider(NOTEBOOK_SCHEME, {
      provideTextDocumentContent: (uri) => {
        const scope = scopes.all.find((s) => s.folder.uri.toString() === uri.fragment) ?? scopes.first;
        return scope ? documentText(scope.store, Number(uri.query)) : '';
      },
    }),
    vscode.commands.registerCommand('runlens.showNotebookSnapshot', async (ref?: RunRef) => {
      try {
        const scope = await scopes.for(ref);
        if (!scope) return undefined;
        const [run] = resolveRuns(scope.store.require(), ref);
        if (!run) throw new Error('Which run? Open it from a notebook run\'s lineage page.');
        return (await showNotebookSnapshot(scope.store, run)).uri.toString();
      } catch (err) {
        void vscode.window.showErrorMessage(`RunLens: ${err instanceof Error ? err.message : String(err)}`);
        return undefined;
      }
    }),
  );
}
