import * as assert from 'node:assert/strict';
import { join } from 'node:path';
import { Store } from '../../src/core/store/store.ts';
import { activate, eventually, measured, workspaceDir } from './util.ts';

/** Last in the suite: it leaves 10,000 runs in the store. */
export function registerScaleTests(): void {
  describe('Runs view at scale', () => {
    it('shows the first page of 10,000 runs, with their primary metric, without loading them all', async function () {
      this.timeout(120_000);
      const api = await activate();
      const store = Store.open(join(workspaceDir(), '.runlens'));
      const steps = Float64Array.from({ length: 50 }, (_, i) => i);
      store.transaction(() => {
        for (let i = 0; i < 10_000; i++) {
          const run = store.runs.create({ name: `scale-${i}`, experiment: `scale-${i % 5}`, status: 'finished', params: { lr: (i % 100) / 1000, seed: i } });
          store.metrics.append(run.id, 'val_acc', { steps, times: steps.map((s) => 1e12 + s), values: steps.map((s) => (s + (i % 50)) / 100) });
        }
      });
      store.close(); // another connection: the view finds its commit by polling
      await eventually(() => api.runsTree.getChildren().filter((e) => e.kind === 'experiment' && e.experiment.name.startsWith('scale-')).length === 5, 'five scale experiments');
      const t0 = performance.now();
      const experiments = api.runsTree.getChildren();
      const first = experiments.find((e) => e.kind === 'experiment' && e.experiment.name.startsWith('scale-'))!;
      const runs = api.runsTree.getChildren(first);
      const items = runs.map((n) => api.runsTree.getTreeItem(n));
      measured.runsViewFirstItemsMs10k = performance.now() - t0;
      assert.equal(runs.filter((n) => n.kind === 'run').length, 200, 'one page of runs');
      assert.equal(String(items.at(-1)!.label), 'Load more runs… (1800 more)');
      assert.match(String(items[0]!.description), /^val_acc 0\.\d+ · /);
    });
  });
}
