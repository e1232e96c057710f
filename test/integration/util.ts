import * as vscode from 'vscode';
import { execFileSync } from 'node:child_process';
import type { RunLensApi } from '../../src/extension.ts';
import type { RunsNode } from '../../src/views/runsTree.ts';
import type { Store } from '../../src/core/store/store.ts';
import type { Run } from '../../src/core/types.ts';

export const EXTENSION_ID = 'runlens.runlens';

/** Figures the tests measured (e.g. activation time), written with the results. */
export const measured: Record<string, number> = {};

export async function activate(): Promise<RunLensApi> {
  const ext = vscode.extensions.getExtension<RunLensApi>(EXTENSION_ID);
  if (!ext) throw new Error(`extension ${EXTENSION_ID} is not installed`);
  return ext.activate();
}

export function workspaceDir(): string {
  const folder = vscode.workspace.workspaceFolders?.[0];
  if (!folder) throw new Error('the tests need a workspace folder');
  return folder.uri.fsPath;
}

/** Waits until check() returns a truthy value (the view refreshes asynchronously). */
export async function eventually<T>(check: () => T | undefined | false, what: string, timeoutMs = 10_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = check();
      if (v) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The Runs view as a user sees it: experiments, each with its rows (label and description). */
export function viewRows(api: RunLensApi): { label: string; description: string; children: ReturnType<typeof row>[] }[] {
  const tree = api.runsTree;
  return tree.getChildren().map((e) => ({ ...row(api, e), children: tree.getChildren(e).map((c) => row(api, c)) }));
}

export function row(api: RunLensApi, node: RunsNode) {
  const item = api.runsTree.getTreeItem(node);
  return {
    node,
    label: typeof item.label === 'string' ? item.label : item.label?.label ?? '',
    description: String(item.description ?? ''),
    icon: item.iconPath instanceof vscode.ThemeIcon ? item.iconPath.id : undefined,
    contextValue: item.contextValue,
    command: item.command?.command,
  };
}

/** Waits for a run to leave `running` and returns it as it ended. */
export async function runEnded(store: Store, runId: number, timeoutMs = 60_000): Promise<Run> {
  return eventually(() => { const r = store.runs.get(runId)!; return r.status !== 'running' && r; }, `run ${runId} to end`, timeoutMs);
}

export function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', args, { cwd, encoding: 'utf8' });
}

/** Runs fn; when it fails, the error carries the last lines of the RunLens log (what the extension saw). */
export async function withLog<T>(api: RunLensApi, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    const { readFileSync } = await import('node:fs');
    const { join } = await import('node:path');
    let tail = '';
    try {
      tail = readFileSync(join(api.logUri.fsPath, 'RunLens.log'), 'utf8').split('\n').slice(-40).join('\n');
    } catch (e) {
      tail = `(no log: ${String(e)})`;
    }
    throw new Error(`${err instanceof Error ? err.message : String(err)}\n--- RunLens log ---\n${tail}`);
  }
}
