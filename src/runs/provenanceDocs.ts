import { showRunPatchDocument } from './patchDocument.ts';
import * as vscode from 'vscode';
import type { Run } from '../core/types.ts';
import type { WorkspaceStore } from '../workspaceStore.ts';
import { showCommit } from '../core/provenance/git.ts';

/** Opens text beside the current editor, as a read-only-looking untitled document. */
export async function showText(content: string, language: string): Promise<void> {
  const doc = await vscode.workspace.openTextDocument({ content, language });
  await vscode.window.showTextDocument(doc, { preview: true, viewColumn: vscode.ViewColumn.Beside });
}

/** A run's commit as `git show` prints it. */
export async function showRunCommit(store: WorkspaceStore, run: Run): Promise<void> {
  if (!run.git) throw new Error(`Run ${run.name} was not started in a git repository.`);
  const cwd = run.cwd ?? store.folder?.uri.fsPath;
  if (!cwd) throw new Error('Open the workspace folder the run was started from.');
  await showText(await showCommit(cwd, run.git.commit), 'diff');
}

/** The stored patch of a run's uncommitted changes. */
/** The run's stored patch, as a read-only diff document (see patchDocument.ts). */
export async function showRunPatch(store: WorkspaceStore, run: Run): Promise<void> {
  await showRunPatchDocument(store, run);
}
