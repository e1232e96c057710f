import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { join } from 'node:path';
import { Store } from '../../src/core/store/store.ts';
import { activate, eventually, viewRows, workspaceDir } from './util.ts';

export function registerRunsFilterTests(): void {
  // Before the suite below records a plain `lr`: here, as on the demo, the only lr param is train.lr.
  describe('Runs view filter names', () => {
    it('filters and sorts by lr on demo-like runs that recorded train.lr', async () => {
      const api = await activate();
      const store = Store.open(join(workspaceDir(), '.runlens'));
      try {
        for (const [name, lr] of [['d-slow', 0.01], ['d-mid', 0.05], ['d-fast', 0.3]] as const) {
          store.runs.create({ name, experiment: 'demo-like', status: 'finished', params: { seed: 42, 'train.lr': lr, 'train.epochs': 3, 'model.hidden': 16 } });
        }
        const keys = store.runs.paramKeys();
        assert.deepEqual(keys.filter((k) => k === 'lr' || k.endsWith('.lr')), ['train.lr'], 'the only lr key is train.lr');
      } finally {
        store.close();
      }
      const labels = () => viewRows(api).find((e) => e.label === 'demo-like')?.children.map((r) => r.label);
      try {
        assert.equal(await vscode.commands.executeCommand<string>('runlens.filterRuns', { where: 'lr < 0.1' }), 'lr < 0.1');
        await eventually(() => labels()?.length === 2, 'the two runs with train.lr < 0.1');
        assert.deepEqual(labels()!.sort(), ['d-mid', 'd-slow']);
        await vscode.commands.executeCommand('runlens.sortRuns', { by: 'param', key: 'LR', dir: 'asc' });
        assert.equal(api.filter.describe(), 'lr < 0.1 · by train.lr ↑', 'the sort key resolves by the same rule');
        await eventually(() => labels()?.join() === 'd-slow,d-mid', 'd-slow before d-mid');
      } finally {
        await vscode.commands.executeCommand('runlens.clearFilter');
        await vscode.commands.executeCommand('runlens.sortRuns', { by: 'created', dir: 'desc' });
      }
    });
  });

  describe('Runs view filters and sorting', () => {
    let store: Store;
    before(() => {
      store = Store.open(join(workspaceDir(), '.runlens'));
      const t0 = 1_700_000_000_000;
      // lr NaN: no lr param; acc NaN: val_acc never logged (the run logged only its loss).
      const grid: [string, number, number, string][] = [
        ['f-slow', 0.001, 0.95, 'finished'], ['f-mid', 0.005, 0.85, 'finished'], ['f-fast', 0.1, 0.91, 'failed'],
        ['f-noacc', 0.05, NaN, 'finished'], ['f-nolr', NaN, 0.99, 'finished'],
      ];
      const steps = Float64Array.from([1, 2, 3]);
      const ids = new Map<string, number>();
      for (const [name, lr, acc, status] of grid) {
        const run = store.runs.create({ name, experiment: 'filtering', status: status as 'finished', params: Number.isNaN(lr) ? {} : { lr } });
        ids.set(name, run.id);
        if (Number.isNaN(acc)) store.metrics.append(run.id, 'loss', { steps, times: steps.map((s) => t0 + s), values: steps.map((s) => 1 / s) });
        else store.metrics.append(run.id, 'val_acc', { steps, times: steps.map((s) => t0 + s), values: steps.map((s) => acc - (3 - s) * 0.1) });
      }
      store.runs.setTags(ids.get('f-nolr')!, { note: '100%_done' });
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
      assert.match(slow.description, /^val_acc 0\.95 · /);
      assert.doesNotMatch(slow.description, /finished/, 'the status is in the icon and the tooltip');
      const noAcc = rows.find((r) => r.label === 'f-noacc')!;
      assert.doesNotMatch(noAcc.description, /val_acc|finished/, 'a run without the primary metric shows no value for it');
    });

    it('filters by an expression over params and metrics, and says how many of the runs match', async () => {
      const api = await activate();
      const described = await vscode.commands.executeCommand<string>('runlens.filterRuns', { where: 'lr < 0.01 and val_acc > 0.9' });
      assert.equal(described, 'lr < 0.01 and val_acc > 0.9');
      const exp = await eventually(() => { const e = filteringRows(api); return e && e.children.length === 1 && e; }, 'one matching run');
      assert.deepEqual(exp.children.map((r) => r.label), ['f-slow']);
      assert.equal(exp.description, '1 of 5 runs');
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
      await eventually(() => filteringRows(api)?.children.length === 5, 'every run again');
    });

    it('sorts by a metric, runs without it last', async () => {
      const api = await activate();
      const labels = (e: { children: { label: string }[] } | undefined) => e?.children.map((r) => r.label);
      /** Sorts the view and waits until it shows `expected` (the view refreshes asynchronously). */
      const sortedAs = async (sort: object, expected: string[]) => {
        await vscode.commands.executeCommand('runlens.sortRuns', sort);
        const e = await eventually(() => { const x = filteringRows(api); return x && x.children.length === expected.length
          && JSON.stringify(labels(x)) === JSON.stringify(expected) && x; }, `${JSON.stringify(sort)}: ${expected.join(', ')}`)
          .catch((err: Error) => { throw new Error(`${err.message}; shown: ${labels(filteringRows(api))?.join(', ')}`); });
        assert.deepEqual(labels(e), expected);
        return e;
      };
      // val_acc last values: f-nolr 0.99, f-slow 0.95, f-fast 0.91, f-mid 0.85; f-noacc has none.
      const desc = await sortedAs({ by: 'metric', key: 'val_acc', dir: 'desc' }, ['f-nolr', 'f-slow', 'f-fast', 'f-mid', 'f-noacc']);
      assert.equal(api.filter.describe(), 'by val_acc ↓');
      assert.doesNotMatch(desc.children.at(-1)!.description, /val_acc/, 'the last run has no val_acc to show');
      await sortedAs({ by: 'metric', key: 'val_acc', dir: 'asc' }, ['f-mid', 'f-fast', 'f-slow', 'f-nolr', 'f-noacc']);
      // lr: f-slow 0.001, f-mid 0.005, f-noacc 0.05, f-fast 0.1; f-nolr has none.
      await sortedAs({ by: 'param', key: 'lr', dir: 'asc' }, ['f-slow', 'f-mid', 'f-noacc', 'f-fast', 'f-nolr']);
      await sortedAs({ by: 'param', key: 'lr', dir: 'desc' }, ['f-fast', 'f-noacc', 'f-mid', 'f-slow', 'f-nolr']);
      // sorted and filtered together: the runs without the metric still go last
      await vscode.commands.executeCommand('runlens.filterRuns', { where: 'lr >= 0.005' });
      await sortedAs({ by: 'metric', key: 'val_acc', dir: 'desc' }, ['f-fast', 'f-mid', 'f-noacc']);
      await vscode.commands.executeCommand('runlens.clearFilter');
    });
  });
}
