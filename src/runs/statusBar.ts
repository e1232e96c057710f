import * as vscode from 'vscode';
import type { WorkspaceStore } from '../workspaceStore.ts';
import type { RunController } from './runController.ts';
import { metricValue } from '../format.ts';

/** "$(pulse) 2 running · val_acc 0.84": the running count and the newest run's primary metric. */
export function createRunsStatusBar(store: WorkspaceStore, controller: RunController, primaryMetric: () => string | undefined): vscode.Disposable {
  const item = vscode.window.createStatusBarItem('runlens.running', vscode.StatusBarAlignment.Left, 50);
  item.name = 'RunLens: running runs';
  const update = () => {
    const ids = controller.running;
    const s = store.get();
    if (!ids.length || !s) { item.hide(); return; }
    const newest = Math.max(...ids);
    const key = primaryMetric();
    const summary = s.metrics.summaries(newest).find((m) => m.key === key) ?? s.metrics.summaries(newest)[0];
    const run = s.runs.get(newest);
    item.text = `$(pulse) ${ids.length} running${summary ? ` · ${summary.key} ${metricValue(summary.last)}` : ''}`;
    item.tooltip = run ? `RunLens: ${run.name} is the newest running run. Click to show its output.` : undefined;
    item.command = { command: 'runlens.showOutput', title: 'Show Run Output', arguments: [newest] };
    item.show();
  };
  const subs = [controller.onDidChangeRuns(update), store.onChange(['runs', 'metrics'], update)];
  update();
  return { dispose: () => { item.dispose(); for (const s of subs) s.dispose(); } };
}
