// End to end: a user starts the demo training from the command palette with overrides and
// watches it run: output in a terminal, the run in the sidebar, the count in the status bar.
// Then the run's stored params and metrics say the overrides reached the program.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { withWorkbench } from '../harness/extensionTests.mjs';
import { painted, runCommand, imagesDir, waitForTerminal } from '../harness/browser.mjs';
import { prepareDemoWorkspace } from '../harness/demoWorkspace.mjs';

const repoRoot = join(import.meta.dirname, '..', '..');

// What the user types (params.yaml has lr 0.3 and 30 epochs). Many epochs: the run lasts long
// enough to be seen running, even on a fast machine.
const LR = 0.07;
const EPOCHS = 400;
const OVERRIDES = `train.lr=${LR} train.epochs=${EPOCHS}`;

const EPOCH_LINE = /^epoch=(\d+) step=\1 train_loss=\d+\.\d{4} val_loss=\d+\.\d{4} val_acc=[01]\.\d{4}$/;
const ENDED = '[RunLens] the run has ended';

/** The run's row, params, tags and val_acc summary, read from the workspace's store (read-only). */
function storedRuns(workspace) {
  const db = new Database(join(workspace, '.runlens', 'runs.db'), { readonly: true, fileMustExist: true });
  try {
    return db.prepare('SELECT id, uid, name, status, exit_code FROM runs ORDER BY id').all().map((run) => ({
      ...run,
      params: Object.fromEntries(db.prepare('SELECT key, value FROM params WHERE run_id = ?').raw().all(run.id)),
      tags: Object.fromEntries(db.prepare('SELECT key, value FROM tags WHERE run_id = ?').raw().all(run.id)),
      valAcc: db.prepare(`SELECT count, last_step FROM metric_summaries
        WHERE run_id = ? AND key_id = (SELECT id FROM metric_keys WHERE name = 'val_acc')`).get(run.id),
    }));
  } finally {
    db.close();
  }
}

export const tests = {
  async 'a run started from the command palette with overrides streams its output to a terminal and records the overridden params'() {
    const workspace = prepareDemoWorkspace();
    await withWorkbench({ workspace, extensionDevelopmentPath: repoRoot, width: 1280, height: 760 }, async ({ page }) => {
      await page.locator('.activitybar .action-item a[aria-label^="RunLens"]').first().click();
      await runCommand(page, 'RunLens: Start Run with Overrides');
      const input = page.locator('.quick-input-widget .quick-input-box input');
      await page.locator('.quick-input-list .monaco-list-row', { hasText: 'train-copy' }).waitFor({ timeout: 30_000 });
      await input.fill('train');
      await page.locator('.quick-input-list .monaco-list-row.focused', { hasText: 'python3 train.py' }).waitFor({ timeout: 15_000 });
      await input.press('Enter');
      await page.locator('.quick-input-widget', { hasText: 'with Overrides' }).waitFor({ timeout: 15_000 });
      await input.fill(OVERRIDES);
      await input.press('Enter');

      // Running: the status bar counts it and the sidebar shows it.
      const status = page.locator('.statusbar-item', { hasText: /1 running · val_acc/ });
      await status.waitFor({ timeout: 60_000 });
      assert.match(await status.innerText(), /1 running · val_acc 0\.\d+/);
      await page.locator('.part.sidebar .monaco-list-row[aria-label*=", running,"]').first().waitFor({ timeout: 30_000 });

      // The terminal shows what the program prints: its resolved params, then a line per epoch.
      const live = await waitForTerminal(page,
        (t) => t.lines.some((l) => l.startsWith('resolved params: ')) && t.visible.filter((l) => EPOCH_LINE.test(l)).length >= 3,
        'the resolved params and epoch lines', 90_000);
      const resolved = JSON.parse(live.lines.find((l) => l.startsWith('resolved params: ')).slice('resolved params: '.length));
      assert.equal(resolved.train.lr, LR, `the program got lr ${LR}: ${JSON.stringify(resolved)}`);
      assert.equal(resolved.train.epochs, EPOCHS, `the program got ${EPOCHS} epochs: ${JSON.stringify(resolved)}`);
      assert.equal(resolved.model.hidden, 16, 'the params not overridden come from params.yaml');
      await page.mouse.move(800, 250); // off the activity bar: no hover over the picture
      await page.locator('.monaco-hover').filter({ visible: true }).first().waitFor({ state: 'hidden', timeout: 15_000 });
      await painted(page);
      await page.screenshot({ path: join(imagesDir(), 'live-run.png') });

      // Finished: the terminal says so after the program's last lines.
      await page.locator('.part.sidebar .monaco-list-row[aria-label*=", finished,"]').first().waitFor({ timeout: 300_000 });
      const done = await waitForTerminal(page, (t) => t.visible.includes(ENDED), `"${ENDED}"`, 30_000);
      const onScreen = done.visible.filter((l) => l.trim());
      assert.equal(onScreen.at(-1), ENDED);
      assert.match(onScreen.at(-2), /^done: best val_acc=0\.\d{4} at epoch \d+; wrote outputs\/model\.json and outputs\/metrics\.json$/);
      assert.match(onScreen.at(-3), new RegExp(`^epoch=${EPOCHS} step=${EPOCHS} `), 'the last epoch just above');

      // The store: one finished run whose params are the overridden ones and that logged every epoch.
      const runs = storedRuns(workspace);
      assert.equal(runs.length, 1, `one run in the store: ${JSON.stringify(runs)}`);
      const [run] = runs;
      assert.equal(run.status, 'finished');
      assert.equal(run.exit_code, 0);
      assert.equal(run.params['train.lr'], LR, `stored train.lr: ${JSON.stringify(run.params)}`);
      assert.equal(run.params['train.epochs'], EPOCHS, `stored train.epochs: ${JSON.stringify(run.params)}`);
      assert.equal(run.params['train.batch_size'], 32, 'the rest of params.yaml is recorded too');
      assert.equal(run.tags['runlens.overrides'], OVERRIDES);
      assert.deepEqual(run.valAcc, { count: EPOCHS, last_step: EPOCHS }, 'val_acc logged once per epoch');

      // Everything the run printed reached the terminal, in order.
      const log = readFileSync(join(workspace, '.runlens', 'runs', run.uid, 'output.log'), 'utf8');
      const printed = log.split('\n').map((l) => l.trimEnd()).filter(Boolean);
      assert.equal(printed.filter((l) => EPOCH_LINE.test(l)).length, EPOCHS);
      assert.deepEqual(done.lines.map((l) => l.trimEnd()).filter((l) => l && l !== ENDED), printed);
    });
  },
};
