import * as vscode from 'vscode';
import { mkdirSync, writeFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import type { Run } from '../core/types.ts';
import type { Store } from '../core/store/store.ts';
import type { WorkspaceStore } from '../workspaceStore.ts';
import type { RunController } from '../runs/runController.ts';
import { REDACTED } from '../core/provenance/environment.ts';
import { createWorktree, repoTop } from '../core/reproduce/worktree.ts';
import { checkDatasets, planReproduction, prepareDatasets } from '../core/reproduce/plan.ts';
import { type ReportRun, type ReproReport, buildReport, reportMarkdown } from '../core/reproduce/report.ts';
import { type PackagesReport, checkPackages, currentPackages, packagesReport, packagesWarning, reproductionInterpreter } from '../core/reproduce/packages.ts';
import { runFolder } from '../core/runs/runProcess.ts';
import { runEnvironment } from '../core/runs/launch.ts';
import { restoreRedacted } from '../core/provenance/redact.ts';
import { configCommands } from '../runs/startRun.ts';

export interface ReproduceOptions {
  /** Relative tolerance for final metric values; default: the runlens.reproduce.tolerance setting. */
  tolerance?: number;
  /** Keep the worktree afterwards; default: the runlens.reproduce.keepWorktree setting. */
  keepWorktree?: boolean;
  /** When the data differs from the recorded hashes: ask (default), continue, or cancel. */
  onDataChange?: 'ask' | 'continue' | 'cancel';
  /** Open the report when done (default true). */
  showReport?: boolean;
}

export interface Reproduction { report: ReproReport; run: Run; reportFile: string; worktree: string; kept: boolean }

/**
 * "Reproduce Run": a git worktree at the run's commit with its stored patch applied, the data
 * checked against the recorded hashes, the same command and params launched there as a new run
 * linked to the original, and a report once it ends. The user's working tree is never touched.
 */
export async function reproduceRun(store: WorkspaceStore, runs: RunController, original: Run, options: ReproduceOptions = {}): Promise<Reproduction | undefined> {
  const s = store.require();
  const settings = vscode.workspace.getConfiguration('runlens.reproduce');
  const tolerance = options.tolerance ?? settings.get<number>('tolerance', 0);
  const keep = options.keepWorktree ?? settings.get<boolean>('keepWorktree', false);
  if (!original.git) throw new Error(`Run ${original.name} was not started in a git repository, so there is no commit to check out.`);
  if (!original.cwd) throw new Error(`Run ${original.name} has no recorded working folder.`);
  if (original.status === 'running') throw new Error(`Run ${original.name} is still running; reproduce it once it has ended.`);
  // secret values were not stored: they come from runlens.yaml, or the reproduction is refused
  const realCommand = original.command && restoreRedacted(original.command, configCommands(store.folder));
  const prov = s.provenance.get(original.id);
  const patch = prov?.patchSha256 ? s.provenance.blob(prov.patchSha256) : null;
  if (prov?.patchSha256 && !patch) throw new Error(`The stored patch of run ${original.name} is missing from the store.`);
  const recorded = s.provenance.datasets(original.id);

  return vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `RunLens: reproducing ${original.name}`, cancellable: true },
    async (progress, token) => {
      const abort = new AbortController();
      token.onCancellationRequested(() => abort.abort());
      progress.report({ message: `checking out ${original.git!.commit.slice(0, 10)}${patch ? ' + patch' : ''}` });
      const top = await repoTop(original.cwd!);
      const worktree = await createWorktree({ repoTop: top, commit: original.git!.commit, patch });
      let kept = keep;
      try {
        const plan = planReproduction({ command: realCommand, cwd: original.cwd! }, top, worktree.dir);
        await prepareDatasets(recorded, original.cwd!, plan.cwd);
        progress.report({ message: 'checking the data' });
        const checks = await checkDatasets(recorded, plan.cwd, { signal: abort.signal });
        const changed = checks.flatMap((c) => (c.currentDigest === null ? [`${c.path} (missing)`] : [...c.changed, ...c.added, ...c.removed].map((f) => `${c.path}/${f}`)));
        if (changed.length && !(await dataChangeAccepted(original, changed, options.onDataChange ?? 'ask'))) return undefined;
        if (abort.signal.aborted) return undefined;

        // different packages do not stop a reproduction: they are said at once and in the report
        progress.report({ message: 'checking the installed packages' });
        const env = launchEnv(prov?.launchEnv ?? {});
        const packages = await packagesNow(s, original, plan.command, prov?.interpreter ?? null, { cwd: plan.cwd, env });
        const warning = packagesWarning(packages);
        if (warning) void vscode.window.showWarningMessage(`RunLens: ${warning}. Reproducing anyway; the report lists them.`);
        if (abort.signal.aborted) return undefined;

        progress.report({ message: 'running' });
        const [command, ...args] = typeof plan.command === 'string' ? [plan.command] : plan.command;
        const run = await runs.start({
          name: `${original.name}-repro`, experiment: original.experiment, reproduces: original.id,
          params: s.runs.params(original.id), tags: { 'runlens.reproduces': original.uid },
          datasets: recorded.map((d) => d.path),
          outputs: [...new Set(s.artifacts.list(original.id).filter((a) => a.source === 'outputs').map((a) => a.path))],
          spec: { command: command!, args, shell: typeof plan.command === 'string', cwd: plan.cwd, env },
        });
        const cancel = token.onCancellationRequested(() => { void runs.stop(run).catch(() => undefined); });
        let ended: Run;
        try {
          ended = await runs.settled(run.id);
        } finally {
          cancel.dispose();
        }
        const report = buildReport({ original: reportRun(s, original), reproduction: reportRun(s, ended), tolerance, packages });
        store.write(['runs'], (w) => w.runs.setTags(ended.id, { 'runlens.reproduced': VERDICT[report.verdict] }));
        const reportFile = join(runFolder(s.dir, ended.uid).dir, 'reproducibility.md');
        mkdirSync(runFolder(s.dir, ended.uid).dir, { recursive: true });
        writeFileSync(reportFile, reportMarkdown(report));
        if (options.showReport !== false) void showReport(reportFile, report);
        return { report, run: ended, reportFile, worktree: worktree.dir, kept };
      } catch (err) {
        kept = false;
        throw err;
      } finally {
        if (!kept) await worktree.remove();
      }
    });
}

const VERDICT = { identical: 'identical', 'within-tolerance': 'within tolerance', differs: 'differs' } as const;

function reportRun(s: Store, run: Run): ReportRun {
  return {
    id: run.id, name: run.name, uid: run.uid, status: run.status, params: s.runs.params(run.id),
    datasets: s.provenance.datasets(run.id), finals: new Map(s.metrics.summaries(run.id).map((m) => [m.key, m.last])),
    artifacts: s.artifacts.list(run.id).map((a) => ({ path: a.path, digest: a.digest })),
  };
}

/**
 * The interpreter's packages now against those the run recorded, listed by the helper under the
 * environment the reproduction gets. An old run that recorded none is not asked about.
 */
async function packagesNow(s: Store, run: Run, command: string[] | string, recorded: string | null,
  options: { cwd: string; env: { [k: string]: string } }): Promise<PackagesReport> {
  const before = s.packages.get(run.id);
  if (!before) return packagesReport({ recorded: false, same: true, diff: null });
  const python = reproductionInterpreter(command, recorded);
  const extension = vscode.extensions.getExtension(EXTENSION_ID);
  if (!python || !extension) return packagesReport(new Error(python ? 'the Python helper was not found' : 'the run recorded no Python interpreter'));
  const helperDir = join(extension.extensionPath, 'media', 'python');
  try {
    const env = runEnvironment({ ...process.env, ...options.env }, helperDir, delimiter);
    return packagesReport(checkPackages(before, await currentPackages(python, helperDir, { cwd: options.cwd, env })));
  } catch (err) {
    return packagesReport(err instanceof Error ? err : new Error(String(err)));
  }
}

const EXTENSION_ID = 'runlens.runlens';

/** The variables the original launch set; redacted ones come from this window's environment, or are left out. */
function launchEnv(recorded: { [k: string]: string }): { [k: string]: string } {
  const env: { [k: string]: string } = {};
  for (const [k, v] of Object.entries(recorded)) {
    if (v !== REDACTED) env[k] = v;
    else if (process.env[k] !== undefined) env[k] = process.env[k]!;
  }
  return env;
}

async function dataChangeAccepted(run: Run, changed: string[], mode: 'ask' | 'continue' | 'cancel'): Promise<boolean> {
  if (mode !== 'ask') return mode === 'continue';
  const list = changed.slice(0, 10).join('\n') + (changed.length > 10 ? `\n… and ${changed.length - 10} more` : '');
  const pick = await vscode.window.showWarningMessage(`The data differs from what run ${run.name} recorded.`,
    { modal: true, detail: `Changed since the run:\n${list}\n\nThe reproduction cannot be exact with different data.` }, 'Reproduce Anyway');
  return pick === 'Reproduce Anyway';
}

async function showReport(file: string, report: ReproReport): Promise<void> {
  const text = report.verdict === 'identical' ? `Reproduced ${report.original.name} exactly.`
    : report.verdict === 'within-tolerance' ? `Reproduced ${report.original.name} within tolerance.`
      : `${report.original.name} did not reproduce.`;
  const show = report.verdict === 'differs' ? vscode.window.showWarningMessage : vscode.window.showInformationMessage;
  const pick = await show(`RunLens: ${text}`, 'Open Report');
  if (pick) await vscode.commands.executeCommand('markdown.showPreview', vscode.Uri.file(file));
}
