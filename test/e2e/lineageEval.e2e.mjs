// End to end in headless Chromium: models over time. The seeded demo has three monthly evaluations of
// production (v2) on drifted data, logged by evaluate.py from plain Python processes; the Models view
// marks v2 degraded and its lineage page charts the evaluations with the drift of the latest month's
// data from the training data.
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { withWorkbench } from '../harness/extensionTests.mjs';
import { frameWith, imagesDir, openRunLensSidebar, painted } from '../harness/browser.mjs';
import { prepareDemoWorkspace } from '../harness/demoWorkspace.mjs';
import { seedDemoModels } from '../fixtures/seedDemoModels.ts';

const repoRoot = join(import.meta.dirname, '..', '..');
const images = imagesDir();
const results = join(repoRoot, 'test-results'); // a failure's screenshot and log

export const tests = {
  async 'a degraded production version: a warning in the Models view, the evaluation chart and the drift table in its lineage'() {
    const workspace = prepareDemoWorkspace();
    await seedDemoModels(workspace); // v1, v2 @production (evaluated on months 1–3), v3 @staging
    try {
      await withWorkbench({ workspace, extensionDevelopmentPath: repoRoot, width: 1440, height: 1000, artifactsDir: results, label: 'e2e-lineage-eval' }, async ({ page, consoleLines }) => {
        await openRunLensSidebar(page, 470);
        const models = page.locator('.part.sidebar .pane', { has: page.locator('.pane-header', { hasText: /models/i }) });
        const v2 = models.locator('.monaco-list-row', { hasText: 'v2' });
        await v2.waitFor({ timeout: 30_000 });
        assert.match(await v2.innerText(), /v2\s*@production · degraded: val_acc 0\.\d+ at registration → 0\.\d+ \(3 evaluations\)/);
        assert.equal(await v2.locator('.codicon-warning').count(), 1, 'a warning icon on v2');
        assert.equal(await models.locator('.monaco-list-row .codicon-warning').count(), 1, 'only v2 is degraded');

        await v2.click();
        const frame = await frameWith(page, 'main.lineage .card.evaluations', { what: 'lineage webview with evaluations' });
        const card = frame.locator('.card.evaluations');
        assert.match(await card.locator('h2').innerText(), /3 evaluation\(s\)/);
        // the degradation alert's line, the chart: registration + 3 evaluations, each one past the tolerance red
        assert.match(await card.locator('p.changed').first().innerText(), /demo-classifier v2 degraded: val_acc 0\.\d+ at registration → 0\.\d+, beyond the tolerance of 5%/);
        const chart = card.locator('svg.chart');
        assert.equal(await chart.count(), 1);
        assert.equal(await chart.locator('.point').count(), 4, 'registration + 3 evaluations');
        assert.equal(await chart.locator('.point.registration').count(), 1);
        assert.equal(await chart.locator('line.registration').count(), 1, 'the registration value as a line');
        assert.equal(await chart.locator('.point.degraded').count(), 3, 'every month beyond the tolerance');
        // the drift of month 3's data from the training data: temp shifted, and humidity widened
        assert.match(await card.locator('h3.eval-drift').innerText(), /data\/monthly\/month-3\.csv .* against the training data data\/train\.csv/);
        const drift = card.locator('table.drift');
        assert.equal(await drift.count(), 1);
        const driftRows = await drift.locator('tbody tr').allInnerTexts();
        assert.equal(driftRows.length, 6, 'five features and the label');
        const levels = Object.fromEntries(driftRows.map((r) => r.split('\t')).map((c) => [c[0].trim(), c.at(-1).trim()]));
        assert.equal(levels.temp, 'drifted');
        assert.equal(levels.humidity, 'drifted');
        assert.equal(driftRows[0].split('\t')[0].trim(), 'temp', 'the most drifted first');

        await card.locator('h3').first().scrollIntoViewIfNeeded();
        await card.evaluate((el) => el.scrollIntoView({ block: 'start' }));
        await page.mouse.move(1400, 980); // off the chart: no tooltip in the picture
        await painted(page);
        await page.screenshot({ path: join(images, 'lineage-evaluations.png') });
        const errors = consoleLines.filter((l) => /\[pageerror\]|Refused to|Content Security Policy/.test(l) && !/open-vsx|vsda|telemetry/.test(l));
        assert.deepEqual(errors, [], 'no script errors or CSP refusals');
      });
    } finally {
      rmSync(dirname(workspace), { recursive: true, force: true });
    }
  },
};
