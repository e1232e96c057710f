// End to end in headless Chromium: a new user opens the RunLens walkthrough from the Welcome page.
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { withWorkbench } from '../harness/extensionTests.mjs';
import { painted, runCommand } from '../harness/browser.mjs';
import { prepareDemoWorkspace } from '../harness/demoWorkspace.mjs';

const repoRoot = join(import.meta.dirname, '..', '..');
const results = join(repoRoot, 'test-results');
const TITLE = 'Get Started with RunLens';
// What issue 18 asks the walkthrough to teach, in this order.
const STEPS = ['Describe your runs in runlens.yaml', 'Start your first run', 'Compare runs', 'Use a hyperparameter lens', 'Register a model'];

/** A step's button label: the text of the command link on its own line in the manifest's description. */
const buttonLabel = (step) => /^\[([^\]]+)\]\(command:[^)]+\)$/m.exec(step.description)?.[1];

export const tests = {
  async 'the walkthrough opens from Welcome: Open Walkthrough…, shows its steps with their images, and creates runlens.yaml'() {
    const { walkthroughs } = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')).contributes;
    const steps = walkthroughs?.find((w) => w.title === TITLE)?.steps ?? [];
    const workspace = prepareDemoWorkspace();
    const config = join(workspace, 'runlens.yaml');
    rmSync(config); // a project without one: the first step writes the starter
    mkdirSync(results, { recursive: true });
    const settings = { 'workbench.colorTheme': 'Default Dark Modern' };
    // Wide enough for the walkthrough to show its media column (hidden when the editor is 950 px or narrower).
    await withWorkbench({ workspace, extensionDevelopmentPath: repoRoot, settings, width: 1440, height: 900, artifactsDir: results, label: 'walkthrough' }, async ({ page }) => {
      await runCommand(page, 'Welcome: Open Walkthrough');
      const input = page.locator('.quick-input-widget .quick-input-box input[placeholder^="Select a walkthrough"]');
      await input.waitFor({ timeout: 15_000 });
      await input.fill('RunLens');
      await page.locator('.quick-input-list .monaco-list-row.focused', { hasText: TITLE }).waitFor({ timeout: 15_000 });
      await input.press('Enter');

      const details = page.locator('.gettingStartedSlideDetails');
      await details.locator('h2.category-title', { hasText: TITLE }).waitFor({ timeout: 30_000 });
      const rows = details.locator('.getting-started-step');
      assert.deepEqual(await rows.locator('.step-title').allInnerTexts(), STEPS);
      assert.deepEqual(steps.map((s) => s.title), STEPS, 'the manifest lists the same steps');

      // Each step, expanded: its button and its own image, loaded.
      for (const [i, step] of steps.entries()) {
        const row = rows.nth(i);
        if (await row.getAttribute('aria-expanded') !== 'true') await row.locator('.step-title').click();
        await page.waitForFunction((el) => el.getAttribute('aria-expanded') === 'true', await row.elementHandle(), { timeout: 10_000 });
        const label = buttonLabel(step);
        assert.ok(label, `step "${step.title}" has a command link on its own line`);
        await row.locator('.button-container .monaco-button', { hasText: label }).waitFor({ timeout: 10_000 });
        const file = step.media.image.split('/').pop();
        const img = await page.waitForFunction((file) => {
          const img = document.querySelector('.gettingStartedSlideDetails .getting-started-media img');
          const src = decodeURIComponent(img?.currentSrc ?? '');
          return img && img.complete && img.naturalWidth > 0 && src.includes(`/media/walkthrough/${file}`) && img.getBoundingClientRect().width > 200
            ? { width: img.naturalWidth, shown: Math.round(img.getBoundingClientRect().width) } : false;
        }, file, { timeout: 15_000 }).then((h) => h.jsonValue(), () => undefined);
        assert.ok(img, `step "${step.title}" shows media/walkthrough/${file}`);
        await painted(page);
        await page.screenshot({ path: join(results, `walkthrough-${i + 1}.png`) });
      }

      // The first step's button writes the commented starter and opens it, and ticks the step.
      await rows.nth(0).locator('.step-title').click();
      const button = rows.nth(0).locator('.button-container .monaco-button', { hasText: buttonLabel(steps[0]) });
      await button.click();
      const tab = page.locator('.tabs-container .tab', { hasText: 'runlens.yaml' });
      await tab.waitFor({ timeout: 30_000 });
      const text = readFileSync(config, 'utf8');
      assert.match(text, /^experiment: demo\b/m);
      assert.match(text, /^runs:\n {2}train:\n {4}command: \[python3, train\.py\]/m);
      await page.locator('.editor-instance .view-lines', { hasText: 'primary_metric' }).first().waitFor({ timeout: 15_000 });
      await painted(page);
      await page.screenshot({ path: join(results, 'walkthrough-created.png') });
      // back on the walkthrough (the file opened over it), the step is ticked
      const welcome = page.locator('.tabs-container .tab', { hasText: 'Welcome' });
      await welcome.click();
      await page.locator('[data-done-step-id$="#runlens.config"].codicon-getting-started-step-checked').waitFor({ timeout: 15_000 });
      await painted(page);
      await page.screenshot({ path: join(results, 'walkthrough-done.png') });

      // Clicked again with a file of the user's: it opens that file and never overwrites it.
      writeFileSync(config, '# mine\nruns: {}\n');
      await tab.click({ button: 'middle' }); // closes it
      await tab.waitFor({ state: 'detached', timeout: 10_000 });
      await welcome.click();
      await button.click();
      await tab.waitFor({ timeout: 30_000 });
      await page.locator('.editor-instance .view-lines', { hasText: '# mine' }).first().waitFor({ timeout: 15_000 });
      assert.equal(readFileSync(config, 'utf8'), '# mine\nruns: {}\n');
    });
  },
};
