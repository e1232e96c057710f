// End to end in headless Chromium: hyperparameter lenses above the demo's params.yaml and train.py.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { withWorkbench } from '../harness/extensionTests.mjs';
import { prepareDemoWorkspace } from '../harness/demoWorkspace.mjs';
import { seedDemoRuns } from '../fixtures/seedDemoRuns.ts';

const repoRoot = join(import.meta.dirname, '..', '..');
const images = join(repoRoot, 'docs', 'images');

/** Quick Open (Ctrl+P) a workspace file, as a user would. */
async function openFile(page, name) {
  await page.keyboard.press('Control+P');
  const input = page.locator('.quick-input-widget .quick-input-box input');
  await input.waitFor({ state: 'visible', timeout: 10_000 });
  await input.fill(name);
  await page.locator('.quick-input-list .monaco-list-row', { hasText: name }).first().waitFor({ timeout: 10_000 });
  await input.press('Enter');
  await page.locator('.tab.active', { hasText: name }).waitFor({ timeout: 10_000 });
}

export const tests = {
  async 'lenses above params.yaml show the runs and the best value, and a hover tabulates the values tried'() {
    const workspace = prepareDemoWorkspace();
    seedDemoRuns(workspace, { lrs: [0.05, 0.3, 1.0, 0.1], epochs: 15 });
    await withWorkbench({ workspace, extensionDevelopmentPath: repoRoot, width: 1280, height: 720 }, async ({ page }) => {
      await openFile(page, 'params.yaml');
      const lens = page.locator('.contentWidgets .codelens-decoration', { hasText: 'train.lr · 4 runs' });
      await lens.waitFor({ timeout: 30_000 });
      const text = await lens.innerText();
      assert.match(text, /train\.lr · 4 runs · best val_acc 0\.\d+ @ [\d.]+ · here 0\.3/);
      assert.match(text, /Run with…/);
      assert.match(text, /Sweep…/);
      assert.match(text, /Compare by train\.lr/);
      await page.mouse.move(1200, 650); // away from the text, so no hover shows yet
      await page.waitForTimeout(300);
      await page.screenshot({ path: join(images, 'codelens.png') });
      // Hover the key for the table of values tried.
      const key = page.locator('.view-line span', { hasText: /^lr$/ }).first();
      await key.hover();
      const hover = page.locator('.monaco-hover', { hasText: 'value' }).first();
      await hover.waitFor({ timeout: 15_000 });
      assert.match(await hover.innerText(), /0\.05[\s\S]*0\.1[\s\S]*0\.3[\s\S]*1/);
      await page.waitForTimeout(300);
      await page.screenshot({ path: join(images, 'codelens-hover.png') });
    });
  },
};
