import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { join } from 'node:path';
import { Store } from '../../src/core/store/store.ts';
import { activate, eventually, viewRows, workspaceDir } from './util.ts';

export function registerRunsFilterTests(): void {
  describe('Runs view filters and sorting', () => {
    let store: Store;
    before(() => {
      store = Store.open(join(workspaceDir(), '.runlens'));
      const t0 = 1_700_000_000_000;
      const grid: [string, number, number, string][] = [
        ['f-slow', 0.001, 0.95, 'finished'], ['f-mid', 0.005, 0.85, 'finished'], ['f-fast', 0.1, 0.91, 'failed'], ['f-nolr', NaN, 0.99, 'finished'],
      ];
      for (const [name, lr, acc, status] of grid) {
        const run = store.runs.create({ name, experiment: 'filtering', status: status as 'finished', params: Number.isNaN(lr) ? {} : { lr } });
        const steps = Float64Array.from([1, 2, 3]);
        store.metrics.append(run.id, 'val_acc', { steps, times: steps.map((s) => t0 + s), values: steps.map((s) => acc - (3 - s) * 0.1) });
      }
      store.runs.setTags(store.runs.list({ limit: 1 })[0]!.id, { note: '100%_done' });
    });
    after(async () => {
      await vscode.commands.executeCommand('runlens.clearFilter');
      await vscode.commands.executeCommand('runlens.sortRuns', { by: 'created', dir: 'desc' });
      store.close();
    });

    const filteringRows = (api: Awaited<ReturnType<typeof activate>>) => viewRows(api).find((e) => e.label === 'filtering');

    it('shows the primary metric in each run\'s description', async () => {
      const api = await activate();
      const rows = await eventually(() => filteringRows(api)?.children, 'the filtering experiment');
      const slow = rows.find((r) => r.label === 'f-slow')!;
      assert.match(slow.description, /^val_acc 0\.95 · finished · /);
    });

    it('filters by an expression over params and metrics, and says how many of the runs match', async () => {
      const api = await activate();
      const described = await vscode.commands.executeCommand<string>('runlens.filterRuns', { where: 'lr < 0.01 and val_acc > 0.9' });
      assert.equal(described, 'lr < 0.01 and val_acc > 0.9');
      const exp = await eventually(() => { const e = filteringRows(api); return e && e.children.length === 1 && e; }, 'one matching run');
      assert.deepEqual(exp.children.map((r) => r.label), ['f-slow']);
      assert.equal(exp.description, '1 of 4 runs');
      assert.equal(api.filter.describe(), 'lr < 0.01 and val_acc > 0.9');
      await vscode.commands.executeCommand('runlens.filterRuns', { where: 'not (lr > 0.01)' });
      const negated = await eventually(() => { const e = filteringRows(api); return e && e.children.length === 2 && e; }, 'runs with lr <= 0.01');
      assert.deepEqual(negated.children.map((r) => r.label).sort(), ['f-mid', 'f-slow'], 'a run without lr does not match a comparison on lr');
    });

    it('rejects a broken expression with a clear error and keeps the last good filter', async () => {
      const api = await activate();
      await vscode.commands.executeCommand('runlens.filterRuns', { where: 'val_acc > 0.9' });
      const before = api.filter.describe();
      const result = await vscode.commands.executeCommand('runlens.filterRuns', { where: 'lr < and' });
      assert.equal(result, undefined, 'the command failed');
      assert.equal(api.filter.describe(), before);
      const unknown = await vscode.commands.executeCommand('runlens.filterRuns', { where: 'val_acx > 0.9' });
      assert.equal(unknown, undefined);
      assert.equal(api.filter.describe(), before);
    });

    it('filters by free text over tags, literally, and by status', async () => {
      const api = await activate();
      await vscode.commands.executeCommand('runlens.filterRuns', { where: '', text: '100%_' });
      const byTag = await eventually(() => { const e = filteringRows(api); return e && e.children.length === 1 && e; }, 'the tagged run');
      assert.equal(byTag.children[0]!.label, 'f-nolr');
      await vscode.commands.executeCommand('runlens.filterRuns', { text: '', status: ['failed'] });
      const failed = await eventually(() => { const e = filteringRows(api); return e && e.children.length === 1 && e; }, 'the failed run');
      assert.equal(failed.children[0]!.label, 'f-fast');
      await vscode.commands.executeCommand('runlens.clearFilter');
      await eventually(() => filteringRows(api)?.children.length === 4, 'every run again');
    });

    it('sorts by a metric, runs without it last', async () => {
      const api = await activate();
      await vscode.commands.executeCommand('runlens.sortRuns', { by: 'metric', key: 'val_acc', dir: 'desc' });
      const sorted = await eventually(() => { const e = filteringRows(api); return e && e.children[0]?.label === 'f-nolr' && e; }, 'best first');
      assert.deepEqual(sorted.children.map((r) => r.label), ['f-nolr', 'f-slow', 'f-fast', 'f-mid']);
      await vscode.commands.executeCommand('runlens.sortRuns', { by: 'param', key: 'lr', dir: 'asc' });
      const byLr = await eventually(() => { const e = filteringRows(api); return e && e.children[0]?.label === 'f-slow' && e; }, 'lowest lr first');
      assert.deepEqual(byLr.children.map((r) => r.label), ['f-slow', 'f-mid', 'f-fast', 'f-nolr']);
    });
  });
}
