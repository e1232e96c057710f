import * as vscode from 'vscode';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, isAbsolute, join, relative } from 'node:path';
import { parse as parseYaml } from 'yaml';
import type { ParamValue, Run } from '../core/types.ts';
import { type ProjectConfig, type RunConfig, parseRunConfig } from '../core/config/runConfig.ts';
import type { RunController, StartRequest } from './runController.ts';
import type { ExecutorConfig } from '../core/slurm/executorConfig.ts';
import type { Scope } from '../folders.ts';
import { applyOverrides, overrideArgs, parseOverrides } from '../core/config/overrides.ts';
import { writeParamsCopies } from '../core/config/paramsCopy.ts';
import { flatten } from '../core/flatten.ts';
import { CONFIG_TAG } from '../core/ingest/healthRules.ts';
import { randomUUID } from 'node:crypto';

/** What "Run last again" repeats. */
export interface LaunchPlan {
  label: string;
  command: string;
  args: string[];
  shell: boolean;
  cwd: string;
  env: { [k: string]: string };
  experiment?: string;
  params: { [k: string]: ParamValue };
  overrideStyle: 'argparse' | 'hydra' | 'file';
  datasets: string[];
  paramsFiles: string[];
  /** Declared outputs, kept as artifacts when the run ends (absent in plans saved by older versions). */
  outputs?: string[];
  /** Other tools' log files or folders to follow (runlens.yaml `capture`). */
  capture?: string[];
  /** The run configuration it comes from (absent: a file, or a plan saved by an older version). */
  config?: string;
  /** Where it runs (runlens.yaml `executor`); absent: a local process. */
  executor?: ExecutorConfig;
}

/** The last launch is kept per folder (the first folder keeps the key older versions used). */
function lastKey(folder: vscode.WorkspaceFolder): string {
  return folder.index === 0 ? 'runlens.lastLaunch' : `runlens.lastLaunch:${folder.uri.toString()}`;
}

/** What "the last run again" offers next in this folder. */
export function rememberLaunch(state: vscode.Memento, folder: vscode.WorkspaceFolder, plan: LaunchPlan): Thenable<void> {
  return state.update(lastKey(folder), plan);
}

export function readProjectConfig(folder: vscode.WorkspaceFolder): ProjectConfig | undefined {
  const file = join(folder.uri.fsPath, 'runlens.yaml');
  if (!existsSync(file)) return undefined;
  return parseRunConfig(readFileSync(file, 'utf8')).config;
}

/** The commands of runlens.yaml's run configurations: where Rerun and Reproduce find secret values that were not stored. */
export function configCommands(folder: vscode.WorkspaceFolder | undefined): (string[] | string)[] {
  return (folder && readProjectConfig(folder)?.runs.map((r) => r.command)) ?? [];
}

/**
 * The interpreter for `python`/`python3` commands: the one selected in the Python extension when it is
 * installed, else the python.defaultInterpreterPath setting, else python3.
 */
export async function interpreter(folder: vscode.WorkspaceFolder): Promise<string> {
  if (vscode.extensions.getExtension('ms-python.python')) {
    try {
      const { PythonExtension } = await import('@vscode/python-extension');
      const api = await PythonExtension.api();
      const env = await api.environments.resolveEnvironment(api.environments.getActiveEnvironmentPath(folder.uri));
      const exe = env?.executable.uri?.fsPath;
      if (exe) return exe;
    } catch {
      // fall back to the setting
    }
  }
  const chosen = vscode.workspace.getConfiguration('python', folder.uri).get<string>('defaultInterpreterPath', '');
  return chosen && chosen !== 'python' ? chosen : 'python3';
}

/** Params files (YAML or JSON), flattened with dots; later files win. */
export function readParams(files: string[], cwd: string): { [k: string]: ParamValue } {
  const out: { [k: string]: ParamValue } = {};
  for (const f of files) flatten(parseYaml(readFileSync(isAbsolute(f) ? f : join(cwd, f), 'utf8')) as unknown, out);
  return out;
}

export async function planFromConfig(folder: vscode.WorkspaceFolder, project: ProjectConfig, run: RunConfig): Promise<LaunchPlan> {
  const cwd = run.cwd ? (isAbsolute(run.cwd) ? run.cwd : join(folder.uri.fsPath, run.cwd)) : folder.uri.fsPath;
  const python = await interpreter(folder);
  const [command, ...args] = Array.isArray(run.command)
    ? run.command.map((a, i) => (i === 0 && (a === 'python' || a === 'python3') ? python : a))
    : [run.command];
  return {
    label: run.name, command: command!, args, shell: !Array.isArray(run.command), cwd, env: run.env,
    experiment: run.experiment ?? project.experiment, params: readParams(run.params, cwd), overrideStyle: run.overrideStyle,
    datasets: run.datasets, paramsFiles: run.params, outputs: run.outputs, capture: run.capture, executor: run.executor,
    config: run.name,
  };
}

export async function planForFile(folder: vscode.WorkspaceFolder, file: string, project?: ProjectConfig): Promise<LaunchPlan> {
  return {
    label: relative(folder.uri.fsPath, file), command: await interpreter(folder), args: [file], shell: false,
    cwd: dirname(file), env: {}, experiment: project?.experiment, params: {}, overrideStyle: 'argparse', datasets: [], paramsFiles: [],
    executor: project?.executor, // the workspace default
  };
}

/**
 * "RunLens: Start Run": the active Python file, a runlens.yaml configuration, or the last run again.
 * With `overrides` (true: ask; a string: use it) params are overridden on the command line; the
 * user's params files are never edited.
 */
export async function pickAndStart(scope: Scope, state: vscode.Memento, preset?: string, overrides?: string | true): Promise<Run | undefined> {
  const { folder, runs: controller } = scope;
  const project = readProjectConfig(folder);
  type Item = vscode.QuickPickItem & { plan: () => LaunchPlan | Promise<LaunchPlan> };
  const items: Item[] = [];
  for (const run of project?.runs ?? []) {
    const cmd = Array.isArray(run.command) ? run.command.join(' ') : run.command;
    items.push({ label: `$(gear) ${run.name}`, description: cmd, detail: 'runlens.yaml', plan: () => planFromConfig(folder, project!, run) });
  }
  const editor = vscode.window.activeTextEditor;
  if (editor?.document.languageId === 'python' && editor.document.uri.scheme === 'file') {
    const file = editor.document.uri.fsPath;
    items.unshift({ label: `$(file-code) ${relative(folder.uri.fsPath, file)}`, description: 'the active Python file', plan: () => planForFile(folder, file, project) });
  }
  const last = state.get<LaunchPlan>(lastKey(folder));
  if (last) items.push({ label: `$(history) ${last.label}`, description: 'the last run again', plan: () => last });
  let picked: Item | undefined;
  if (preset) {
    picked = items.find((i) => i.label.endsWith(` ${preset}`));
    if (!picked) throw new Error(`No run configuration named "${preset}" in runlens.yaml.`);
  } else if (!items.length) {
    throw new Error('Nothing to run: open a Python file, or add run configurations to runlens.yaml.');
  } else {
    picked = await vscode.window.showQuickPick(items, { title: 'RunLens: Start Run', placeHolder: 'What should run?', matchOnDescription: true });
  }
  if (!picked) return undefined;
  const plan = await picked.plan();
  let run: Overridden | undefined;
  if (overrides !== undefined) {
    const text = typeof overrides === 'string' ? overrides : await vscode.window.showInputBox({
      title: `Start ${plan.label} with Overrides`,
      prompt: `key=value pairs, passed ${plan.overrideStyle === 'hydra' ? 'Hydra-style (train.lr=0.1)' : 'as flags (--lr 0.1)'}`,
      placeHolder: Object.keys(plan.params).slice(0, 3).map((k) => `${k}=${plan.params[k]}`).join(' ') || 'lr=0.01 epochs=5',
      validateInput: (v) => { try { parseOverrides(v); return undefined; } catch (err) { return (err as Error).message; } },
    });
    if (text === undefined) return undefined;
    run = withOverrides(plan, text, scope.store.dir);
  }
  await rememberLaunch(state, folder, plan);
  controller.setMetricPatterns(project?.metricPatterns ?? []);
  return startPlan(controller, plan, run);
}

/** What a run of a plan gets once overrides are applied. */
export interface Overridden {
  args: string[];
  env: { [k: string]: string };
  params: { [k: string]: ParamValue };
  tags: { [k: string]: string };
}

/**
 * Applies `key=value` overrides to a plan in the style it declares: flags (argparse), `key=value`
 * arguments (hydra), or a per-run copy of its params files (file). The user's files are never edited.
 */
export function withOverrides(plan: LaunchPlan, text: string, storeDir: string | undefined): Overridden {
  const parsed = parseOverrides(text);
  if (plan.shell) throw new Error('Overrides need a command given as a list of arguments in runlens.yaml, not a shell string.');
  let args = plan.args;
  let env = plan.env;
  if (plan.overrideStyle === 'file') {
    // A per-run copy of each params file; arguments naming a params file point at its copy.
    if (!storeDir) throw new Error('Open a folder to start runs.');
    const copies = writeParamsCopies(plan.paramsFiles, plan.cwd, parsed, join(storeDir, 'params-overrides', randomUUID()));
    args = args.map((a) => copies.get(a) ?? a);
    env = { ...env, RUNLENS_PARAMS_FILE: [...copies.values()][0]! };
  } else {
    args = [...args, ...overrideArgs(plan.overrideStyle, parsed)];
  }
  return { args, env, params: applyOverrides(plan.params, parsed), tags: { 'runlens.overrides': text.trim() } };
}

/** The run's `capture` paths, kept with it so a reloaded window follows them too. */
export const CAPTURE_TAG = 'runlens.capture';

/** What starting a plan asks for, as it is or with overrides applied: a new run, or the queued run `queued` in place. */
export function planRequest(plan: LaunchPlan, run?: Overridden, queued?: number): StartRequest {
  return {
    experiment: plan.experiment,
    params: run?.params ?? plan.params,
    // the run configuration's name: its `alerts:` apply to the run
    tags: { ...run?.tags, ...(plan.capture?.length && { [CAPTURE_TAG]: JSON.stringify(plan.capture) }), ...(plan.config && { [CONFIG_TAG]: plan.config }) },
    datasets: plan.datasets ?? [],
    outputs: plan.outputs ?? [],
    spec: { command: plan.command, args: run?.args ?? plan.args, shell: plan.shell, cwd: plan.cwd, env: run?.env ?? plan.env },
    queued,
    executor: plan.executor,
  };
}

/** Starts a plan (see planRequest): a local process, or a Slurm job when its executor says so. */
export function startPlan(controller: RunController, plan: LaunchPlan, run?: Overridden, queued?: number): Promise<Run> {
  return controller.start(planRequest(plan, run, queued));
}
