import * as vscode from 'vscode';
import { WorkspaceStore } from './workspaceStore.ts';
import { RunsTreeProvider } from './views/runsTree.ts';
import { guardedCommands, registerCommands } from './commands.ts';
import { RunsFilterState, registerFilterCommands } from './views/runFilter.ts';
import { RunController } from './runs/runController.ts';
import { createRunsStatusBar } from './runs/statusBar.ts';
import { readProjectConfig } from './runs/startRun.ts';
import type { ProjectConfig } from './core/config/runConfig.ts';
import { watchRunConfig } from './runs/configDiagnostics.ts';
import { RunSelection } from './views/runSelection.ts';
import { ComparePanel } from './compare/comparePanel.ts';
import { registerCompareCommands } from './compare/compareCommands.ts';
import { ModelsTreeProvider } from './views/modelsTree.ts';
import { LineagePanel } from './models/lineagePanel.ts';
import { registerModelCommands } from './models/modelCommands.ts';
import { SweepRunner } from './runs/sweeps.ts';
import { registerSweepCommands } from './runs/sweepCommands.ts';
import { registerImportCommands } from './runs/importCommands.ts';
import { registerExportCommands } from './runs/exportCommands.ts';
import { registerPatchDocuments } from './runs/patchDocument.ts';
import { HPARAM_SELECTOR, HparamLensProvider } from './hparams/hparamLenses.ts';
import { registerHparamCommands } from './hparams/hparamCommands.ts';
import { registerCompactCommand } from './store/compactCommand.ts';
import { registerCreateConfig } from './runs/createConfig.ts';

/** What activate() returns: used by the integration tests and by other extensions. */
export interface RunLensApi {
  readonly activationMs: number;
  /** Folder of the RunLens log file. */
  readonly logUri: vscode.Uri;
  readonly store: WorkspaceStore;
  readonly runsTree: RunsTreeProvider;
  readonly runs: RunController;
  readonly selection: RunSelection;
  readonly compare: ComparePanel;
  readonly filter: RunsFilterState;
  readonly modelsTree: ModelsTreeProvider;
  readonly lineage: LineagePanel;
  readonly sweeps: SweepRunner;
  readonly hparamLenses: HparamLensProvider;
}

/** Composition root: wires the store, the views and the commands. No heavy work here. */
export function activate(context: vscode.ExtensionContext): RunLensApi {
  const started = performance.now();
  const log = vscode.window.createOutputChannel('RunLens', { log: true });
  const store = new WorkspaceStore(log);
  // runlens.yaml, read once and again only when the file changes (the status bar asks for the
  // primary metric on every update while runs are going; lenses ask on every keystroke).
  let project: { config: ProjectConfig | undefined } | undefined;
  const projectConfig = () => {
    const folder = store.folder;
    project ??= { config: folder ? readProjectConfig(folder) : undefined };
    return project.config;
  };
  const primaryMetric = () => projectConfig()?.primaryMetric;
  const selection = new RunSelection(context.workspaceState);
  const filter = new RunsFilterState(context.workspaceState);
  const runs = new RunController(store, context.extensionPath, log);
  const runsTree = new RunsTreeProvider({
    store, selection, filter, primaryMetric, faults: { current: () => runs.faults, onDidChange: runs.onDidChangeFaults },
  });
  const runsView = vscode.window.createTreeView('runlens.runs', {
    treeDataProvider: runsTree, showCollapseAll: true, canSelectMany: true, manageCheckboxStateManually: true,
  });
  runsTree.attach(runsView);
  const sweeps = new SweepRunner({ store, runs, log, primaryMetric });
  const compare = new ComparePanel({ store, extensionUri: context.extensionUri, log, primaryMetric });
  const modelsTree = new ModelsTreeProvider({ store, primaryMetric });
  const modelsView = vscode.window.createTreeView('runlens.models', { treeDataProvider: modelsTree, canSelectMany: true });
  modelsTree.attach(modelsView);
  const lineage = new LineagePanel(store, context.extensionUri);
  const configWatcher = vscode.workspace.createFileSystemWatcher('**/runlens.yaml');
  const hparamLenses = new HparamLensProvider({ store, project: projectConfig, primaryMetric });
  const forget = () => { project = undefined; runsTree.refresh(); modelsTree.refresh(); hparamLenses.refresh(); };
  context.subscriptions.push(
    log, store, selection, filter, runsTree, runsView, runs, compare, modelsTree, modelsView, lineage, configWatcher,
    runsView.onDidChangeCheckboxState((e) => runsTree.checkboxesChanged(e.items)),
    configWatcher.onDidChange(forget), configWatcher.onDidCreate(forget), configWatcher.onDidDelete(forget),
    store.onDidChangeError((message) => { runsView.message = message; }),
    createRunsStatusBar(store, runs, () => primaryMetric()?.name),
    watchRunConfig(),
    ...registerCommands({ store, tree: runsTree, log, runs, state: context.workspaceState }),
    ...registerCompareCommands({ store, selection, panel: compare, log }),
    ...registerFilterCommands(store, filter, guardedCommands(log)),
    ...registerModelCommands({ store, runs, compare, lineage, log }),
    sweeps,
    ...registerSweepCommands({ store, sweeps, log }),
    ...registerImportCommands({ store, log }),
    ...registerExportCommands({ store, selection, log }),
    registerPatchDocuments(store),
    hparamLenses,
    vscode.languages.registerCodeLensProvider(HPARAM_SELECTOR, hparamLenses),
    vscode.languages.registerHoverProvider(HPARAM_SELECTOR, hparamLenses),
    ...registerHparamCommands(hparamLenses, compare, log),
    registerCompactCommand(store, log),
    registerCreateConfig(() => store.folder, log),
  );
  // Runs a previous window left going: picked up right after activation, not during it.
  setTimeout(() => { runs.recover(); sweeps.recover(); }, 0);
  const activationMs = performance.now() - started;
  log.info(`RunLens ${context.extension.packageJSON.version} activated in ${activationMs.toFixed(1)} ms`
    + ` (trusted workspace: ${vscode.workspace.isTrusted})`);
  return { activationMs, logUri: context.logUri, store, runsTree, runs, selection, compare, filter, modelsTree, lineage, hparamLenses, sweeps };
}

export function deactivate(): void {}
