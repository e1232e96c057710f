import * as assert from 'node:assert/strict';
import { join } from 'node:path';
import { Store } from '../../src/core/store/store.ts';
import { activate, eventually, git, viewRows, workspaceDir } from './util.ts';

/** Another process (here: the test) writes the store; the view must notice on its own. */
export function registerRunsViewTests(): void {
  describe('Runs view', () => {
    let store: Store;
    before(() => { store = Store.open(join(workspaceDir(), '.runlens')); });
    after(() => store.close());

    it('lists runs written by another process, grouped by experiment, newest first, with status', async () => {
      const api = await activate();
      const a = store.runs.create({ name: 'lr-0.1', experiment: 'baseline', status: 'finished', startedAt: Date.now() - 65_000 });
      store.runs.update(a.id, { endedAt: Date.now() - 1000, exitCode: 0 });
      store.runs.create({ name: 'lr-0.3', experiment: 'baseline', status: 'failed', startedAt: Date.now() - 5000 });
      store.runs.create({ name: 'wide-mlp', experiment: 'architecture', status: 'running', startedAt: Date.now() - 3000 });
      const rows = await eventually(() => { const r = viewRows(api); return r.length === 2 && r; }, 'two experiments in the view');
      assert.deepEqual(rows.map((r) => r.label), ['architecture', 'baseline'], 'the experiment with the newest run first');
      assert.equal(rows[1]!.description, '2 runs');
      const baseline = rows[1]!.children;
      assert.deepEqual(baseline.map((r) => r.label), ['lr-0.3', 'lr-0.1']);
      assert.equal(baseline[0]!.icon, 'error');
      assert.match(baseline[0]!.description, /^failed · /);
      assert.equal(baseline[1]!.icon, 'pass');
      assert.match(baseline[1]!.description, /^finished · 1m 04s · /);
      assert.equal(rows[0]!.children[0]!.icon, 'sync~spin');
    });

    it('shows params, metrics and provenance in the tooltip', async () => {
      const api = await activate();
      const run = store.runs.create({
        name: 'tooltip-run', experiment: 'baseline', status: 'finished', params: { 'train.lr': 0.05, optimizer: 'sgd' },
        git: { commit: '0123456789abcdef0123456789abcdef01234567', branch: 'main', dirty: true }, command: ['python3', 'train.py'],
      });
      const steps = Float64Array.from({ length: 30 }, (_, i) => i + 1);
      store.metrics.append(run.id, 'val_acc', { steps, times: steps.map((s) => 1e12 + s), values: steps.map((s) => 0.5 + s / 100) });
      const node = await eventually(() => viewRows(api).flatMap((e) => e.children).find((r) => r.label === 'tooltip-run'), 'the run row');
      const item = api.runsTree.resolveTreeItem(api.runsTree.getTreeItem(node.node), node.node);
      const tip = (item.tooltip as { value: string }).value;
      assert.match(tip, /train\\\.lr \| 0\\\.05/);
      assert.match(tip, /`01234567` on main · \*\*uncommitted changes\*\*/);
      assert.match(tip, /val\\_acc \| 0\.8 \| 0\.51 \| 0\.8/);
      assert.match(tip, /python3 train\.py/);
    });

    it('pages large experiments instead of loading every run', async () => {
      const api = await activate();
      store.transaction(() => { for (let i = 0; i < 450; i++) store.runs.create({ name: `sweep-${i}`, experiment: 'big-sweep', status: 'finished' }); });
      const sweep = await eventually(() => viewRows(api).find((e) => e.label === 'big-sweep'), 'the sweep experiment');
      assert.equal(sweep.children.length, 201);
      const more = sweep.children[200]!;
      assert.equal(more.label, 'Load more runs… (250 more)');
      assert.equal(sweep.children[0]!.label, 'sweep-449');
      await import('vscode').then((vscode) => vscode.commands.executeCommand(more.command!, (more.node as { experimentId: number }).experimentId));
      const again = viewRows(api).find((e) => e.label === 'big-sweep')!;
      assert.equal(again.children.length, 401);
      assert.equal(again.children[399]!.label, 'sweep-50');
    });

    it('keeps the store out of git', () => {
      assert.equal(git(workspaceDir(), 'status', '--porcelain', '--untracked-files=all'), '');
      assert.match(git(workspaceDir(), 'check-ignore', '-v', '.runlens/runs.db'), /info\/exclude/);
    });
  });
}
