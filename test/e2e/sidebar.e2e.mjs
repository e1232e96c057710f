// End to end in headless Chromium: a user opens the RunLens sidebar on the demo workspace.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { withWorkbench } from '../harness/extensionTests.mjs';
import { openRunLensSidebar } from '../harness/browser.mjs';
import { prepareDemoWorkspace } from '../harness/demoWorkspace.mjs';
import { seedDemoRuns } from '../fixtures/seedDemoRuns.ts';

const repoRoot = join(import.meta.dirname, '..', '..');
const images = join(repoRoot, 'docs', 'images');

const openSidebar = (page, width = 460) => openRunLensSidebar(page, width);

/** Moves the mouse onto a row and a little within it, which is what opens a workbench hover. */
async function hoverRow(page, row) {
  const box = await row.boundingBox();
  // past the twistie and the checkbox, onto the label
  await page.mouse.move(box.x + 80, box.y + box.height / 2);
  await page.waitForTimeout(200);
  await page.mouse.move(box.x + 110, box.y + box.height / 2, { steps: 4 });
}

export const tests = {
  async 'the empty sidebar welcomes a new user'() {
    const workspace = prepareDemoWorkspace();
    await withWorkbench({ workspace, extensionDevelopmentPath: repoRoot, width: 1280, height: 760 }, async ({ page }) => {
      await openSidebar(page);
      const welcome = page.locator('.welcome-view-content', { hasText: 'No runs recorded in this workspace yet' });
      await welcome.waitFor({ timeout: 30_000 });
      await page.screenshot({ path: join(images, 'runs-view-empty.png') });
    });
  },

  async 'the sidebar lists real demo runs with status and a rich tooltip (dark and light)'() {
    const workspace = prepareDemoWorkspace();
    seedDemoRuns(workspace, { lrs: [0.05, 0.3, 1.0], epochs: 15 });
    for (const theme of ['dark', 'light']) {
      const settings = { 'workbench.colorTheme': theme === 'dark' ? 'Default Dark Modern' : 'Default Light Modern' };
      await withWorkbench({ workspace, extensionDevelopmentPath: repoRoot, settings, colorScheme: theme, width: 1280, height: 760 }, async ({ page }) => {
        await openSidebar(page);
        const rows = page.locator('.pane-body .monaco-list-row');
        await rows.filter({ hasText: 'demo' }).first().waitFor({ timeout: 30_000 });
        await page.waitForFunction(() => document.querySelectorAll('.pane-body .monaco-list-row .codicon-pass').length >= 3, null, { timeout: 30_000 });
        const texts = await rows.allInnerTexts();
        assert.ok(texts.some((t) => /demo\s*3 runs/.test(t)), `an experiment row "demo 3 runs" in ${JSON.stringify(texts)}`);
        assert.equal(texts.filter((t) => /finished/.test(t)).length, 3, 'three finished runs');
        // Hover the first run for its tooltip: params, commit and metrics.
        await hoverRow(page, rows.filter({ hasText: 'finished' }).last());
        const hover = page.locator('.monaco-hover').filter({ hasText: 'Param' }).first();
        await hover.waitFor({ timeout: 15_000 });
        const hoverText = await hover.innerText();
        assert.match(hoverText, /train\.lr/);
        assert.match(hoverText, /val_acc/);
        await page.screenshot({ path: join(images, `runs-view-${theme}.png`) });
      });
    }
  },
};
