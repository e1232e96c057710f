import * as assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join, relative } from 'node:path';
import * as vscode from 'vscode';
import { activate, eventually, git, runEnded, workspaceDir } from './util.ts';
import type { ModelVersion } from '../../src/core/store/modelRepository.ts';
import type { Reproduction } from '../../src/models/reproduce.ts';
import type { HostMessage } from '../../src/core/compare/protocol.ts';
import { differingPackages } from '../../src/core/compare/packageRows.ts';
import { changedDataFiles, datasetDiff, lineage } from '../../src/core/models/lineage.ts';
import { inboxEntry, writeHelperRun } from '../unit/inboxFixture.ts';

const sha256 = (data: Buffer | string) => createHash('sha256').update(data).digest('hex');

/** Every file of the working tree (not .git, not the store) with its hash: what "untouched" means. */
function snapshot(dir: string): string {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const name of readdirSync(d).sort()) {
      if (name === '.git' || name === '.runlens') continue;
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else out.push(`${relative(dir, p)} ${sha256(readFileSync(p))}`);
    }
  };
  walk(dir);
  return `${git(dir, 'status', '--porcelain')}\n${git(dir, 'rev-parse', 'HEAD')}\n${out.join('\n')}`;
}

export function registerModelTests(): void {
  describe('Models and reproduction', () => {
    it('trains v1, then v2 on changed data and lr; lineage names the changed file; production alias; v1 reproduces exactly; the working tree is never touched', async function () {
      this.timeout(240_000);
      const api = await activate();
      const dir = workspaceDir();
      const store = api.store.require();

      // 1. Train the demo: its runlens.log_model() call makes a version ("v1": in a fresh workspace it is
      // version 1; earlier suites trained the demo too, so here it is the next number).
      const earlier = store.models.model('demo-classifier')?.latestVersion ?? 0;
      const run1 = await vscode.commands.executeCommand<number>('runlens.startRun', 'train');
      assert.equal((await runEnded(store, run1)).status, 'finished');
      const v1 = await eventually(() => store.models.versionsOfRun(run1)[0], 'version 1 of demo-classifier');
      assert.equal(v1.model, 'demo-classifier');
      assert.equal(v1.version, earlier + 1);
      assert.equal(v1.path, 'outputs/model.json');
      assert.equal(v1.digest, sha256(readFileSync(join(dir, 'outputs', 'model.json'))), 'the version holds the bytes the run wrote');
      assert.ok(store.objects.has(v1.digest), 'the bytes are in the object store');
      assert.equal(v1.params['train.lr'], 0.3);
      assert.ok(v1.metrics.find((m) => m.key === 'val_acc')!.last > 0.5, 'the metric summary at registration');
      await api.runs.settled(run1);
      const outputs = store.artifacts.list(run1).find((a) => a.source === 'outputs');
      assert.deepEqual(outputs && [outputs.path, outputs.kind, outputs.fileCount], ['outputs', 'directory', 2], 'declared outputs kept when the run ended');

      // 2. Change one data file and a param, train again: version 2.
      const trainCsv = join(dir, 'data', 'train.csv');
      const originalCsv = readFileSync(trainCsv, 'utf8');
      const rows = originalCsv.trimEnd().split('\n');
      writeFileSync(trainCsv, `${rows.slice(0, -1).join('\n')}\n${rows[1]}\n`); // the last row replaced by a copy of the first
      try {
        const run2 = await vscode.commands.executeCommand<number>('runlens.startRunWithOverrides', 'train', 'train.lr=0.2');
        assert.equal((await runEnded(store, run2)).status, 'finished');
        const v2 = await eventually(() => store.models.versionsOfRun(run2)[0], 'version 2');
        assert.equal(v2.version, v1.version + 1);
        assert.equal(v2.params['train.lr'], 0.2);
        assert.notEqual(v2.digest, v1.digest);

        // 3. Lineage: different dataset hashes, and the changed file by name.
        const l1 = lineage(store, v1.id), l2 = lineage(store, v2.id);
        assert.notEqual(l1.datasets[0]!.digest, l2.datasets[0]!.digest);
        assert.deepEqual(changedDataFiles(datasetDiff(l1.datasets, l2.datasets)), ['data/train.csv']);
        assert.equal(l1.code!.commit, git(dir, 'rev-parse', 'HEAD').trim());
        const compared = await vscode.commands.executeCommand<{ runIds: number[]; changedDataFiles: string[] }>('runlens.compareModelVersions', [v1.id, v2.id]);
        assert.deepEqual(compared.changedDataFiles, ['data/train.csv']);
        assert.deepEqual(compared.runIds, [run1, run2]);
        assert.equal(api.lineage.versionId, v2.id, 'the lineage panel shows the newer version');
        assert.match(api.lineage.html!, new RegExp(`differs from v${v1.version}: train\\.csv`));
        await vscode.commands.executeCommand('runlens.showLineage', v1.id);
        assert.match(api.lineage.html!, new RegExp(v1.digest));
        assert.match(api.lineage.html!, new RegExp(l1.datasets[0]!.files.find((f) => f.path === 'train.csv')!.sha256.slice(0, 12)));

        // 4. Alias production on v1, shown in the Models view.
        assert.equal(await vscode.commands.executeCommand('runlens.setModelAlias', v1.id, 'production'), 'production');
        assert.equal(store.models.find('demo-classifier', 'production')!.id, v1.id);
        await vscode.commands.executeCommand('runlens.setModelAlias', v2.id, 'staging');
        const [model] = api.modelsTree.getChildren();
        const versions = api.modelsTree.getChildren(model).map((n) => api.modelsTree.getTreeItem(n));
        assert.deepEqual(versions.slice(0, 2).map((i) => i.label), [`v${v2.version}`, `v${v1.version}`], 'newest first');
        assert.match(String(versions[1]!.description), /^@production · val_acc 0\.\d+/);
        assert.match(String(versions[0]!.description), /^@staging · /);

        // 5. Reproduce v1, with the changed data file still in the working tree.
        const before = snapshot(dir);
        const result = await vscode.commands.executeCommand<Reproduction>('runlens.reproduceModelVersion', v1.id,
          { showReport: false, onDataChange: 'cancel', tolerance: 0 });
        assert.ok(result, 'the reproduction ran (no data change was seen in the worktree)');
        const { report } = result;
        assert.equal(report.verdict, 'identical', readFileSync(result.reportFile, 'utf8'));
        assert.ok(report.params.identical && report.data.identical && report.metrics.identical);
        assert.ok(report.metrics.rows.length >= 3 && report.metrics.rows.every((r) => r.verdict === 'exact' && r.original === r.reproduced));
        assert.ok(report.artifacts.some((a) => a.path === 'outputs/model.json' && a.same), 'the reproduced model file is byte-identical');
        assert.equal(result.run.reproduces, run1);
        assert.equal(store.runs.tags(result.run.id)['runlens.reproduced'], 'identical');
        assert.equal(report.packages?.state, 'same', `the interpreter now has the recorded packages: ${JSON.stringify(report.packages)}`);
        assert.match(readFileSync(result.reportFile, 'utf8'), /Reproduced exactly/);
        assert.equal(store.models.versionsOfRun(result.run.id).length, 0, 'a reproduction makes no new model version');
        assert.ok(result.run.cwd!.startsWith(result.worktree), 'the reproduction ran in the worktree');
        assert.equal(existsSync(result.worktree), false, 'the worktree is removed afterwards');
        assert.equal(git(dir, 'worktree', 'list').trim().split('\n').length, 1);

        // 6. The user's working tree is exactly as it was.
        assert.equal(snapshot(dir), before);
        const reproduced = lineage(store, v1.id).reproductions;
        assert.deepEqual(reproduced.map((r) => [r.run.id, r.verdict]), [[result.run.id, 'identical']]);
      } finally {
        writeFileSync(trainCsv, originalCsv);
      }
    });

    it('exports a model card, and Verify Artifacts reports a corrupted object without deleting it', async () => {
      const api = await activate();
      const store = api.store.require();
      const v1 = store.models.find('demo-classifier', 'production') as ModelVersion;
      const file = join(workspaceDir(), '.runlens', 'card.md');
      assert.equal(await vscode.commands.executeCommand('runlens.exportModelCard', v1.id, file), file);
      const card = readFileSync(file, 'utf8');
      assert.match(card, new RegExp(`^# demo-classifier v${v1.version}`));
      assert.match(card, /aliases `production`/);
      assert.match(card, new RegExp(`Commit \`${git(workspaceDir(), 'rev-parse', 'HEAD').trim()}\``));
      assert.match(card, /\| train\.lr \| 0\.3 \|/);

      type Verify = { checked: number; missing: string[]; corrupt: string[] };
      const ok = await vscode.commands.executeCommand<Verify>('runlens.verifyArtifacts');
      assert.ok(ok.checked >= 2);
      assert.deepEqual([ok.missing, ok.corrupt], [[], []]);

      // Flip a byte of the model's stored object: reported as corrupted, and not deleted.
      const object = store.objects.path(v1.digest);
      const bytes = readFileSync(object);
      chmodSync(object, 0o644);
      writeFileSync(object, Buffer.concat([bytes.subarray(0, -1), Buffer.from([bytes.at(-1)! ^ 1])]));
      try {
        const bad = await vscode.commands.executeCommand<Verify>('runlens.verifyArtifacts');
        assert.equal(bad.corrupt.length, 1);
        assert.match(bad.corrupt[0]!, new RegExp(`^${v1.digest.slice(0, 12)} \\(outputs`));
        assert.ok(existsSync(object), 'a corrupted object is reported, never deleted');
      } finally {
        writeFileSync(object, bytes);
        chmodSync(object, 0o444);
      }
    });

    it('shows the packages that differ in Compare and on the lineage page, and opens a notebook run\'s snapshot', async function () {
      this.timeout(120_000);
      const api = await activate();
      const store = api.store.require();
      const tmp = mkdtempSync(join(tmpdir(), 'runlens-packages-'));
      // Run A: a script through the Python helper, with torch 2.3.0 installed (a dist-info on its path).
      const site = join(tmp, 'site', 'torch-2.3.0.dist-info');
      mkdirSync(site, { recursive: true });
      writeFileSync(join(site, 'METADATA'), 'Metadata-Version: 2.1\nName: torch\nVersion: 2.3.0\n\n');
      writeFileSync(join(tmp, 'train.py'), [
        'import runlens',
        'runlens.init(name="pkgs-a", experiment="packages")',
        'runlens.log({"loss": 0.5}, step=0)',
        'open("model.json", "w").write("{}")',
        'runlens.finish()',
      ].join('\n'));
      const env = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? tmp, RUNLENS_STORE: api.store.dir,
        PYTHONPATH: [api.helperEnvironment.helperDir, join(tmp, 'site')].join(delimiter) };
      const code = await new Promise<number | null>((resolve) => spawn('python3', ['train.py'], { cwd: tmp, env, stdio: 'ignore' }).on('exit', resolve));
      assert.equal(code, 0);
      const a = await eventually(() => store.runs.list({ limit: 1000 }).find((r) => r.name === 'pkgs-a'), 'run A in the store', 20_000);
      await runEnded(store, a.id, 30_000);
      const recorded = store.packages.get(a.id)!;
      assert.ok(recorded.list.some(([n, v]) => n === 'torch' && v === '2.3.0'), 'the helper listed the distribution on its path');

      // Run B: a notebook run as the helper writes it, with torch 2.4.1 and einops added.
      const cwdB = join(tmp, 'b');
      mkdirSync(cwdB);
      writeFileSync(join(cwdB, 'model.json'), '{"b": 1}');
      const nb = JSON.stringify({ nbformat: 4, nbformat_minor: 5, metadata: {}, cells: [{ cell_type: 'code', metadata: {}, execution_count: 1, outputs: [], source: 'runlens.init(name="pkgs-b")' }] });
      const listB = [...recorded.list.map(([n, v]): [string, string] => [n, n === 'torch' ? '2.4.1' : v]), ['einops', '0.8.0'] as [string, string]];
      const e = inboxEntry(cwdB, { name: 'pkgs-b', experiment: 'packages', source: 'notebook', packages: { conda: recorded.conda, list: listB },
        notebook: { path: join(cwdB, 'train.ipynb'), snapshot: 'notebook.ipynb' } });
      writeHelperRun(store.dir, e, { 'notebook.ipynb': nb, 'metrics.jsonl': '{"t": 1700000000.0, "step": 0, "metrics": {"loss": 0.4}}\n',
        'exit.json': JSON.stringify({ code: 0, signal: null, signalled: null, endedAt: 1_700_000_001_000 }) });
      const b = await eventually(() => store.runs.getByUid(e.uid), 'run B adopted', 20_000);
      await runEnded(store, b.id, 30_000);

      const v1 = await vscode.commands.executeCommand<number>('runlens.registerModelVersion', a.uid, 'model.json', 'pkg-model');
      const v2 = await vscode.commands.executeCommand<number>('runlens.registerModelVersion', b.uid, 'model.json', 'pkg-model');

      // Compare: one Packages row per run, and only torch and einops differ.
      const posted: HostMessage[] = [];
      const sub = api.compare.onDidPost((m) => posted.push(m));
      try {
        api.compare.show([a.id, b.id]);
        const model = await eventually(() => posted.find((m) => m.type === 'model'), 'the model sent to the webview', 20_000);
        assert.ok(model.type === 'model');
        const t = model.model.packages;
        assert.deepEqual(t.runs, [0, 1]);
        assert.deepEqual(t.sets.map((s) => s.count), [recorded.list.length, recorded.list.length + 1]);
        assert.deepEqual(t.names, ['einops', 'torch'], 'only the packages that differ travel');
        assert.deepEqual(differingPackages(t, [0, 1]), [{ name: 'einops', versions: [null, '0.8.0'] }, { name: 'torch', versions: ['2.3.0', '2.4.1'] }]);
      } finally {
        sub.dispose();
      }

      // Lineage of v2 against v1: the packages that differ, and the notebook with its snapshot.
      await vscode.commands.executeCommand('runlens.showLineage', v2, v1);
      const html = api.lineage.html!;
      const v1n = store.models.version(v1)!.version;
      assert.match(html, new RegExp(`2 package\\(s\\) differ from v${v1n}`));
      assert.ok(html.includes('<td><code>torch</code></td><td>2.3.0</td><td>2.4.1</td>'), 'torch 2.3.0 → 2.4.1');
      assert.ok(html.includes('<td><code>einops</code></td><td>—</td><td>0.8.0</td>'));
      assert.ok(html.includes(`<code>${join(cwdB, 'train.ipynb')}</code>`), 'the notebook\'s path');
      assert.match(html, /href="command:runlens\.showNotebookSnapshot\?/);
      const uri = await vscode.commands.executeCommand<string>('runlens.showNotebookSnapshot', b.uid);
      const doc = vscode.workspace.textDocuments.find((d) => d.uri.toString() === uri);
      assert.ok(doc, 'the snapshot is open');
      assert.equal(doc.getText(), `# train.ipynb as run pkgs-b ran it (a snapshot; outputs left out)\n\n# %% In [1]\nrunlens.init(name="pkgs-b")\n`);
      assert.equal(doc.languageId, 'python');
      await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    });
  });
}
