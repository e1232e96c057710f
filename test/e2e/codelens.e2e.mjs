// End to end in headless Chromium: hyperparameter lenses above the demo's params.yaml and train.py.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { withWorkbench } from '../harness/extensionTests.mjs';
import { hoverUntil, painted, imagesDir } from '../harness/browser.mjs';
import { prepareDemoWorkspace } from '../harness/demoWorkspace.mjs';
import { seedDemoRuns } from '../fixtures/seedDemoRuns.ts';

const repoRoot = join(import.meta.dirname, '..', '..');
const images = imagesDir();

/**
 * Quick Open (Ctrl+P) a workspace file, as a user would. Right after start-up the file search may
 * not list it yet (it indexes the folder first, slowly on a loaded machine): then the user tries again.
 */
async function openFile(page, name, { timeout = 60_000 } = {}) {
  const deadline = Date.now() + timeout;
  const input = page.locator('.quick-input-widget .quick-input-box input');
  const row = page.locator('.quick-input-list .monaco-list-row', { hasText: name }).first();
  for (;;) {
    await page.keyboard.press('Control+P');
    await input.waitFor({ state: 'visible', timeout: 10_000 });
    await input.fill(name);
    if (await row.waitFor({ timeout: 10_000 }).then(() => true, () => false)) break;
    await page.keyboard.press('Escape');
    if (Date.now() > deadline) throw new Error(`Quick Open did not list ${name} within ${timeout} ms`);
  }
  await input.press('Enter');
  await page.locator('.tab.active', { hasText: name }).waitFor({ timeout: 15_000 });
}

export const tests = {
  async 'lenses above params.yaml show the runs and the best value, and a hover tabulates the values tried'() {
    const workspace = prepareDemoWorkspace();
    await seedDemoRuns(workspace, { lrs: [0.05, 0.3, 1.0, 0.1], epochs: 15 });
    await withWorkbench({ workspace, extensionDevelopmentPath: repoRoot, width: 1280, height: 720 }, async ({ page }) => {
      await openFile(page, 'params.yaml');
      const lens = page.locator('.contentWidgets .codelens-decoration', { hasText: 'train.lr · 4 runs' });
      await lens.waitFor({ timeout: 30_000 });
      const text = await lens.innerText();
      assert.match(text, /train\.lr · 4 runs · best val_acc 0\.\d+ @ [\d.]+ · here 0\.3/);
      assert.match(text, /Run with…/);
      assert.match(text, /Sweep…/);
      assert.match(text, /Compare by train\.lr/);
      // Away from the text (below the file's last line), so no hover shows in the picture.
      const AWAY = { x: 1200, y: 650 };
      await page.mouse.move(AWAY.x, AWAY.y);
      await page.locator('.monaco-hover').filter({ visible: true }).first().waitFor({ state: 'hidden', timeout: 15_000 });
      await painted(page);
      await page.screenshot({ path: join(images, 'codelens.png') });
      // Hover the key for the table of values tried. A lens that (re)appears moves the lines down
      // under a still mouse, which loses the hover: then the mouse comes back.
      const key = page.locator('.view-line span', { hasText: /^lr$/ }).first();
      const hover = page.locator('.monaco-hover', { hasText: 'value' }).first();
      const hoverText = await hoverUntil(page, key, hover, { away: AWAY, x: 2, timeout: 20_000 });
      assert.match(hoverText, /0\.05[\s\S]*0\.1[\s\S]*0\.3[\s\S]*1/);
      await painted(page);
      await page.screenshot({ path: join(images, 'codelens-hover.png') });
    });
  },
};
