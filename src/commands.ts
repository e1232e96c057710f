import * as vscode from 'vscode';
import type { Run } from './core/types.ts';
import type { WorkspaceStore } from './workspaceStore.ts';
import { type FolderScopes, scopedCommands } from './folders.ts';
import type { RunsNode, RunsTreeProvider } from './views/runsTree.ts';
import { runPickItem } from './format.ts';
import type { RunController } from './runs/runController.ts';
import { configCommands, pickAndStart, readProjectConfig, rememberLaunch } from './runs/startRun.ts';
import { restoreRedacted } from './core/provenance/redact.ts';
import { parseOverrides } from './core/config/overrides.ts';
import { openRunTerminal } from './runs/runTerminal.ts';
import { namesNoRun, resolveRuns } from './core/runs/runRefs.ts';
import { JOB_TAG } from './core/slurm/slurmRuns.ts';

/**
 * How a command names its run(s): a Runs view node (with the view's multi-selection),
 * a run id, a run uid, or nothing (then the user picks).
 */
type RunRef = RunsNode | number | string | undefined;

export interface CommandDeps {
  scopes: FolderScopes;
  tree: RunsTreeProvider;
  log: vscode.LogOutputChannel;
  state: vscode.Memento;
}

/** Registers commands whose failures are logged and shown to the user as one readable message. */
export function guardedCommands(log: vscode.LogOutputChannel) {
  return (id: string, fn: (...args: never[]) => unknown): vscode.Disposable =>
    vscode.commands.registerCommand(id, async (...args: never[]) => {
      try {
        return await fn(...args);
      } catch (err) {
        const message = err instanceof Error ? err.message : String(err);
        log.error(`${id}: ${message}`);
        void vscode.window.showErrorMessage(`RunLens: ${message}`);
        return undefined;
      }
    });
}

export function registerCommands(deps: CommandDeps): vscode.Disposable[] {
  const { scopes, tree, log, state } = deps;
  const showOutput = (store: WorkspaceStore, runs: RunController, run: Run) => {
    const file = runs.logFile(run);
    // a queued Slurm job has no process yet, but its output is still to come
    const going = () => runs.running.includes(run.id) || ['queued', 'running'].includes(store.get()?.runs.get(run.id)?.status ?? '');
    if (file) openRunTerminal(run.name, file, going);
  };
  const register = guardedCommands(log);
  const scoped = scopedCommands(scopes, register);

  return [
    register('runlens.refresh', () => tree.refresh()),
    register('runlens.showLog', () => log.show()),
    register('runlens.loadMoreRuns', (experimentId: number, sweep?: string, folder?: string) =>
      tree.showMore(experimentId, typeof sweep === 'string' && sweep ? sweep : undefined, typeof folder === 'string' ? folder : undefined)),

    scoped('runlens.startRun', async (scope, preset?: string) => {
      const run = await pickAndStart(scope, state, typeof preset === 'string' ? preset : undefined);
      if (run) showOutput(scope.store, scope.runs, run);
      return run?.id;
    }),

    scoped('runlens.startRunWithOverrides', async (scope, preset?: string, overrides?: string) => {
      const run = await pickAndStart(scope, state, typeof preset === 'string' ? preset : undefined, typeof overrides === 'string' ? overrides : true);
      if (run) showOutput(scope.store, scope.runs, run);
      return run?.id;
    }),

    scoped('runlens.stopRun', async ({ store, runs }, ref: RunRef) => {
      const run = await resolveRun(store, ref, 'Stop which run?');
      if (!run) return;
      const waitingJob = run.status === 'queued' && store.require().runs.tags(run.id)[JOB_TAG] !== undefined;
      if (run.status === 'queued' && !waitingJob) {
        // a trial waiting for its turn in a sweep: it never starts
        store.write(['runs'], (s) => s.runs.update(run.id, { status: 'stopped', endedAt: Date.now() }));
        return;
      }
      if (run.status !== 'running' && !waitingJob) throw new Error(`Run ${run.name} is not running (${run.status}).`);
      await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `Stopping ${run.name}…` }, () => runs.stop(run));
    }),

    scoped('runlens.rerun', async ({ store, runs, folder }, ref: RunRef) => {
      const run = await resolveRun(store, ref, 'Run which run again?');
      if (!run) return;
      if (run.command === null || !run.cwd) throw new Error(`Run ${run.name} has no recorded command to run again.`);
      // secret values were not stored: they come from runlens.yaml, or the rerun is refused
      const real = restoreRedacted(run.command, configCommands(folder));
      const [command, ...args] = Array.isArray(real) ? real : [real];
      const params = store.require().runs.params(run.id);
      // a Slurm job runs again on the cluster, with its run configuration's executor
      const project = readProjectConfig(folder);
      const executor = store.require().runs.tags(run.id)[JOB_TAG] === undefined ? undefined
        : project?.runs.find((r) => JSON.stringify(r.command) === JSON.stringify(real))?.executor ?? project?.executor;
      const again = await runs.start({
        experiment: run.experiment, params, tags: { 'runlens.rerun_of': run.uid },
        spec: { command: command!, args, shell: !Array.isArray(real), cwd: run.cwd }, executor,
      });
      await rememberLaunch(state, folder, {
        label: run.name, command: command!, args, shell: !Array.isArray(real), cwd: run.cwd, env: {}, experiment: run.experiment,
        params, overrideStyle: 'argparse', datasets: [], paramsFiles: [],
      });
      showOutput(store, runs, again);
      return again.id;
    }),

    scoped('runlens.tagRun', async ({ store }, ref: RunRef, text?: string) => {
      const run = await resolveRun(store, ref, 'Tag which run?');
      if (!run) return;
      const input = typeof text === 'string' ? text : await vscode.window.showInputBox({
        title: `Tags for ${run.name}`, prompt: 'key=value pairs, e.g. dataset=v2 owner=ana',
        validateInput: (v) => { try { parseOverrides(v); return undefined; } catch (err) { return (err as Error).message; } },
      });
      if (input === undefined) return;
      const tags = Object.fromEntries(Object.entries(parseOverrides(input)).map(([k, v]) => [k, String(v)]));
      store.write(['runs'], (s) => s.runs.setTags(run.id, tags));
    }),

    scoped('runlens.showOutput', async ({ store, runs }, ref: RunRef) => {
      const run = await resolveRun(store, ref, 'Show the output of which run?');
      if (run) showOutput(store, runs, run);
    }),

    scoped('runlens.openLog', async ({ store, runs }, ref: RunRef) => {
      const run = await resolveRun(store, ref, 'Open the log of which run?');
      const file = run && runs.logFile(run);
      if (file) await vscode.window.showTextDocument(vscode.Uri.file(file), { preview: true });
    }),

    scoped('runlens.revealStore', async ({ store }) => {
      const dir = store.dir;
      if (!dir) throw new Error('Open a folder to use RunLens.');
      store.require();
      await vscode.commands.executeCommand('revealInExplorer', vscode.Uri.file(dir));
    }),

    scoped('runlens.renameRun', async ({ store }, ref: RunRef, newName?: string) => {
      const run = await resolveRun(store, ref, 'Rename which run?');
      if (!run) return;
      const name = typeof newName === 'string' ? newName : await vscode.window.showInputBox({
        title: 'Rename Run', value: run.name, prompt: `New name for ${run.name}`,
        validateInput: (v) => (v.trim() ? undefined : 'A run name cannot be empty.'),
      });
      if (name === undefined) return;
      store.write(['runs'], (s) => s.runs.update(run.id, { name }));
    }),

    scoped('runlens.addNote', async ({ store }, ref: RunRef, text?: string) => {
      const run = await resolveRun(store, ref, 'Add a note to which run?');
      if (!run) return;
      const notes = typeof text === 'string' ? text : await vscode.window.showInputBox({
        title: `Note for ${run.name}`, value: run.notes, prompt: 'What was tried, what was learned. Empty clears the note.',
      });
      if (notes === undefined) return;
      store.write(['runs'], (s) => s.runs.update(run.id, { notes: notes.trim() }));
    }),

    scoped('runlens.toggleStar', async ({ store }, ref: RunRef) => {
      const run = await resolveRun(store, ref, 'Star which run?');
      if (!run) return;
      store.write(['runs'], (s) => s.runs.update(run.id, { starred: !run.starred }));
    }),

    scoped('runlens.copyRunId', async ({ store }, ref: RunRef) => {
      const run = await resolveRun(store, ref, 'Copy the id of which run?');
      if (!run) return;
      await vscode.env.clipboard.writeText(run.uid);
      vscode.window.setStatusBarMessage(`Copied run id ${run.uid}`, 3000);
    }),

    scoped('runlens.deleteRun', async ({ store }, ref: RunRef, second?: RunsNode[] | { confirmed: true }) => {
      const selected = Array.isArray(second) && second.length > 1 ? second : [ref];
      const runs: Run[] = [];
      for (const r of selected) {
        const run = await resolveRun(store, r, 'Delete which run?');
        if (run) runs.push(run);
      }
      if (!runs.length) return;
      const confirmed = (second as { confirmed?: unknown } | undefined)?.confirmed === true;
      if (!confirmed) {
        const what = runs.length === 1 ? `run "${runs[0]!.name}"` : `${runs.length} runs`;
        const answer = await vscode.window.showWarningMessage(
          `Delete ${what}? Its params, metrics and notes are removed from the store. This cannot be undone.`,
          { modal: true }, 'Delete');
        if (answer !== 'Delete') return;
      }
      store.write(['runs', 'metrics', 'models'], (s) => { for (const run of runs) s.runs.delete(run.id); });
      log.info(`Deleted ${runs.map((r) => `${r.name} (${r.uid})`).join(', ')}`);
    }),
  ];
}

/** Finds the run a command is about, asking the user when nothing was given. */
async function resolveRun(store: WorkspaceStore, ref: RunRef, placeHolder: string): Promise<Run | undefined> {
  const s = store.get();
  if (!s) throw new Error(store.error ?? 'There are no runs in this workspace yet.');
  if (!namesNoRun(ref)) return resolveRuns(s, ref)[0];
  const runs = s.runs.list({ limit: 200 });
  if (!runs.length) throw new Error('There are no runs in this workspace yet.');
  const pick = await vscode.window.showQuickPick(
    runs.map(runPickItem),
    { placeHolder, matchOnDescription: true });
  return pick?.run;
}
