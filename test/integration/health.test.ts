import * as assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import * as vscode from 'vscode';
import { parseDocument } from 'yaml';
import type { RunLensApi } from '../../src/extension.ts';
import type { DebugPauses } from '../../src/runs/debugPauses.ts';
import { readProcess } from '../../src/core/runs/runProcess.ts';
import { activate, eventually, row, runEnded, withLog, workspaceDir } from './util.ts';

type Shown = { message: string; items: string[] };

/** The Runs view's row of a run (label, description, icon) and its tooltip as the user hovers it. */
function runRow(api: RunLensApi, runId: number) {
  for (const e of api.runsTree.getChildren()) {
    const node = api.runsTree.getChildren(e).find((n) => n.kind === 'run' && n.run.id === runId);
    if (!node) continue;
    const tooltip = api.runsTree.resolveTreeItem(api.runsTree.getTreeItem(node), node).tooltip;
    return { ...row(api, node), tooltip: tooltip instanceof vscode.MarkdownString ? tooltip.value : String(tooltip) };
  }
  return undefined;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function registerHealthTests(): void {
  describe('Run health', function () {
    this.timeout(120_000);
    const file = () => join(workspaceDir(), 'runlens.yaml');
    let original: string;
    let tmp: string;
    const shown: Shown[] = [];
    /** What a click on a notification answers, by a bit of its text (none: it is dismissed). */
    const answers = new Map<string, Promise<string | undefined>>();
    const realWarning = vscode.window.showWarningMessage;

    before(() => {
      tmp = mkdtempSync(join(tmpdir(), 'runlens-health-'));
      const script = (name: string, lines: string[]) => { writeFileSync(join(tmp, name), lines.join('\n')); return join(tmp, name); };
      original = readFileSync(file(), 'utf8');
      const doc = parseDocument(original);
      doc.set('alerts', { stall: { floor: 1, factor: 2 } }); // small thresholds: silent for 3 s is a stall
      doc.setIn(['runs', 'health-nan'], { command: ['python3', script('nan.py', [
        'import time, runlens',
        'for i in range(10): runlens.log({"loss": float("nan") if i == 6 else 1.0 / (i + 1)}, step=i)',
        'runlens.flush()',
        'time.sleep(120)',
      ])] });
      doc.setIn(['runs', 'health-silent'], { command: ['python3', script('silent.py', ['import time', 'print("started", flush=True)', 'time.sleep(120)'])] });
      doc.setIn(['runs', 'health-done'], { command: ['python3', script('done.py', ['print("done", flush=True)'])] });
      writeFileSync(file(), doc.toString());
      (vscode.window as { showWarningMessage: unknown }).showWarningMessage = (message: string, ...items: string[]) => {
        shown.push({ message, items });
        for (const [text, answer] of answers) if (message.includes(text)) return answer;
        return Promise.resolve(undefined);
      };
    });

    after(() => {
      (vscode.window as { showWarningMessage: unknown }).showWarningMessage = realWarning;
      writeFileSync(file(), original);
    });

    it('a launched run that goes NaN: warning icon and tooltip line while it goes, one notification whose Stop Run stops it, a log line', async () => {
      const api = await activate();
      const store = api.store.require();
      let click!: (pick: string) => void;
      answers.set('loss is NaN at step 6', new Promise((resolve) => { click = resolve; }));
      const runId = await vscode.commands.executeCommand<number>('runlens.startRun', 'health-nan');
      const run = store.runs.get(runId)!;
      const marked = await withLog(api, () => eventually(() => { const r = runRow(api, runId); return r?.icon === 'warning' && r; }, 'the warning icon', 30_000));
      assert.equal(store.runs.get(runId)!.status, 'running', 'while it goes');
      assert.match(marked.description, /loss NaN/);
      assert.match(marked.tooltip, /\$\(error\) \*\*nan\*\* · loss · step 6 · NaN: loss is NaN at step 6/);
      assert.deepEqual(store.alerts.list(runId).map((a) => [a.rule, a.key, a.step]), [['nan', 'loss', 6]]);
      const note = await eventually(() => shown.find((s) => s.message.includes(run.name)), 'the notification');
      assert.equal(note.message, `RunLens: run ${run.name}: loss is NaN at step 6`);
      assert.deepEqual(note.items, ['Stop Run', 'Open Run']);
      click('Stop Run');
      assert.equal((await runEnded(store, runId, 30_000)).status, 'stopped', 'Stop Run stopped it');
      assert.equal(shown.filter((s) => s.message.includes(run.name)).length, 1, 'one notification for the alert');
      const log = await eventually(() => {
        const text = readFileSync(join(api.logUri.fsPath, 'RunLens.log'), 'utf8');
        return text.includes(`Run ${run.name}: nan alert on loss at step 6`) && text;
      }, 'the log line');
      assert.match(log, /loss is NaN at step 6/);
    });

    it('a silent run is not stalled while a debugger holds it, then is flagged; a finished run is not', async () => {
      const api = await activate();
      const store = api.store.require();
      const silentId = await vscode.commands.executeCommand<number>('runlens.startRun', 'health-silent');
      const doneId = await vscode.commands.executeCommand<number>('runlens.startRun', 'health-done');
      const silent = store.runs.get(silentId)!;
      const info = await eventually(() => readProcess(store.dir, silent.uid), 'its process');
      // A Python debug session stopped at a breakpoint in the run's process (what debugpy's adapter says).
      const pauses = (api.runs as unknown as { pauses: DebugPauses }).pauses;
      const tracker = pauses.createDebugAdapterTracker({ id: 'health-test-session' } as vscode.DebugSession);
      tracker.onDidSendMessage!({ type: 'event', event: 'process', body: { name: 'silent.py', systemProcessId: info.pid, startMethod: 'launch' } });
      tracker.onDidSendMessage!({ type: 'event', event: 'stopped', body: { reason: 'breakpoint', threadId: 1 } });
      try {
        assert.equal((await runEnded(store, doneId, 30_000)).status, 'finished');
        await sleep(9000); // beyond 3 s of silence, and a stall check every 5 s
        assert.deepEqual(store.alerts.list(silentId), [], 'held at a breakpoint: not stalled');
        tracker.onWillReceiveMessage!({ type: 'request', command: 'continue', arguments: { threadId: 1 } });
        const marked = await withLog(api, () => eventually(() => { const r = runRow(api, silentId); return r?.icon === 'warning' && r; }, 'the stall', 20_000));
        assert.deepEqual(store.alerts.list(silentId).map((a) => [a.rule, a.key, a.severity]), [['stall', null, 'warning']]);
        assert.match(marked.description, /stalled/);
        assert.match(marked.tooltip, /\$\(warning\) \*\*stall\*\* · [^:]+: no new points or output for /);
        const note = await eventually(() => shown.find((s) => s.message.includes(silent.name)), 'the notification');
        assert.match(note.message, /no new points or output for/);
        assert.deepEqual(note.items, ['Stop Run', 'Open Run']);
        assert.deepEqual(store.alerts.list(doneId), [], 'the finished run is not stalled');
        assert.equal(runRow(api, doneId)?.icon, 'pass');
      } finally {
        tracker.onExit!(0, undefined);
        await vscode.commands.executeCommand('runlens.stopRun', silentId);
      }
      assert.equal((await runEnded(store, silentId, 30_000)).status, 'stopped');
    });

    it('the tooltip says how a run started, and where its Slurm job waits or runs', async () => {
      const api = await activate();
      const store = api.store.require();
      const make = (name: string, tags: Record<string, string>) => store.runs.create({ name, experiment: 'health-tooltips', status: 'finished', tags }).id;
      const ids = [
        make('from-notebook', { 'runlens.source': 'notebook', 'runlens.notebook': '/srv/lab/nb/explore.ipynb' }),
        make('from-debugger', { 'runlens.source': 'debug' }),
        make('queued-job', { 'runlens.slurm.job': '123', 'runlens.slurm.state': 'PENDING', 'runlens.slurm.reason': 'Priority' }),
        make('running-job', { 'runlens.source': 'ci', 'runlens.slurm.job': '124_3', 'runlens.slurm.state': 'RUNNING', 'runlens.slurm.node': 'node1' }),
      ];
      try {
        const [notebook, debug, queued, running] = ids.map((id) => runRow(api, id)!.tooltip);
        assert.match(notebook!, /\n\$\(notebook\) Started in a notebook \/srv\/lab\/nb\/explore\\\.ipynb\n/);
        assert.match(debug!, /\n\$\(debug-alt\) Started under the debugger\n/);
        assert.match(queued!, /\n\$\(server\) Slurm job 123 · PENDING \(Priority\)\n/);
        assert.match(running!, /\n\$\(server-process\) Started in CI\n\n\$\(server\) Slurm job 124\\_3 · RUNNING on node1\n/);
        assert.doesNotMatch(runRow(api, ids[0]!)!.tooltip, /Slurm/);
      } finally {
        for (const id of ids) store.runs.delete(id);
      }
    });

    it('Check Against Production on a version: pass or fail from its metric, and the report in the Markdown preview', async function () {
      this.timeout(180_000);
      const api = await activate();
      const store = api.store.require();
      const trained: number[] = [];
      for (const lr of ['0.3', '0.01']) {
        const runId = await vscode.commands.executeCommand<number>('runlens.startRunWithOverrides', 'train', `train.lr=${lr} train.epochs=4`);
        assert.equal((await runEnded(store, runId)).status, 'finished');
        trained.push((await eventually(() => store.models.versionsOfRun(runId)[0], 'its version')).id);
      }
      const [good, weak] = trained.map((id) => store.models.version(id)!);
      const acc = (v: typeof good) => v!.metrics.find((m) => m.key === 'val_acc')!.last;
      assert.ok(acc(good) > acc(weak), `lr 0.3 learns more in 4 epochs than lr 0.01 (${acc(good)} vs ${acc(weak)})`);
      const before = store.models.find('demo-classifier', 'production'); // the models suite may have set it
      await vscode.commands.executeCommand('runlens.setModelAlias', good!.id, 'production');
      try {
        const answers = { metric: 'val_acc', direction: 'max' } as const;
        type Result = { pass: boolean; failures: string[]; report: string };
        const worse = await vscode.commands.executeCommand<Result>('runlens.checkAgainstProduction', `demo-classifier:${weak!.version}`, answers);
        assert.equal(worse.pass, false);
        assert.match(worse.failures[0]!, /^val_acc: .* is worse than /);
        assert.ok(worse.report.startsWith(join(store.dir, 'reports')), worse.report);
        assert.match(readFileSync(worse.report, 'utf8'), /^## ❌ demo-classifier/);
        const preview = await eventually(() => vscode.window.tabGroups.all.flatMap((g) => g.tabs).find((t) => t.label.includes(basename(worse.report))), 'the Markdown preview');
        assert.match(preview.label, /^Preview /);
        assert.ok(shown.some((s) => s.message.startsWith(`RunLens: demo-classifier v${weak!.version} fails against production`)));
        const same = await vscode.commands.executeCommand<Result>('runlens.checkAgainstProduction', `demo-classifier:${good!.version}`, { ...answers, preview: false });
        assert.equal(same.pass, true, same.failures.join('; '));
        assert.ok(existsSync(same.report));
      } finally {
        if (before) await vscode.commands.executeCommand('runlens.setModelAlias', before.id, 'production');
        else await vscode.commands.executeCommand('runlens.removeModelAlias', good!.id, 'production');
        await vscode.commands.executeCommand('workbench.action.closeAllEditors');
      }
    });
  });
}
