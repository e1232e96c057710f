// End to end in headless Chromium: runs RunLens did not launch show up in the Runs view, saying how
// they started. A script typed into the workbench's integrated terminal (which has the helper on its
// PYTHONPATH from the extension), and a notebook run headless on a real Jupyter kernel.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { withWorkbench } from '../harness/extensionTests.mjs';
import { hoverUntil, imagesDir, openRunLensSidebar, painted, runCommand, terminalText, waitForTerminal } from '../harness/browser.mjs';
import { prepareDemoWorkspace } from '../harness/demoWorkspace.mjs';

const repoRoot = join(import.meta.dirname, '..', '..');
const images = imagesDir();
const results = join(repoRoot, 'test-results'); // a failure's screenshot and log
// An empty stretch of the editor area (no editor is open), above the terminal panel: no hover there.
const AWAY = { x: 1000, y: 200 };

const STEPS = 40;
const TERMINAL_SCRIPT = [
  'import time',
  'import runlens',
  'runlens.init(name="terminal-train", params={"lr": 0.1, "epochs": 40})',
  `for step in range(${STEPS}):`,
  '    runlens.log({"loss": 1 / (step + 1), "val_acc": 0.5 + step / 100}, step=step)',
  '    time.sleep(0.15)',
  'runlens.finish()',
  'print("terminal-train done")',
].join('\n');

const cell = (source) => ({ cell_type: 'code', metadata: {}, execution_count: null, outputs: [], source });
const NOTEBOOK = {
  nbformat: 4, nbformat_minor: 5,
  metadata: { kernelspec: { name: 'python3', display_name: 'Python 3', language: 'python' } },
  cells: [
    cell('import time\nimport runlens\nrunlens.init(name="notebook-explore", params={"lr": 0.3})'),
    cell('for step in range(30):\n    runlens.log({"loss": 2 / (step + 2), "val_acc": 0.6 + step / 100}, step=step)\n    time.sleep(0.02)'),
    cell('runlens.finish()'),
  ],
};
// Runs a notebook as Jupyter would, headless: nbclient starts the python3 kernel and executes every cell.
const RUN_NOTEBOOK = [
  'import nbformat, nbclient, sys',
  'nb = nbformat.read(sys.argv[1], as_version=4)',
  'nbclient.NotebookClient(nb, timeout=60, kernel_name="python3", resources={"metadata": {"path": sys.argv[2]}}).execute()',
].join('\n');

/** A Python with nbclient and ipykernel: `python3` may be another one (pyenv), Debian's has them. */
function notebookPython() {
  const found = ['python3', '/usr/bin/python3'].find((p) => spawnSync(p, ['-c', 'import nbclient, ipykernel'], { stdio: 'ignore' }).status === 0);
  if (!found) throw new Error('no python3 with nbclient and ipykernel (Debian: apt-get install python3-nbclient python3-ipykernel; .ci/env.sh does)');
  return found;
}

/** Starts the notebook run; `done` resolves with its exit code. Its own process group, so `kill` takes the kernel too. */
function runNotebook(python, notebook, workspace) {
  const child = spawn(python, ['-c', RUN_NOTEBOOK, notebook, workspace], {
    cwd: workspace, detached: true, stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, PYTHONPATH: join(repoRoot, 'media', 'python'), RUNLENS_NOTEBOOK: notebook },
  });
  let stderr = '';
  child.stderr.on('data', (d) => { stderr = (stderr + d).slice(-4000); });
  const done = new Promise((resolve) => child.on('exit', (code) => resolve({ code, stderr })).on('error', (e) => resolve({ code: -1, stderr: e.message })));
  const kill = () => { try { process.kill(-child.pid, 'SIGKILL'); } catch { /* gone */ } };
  return { done, kill };
}

/**
 * A new integrated terminal whose shell has the extension's variables (it must be made after the
 * extension has set them: until it has activated, another one is made). Its shell prompt is cleared.
 */
async function newTerminal(page) {
  const said = (t) => t.lines.map((l) => /^source=\[(\w*)\]$/.exec(l.trim())?.[1]).find((v) => v !== undefined);
  for (let attempt = 1; ; attempt++) {
    await runCommand(page, 'Terminal: Create New Terminal');
    await waitForTerminal(page, (t) => t.lines.some((l) => l.trim()), 'a shell prompt', 30_000);
    await page.keyboard.type('echo "source=[$RUNLENS_SOURCE]"\n');
    const source = said(await waitForTerminal(page, (t) => said(t) !== undefined, 'the echo', 15_000));
    if (source === 'terminal') {
      await page.keyboard.type('clear\n');
      // cleared, and the prompt back (what is typed before it would be echoed above it)
      await waitForTerminal(page, (t) => said({ lines: t.visible }) === undefined && (t.visible[0] ?? '').trim() !== '', 'a prompt on a cleared screen', 15_000);
      return;
    }
    if (attempt === 3) throw new Error(`the integrated terminal never got RUNLENS_SOURCE=terminal from the extension (it had "${source}")`);
    await runCommand(page, 'Terminal: Kill the Active Terminal Instance');
    await page.waitForTimeout(2000);
  }
}

export const tests = {
  async 'runs started in the integrated terminal and in a notebook show in the Runs view, saying how they started'() {
    const python = notebookPython();
    const workspace = prepareDemoWorkspace();
    const notebook = join(workspace, 'explore.ipynb');
    writeFileSync(join(workspace, 'terminal_train.py'), `${TERMINAL_SCRIPT}\n`);
    writeFileSync(notebook, JSON.stringify(NOTEBOOK, null, 1));
    const git = (...args) => spawnSync('git', args, { cwd: workspace, stdio: 'ignore' });
    git('add', '-A');
    git('commit', '-qm', 'A training script and a notebook');
    let nbRun;
    try {
      await withWorkbench({ workspace, extensionDevelopmentPath: repoRoot, width: 1280, height: 760, artifactsDir: results, label: 'e2e-anywhere' }, async ({ page }) => {
        await openRunLensSidebar(page, 460);
        await page.locator('.welcome-view-content', { hasText: 'No runs recorded in this workspace yet' }).waitFor({ timeout: 30_000 });

        // The user types the command into a new integrated terminal; meanwhile a notebook runs.
        await newTerminal(page);
        await page.keyboard.type('python3 terminal_train.py\n');
        nbRun = runNotebook(python, notebook, workspace);

        const rows = page.locator('.part.sidebar .pane-body .monaco-list-row');
        const row = (name, status = '') => rows.and(page.locator(`[aria-label^="Run ${name}, ${status}"]`));
        await row('terminal-train', 'running,').waitFor({ timeout: 30_000 }); // shown while it goes
        const nb = await nbRun.done;
        assert.equal(nb.code, 0, `the notebook ran (exit ${nb.code}): ${nb.stderr}`);
        await row('notebook-explore', 'finished,').waitFor({ timeout: 30_000 });
        await row('terminal-train', 'finished,').waitFor({ timeout: 60_000 });
        const term = await waitForTerminal(page, (t) => t.lines.some((l) => l.includes('terminal-train done')), 'the script\'s last line', 15_000);
        assert.ok(!term.lines.some((l) => /Traceback|Error/.test(l)), `the script ran cleanly:\n${term.lines.join('\n')}`);
        const texts = await rows.allInnerTexts();
        assert.ok(texts.some((t) => /demo\s*2 runs/.test(t)), `an experiment row "demo 2 runs" in ${JSON.stringify(texts)}`);
        const labels = await rows.evaluateAll((els) => els.map((e) => e.getAttribute('aria-label') ?? ''));
        assert.ok(labels.some((l) => /^Run terminal-train, finished, val_acc 0\.89/.test(l)), `the terminal run's last val_acc in ${JSON.stringify(labels)}`);
        assert.ok(labels.some((l) => /^Run notebook-explore, finished, val_acc 0\.89/.test(l)), `the notebook run's last val_acc in ${JSON.stringify(labels)}`);

        // Each run's tooltip says how it started.
        const shots = [
          { name: 'terminal-train', text: 'Started in a terminal', image: 'runs-terminal.png', more: /python3 terminal_train\.py/ },
          { name: 'notebook-explore', text: 'Started in a notebook', image: 'runs-notebook.png', more: new RegExp(`Started in a notebook ${notebook.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`) },
        ];
        for (const shot of shots) {
          const hover = page.locator('.monaco-hover').filter({ hasText: shot.text }).first();
          for (let attempt = 1; ; attempt++) {
            const text = await hoverUntil(page, row(shot.name), hover, { away: AWAY, timeout: 20_000 });
            assert.match(text, new RegExp(`${shot.name} · Finished`));
            assert.match(text, shot.more);
            assert.match(text, /lr\s*\|?\s*0\.\d/, `its params in ${JSON.stringify(text)}`);
            assert.match(text, /runlens\.source=/);
            await painted(page);
            await page.screenshot({ path: join(images, shot.image) });
            if (await hover.isVisible()) break; // still there after the shot: the image has it
            if (attempt === 3) throw new Error(`${shot.name}: the tooltip went before each of 3 screenshots`);
          }
        }
        await runCommand(page, 'Terminal: Kill All Terminals');
      });
    } finally {
      nbRun?.kill();
      rmSync(dirname(workspace), { recursive: true, force: true });
    }
  },
};
