// End to end: a user starts the demo training from the command palette with an override and
// watches it run: output in a terminal, the run in the sidebar, the count in the status bar.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { withWorkbench } from '../harness/extensionTests.mjs';
import { runCommand } from '../harness/browser.mjs';
import { prepareDemoWorkspace } from '../harness/demoWorkspace.mjs';

const repoRoot = join(import.meta.dirname, '..', '..');

export const tests = {
  async 'a run started from the command palette streams output and shows in the status bar'() {
    const workspace = prepareDemoWorkspace();
    await withWorkbench({ workspace, extensionDevelopmentPath: repoRoot, width: 1280, height: 760 }, async ({ page }) => {
      await page.locator('.activitybar .action-item a[aria-label^="RunLens"]').first().click();
      await runCommand(page, 'RunLens: Start Run with Overrides');
      const input = page.locator('.quick-input-widget .quick-input-box input');
      await page.locator('.quick-input-list .monaco-list-row', { hasText: 'train-copy' }).waitFor({ timeout: 15_000 });
      await input.fill('train');
      await page.locator('.quick-input-list .monaco-list-row.focused', { hasText: 'python3 train.py' }).waitFor({ timeout: 10_000 });
      await input.press('Enter');
      await page.locator('.quick-input-widget', { hasText: 'with Overrides' }).waitFor({ timeout: 10_000 });
      await input.fill('train.epochs=400');
      await input.press('Enter');
      const status = page.locator('.statusbar-item', { hasText: /1 running · val_acc/ });
      await status.waitFor({ timeout: 30_000 });
      assert.match(await status.innerText(), /1 running · val_acc 0\.\d+/);
      const terminal = page.locator('.terminal-wrapper, .xterm').first();
      await terminal.waitFor({ timeout: 15_000 });
      await page.locator('.part.sidebar .monaco-list-row', { hasText: 'running' }).first().waitFor({ timeout: 15_000 });
      await page.waitForTimeout(1500);
      await page.screenshot({ path: join(repoRoot, 'docs', 'images', 'live-run.png') });
      await page.locator('.part.sidebar .monaco-list-row', { hasText: 'finished' }).first().waitFor({ timeout: 60_000 });
    });
  },
};
