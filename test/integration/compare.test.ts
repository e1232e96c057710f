import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { join } from 'node:path';
import { Store } from '../../src/core/store/store.ts';
import type { HostMessage } from '../../src/core/compare/protocol.ts';
import type { RunLensApi } from '../../src/extension.ts';
import { activate, eventually, viewRows, workspaceDir } from './util.ts';

const T0 = 1_700_000_000_000;

function points(from: number, n: number, f: (step: number) => number, t0 = T0) {
  const steps = Float64Array.from({ length: n }, (_, i) => from + i);
  return { steps, times: steps.map((s) => t0 + s * 1000), values: steps.map(f) };
}

/** Collects what the panel posts to its webview until the returned stop() is called. */
function listen(api: RunLensApi): { messages: HostMessage[]; stop: () => void } {
  const messages: HostMessage[] = [];
  const sub = api.compare.onDidPost((m) => messages.push(m));
  return { messages, stop: () => sub.dispose() };
}

function compareTab(): vscode.Tab | undefined {
  return vscode.window.tabGroups.all.flatMap((g) => g.tabs)
    .find((t) => t.input instanceof vscode.TabInputWebview && t.input.viewType.endsWith('runlens.compare'));
}

export function registerCompareTests(): void {
  describe('Compare', () => {
    let store: Store;
    let ids: number[];
    before(() => {
      store = Store.open(join(workspaceDir(), '.runlens'));
      const loss = (s: number) => 1 / (1 + s / 1000);
      ids = ['cmp-a', 'cmp-b', 'cmp-c'].map((name, i) => {
        const run = store.runs.create({ name, experiment: 'compare', status: 'finished', startedAt: T0, params: { lr: 10 ** -(i + 1), batch: 64 } });
        // run c: 200,000 points with one spike to 99 at step 123,456
        const n = i === 2 ? 200_000 : 5_000;
        store.metrics.append(run.id, 'train_loss', points(0, n, (s) => (i === 2 && s === 123_456 ? 99 : loss(s))));
        store.metrics.append(run.id, 'val_acc', points(0, 10, (s) => 0.5 + s * 0.01 * (i + 1)));
        return run.id;
      });
    });
    after(async () => {
      await vscode.commands.executeCommand('workbench.action.closeAllEditors');
      store.close();
    });

    it('checking runs in the Runs view selects them for comparison, and the choice is kept', async () => {
      const api = await activate();
      await vscode.commands.executeCommand('runlens.clearSelection');
      const rows = await eventually(() => viewRows(api).find((e) => e.label === 'compare')?.children, 'the compare experiment');
      const [c, b] = rows;
      api.runsTree.checkboxesChanged([[c!.node, vscode.TreeItemCheckboxState.Checked], [b!.node, vscode.TreeItemCheckboxState.Checked]]);
      const checked = () => viewRows(api).find((e) => e.label === 'compare')!.children
        .filter((r) => api.runsTree.getTreeItem(r.node).checkboxState instanceof Object
          && (api.runsTree.getTreeItem(r.node).checkboxState as { state: vscode.TreeItemCheckboxState }).state === vscode.TreeItemCheckboxState.Checked)
        .map((r) => r.label);
      assert.deepEqual(checked(), ['cmp-c', 'cmp-b']);
      api.runsTree.checkboxesChanged([[b!.node, vscode.TreeItemCheckboxState.Unchecked]]);
      assert.deepEqual(checked(), ['cmp-c']);
      // the equivalent command, with run ids
      const selected = await vscode.commands.executeCommand<string[]>('runlens.selectRuns', [ids[0], ids[1]]);
      assert.equal(selected.length, 3);
      assert.deepEqual(checked(), ['cmp-c', 'cmp-b', 'cmp-a']);
      assert.deepEqual(new Set(api.selection.list()), new Set(ids.map((id) => store.runs.get(id)!.uid)));
    });

    it('opens Compare on the selected runs, and the webview asks for the model', async function () {
      this.timeout(60_000);
      const api = await activate();
      const { messages, stop } = listen(api);
      const opened = await vscode.commands.executeCommand<number[]>('runlens.compareRuns');
      assert.deepEqual(opened, ids, 'the checked runs, oldest first');
      assert.ok(api.compare.isOpen);
      const tab = await eventually(() => compareTab(), 'a Compare editor tab');
      assert.equal(tab.label, 'Compare: 3 runs');
      // the real webview loads, says ready, and gets the model
      const model = await eventually(() => messages.find((m) => m.type === 'model'), 'the model sent to the webview', 30_000);
      stop();
      assert.equal(model.type, 'model');
      if (model.type !== 'model') return;
      assert.deepEqual(model.model.runs.map((r) => r.name), ['cmp-a', 'cmp-b', 'cmp-c']);
      assert.deepEqual(model.model.keys, ['train_loss', 'val_acc']);
      assert.deepEqual(model.model.params.find((p) => p.key === 'lr')!.values, [0.1, 0.01, 0.001]);
      assert.equal(new Set(model.model.runs.map((r) => r.color)).size, 3, 'one colour per run');
    });

    it('follows the checkboxes while it shows the checked runs', async () => {
      const api = await activate();
      await vscode.commands.executeCommand('runlens.selectRuns', [ids[1]], false);
      await eventually(() => api.compare.runs.length === 2, 'the panel to drop the unchecked run');
      assert.deepEqual([...api.compare.runs], [ids[0], ids[2]]);
      await eventually(() => compareTab()?.label === 'Compare: 2 runs', 'the tab title to follow');
      await vscode.commands.executeCommand('runlens.selectRuns', [ids[1]]);
      await eventually(() => api.compare.runs.length === 3, 'the panel to take the run back');
    });

    it('answers a chart query with per-bucket min/max/last, keeping an injected spike', async () => {
      const api = await activate();
      const { messages, stop } = listen(api);
      await api.compare.receive({ type: 'query', requestId: 9001, key: 'train_loss', axis: 'step', range: null, buckets: 600 });
      stop();
      const answer = messages.find((m) => m.type === 'series' && m.requestId === 9001);
      assert.ok(answer && answer.type === 'series');
      assert.deepEqual(answer.domain, [0, 199_999]);
      assert.equal(answer.series.length, 3);
      const c = answer.series.find((s) => s.runId === ids[2])!;
      assert.ok(c.x.length <= 600, `${c.x.length} buckets for 200,000 points`);
      assert.equal(c.count.reduce((a, b) => a + b, 0), 200_000);
      const spike = c.max.indexOf(99);
      assert.ok(spike >= 0, 'the spike is the max of its bucket');
      assert.ok(c.min[spike]! < 0.01 && c.last[spike]! < 0.01, 'the line through last stays on the curve');
      // zooming in on the spike re-queries and gets raw points
      const zoom = listen(api);
      await api.compare.receive({ type: 'query', requestId: 9002, key: 'train_loss', axis: 'step', range: [123_450, 123_460], buckets: 600 });
      zoom.stop();
      const zoomed = zoom.messages.find((m) => m.type === 'series' && m.requestId === 9002);
      assert.ok(zoomed && zoomed.type === 'series');
      const cz = zoomed.series.find((s) => s.runId === ids[2])!;
      assert.deepEqual(cz.x, [123_450, 123_451, 123_452, 123_453, 123_454, 123_455, 123_456, 123_457, 123_458, 123_459, 123_460]);
      assert.equal(cz.last[6], 99);
    });

    it('drops invalid messages from the webview without acting on them', async () => {
      const api = await activate();
      const { messages, stop } = listen(api);
      await api.compare.receive({ type: 'query', requestId: 1, key: 'train_loss', axis: 'step', range: [10, 1], buckets: 5 });
      await api.compare.receive({ type: 'exportPng', key: 'x', dataUrl: 'file:///etc/passwd' });
      await api.compare.receive('ready');
      stop();
      assert.deepEqual(messages, []);
    });

    it('sends only new points of a running run, a few times a second', async function () {
      this.timeout(60_000);
      const api = await activate();
      const live = store.runs.create({ name: 'cmp-live', experiment: 'compare', status: 'running', startedAt: T0 });
      store.metrics.append(live.id, 'train_loss', points(0, 100, (s) => s));
      const { messages, stop } = listen(api);
      await vscode.commands.executeCommand('runlens.compareRuns', [live.id, ids[0]]);
      await eventually(() => compareTab()?.label === 'Compare: 2 runs', 'the panel to show two runs');
      await eventually(() => messages.some((m) => m.type === 'model' && m.model.runs.length === 2), 'the model of the two runs', 30_000);
      await api.compare.receive({ type: 'query', requestId: 77, key: 'train_loss', axis: 'step', range: null, buckets: 1000 });
      for (let i = 0; i < 10; i++) {
        store.metrics.append(live.id, 'train_loss', points(100 + i * 10, 10, (s) => -s)); // another connection: found by polling
        await new Promise((r) => setTimeout(r, 50));
      }
      // The live webview may also re-query the chart; then its answer carries the points instead.
      const delivered = () => messages.flatMap((m) => (m.type === 'append' || (m.type === 'series' && m.range === null && m.key === 'train_loss')
        ? m.series.filter((s) => s.runId === live.id).flatMap((s) => s.x) : []));
      await eventually(() => delivered().includes(199), 'the newest point to reach the webview', 10_000);
      stop();
      const appends = messages.filter((m) => m.type === 'append');
      assert.ok(appends.length >= 1 && appends.length <= 6, `${appends.length} updates for 10 store changes in 0.5 s`);
      const xs = appends.flatMap((m) => (m.type === 'append' ? m.series.flatMap((s) => s.x) : []));
      assert.ok(xs.every((x) => x >= 100), 'no old points are sent again');
      assert.ok(xs.every((x, i) => i === 0 || x > xs[i - 1]!), `each new point once, in order: ${xs.join(',')}`);
      assert.ok(appends.every((m) => m.type === 'append' && m.series.every((s) => s.runId === live.id)));
    });
  });
}
