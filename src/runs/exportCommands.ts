import * as vscode from 'vscode';
import { mkdirSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Store } from '../core/store/store.ts';
import type { Run } from '../core/types.ts';
import type { WorkspaceStore } from '../workspaceStore.ts';
import { type FolderScopes, scopedCommands } from '../folders.ts';
import type { RunsNode } from '../views/runsTree.ts';
import type { ModelsNode } from '../views/modelsTree.ts';
import type { RunSelection } from '../views/runSelection.ts';
import type { RunsFilterState } from '../views/runFilter.ts';
import { exportRunsCsv } from '../core/export/csv.ts';
import { exportRunsJson } from '../core/export/json.ts';
import { type MlflowLayoutResult, exportMlflowLayout } from '../core/export/mlflowLayout.ts';
import { guardedCommands } from '../commands.ts';
import { runPickItem } from '../format.ts';
import { resolveVersion } from '../models/modelCommands.ts';
import { resolveRuns } from '../core/runs/runRefs.ts';

export type ExportFormat = 'csv' | 'json';

/** Runs named by a command: view nodes, run ids, or uids. */
type RunRefs = RunsNode | RunsNode[] | number | string | (number | string)[] | undefined;

export interface ExportCommandDeps {
  scopes: FolderScopes;
  selection: RunSelection;
  /** The Runs view's filter: "the runs the view shows" can be exported too. */
  filter: RunsFilterState;
  log: vscode.LogOutputChannel;
}

export function registerExportCommands(deps: ExportCommandDeps): vscode.Disposable[] {
  const { scopes, selection, filter, log } = deps;
  /** The runs the view shows under its filter (every page, not only the loaded one). */
  const shown = (s: Store) => s.runs.list({ ...filter.query(), limit: 1_000_000 });
  const scoped = scopedCommands(scopes, guardedCommands(log), (s, ref) => { try { runOf(s, ref); return true; } catch { return false; } });
  return [
    /**
     * Export Runs: the runs given (from a context menu, the view's multi-selection), else the runs
     * checked for comparison, else picked; as CSV (one row per run) or JSON (everything, points included).
     */
    scoped('runlens.exportRuns', async ({ store }, refs?: RunRefs, second?: RunsNode[] | string, target?: string | vscode.Uri) => {
      const s = requireStore(store);
      const multi = Array.isArray(second) && second.length > 1 ? second : undefined;
      let runs = refs === VIEW ? [] : resolveRuns(s, multi ?? refs);
      let source: RunsSource = 'selected';
      if (refs === VIEW) [runs, source] = [shown(s), 'shown'];
      else if (!runs.length && filter.active) {
        // the view is filtered: say which runs, the ones it shows or the ones checked
        const picked = await pickSource(s, checkedRuns(s, selection), shown(s), filter.describe());
        if (!picked) return undefined;
        [runs, source] = picked;
      }
      if (!runs.length && source === 'selected') [runs, source] = [checkedRuns(s, selection), 'checked'];
      if (!runs.length) [runs, source] = [await pickRuns(s), 'picked'];
      if (!runs.length) return undefined;
      const format = typeof second === 'string' ? checkFormat(second) : await pickFormat();
      if (!format) return undefined;
      const what = describeRuns(runs, source);
      const uri = target !== undefined ? toUri(target) : await vscode.window.showSaveDialog({
        title: `Export ${what}`, saveLabel: 'Export',
        defaultUri: defaultUri(store, `${runs.length === 1 ? safeName(runs[0]!.name) : 'runs'}.${format}`),
        filters: format === 'csv' ? { CSV: ['csv'] } : { JSON: ['json'] },
      });
      if (!uri) return undefined;
      await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `Exporting ${what}…` }, async () => {
        const ids = runs.map((r) => r.id);
        const text = format === 'csv' ? exportRunsCsv(s, ids) : JSON.stringify(exportRunsJson(s, ids));
        await writeFile(uri.fsPath, text);
      });
      log.info(`Exported ${what} as ${format.toUpperCase()} to ${uri.fsPath}`);
      if (target === undefined) {
        void vscode.window.showInformationMessage(`Exported ${what} to ${vscode.workspace.asRelativePath(uri)}.`, 'Open').then((choice) => {
          if (choice === 'Open') void vscode.window.showTextDocument(uri, { preview: true });
        });
      }
      return uri.fsPath;
    }),

    /** One run (or a model version's run) written as MLflow's mlruns/ layout under a folder. */
    scoped('runlens.exportMlflow', async ({ store }, ref?: RunsNode | ModelsNode | number | string, targetDir?: string | vscode.Uri): Promise<MlflowLayoutResult | undefined> => {
      const s = requireStore(store);
      const run = ref === undefined ? (await pickRuns(s, false))[0] : runOf(s, ref);
      if (!run) return undefined;
      let dir = targetDir === undefined ? undefined : toUri(targetDir).fsPath;
      if (dir === undefined) {
        const picked = await vscode.window.showOpenDialog({
          title: `Export run ${run.name} in MLflow layout (an mlruns folder is made inside)`, openLabel: 'Export Here',
          defaultUri: store.folder.uri, canSelectFiles: false, canSelectFolders: true, canSelectMany: false,
        });
        dir = picked?.[0]?.fsPath;
      }
      if (!dir) return undefined;
      const result = exportMlflowLayout(s, run.id, dir);
      log.info(`Exported run ${run.name} in MLflow layout to ${result.dir}`);
      for (const k of result.skipped) log.warn(`Export of run ${run.name} to MLflow layout: skipped ${k.what}: ${k.why}`);
      if (targetDir === undefined) {
        const where = vscode.workspace.asRelativePath(result.dir);
        const text = result.skipped.length
          ? `Exported run ${run.name} to ${where}; skipped ${result.skipped.length}: ${result.skipped[0]!.what} (${result.skipped[0]!.why})${result.skipped.length > 1 ? ', …' : ''}`
          : `Exported run ${run.name} to ${where}.`;
        const show = result.skipped.length ? vscode.window.showWarningMessage : vscode.window.showInformationMessage;
        void show(text, ...(result.skipped.length ? ['Show Details'] : [])).then((choice) => {
          if (choice === 'Show Details') log.show();
        });
      }
      return result;
    }),
  ];
}

function requireStore(store: WorkspaceStore): Store {
  const s = store.get();
  if (!s) throw new Error(store.error ?? 'There are no runs in this workspace yet.');
  return s;
}

const isNode = (v: unknown): v is { kind: string } => typeof v === 'object' && v !== null && !Array.isArray(v) && 'kind' in v;

function found(run: Run | undefined, ref: string): Run {
  if (!run) throw new Error(`Run ${ref} does not exist; it may have been deleted in another window.`);
  return run;
}

/** A run (node, id or uid), or a model version's run (Models view node, "name@alias" or "name:3"). */
function runOf(s: Store, ref: RunsNode | ModelsNode | number | string): Run {
  if (isNode(ref) && ref.kind === 'version') return found(s.runs.get((ref as { version: { runId: number } }).version.runId), 'of the model version');
  if (typeof ref === 'string' && !s.runs.getByUid(ref) && /[@:]/.test(ref)) {
    const v = resolveVersion(s, ref);
    return found(s.runs.get(v.runId), `of ${v.model} v${v.version}`);
  }
  const [run] = resolveRuns(s, ref as RunRefs);
  if (!run) throw new Error('Export which run? Pick one in the Runs view.');
  return run;
}

function checkedRuns(s: Store, selection: RunSelection): Run[] {
  return selection.list().map((uid) => s.runs.getByUid(uid)).filter((r) => r !== undefined)
    .sort((a, b) => a.createdAt - b.createdAt || a.id - b.id);
}

async function pickRuns(s: Store, many = true): Promise<Run[]> {
  const recent = s.runs.list({ limit: 500 });
  if (!recent.length) throw new Error('There are no runs in this workspace yet.');
  if (!many) {
    const pick = await vscode.window.showQuickPick(recent.map(runPickItem), { placeHolder: 'Export which run?', matchOnDescription: true });
    return pick ? [pick.run] : [];
  }
  const picks = await vscode.window.showQuickPick(recent.map(runPickItem),
    { canPickMany: true, placeHolder: 'Export which runs? (tip: check runs in the Runs view)', matchOnDescription: true });
  return picks?.map((p) => p.run) ?? [];
}

function checkFormat(format: string): ExportFormat {
  const f = format.toLowerCase();
  if (f !== 'csv' && f !== 'json') throw new Error(`Export as ${format}? RunLens exports runs as csv or json.`);
  return f;
}

async function pickFormat(): Promise<ExportFormat | undefined> {
  const pick = await vscode.window.showQuickPick([
    { label: 'CSV', description: 'one row per run: params, and last, min and max of each metric', format: 'csv' as const },
    { label: 'JSON', description: 'everything: params, tags, provenance, models and every metric point', format: 'json' as const },
  ], { title: 'Export Runs', placeHolder: 'Export as…' });
  return pick?.format;
}

function toUri(target: string | vscode.Uri): vscode.Uri {
  return typeof target === 'string' ? vscode.Uri.file(target) : target;
}

/** Where the runs to export came from: named by the command or view selection, checked, shown by the filtered view, or picked. */
export type RunsSource = 'selected' | 'checked' | 'shown' | 'picked';

/** `runlens.exportRuns` given this exports the runs the Runs view shows under its filter. */
export const VIEW = 'view';

/** Names the runs an export writes, and which ones they are: the checked runs ignore the view's filter. */
export function describeRuns(runs: Run[], source: RunsSource): string {
  if (runs.length === 1) return `run ${runs[0]!.name}`;
  if (source === 'checked') return `the ${runs.length} runs checked for comparison (whatever the view's filter shows)`;
  if (source === 'shown') return `the ${runs.length} runs the Runs view shows`;
  return `the ${runs.length} ${source} runs`;
}

/** With the view filtered: the runs it shows, the checked runs, or runs picked one by one. */
async function pickSource(s: Store, checked: Run[], shown: Run[], filter: string): Promise<[Run[], RunsSource] | undefined> {
  type Item = vscode.QuickPickItem & { take: () => [Run[], RunsSource] | Promise<[Run[], RunsSource]> };
  const items: Item[] = [
    { label: `$(filter) The ${shown.length} run${shown.length === 1 ? '' : 's'} the Runs view shows`, description: filter, take: () => [shown, 'shown'] },
    ...(checked.length ? [{ label: `$(check) The ${checked.length} checked run${checked.length === 1 ? '' : 's'}`, description: 'checked for comparison, whatever the filter shows', take: (): [Run[], RunsSource] => [checked, 'checked'] }] : []),
    { label: '$(list-selection) Pick runs…', take: async (): Promise<[Run[], RunsSource]> => [await pickRuns(s), 'picked'] },
  ];
  const pick = await vscode.window.showQuickPick(items, { title: 'Export Runs', placeHolder: 'Export which runs?' });
  return pick?.take();
}

/** A default export file in the store's exports/ folder, which git ignores with the store; undefined without a store. */
export function defaultUri(store: WorkspaceStore, name: string): vscode.Uri | undefined {
  const dir = store.dir;
  if (!dir) return undefined;
  const exports = join(dir, 'exports');
  mkdirSync(exports, { recursive: true });
  return vscode.Uri.file(join(exports, name));
}

function safeName(name: string): string {
  return name.replace(/[^\w.-]+/g, '_').slice(0, 80) || 'run';
}
