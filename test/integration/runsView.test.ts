import * as assert from 'node:assert/strict';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { Store } from '../../src/core/store/store.ts';
import { ModelsTreeProvider } from '../../src/views/modelsTree.ts';
import type { ModelVersion } from '../../src/core/store/modelRepository.ts';
import { activate, eventually, git, row, viewRows, workspaceDir } from './util.ts';

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
      assert.doesNotMatch(baseline[0]!.description, /failed/, 'the status is in the icon, not the description');
      assert.equal(baseline[1]!.icon, 'pass');
      assert.match(baseline[1]!.description, /^1m 04s · /);
      assert.equal(rows[0]!.children[0]!.icon, 'sync~spin');
    });

    it('puts the primary metric first in a run\'s description, before the star, duration and age', async () => {
      const api = await activate();
      const run = store.runs.create({ name: 'metric-first', experiment: 'narrow', status: 'finished', startedAt: Date.now() - 64_000 });
      store.runs.update(run.id, { endedAt: Date.now(), starred: true });
      const steps = Float64Array.of(1);
      store.metrics.append(run.id, 'val_acc', { steps, times: Float64Array.of(1e12), values: Float64Array.of(0.84) });
      const item = await eventually(() => viewRows(api).find((e) => e.label === 'narrow')?.children.find((r) => /val_acc/.test(r.description)), 'the run with its metric');
      assert.match(item.description, /^val_acc 0\.84 · ★ · 1m 04s · \S/);
    });

    it('cuts a long run name in the middle, so the metric stays in a default-width sidebar', async () => {
      const api = await activate();
      const name = 'resnet50-imagenet-lr0.1-wd5e-4-cosine-warmup5-seed1234';
      const run = store.runs.create({ name, experiment: 'long-names', status: 'finished', startedAt: Date.now() - 1000 });
      store.metrics.append(run.id, 'val_acc', { steps: Float64Array.of(1), times: Float64Array.of(1e12), values: Float64Array.of(0.91) });
      const item = await eventually(() => viewRows(api).find((e) => e.label === 'long-names')?.children[0], 'the long-named run');
      assert.ok([...item.label].length <= 28, item.label);
      assert.ok(item.label.startsWith('resnet50-') && item.label.endsWith('seed1234') && item.label.includes('…'), item.label);
      assert.match(item.description, /^val_acc 0\.91/);
      const full = api.runsTree.getTreeItem(item.node).accessibilityInformation?.label ?? '';
      assert.ok(full.includes(name), 'screen readers get the whole name');
    });

    it('shows a reproduction under the run it reproduces, not at the top', async () => {
      const api = await activate();
      const original = store.runs.create({ name: 'repro-original', experiment: 'repro-tree', status: 'finished' });
      store.runs.create({ name: 'repro-original-repro', experiment: 'repro-tree', status: 'finished', reproduces: original.id });
      store.runs.create({ name: 'repro-other', experiment: 'repro-tree', status: 'finished' });
      const exp = await eventually(() => { const e = viewRows(api).find((r) => r.label === 'repro-tree'); return e?.description === '3 runs' && e; }, 'the experiment');
      assert.deepEqual(exp.children.map((r) => r.label), ['repro-other', 'repro-original']);
      const parent = exp.children[1]!;
      assert.equal(api.runsTree.getTreeItem(parent.node).collapsibleState, vscode.TreeItemCollapsibleState.Collapsed);
      assert.equal(api.runsTree.getTreeItem(exp.children[0]!.node).collapsibleState, vscode.TreeItemCollapsibleState.None);
      assert.deepEqual(api.runsTree.getChildren(parent.node).map((n) => row(api, n).label), ['repro-original-repro']);
    });

    it('redraws the Models view\'s ages while it is visible, and not while hidden', async () => {
      const api = await activate();
      // not registered: other suites expect the store's models as they left them
      const version = { id: -1, model: 'aged-model', version: 1, aliases: [], metrics: [], createdAt: Date.now() } as unknown as ModelVersion;
      let now = version.createdAt + 60_000;
      // no folders to listen to: a store change from another suite's run would redraw too; only the clock counts here
      const scopes = { all: [], onDidChange: () => ({ dispose() {} }) } as unknown as typeof api.scopes;
      const tree = new ModelsTreeProvider({ scopes, now: () => now });
      const visibility = new vscode.EventEmitter<{ visible: boolean }>();
      const view = { visible: true, onDidChangeVisibility: visibility.event } as unknown as vscode.TreeView<unknown>;
      let redraws = 0;
      tree.onDidChangeTreeData(() => redraws++);
      tree.attach(view, 50);
      try {
        const node = { kind: 'version' as const, version, scope: api.scopes.first! };
        const first = String(tree.getTreeItem(node).description);
        now += 3 * 60_000;
        assert.notEqual(String(tree.getTreeItem(node).description), first, 'the age is computed from the clock each time');
        await eventually(() => redraws >= 2, 'redraws while visible', 2000);
        visibility.fire({ visible: false });
        await new Promise((r) => setTimeout(r, 100));
        const hidden = redraws;
        await new Promise((r) => setTimeout(r, 200));
        assert.equal(redraws, hidden, 'no redraws while hidden');
        visibility.fire({ visible: true });
        assert.equal(redraws, hidden + 1, 'one redraw when it shows again');
      } finally {
        tree.dispose();
        visibility.dispose();
      }
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
