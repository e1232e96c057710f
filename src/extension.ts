import * as vscode from 'vscode';
import type { WorkspaceStore } from './workspaceStore.ts';
import { FolderScopes } from './folders.ts';
import { RunsTreeProvider } from './views/runsTree.ts';
import { guardedCommands, registerCommands } from './commands.ts';
import { RunsFilterState, registerFilterCommands } from './views/runFilter.ts';
import { RunController } from './runs/runController.ts';
import { createRunsStatusBar } from './runs/statusBar.ts';
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
import { HelperEnvironment, registerInstallHelper } from './runs/pythonHelper.ts';
import { registerGateCommand } from './models/gateCommand.ts';

/** What activate() returns: used by the integration tests and by other extensions. */
export interface RunLensApi {
  readonly activationMs: number;
  /** Folder of the RunLens log file. */
  readonly logUri: vscode.Uri;
  /** Every workspace folder's scope (store, runs, sweeps, panels). */
  readonly scopes: FolderScopes;
  /** The first folder's store, runs, sweeps and panels (a single-folder workspace has only these). */
  readonly store: WorkspaceStore;
  readonly runs: RunController;
  readonly compare: ComparePanel;
  readonly lineage: LineagePanel;
  readonly sweeps: SweepRunner;
  readonly runsTree: RunsTreeProvider;
  readonly selection: RunSelection;
  readonly filter: RunsFilterState;
  readonly modelsTree: ModelsTreeProvider;
  readonly hparamLenses: HparamLensProvider;
  /** The helper's variables for terminals and Python debug sessions. */
  readonly helperEnvironment: HelperEnvironment;
}

/** Composition root: wires the folders' scopes, the views and the commands. No heavy work here. */
export function activate(context: vscode.ExtensionContext): RunLensApi {
  const started = performance.now();
  const log = vscode.window.createOutputChannel('RunLens', { log: true });
  // each workspace folder: its store, runs, sweeps and panels (runlens.yaml is read when first asked)
  const scopes = new FolderScopes(log, (store, project) => {
    const runs = new RunController(store, context.extensionPath, log, () => project()?.experiment);
    const primaryMetric = () => project()?.primaryMetric;
    const sweeps = new SweepRunner({ store, runs, log, primaryMetric });
    const compare = new ComparePanel({ store, extensionUri: context.extensionUri, log, primaryMetric });
    const lineage = new LineagePanel(store, context.extensionUri);
    // runs a previous window left going: picked up right after the scope is made, not during activation
    const recover = setTimeout(() => { runs.recover(); sweeps.recover(); }, 0);
    return {
      runs, sweeps, compare, lineage,
      dispose: () => { clearTimeout(recover); for (const d of [lineage, compare, sweeps, runs]) d.dispose(); },
    };
  });
  const first = () => {
    const scope = scopes.first;
    if (!scope) throw new Error('Open a folder to use RunLens.');
    return scope;
  };
  const selection = new RunSelection(context.workspaceState);
  const filter = new RunsFilterState(context.workspaceState);
  const runsTree = new RunsTreeProvider({ scopes, selection, filter });
  const runsView = vscode.window.createTreeView('runlens.runs', {
    treeDataProvider: runsTree, showCollapseAll: true, canSelectMany: true, manageCheckboxStateManually: true,
  });
  runsTree.attach(runsView);
  const modelsTree = new ModelsTreeProvider({ scopes });
  const modelsView = vscode.window.createTreeView('runlens.models', { treeDataProvider: modelsTree, canSelectMany: true });
  modelsTree.attach(modelsView);
  const configWatcher = vscode.workspace.createFileSystemWatcher('**/runlens.yaml');
  const hparamLenses = new HparamLensProvider({ scopes });
  const forget = () => { scopes.forgetConfig(); runsTree.refresh(); modelsTree.refresh(); hparamLenses.refresh(); };
  const guarded = guardedCommands(log);
  const helperEnvironment = new HelperEnvironment(context, scopes);
  context.subscriptions.push(
    log, scopes, selection, filter, runsTree, runsView, modelsTree, modelsView, configWatcher,
    runsView.onDidChangeCheckboxState((e) => runsTree.checkboxesChanged(e.items)),
    configWatcher.onDidChange(forget), configWatcher.onDidCreate(forget), configWatcher.onDidDelete(forget),
    createRunsStatusBar(scopes),
    watchRunConfig(),
    ...registerCommands({ scopes, tree: runsTree, log, state: context.workspaceState }),
    ...registerCompareCommands({ scopes, selection, log }),
    ...registerFilterCommands(scopes, filter, guarded),
    ...registerModelCommands({ scopes, log }),
    registerGateCommand({ scopes, log }),
    ...registerSweepCommands({ scopes, log }),
    ...registerImportCommands({ scopes, log, extensionPath: context.extensionPath }),
    ...registerExportCommands({ scopes, selection, filter, log }),
    registerPatchDocuments(scopes),
    hparamLenses,
    vscode.languages.registerCodeLensProvider(HPARAM_SELECTOR, hparamLenses),
    vscode.languages.registerHoverProvider(HPARAM_SELECTOR, hparamLenses),
    ...registerHparamCommands(hparamLenses, scopes, log),
    registerCompactCommand(scopes, log),
    helperEnvironment,
    registerInstallHelper(scopes, helperEnvironment.helperDir, log),
    registerCreateConfig(async () => (vscode.workspace.workspaceFolders?.length ? (await scopes.for())?.folder : undefined), log),
  );
  const activationMs = performance.now() - started;
  log.info(`RunLens ${context.extension.packageJSON.version} activated in ${activationMs.toFixed(1)} ms`
    + ` (trusted workspace: ${vscode.workspace.isTrusted}, ${scopes.all.length} folder(s))`);
  return {
    activationMs, logUri: context.logUri, scopes, helperEnvironment, runsTree, selection, filter, modelsTree, hparamLenses,
    get store() { return first().store; },
    get runs() { return first().runs; },
    get compare() { return first().compare; },
    get lineage() { return first().lineage; },
    get sweeps() { return first().sweeps; },
  };
}

export function deactivate(): void {}
