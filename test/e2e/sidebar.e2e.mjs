// End to end in headless Chromium: a user opens the RunLens sidebar on the demo workspace.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { withWorkbench } from '../harness/extensionTests.mjs';
import { hoverUntil, openRunLensSidebar, painted, imagesDir } from '../harness/browser.mjs';
import { prepareDemoWorkspace } from '../harness/demoWorkspace.mjs';
import { seedDemoRuns } from '../fixtures/seedDemoRuns.ts';

const repoRoot = join(import.meta.dirname, '..', '..');
const images = imagesDir();

const openSidebar = (page, width = 460) => openRunLensSidebar(page, width);

// An empty stretch of the editor area (no editor is open): the mouse rests there, away from every hover.
const AWAY = { x: 1000, y: 400 };

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
    await seedDemoRuns(workspace, { lrs: [0.05, 0.3, 1.0], epochs: 15 });
    for (const theme of ['dark', 'light']) {
      const settings = { 'workbench.colorTheme': theme === 'dark' ? 'Default Dark Modern' : 'Default Light Modern' };
      await withWorkbench({ workspace, extensionDevelopmentPath: repoRoot, settings, colorScheme: theme, width: 1280, height: 760 }, async ({ page }) => {
        await openSidebar(page);
        const rows = page.locator('.pane-body .monaco-list-row');
        await rows.filter({ hasText: 'demo' }).first().waitFor({ timeout: 30_000 });
        await page.waitForFunction(() => document.querySelectorAll('.pane-body .monaco-list-row .codicon-pass').length >= 3, null, { timeout: 30_000 });
        const texts = await rows.allInnerTexts();
        assert.ok(texts.some((t) => /demo\s*3 runs/.test(t)), `an experiment row "demo 3 runs" in ${JSON.stringify(texts)}`);
        const labels = await rows.evaluateAll((els) => els.map((e) => e.getAttribute('aria-label') ?? ''));
        assert.equal(labels.filter((l) => /^Run .*, finished,/.test(l)).length, 3, 'three finished runs (the status is in the icon and the accessible label)');
        // Hover the first run for its tooltip: params, commit and metrics. The hover needs the mouse
        // to rest on the row, and goes when the row is redrawn (a store change), so: until it shows.
        const first = page.locator('.pane-body .monaco-list-row[aria-label*=", finished,"]').last();
        const hover = page.locator('.monaco-hover').filter({ hasText: 'Param' }).first();
        for (let attempt = 1; ; attempt++) {
          const hoverText = await hoverUntil(page, first, hover, { away: AWAY, timeout: 20_000 });
          assert.match(hoverText, /train\.lr\s*\|?\s*0\.05/, `the oldest run's lr in ${JSON.stringify(hoverText)}`);
          assert.match(hoverText, /val_acc/);
          assert.match(hoverText, /python3 train\.py --lr 0\.05 --epochs 15/);
          await painted(page);
          await page.screenshot({ path: join(images, `runs-view-${theme}.png`) });
          if (await hover.isVisible()) break; // still there after the shot: the image has it
          if (attempt === 3) throw new Error(`${theme}: the tooltip went before each of 3 screenshots`);
        }
      });
    }
  },
};
