import * as vscode from 'vscode';
import type { Run } from '../core/types.ts';
import type { WorkspaceStore } from '../workspaceStore.ts';
import type { FolderScopes } from '../folders.ts';
import { registerNotebookDocuments } from './notebookDocument.ts';

/** Read-only documents of a run's stored patch: `runlens-patch:/<run name>.diff?<run id>#<folder>`. */
export const PATCH_SCHEME = 'runlens-patch';

export function patchUri(store: WorkspaceStore, run: Run): vscode.Uri {
  return vscode.Uri.from({ scheme: PATCH_SCHEME, path: `/${run.name.replace(/[/\\]/g, '_')}.diff`, query: String(run.id), fragment: store.folder.uri.toString() });
}

/** The stored patch of a run's uncommitted changes, or undefined when it has none. */
export function runPatch(store: WorkspaceStore, runId: number): string | undefined {
  const s = store.require();
  const sha = s.provenance.get(runId)?.patchSha256;
  return sha ? s.provenance.blob(sha)?.toString('utf8') : undefined;
}

/** The patch documents, and the notebook snapshot documents with their command (notebookDocument.ts). */
export function registerPatchDocuments(scopes: FolderScopes): vscode.Disposable {
  return vscode.Disposable.from(vscode.workspace.registerTextDocumentContentProvider(PATCH_SCHEME, {
    provideTextDocumentContent: (uri) => {
      const scope = scopes.all.find((s) => s.folder.uri.toString() === uri.fragment) ?? scopes.first;
      return (scope && runPatch(scope.store, Number(uri.query))) ?? '';
    },
  }), registerNotebookDocuments(scopes));
}

/** Opens a run's stored patch beside the current editor, read-only, as a diff. */
export async function showRunPatchDocument(store: WorkspaceStore, run: Run): Promise<void> {
  if (!runPatch(store, run.id)) throw new Error(`Run ${run.name} has no stored patch of uncommitted changes.`);
  const doc = await vscode.languages.setTextDocumentLanguage(await vscode.workspace.openTextDocument(patchUri(store, run)), 'diff');
  await vscode.window.showTextDocument(doc, { preview: true, viewColumn: vscode.ViewColumn.Beside });
}
