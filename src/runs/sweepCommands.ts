import * as vscode from 'vscode';
import { isAbsolute, join } from 'node:path';
import type { ParamValue } from '../core/types.ts';
import type { RunConfig } from '../core/config/runConfig.ts';
import type { WorkspaceStore } from '../workspaceStore.ts';
import { type FolderScopes, scopedCommands } from '../folders.ts';
import type { RunsNode } from '../views/runsTree.ts';
import { guardedCommands } from '../commands.ts';
import { parseSweepValues } from '../core/hparams/sweep.ts';
import { type Trial, trialsOf } from '../core/hparams/sweepTrials.ts';
import { readParams, readProjectConfig } from './startRun.ts';
import type { EarlyStop, StartedSweep, SweepRunner } from './sweeps.ts';

/** What a caller (the CodeLens "Sweep…" action, tests) fills in; New Sweep asks only for the rest. */
export interface SweepPreset {
  run?: string;
  /** Per param key: values as typed (`0.1, 0.3`, `1..4`, `log(1e-4, 1e-1, 4)`) or a list. */
  params?: { [key: string]: string | ParamValue[] };
  method?: 'grid' | 'random';
  count?: number;
  concurrency?: number;
  seed?: number;
  earlyStop?: EarlyStop;
}

/** A sweep node of the Runs view, or a sweep id. */
type SweepRef = RunsNode | string | undefined;

export interface SweepCommandDeps {
  scopes: FolderScopes;
  log: vscode.LogOutputChannel;
}

/** What one folder's sweep commands work with. */
interface SweepScope {
  store: WorkspaceStore;
  sweeps: SweepRunner;
  log: vscode.LogOutputChannel;
}

/** Above this many trials, starting a sweep asks first. */
const CONFIRM_OVER = 20;
const ALL = 1_000_000;

export function registerSweepCommands(deps: SweepCommandDeps): vscode.Disposable[] {
  const { scopes, log } = deps;
  // a sweep id names the folder whose store has that sweep
  const scoped = scopedCommands(scopes, guardedCommands(log), (s, ref) => s.runs.sweeps().some((w) => w.id === ref));
  return [
    scoped('runlens.newSweep', ({ store, sweeps }, preset?: SweepPreset) => newSweep({ store, sweeps, log }, isPreset(preset) ? preset : {})),

    scoped('runlens.startSweep', async ({ store, sweeps, folder }, name?: string) => {
      const all = readProjectConfig(folder)?.sweeps ?? [];
      if (!all.length) throw new Error('There are no sweeps in runlens.yaml. Add one under `sweeps:`, or use RunLens: New Sweep….');
      const sweep = typeof name === 'string'
        ? all.find((s) => s.name === name)
        : (await vscode.window.showQuickPick(all.map((s) => ({ label: s.name, description: `${s.method} over ${Object.keys(s.params).join(', ')}`, detail: `runs ${s.run}`, s })),
          { title: 'RunLens: Start Sweep', placeHolder: 'Which sweep from runlens.yaml?' }))?.s;
      if (typeof name === 'string' && !sweep) {
        throw new Error(`No sweep named "${name}" in runlens.yaml (there are: ${all.map((s) => s.name).join(', ')}). A sweep with a mistake is left out; see the problems in runlens.yaml.`);
      }
      if (!sweep) return undefined;
      return start({ store, sweeps, log }, { name: sweep.name, run: sweep.run, trials: trialsOf(sweep), concurrency: sweep.concurrency, earlyStop: sweep.earlyStop });
    }),

    scoped('runlens.cancelSweep', async ({ store, sweeps }, ref?: SweepRef) => {
      const id = await resolveSweep(store, ref, true, 'Cancel which sweep?');
      if (!id) return undefined;
      const { stopped, neverStarted } = await sweeps.cancel(id);
      vscode.window.setStatusBarMessage(`Cancelled sweep ${id}: ${stopped} stopped, ${neverStarted} never started`, 5000);
      return id;
    }),

    scoped('runlens.compareSweep', async ({ store }, ref?: SweepRef) => {
      const id = await resolveSweep(store, ref, false, 'Compare which sweep?');
      if (!id) return undefined;
      const ids = store.require().runs.list({ sweep: id, sort: { by: 'created', dir: 'asc' }, limit: ALL }).map((r) => r.id);
      return vscode.commands.executeCommand<number[]>('runlens.compareRuns', ids);
    }),
  ];
}

function isPreset(v: unknown): v is SweepPreset {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !('kind' in v);
}

/** "RunLens: New Sweep…": a run configuration, params and their values, grid or random, how many at once. */
async function newSweep(deps: SweepScope, preset: SweepPreset): Promise<StartedSweep | undefined> {
  const folder = deps.store.folder;
  const runs = (readProjectConfig(folder)?.runs ?? []).filter((r) => Array.isArray(r.command));
  if (!runs.length) throw new Error('A sweep runs a configuration from runlens.yaml whose command is a list of arguments. Add one under `runs:`.');
  const run = preset.run !== undefined ? runs.find((r) => r.name === preset.run) : runs.length === 1 ? runs[0] : await pickRun(runs);
  if (preset.run !== undefined && !run) throw new Error(`No run configuration named "${preset.run}" in runlens.yaml (a sweep needs its command as a list of arguments).`);
  if (!run) return undefined;
  const cwd = run.cwd ? (isAbsolute(run.cwd) ? run.cwd : join(folder.uri.fsPath, run.cwd)) : folder.uri.fsPath;
  const current = readParams(run.params, cwd);

  const keys = preset.params ? Object.keys(preset.params) : await pickKeys(run, current);
  if (!keys?.length) return undefined;
  const space: { [key: string]: ParamValue[] } = {};
  for (const key of keys) {
    const given = preset.params?.[key];
    if (Array.isArray(given) && given.length) { space[key] = given; continue; }
    const values = parsed(typeof given === 'string' ? given : '') ?? await askValues(key, current[key], typeof given === 'string' ? given : '');
    if (!values) return undefined;
    space[key] = values;
  }

  // with one varying param (the others fixed), every value is tried: a grid
  const varying = Object.values(space).filter((v) => v.length > 1).length;
  const method = preset.method ?? (varying > 1 ? await pickMethod(space) : 'grid');
  if (!method) return undefined;
  let count = preset.count;
  if (method === 'random' && count === undefined) {
    const text = await vscode.window.showInputBox({
      title: 'New Sweep: Random Trials', prompt: 'How many trials? Each picks one value per param at random.', value: '10',
      validateInput: (v) => (/^\s*[1-9]\d*\s*$/.test(v) ? undefined : 'A whole number from 1'),
    });
    if (text === undefined) return undefined;
    count = Number(text);
  }
  const seed = preset.seed ?? Math.floor(Math.random() * 2 ** 31);
  const trials = trialsOf({ method, params: space, count, seed });
  if (method === 'random') deps.log.info(`New sweep of ${run.name}: ${trials.length} random trials, seed ${seed}`);

  const concurrency = preset.concurrency ?? (trials.length > 1 ? await pickConcurrency(trials.length) : 1);
  if (!concurrency) return undefined;
  return start(deps, { name: `${run.name} sweep`, run: run.name, trials, concurrency, earlyStop: preset.earlyStop });
}

/** Starts a sweep, asking first when it is large, and says what started. */
async function start(deps: SweepScope, req: { name: string; run: string; trials: Trial[]; concurrency?: number; earlyStop?: EarlyStop }): Promise<StartedSweep | undefined> {
  if (req.trials.length > CONFIRM_OVER) {
    const answer = await vscode.window.showWarningMessage(`Start ${req.trials.length} trials of ${req.run}, ${req.concurrency ?? 1} at a time?`,
      { modal: true, detail: 'Every trial is queued at once and shown under the sweep in the Runs view.' }, 'Start Sweep');
    if (answer !== 'Start Sweep') return undefined;
  }
  const started = await deps.sweeps.start(req);
  void vscode.window.showInformationMessage(`Sweep ${started.sweepId}: ${started.runIds.length} trial(s) of ${req.run}, ${req.concurrency ?? 1} at a time.`, 'Cancel Sweep')
    .then((choice) => { if (choice) void vscode.commands.executeCommand('runlens.cancelSweep', started.sweepId); });
  return started;
}

function parsed(text: string): ParamValue[] | undefined {
  try {
    return text.trim() ? parseSweepValues(text) : undefined;
  } catch {
    return undefined;
  }
}

async function pickRun(runs: RunConfig[]): Promise<RunConfig | undefined> {
  const pick = await vscode.window.showQuickPick(runs.map((r) => ({ label: r.name, description: (r.command as string[]).join(' '), r })),
    { title: 'New Sweep', placeHolder: 'Which run configuration should each trial run?' });
  return pick?.r;
}

async function pickKeys(run: RunConfig, current: { [key: string]: ParamValue }): Promise<string[] | undefined> {
  const keys = Object.keys(current);
  if (!keys.length) throw new Error(`Run configuration "${run.name}" has no params to sweep: name its params file under \`params:\` in runlens.yaml.`);
  const picks = await vscode.window.showQuickPick(keys.map((k) => ({ label: k, description: String(current[k]) })),
    { title: 'New Sweep: Params', placeHolder: `Which params of ${run.params.join(', ')} should vary?`, canPickMany: true });
  return picks?.map((p) => p.label);
}

async function askValues(key: string, now: ParamValue | undefined, value: string): Promise<ParamValue[] | undefined> {
  const text = await vscode.window.showInputBox({
    title: `New Sweep: Values of ${key}`, value,
    prompt: `${now === undefined ? '' : `Now ${String(now)}. `}A list (0.1, 0.3), a range (1..10 or 0:1:0.25) or a log range (log(1e-4, 1e-1, 4)).`,
    validateInput: (v) => { try { parseSweepValues(v); return undefined; } catch (err) { return (err as Error).message; } },
  });
  return text === undefined ? undefined : parseSweepValues(text);
}

async function pickMethod(space: { [key: string]: ParamValue[] }): Promise<'grid' | 'random' | undefined> {
  const size = Object.values(space).reduce((n, v) => n * v.length, 1);
  const pick = await vscode.window.showQuickPick([
    { label: 'Grid', description: `every combination: ${size} trial${size === 1 ? '' : 's'}`, method: 'grid' as const },
    { label: 'Random', description: 'a number of trials, each picking values at random', method: 'random' as const },
  ], { title: 'New Sweep: Method' });
  return pick?.method;
}

async function pickConcurrency(trials: number): Promise<number | undefined> {
  const options = [1, 2, 3, 4, 8].filter((n) => n <= trials);
  const pick = await vscode.window.showQuickPick(options.map((n) => ({ label: `${n} at a time`, n })),
    { title: `New Sweep: ${trials} Trials`, placeHolder: 'How many trials run at once?' });
  return pick?.n;
}

/** The sweep a command is about: a Runs view sweep node, a sweep id, or (asked) one of the store's sweeps. */
async function resolveSweep(store: WorkspaceStore, ref: SweepRef, going: boolean, placeHolder: string): Promise<string | undefined> {
  if (typeof ref === 'object' && ref !== null && 'kind' in ref) return ref.kind === 'sweep' ? ref.sweep.id : undefined;
  if (typeof ref === 'string' && ref) return ref;
  const s = store.get();
  const all = (s?.runs.sweeps() ?? []).filter((w) => !going || w.running + w.queued > 0);
  if (!all.length) throw new Error(going ? 'No sweep is running.' : 'There are no sweeps in this workspace yet.');
  const pick = await vscode.window.showQuickPick(all.map((w) => ({
    label: w.id, description: `${w.runs} run${w.runs === 1 ? '' : 's'}${w.running ? ` · ${w.running} running` : ''}${w.queued ? ` · ${w.queued} queued` : ''}`, id: w.id,
  })), { placeHolder });
  return pick?.id;
}
