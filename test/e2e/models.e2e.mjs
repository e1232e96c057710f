// End to end in headless Chromium: the Models view and a version's lineage.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { withWorkbench } from '../harness/extensionTests.mjs';
import { frameWith, hoverUntil, openRunLensSidebar, painted, imagesDir } from '../harness/browser.mjs';
import { prepareDemoWorkspace } from '../harness/demoWorkspace.mjs';
import { seedDemoModels } from '../fixtures/seedDemoModels.ts';

const repoRoot = join(import.meta.dirname, '..', '..');
const images = imagesDir();

const lineageFrame = (page) => frameWith(page, 'main.lineage', { what: 'lineage webview' });
// An empty stretch of the editor area (no editor is open yet): the mouse rests there, away from every hover.
const AWAY = { x: 1100, y: 400 };

export const tests = {
  async 'the Models view lists versions with aliases and metric; a version opens its lineage, marking the changed data file'() {
    const workspace = prepareDemoWorkspace();
    await seedDemoModels(workspace);
    await withWorkbench({ workspace, extensionDevelopmentPath: repoRoot, width: 1440, height: 900 }, async ({ page, consoleLines }) => {
      await openRunLensSidebar(page, 470);
      const models = page.locator('.part.sidebar .pane', { has: page.locator('.pane-header', { hasText: /models/i }) });
      await models.locator('.monaco-list-row', { hasText: 'v3' }).waitFor({ timeout: 30_000 });
      const rows = await models.locator('.monaco-list-row').allInnerTexts();
      assert.match(rows[0], /demo-classifier\s*3 versions/);
      assert.match(rows[1], /v3\s*@staging · val_acc 0\.\d+/);
      assert.match(rows[2], /v2\s*@production · degraded: val_acc 0\.\d+ at registration → 0\.\d+ \(3 evaluations\)/); // seedDemoModels' monthly evaluations
      assert.match(rows[3], /^v1\s*val_acc/);

      // Hover v2: the lineage in a hover.
      const v2 = models.locator('.monaco-list-row', { hasText: 'v2' });
      const hover = page.locator('.monaco-hover').filter({ hasText: 'demo-classifier v2' }).first();
      const hoverText = await hoverUntil(page, v2, hover, { away: AWAY, x: 40, timeout: 20_000 });
      assert.match(hoverText, /train\.lr=0\.3/);
      assert.match(hoverText, /data · 3 file\(s\)/);
      await painted(page);
      await page.screenshot({ path: join(images, 'models-view.png') });

      // Click v3: its lineage, against v2, names the relabelled file.
      await page.mouse.move(AWAY.x, AWAY.y);
      await hover.waitFor({ state: 'hidden', timeout: 15_000 });
      await models.locator('.monaco-list-row', { hasText: 'v3' }).click();
      const frame = await lineageFrame(page);
      await frame.locator('.card.data .changed').waitFor({ timeout: 15_000 });
      assert.match(await frame.locator('.card.data .changed').innerText(), /differs from v2: train\.csv/);
      assert.match(await frame.locator('.card.code').innerText(), /commit/);
      // the interpreter as a real run recorded it ("Python 3.11.7"), named once
      const page_ = await frame.locator('body').innerText();
      assert.match(page_, /Python \d+\.\d+/);
      assert.doesNotMatch(page_, /Python Python/);
      assert.equal(await frame.locator('.card.params td', { hasText: 'train.lr' }).count(), 1);
      assert.equal(await frame.locator('.card.metrics td', { hasText: 'val_acc' }).count(), 1);
      await painted(page);
      await page.screenshot({ path: join(images, 'lineage.png') });
      const errors = consoleLines.filter((l) => /\[pageerror\]|Refused to|Content Security Policy/.test(l) && !/open-vsx|vsda|telemetry/.test(l));
      assert.deepEqual(errors, [], 'no script errors or CSP refusals');
    });
  },
};
