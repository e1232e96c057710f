import * as vscode from 'vscode';
import { existsSync, statSync } from 'node:fs';
import { type FolderScopes, scopedCommands } from '../folders.ts';
import type { ImportReport } from '../core/importers/report.ts';
import { findMlflowStore } from '../core/importers/mlflowSource.ts';
import { runTask, taskScript } from '../core/tasks/taskClient.ts';
import { guardedCommands } from '../commands.ts';

export type ImportKind = 'mlflow' | 'tensorboard';

export interface ImportCommandDeps {
  scopes: FolderScopes;
  log: vscode.LogOutputChannel;
  /** Where dist/taskWorker.js is: the import runs in that worker thread. */
  extensionPath: string;
}

/**
 * "RunLens: Import Runs…": MLflow (a database file, a sqlite:/// URI, an mlruns folder) or a
 * TensorBoard log folder. Importing only reads those files and writes to the store, so it is
 * allowed in untrusted workspaces too. The import runs in the task worker, on its own connection.
 */
export function registerImportCommands(deps: ImportCommandDeps): vscode.Disposable[] {
  const { scopes, log } = deps;
  const script = taskScript(deps.extensionPath);
  const scoped = scopedCommands(scopes, guardedCommands(log));
  return [
    scoped('runlens.importRuns', async ({ store, folder }, source?: string | vscode.Uri, kind?: ImportKind) => {
      const picked = source === undefined ? await pickSource(folder.uri) : { source: pathOf(source), kind: kind ?? guessKind(pathOf(source)) };
      if (!picked) return undefined;
      const name = picked.kind === 'mlflow' ? 'MLflow' : 'TensorBoard';
      const report = await store.writeSteps(['runs', 'metrics', 'models'], (s) => vscode.window.withProgress({
        location: vscode.ProgressLocation.Notification, title: `Importing ${name} runs`, cancellable: true,
      }, (progress, token) => {
        const abort = new AbortController();
        token.onCancellationRequested(() => abort.abort());
        let shown = 0;
        const options = {
          signal: abort.signal,
          onProgress: (done: number, total: number) => {
            progress.report({ message: `${done} of ${total} runs`, increment: ((done - shown) / Math.max(total, 1)) * 100 });
            shown = done;
          },
        };
        return runTask(script, s, { kind: 'import', from: picked.kind, source: picked.source }, { ...options, log: (m) => log.warn(m) });
      }));
      const summary = importSummary(report);
      log.info(`Import from ${picked.source} (${name}): ${summary}`);
      for (const k of report.skipped) log.warn(`Import from ${picked.source}: skipped ${k.what}: ${k.why}`);
      const show = report.skipped.length ? vscode.window.showWarningMessage : vscode.window.showInformationMessage;
      void show(summary, ...(report.skipped.length ? ['Show Details'] : [])).then((choice) => {
        if (choice === 'Show Details') log.show();
      });
      return report;
    }),
  ];
}

/** One line for people: "Imported 12 runs (3 unchanged), 1.2M points, 2 model versions; skipped 1: …". */
export function importSummary(r: ImportReport): string {
  const total = r.runs + r.updated + r.unchanged;
  const detail = [r.unchanged && `${r.unchanged} unchanged`, r.updated && `${r.updated} updated`].filter(Boolean).join(', ');
  let text = `${r.cancelled ? 'Import cancelled. ' : ''}Imported ${plural(total, 'run')}${detail ? ` (${detail})` : ''}, ${plural(r.points, 'point', compact)}`;
  if (r.models) text += `, ${plural(r.models, 'model version')}`;
  if (r.skipped.length) {
    const first = r.skipped[0]!;
    text += `; skipped ${r.skipped.length}: ${first.what} (${first.why})${r.skipped.length > 1 ? ', …' : ''}`;
  }
  return text;
}

/** 950, 12.3k, 1.2M. */
export function compact(n: number): string {
  if (n < 1000) return String(n);
  if (n < 999_500) return `${Number((n / 1e3).toFixed(n < 1e4 ? 1 : 0))}k`;
  return `${Number((n / 1e6).toFixed(n < 1e7 ? 1 : 0))}M`;
}

const plural = (n: number, word: string, show: (n: number) => string = String) => `${show(n)} ${word}${n === 1 ? '' : 's'}`;

function pathOf(source: string | vscode.Uri): string {
  return typeof source === 'string' ? source : source.fsPath;
}

/**
 * What a given source holds: a sqlite: URI or a file is an MLflow database; a folder is MLflow's
 * when it is (or holds) mlruns/ or mlflow.db, or has experiment folders with a meta.yaml; else TensorBoard's.
 */
export function guessKind(source: string): ImportKind {
  if (/^(sqlite|file):/.test(source)) return 'mlflow';
  if (!existsSync(source) || !statSync(source).isDirectory()) return 'mlflow';
  return findMlflowStore(source).source ? 'mlflow' : 'tensorboard'; // by content, whatever the files are named
}

async function pickSource(folder: vscode.Uri): Promise<{ source: string; kind: ImportKind } | undefined> {
  type Item = vscode.QuickPickItem & { pick: () => Promise<{ source: string; kind: ImportKind } | undefined> };
  const open = async (kind: ImportKind, folders: boolean, title: string) => {
    const uris = await vscode.window.showOpenDialog({
      title, defaultUri: folder, canSelectFiles: !folders, canSelectFolders: folders, canSelectMany: false, openLabel: 'Import',
      filters: folders ? undefined : { 'MLflow database': ['db', 'sqlite', 'sqlite3'], 'All files': ['*'] },
    });
    return uris?.[0] && { source: uris[0].fsPath, kind };
  };
  const items: Item[] = [
    { label: '$(database) MLflow database', description: 'mlflow.db', pick: () => open('mlflow', false, 'MLflow database file') },
    { label: '$(folder) MLflow folder', description: 'mlruns', pick: () => open('mlflow', true, 'MLflow mlruns folder') },
    {
      label: '$(link) MLflow tracking URI', description: 'sqlite:///path/to/mlflow.db',
      pick: async () => {
        const uri = await vscode.window.showInputBox({
          title: 'MLflow tracking URI', placeHolder: 'sqlite:///path/to/mlflow.db',
          validateInput: (v) => (/^(sqlite:\/\/\/|file:\/\/)./.test(v.trim()) ? undefined : 'A local URI: sqlite:///… or file://…'),
        });
        return uri === undefined ? undefined : { source: uri.trim(), kind: 'mlflow' };
      },
    },
    { label: '$(graph-line) TensorBoard log folder', description: 'events.out.tfevents.*', pick: () => open('tensorboard', true, 'TensorBoard log folder') },
  ];
  const choice = await vscode.window.showQuickPick(items, { title: 'RunLens: Import Runs', placeHolder: 'Import runs from…' });
  return choice?.pick();
}
