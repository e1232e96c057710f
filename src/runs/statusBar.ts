import * as vscode from 'vscode';
import type { FolderScopes } from '../folders.ts';
import type { Run } from '../core/types.ts';
import type { Store } from '../core/store/store.ts';
import { metricValue } from '../format.ts';

/** "$(pulse) 2 running · val_acc 0.84": the running count (of every folder) and the newest run's primary metric. */
export function createRunsStatusBar(scopes: FolderScopes): vscode.Disposable {
  const item = vscode.window.createStatusBarItem('runlens.running', vscode.StatusBarAlignment.Left, 50);
  item.name = 'RunLens: running runs';
  const update = () => {
    let count = 0;
    let newest: { run: Run; store: Store; key: string | undefined } | undefined;
    for (const scope of scopes.all) {
      const ids = scope.runs.running;
      const s = ids.length ? scope.store.get() : undefined;
      if (!s) continue;
      count += ids.length;
      const run = s.runs.get(Math.max(...ids));
      if (run && (!newest || run.createdAt > newest.run.createdAt)) newest = { run, store: s, key: scope.primaryMetric()?.name };
    }
    if (!newest) { item.hide(); return; }
    const { run, store, key } = newest;
    const summary = store.metrics.summaries(run.id).find((m) => m.key === key) ?? store.metrics.summaries(run.id)[0];
    item.text = `$(pulse) ${count} running${summary ? ` · ${summary.key} ${metricValue(summary.last)}` : ''}`;
    item.tooltip = `RunLens: ${run.name} is the newest running run. Click to show its output.`;
    item.command = { command: 'runlens.showOutput', title: 'Show Run Output', arguments: [run.uid] };
    item.show();
  };
  let subs: vscode.Disposable[] = [];
  const listen = () => {
    for (const s of subs) s.dispose();
    subs = scopes.all.flatMap((scope) => [scope.runs.onDidChangeRuns(update), scope.store.onChange(['runs', 'metrics'], update)]);
  };
  listen();
  const folders = scopes.onDidChange(() => { listen(); update(); });
  update();
  return { dispose: () => { item.dispose(); folders.dispose(); for (const s of subs) s.dispose(); } };
}
