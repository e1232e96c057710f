import * as vscode from 'vscode';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Run } from '../core/types.ts';
import type { Store } from '../core/store/store.ts';
import type { ModelVersion } from '../core/store/modelRepository.ts';
import type { ProjectConfig } from '../core/config/runConfig.ts';
import { type FolderScopes, scopedCommands } from '../folders.ts';
import { guardedCommands } from '../commands.ts';
import { runPickItem } from '../format.ts';
import { resolveRuns } from '../core/runs/runRefs.ts';
import { primaryMetric } from '../core/compare/compareData.ts';
import { type GateResult, check } from '../core/gate/check.ts';
import type { GateConfig, GateMetric } from '../core/gate/gatesConfig.ts';
import { markdownReport, textSummary } from '../core/gate/report.ts';
import { resolveVersion } from './modelCommands.ts';

/** What the command would otherwise ask (the tests give it); `preview: false` leaves the report closed. */
export interface GateAnswers {
  gate?: string;
  model?: string;
  metric?: string;
  direction?: 'max' | 'min';
  against?: string;
  preview?: boolean;
}

/** What the candidate is: a run (a version of its model, when it registered one), or a version. */
type Candidate = { run: Run; version?: undefined } | { version: ModelVersion; run?: undefined };

/** The gate to run: a model's alias against the candidate, per metric. */
interface Plan {
  model: string;
  against: string;
  metrics: GateMetric[];
  driftLimits?: GateConfig['drift'];
}

const DEFAULT_ALIAS = 'production';

/**
 * RunLens: Check Against Production… on a run or a model version: the CI gate (`runlens check`) in the
 * editor. It uses the project's `gates:` for the model, else asks for the metric and its direction; the
 * Markdown report is written under the store's reports/ folder and opened in the Markdown preview.
 */
export function registerGateCommand(deps: { scopes: FolderScopes; log: vscode.LogOutputChannel }): vscode.Disposable {
  const { scopes, log } = deps;
  const scoped = scopedCommands(scopes, guardedCommands(log));
  return scoped('runlens.checkAgainstProduction', async (scope, ref?: unknown, answers: GateAnswers = {}) => {
    const store = scope.store.require();
    const candidate = await pickCandidate(store, ref);
    if (!candidate) return undefined;
    const plan = await planGate(store, scope.project(), candidate, answers);
    if (!plan) return undefined;
    const result = check({ store, ...plan, candidate: candidate.version ? `v${candidate.version.version}` : candidate.run.uid });
    const report = writeReport(store, result);
    log.info(`Check against ${result.alias}: ${textSummary(result).trimEnd()}\nReport: ${report}`);
    if (answers.preview !== false) await vscode.commands.executeCommand('markdown.showPreview', vscode.Uri.file(report));
    const who = `${result.model} ${result.candidate.version ? `v${result.candidate.version.version}` : `run ${result.candidate.run.name}`}`;
    if (result.pass) void vscode.window.showInformationMessage(`RunLens: ${who} passes against ${result.alias} (v${result.baseline.version.version}).`);
    else void vscode.window.showWarningMessage(`RunLens: ${who} fails against ${result.alias} (v${result.baseline.version.version}): ${result.failures.join('; ')}`);
    return { pass: result.pass, failures: result.failures, report };
  });
}

/** The report file: reports/check-<model>-<candidate>-<time>.md in the store folder. */
function writeReport(store: Store, result: GateResult): string {
  const dir = join(store.dir, 'reports');
  mkdirSync(dir, { recursive: true });
  const candidate = result.candidate.version ? `v${result.candidate.version.version}` : result.candidate.run.uid.slice(0, 8);
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const file = join(dir, `check-${result.model.replace(/[^\w.-]+/g, '_')}-${candidate}-${stamp}.md`);
  writeFileSync(file, markdownReport(store, result));
  return file;
}

/** The run or version the command was given (a view node, an id, a uid, "name:3"), or one the user picks. */
async function pickCandidate(store: Store, ref: unknown): Promise<Candidate | undefined> {
  if (Array.isArray(ref)) ref = ref[0];
  if (ref && typeof ref === 'object' && 'kind' in ref) {
    const node = ref as { kind: string; run?: Run };
    if (node.kind === 'run' && node.run) return { run: node.run };
    if (node.kind === 'version') return { version: resolveVersion(store, ref as never) };
  }
  if (typeof ref === 'string' && /^.+(@[\w-]+|:v?\d+)$/.test(ref)) return { version: resolveVersion(store, ref) };
  if (typeof ref === 'number' || typeof ref === 'string') {
    const [run] = resolveRuns(store, ref);
    if (run) return { run };
  }
  const versions = store.models.models().flatMap((m) => store.models.versions(m.id));
  const runs = store.runs.list({ limit: 200 }).filter((r) => r.status !== 'running' && r.status !== 'queued');
  type Item = vscode.QuickPickItem & { candidate?: Candidate };
  const items: Item[] = [
    { label: 'Model versions', kind: vscode.QuickPickItemKind.Separator },
    ...versions.map((v): Item => ({ label: `${v.model} v${v.version}`, description: v.aliases.map((a) => `@${a}`).join(' '), candidate: { version: v } })),
    { label: 'Runs', kind: vscode.QuickPickItemKind.Separator },
    ...runs.map((r): Item => ({ ...runPickItem(r), candidate: { run: r } })),
  ];
  if (!versions.length) throw new Error('There are no model versions to check against yet.');
  return (await vscode.window.showQuickPick(items, { title: 'Check Against Production', placeHolder: 'Which run or model version is the candidate?', matchOnDescription: true }))?.candidate;
}

/** The gate: from runlens.yaml `gates:` for the model, else the metric and direction the user names. */
async function planGate(store: Store, project: ProjectConfig | undefined, candidate: Candidate, answers: GateAnswers): Promise<Plan | undefined> {
  const gates = project?.gates ?? [];
  let model = answers.model ?? candidate.version?.model;
  if (!model) {
    const own = [...new Set(store.models.versionsOfRun(candidate.run!.id).map((v) => v.model))];
    model = own.length === 1 ? own[0] : undefined;
  }
  let gate = answers.gate === undefined ? undefined : gates.find((g) => g.name === answers.gate);
  if (answers.gate !== undefined && !gate) throw new Error(`No gate "${answers.gate}" in runlens.yaml.`);
  if (!gate && !answers.metric) {
    const fits = gates.filter((g) => model === undefined || g.model === model);
    gate = fits.length <= 1 ? fits[0] : (await vscode.window.showQuickPick(fits.map((g) => ({ label: g.name, description: `${g.model} against @${g.against}`, g })),
      { title: 'Check Against Production', placeHolder: 'Which gate of runlens.yaml?' }))?.g;
    if (fits.length > 1 && !gate) return undefined;
  }
  if (gate) return { model: gate.model, against: answers.against ?? gate.against, metrics: gate.metrics, driftLimits: gate.drift };

  model ??= await pick(store.models.models().map((m) => m.name), 'Against which model?');
  if (!model) return undefined;
  const against = answers.against ?? await pickAlias(store, model);
  if (!against) return undefined;
  const keys = (candidate.version?.metrics ?? store.metrics.summaries(candidate.run!.id)).map((m) => m.key);
  const primary = primaryMetric(keys, project?.primaryMetric);
  const metric = answers.metric ?? await pick(primary ? [primary.key, ...keys.filter((k) => k !== primary.key)] : keys, 'Compare which metric?');
  if (!metric) return undefined;
  const guess = metric === primary?.key ? primary.goal : primaryMetric([metric])?.goal ?? 'max';
  const direction = answers.direction ?? (await pick(guess === 'max' ? ['max', 'min'] : ['min', 'max'], `Is a higher or lower ${metric} better? (max: higher)`)) as 'max' | 'min' | undefined;
  if (!direction) return undefined;
  return { model, against, metrics: [{ key: metric, direction, tolerance: 0, relative: false }] };
}

/** production when the model has it, else an alias it has (asked when there are several). */
async function pickAlias(store: Store, model: string): Promise<string | undefined> {
  const id = store.models.model(model)?.id;
  const aliases = id === undefined ? [] : [...new Set(store.models.versions(id).flatMap((v) => v.aliases))];
  if (!aliases.length || aliases.includes(DEFAULT_ALIAS)) return DEFAULT_ALIAS; // check() says what is missing
  return aliases.length === 1 ? aliases[0] : pick(aliases, `${model} has no @${DEFAULT_ALIAS}: against which alias?`);
}

function pick(labels: string[], placeHolder: string): Thenable<string | undefined> {
  if (!labels.length) throw new Error(`Nothing to pick: ${placeHolder}`);
  return vscode.window.showQuickPick(labels, { title: 'Check Against Production', placeHolder });
}
