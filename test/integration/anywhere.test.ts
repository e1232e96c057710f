import * as assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { hashDataset } from '../../src/core/provenance/datasetHash.ts';
import type { Run } from '../../src/core/types.ts';
import type { Store } from '../../src/core/store/store.ts';
import { activate, eventually, git, runEnded, viewRows, workspaceDir } from './util.ts';

/** A training script that logs 50 points and, halfway, waits for `flag` (so the test sees it going). */
function script(dir: string, name: string, flag: string): string {
  const file = join(dir, `${name}.py`);
  writeFileSync(file, [
    'import os, sys, time',
    'import runlens',
    `runlens.init(name=${JSON.stringify(name)}, params={"rate": 0.05, "net": {"depth": 3}}, datasets=["data"])`,
    't0 = time.time()',
    'for i in range(50):',
    '    runlens.log({"loss": 1.0 / (i + 1), "acc": i / 50}, step=i)',
    '    if i == 25:',
    '        runlens.flush()',
    `        while not os.path.exists(${JSON.stringify(flag)}) and time.time() - t0 < 120: time.sleep(0.05)`,
    'runlens.finish()',
  ].join('\n'));
  return file;
}

const byName = (store: Store, name: string): Run | undefined => store.runs.list({ limit: 1000 }).find((r) => r.name === name);

/** The run went through the helper with everything a launched run records, and every point exactly once. */
async function checkRecorded(store: Store, run: Run, source: string): Promise<void> {
  assert.equal(store.runs.tags(run.id)['runlens.source'], source, 'how it started');
  assert.deepEqual(run.git, { commit: git(workspaceDir(), 'rev-parse', 'HEAD').trim(), branch: 'main', dirty: run.git!.dirty });
  const loss = store.metrics.points(run.id, 'loss');
  assert.deepEqual(Array.from(loss.steps), Array.from({ length: 50 }, (_, i) => i), 'every step once, in order');
  assert.equal(loss.values[49], 1 / 50);
  // names no other suite's runs use (the filter tests expect `lr` to mean train.lr only)
  assert.deepEqual(store.runs.params(run.id), { rate: 0.05, 'net.depth': 3 });
  const [data] = store.provenance.datasets(run.id);
  const expected = await hashDataset(join(workspaceDir(), 'data'));
  assert.equal(data!.digest, expected.digest, 'the helper\'s dataset digest is the extension\'s');
  assert.deepEqual(data!.files.map((f) => [f.path, f.sha256]), expected.files.map((f) => [f.path, f.sha256]));
  const prov = store.provenance.get(run.id)!;
  assert.match(prov.interpreterVersion ?? '', /3\.\d+/);
}

export function registerAnywhereTests(): void {
  describe('Runs started anywhere', function () {
    this.timeout(240_000);
    let tmp: string;
    before(() => { tmp = mkdtempSync(join(tmpdir(), 'runlens-anywhere-')); });

    it('records a script started in an integrated terminal, live in the Runs view, exact at the end', async () => {
      const api = await activate();
      const store = api.store.require();
      const flag = join(tmp, 'terminal.go');
      const file = script(tmp, 'from-terminal', flag);
      const terminal = vscode.window.createTerminal({ name: 'RunLens test', cwd: workspaceDir() });
      try {
        terminal.sendText(`python3 ${file}`);
        const going = await eventually(() => byName(store, 'from-terminal'), 'the terminal run in the store', 60_000);
        assert.equal(going.status, 'running');
        await eventually(() => viewRows(api).some((e) => e.children.some((c) => c.label === 'from-terminal' && c.icon === 'sync~spin')), 'the run going in the Runs view', 10_000);
        await eventually(() => store.metrics.count(going.id, 'loss') >= 26, 'its first points while it goes', 20_000);
        writeFileSync(flag, '');
        const run = await runEnded(store, going.id, 60_000);
        assert.equal(run.status, 'finished');
        await checkRecorded(store, run, 'terminal');
      } finally {
        terminal.dispose();
      }
    });

    it('records a plain child process that has only PYTHONPATH', async () => {
      const api = await activate();
      const store = api.store.require();
      const flag = join(tmp, 'plain.go');
      writeFileSync(flag, '');
      const file = script(tmp, 'plain-child', flag);
      const env = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? tmp, PYTHONPATH: api.helperEnvironment.helperDir };
      const code = await new Promise<number | null>((resolve) => spawn('python3', [file], { cwd: workspaceDir(), env, stdio: 'ignore' }).on('exit', resolve));
      assert.equal(code, 0);
      const adopted = await eventually(() => byName(store, 'plain-child'), 'the plain run in the store', 20_000);
      const run = await runEnded(store, adopted.id, 30_000);
      assert.equal(run.status, 'finished');
      await checkRecorded(store, run, 'script');
    });

    it('records a notebook run on a real Jupyter kernel, with a snapshot of the notebook', async function () {
      const api = await activate();
      const store = api.store.require();
      // the setup installs python3-nbclient and python3-ipykernel on Debian, for its own python3
      const probe = (python: string) => new Promise<boolean>((resolve) => spawn(python, ['-c', 'import nbclient, ipykernel'], { stdio: 'ignore' })
        .on('exit', (code) => resolve(code === 0)).on('error', () => resolve(false)));
      const python = (await probe('python3')) ? 'python3' : (await probe('/usr/bin/python3')) ? '/usr/bin/python3' : undefined;
      if (!python) this.skip();
      const nb = join(tmp, 'train.ipynb');
      const cell = (src: string) => ({ cell_type: 'code', metadata: {}, execution_count: null, outputs: [], source: src });
      writeFileSync(nb, JSON.stringify({
        nbformat: 4, nbformat_minor: 5, metadata: { kernelspec: { name: 'python3', display_name: 'Python 3', language: 'python' } },
        cells: [
          cell('import runlens\nrunlens.init(name="from-notebook", params={"rate": 0.05, "net": {"depth": 3}}, datasets=["data"])'),
          cell('for i in range(50):\n    runlens.log({"loss": 1.0 / (i + 1), "acc": i / 50}, step=i)'),
          cell('runlens.finish()'),
        ],
      }));
      const run = [
        'import nbformat, nbclient, sys',
        'nb = nbformat.read(sys.argv[1], as_version=4)',
        'nbclient.NotebookClient(nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": sys.argv[2]}}).execute()',
      ].join('\n');
      const env = { ...process.env, PYTHONPATH: api.helperEnvironment.helperDir, RUNLENS_NOTEBOOK: nb };
      const code = await new Promise<number | null>((resolve) => spawn(python!, ['-c', run, nb, workspaceDir()], { cwd: workspaceDir(), env, stdio: 'ignore' }).on('exit', resolve));
      assert.equal(code, 0);
      const adopted = await eventually(() => byName(store, 'from-notebook'), 'the notebook run in the store', 30_000);
      const ended = await runEnded(store, adopted.id, 30_000);
      assert.equal(ended.status, 'finished');
      await checkRecorded(store, ended, 'notebook');
    });

    it('adds the helper and the store to Python debug sessions', async () => {
      const api = await activate();
      const folder = vscode.workspace.workspaceFolders![0]!;
      const config = api.helperEnvironment.resolveDebugConfiguration(folder, { type: 'debugpy', request: 'launch', name: 'train', program: 'train.py', env: { PYTHONPATH: '/opt/lib' } });
      assert.equal(config.env.RUNLENS_SOURCE, 'debug');
      assert.equal(config.env.RUNLENS_STORE, api.store.dir);
      assert.deepEqual(config.env.PYTHONPATH.split(':'), [api.helperEnvironment.helperDir, '/opt/lib'], 'the helper first, the user\'s path kept');
      assert.ok(existsSync(join(config.env.PYTHONPATH.split(':')[0], 'runlens', '__init__.py')));
    });

    it('installs the helper into a virtual environment, offline', async function () {
      const api = await activate();
      const venv = join(tmp, 'venv');
      const made = await new Promise<number | null>((resolve) => spawn('python3', ['-m', 'venv', '--without-pip', venv], { stdio: 'ignore' }).on('exit', resolve));
      if (made !== 0) this.skip();
      const python = join(venv, 'bin', 'python');
      const dest = await vscode.commands.executeCommand<string>('runlens.installPythonHelper', python);
      assert.ok(dest.startsWith(venv), dest);
      const out = await new Promise<string>((resolve) => {
        let text = '';
        spawn(python, ['-c', 'import runlens; print(runlens.__file__)'], { cwd: tmp, env: { PATH: process.env.PATH ?? '' } })
          .on('exit', () => resolve(text)).stdout!.on('data', (d) => { text += d; });
      });
      assert.ok(out.trim().startsWith(venv), `imported from the venv: ${out}`);
      assert.ok(existsSync(join(dest, 'redaction.json')), 'the installed helper carries its redaction rules');
      assert.equal(readFileSync(join(dest, '__init__.py'), 'utf8'), readFileSync(join(api.helperEnvironment.helperDir, 'runlens', '__init__.py'), 'utf8'));
    });
  });
}
