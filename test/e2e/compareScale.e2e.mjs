// End to end in headless Chromium: Compare on a whole sweep of 1,000 runs (10 metrics each), opened
// from the sweep's "Compare Sweep"; the legend's top N, run filter and "show only"; virtual tables.
// Alone (after `node esbuild.mjs`; test/run.mjs runs every e2e file):
//   node --disable-warning=MODULE_TYPELESS_PACKAGE_JSON --input-type=module \
//     -e "for (const f of Object.values((await import('./test/e2e/compareScale.e2e.mjs')).tests)) await f()"
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { withWorkbench } from '../harness/extensionTests.mjs';
import { contextMenu, frameWith, openRunLensSidebar, painted, imagesDir } from '../harness/browser.mjs';
import { prepareDemoWorkspace } from '../harness/demoWorkspace.mjs';
import { seedSyntheticRuns } from '../fixtures/seedSyntheticRuns.ts';

const repoRoot = join(import.meta.dirname, '..', '..');
const images = imagesDir();
const RUNS = 1000;
const SWEEP = 'lr-grid';

/** Errors a user would see in the developer tools: script errors and CSP refusals, from the webview. */
const webviewErrors = (lines) => lines.filter((l) => /\[pageerror\]|Refused to|Content Security Policy|compare\.js/.test(l) && !/open-vsx|vsda|telemetry/.test(l));

/** Cards on screen that have drawn their answer (or failed). */
const chartsReady = (frame, timeout = 60_000) => frame.waitForFunction(() => {
  const cards = [...document.querySelectorAll('.chart-card')].filter((c) => !c.hidden && c.getBoundingClientRect().top < innerHeight);
  return cards.length > 0 && cards.every((c) => c.dataset.ready === 'true' && c.querySelector('.chart-wrap')?.getAttribute('aria-busy') === 'false');
}, null, { timeout, polling: 100 });

const legendText = (frame) => frame.locator('.run-count').innerText();
const chips = (frame) => frame.locator('#run-legend .run-chip').count();

export const tests = {
  async 'a sweep of 1,000 runs compares: the best 20 drawn, the run filter and show only, virtual tables'() {
    const workspace = prepareDemoWorkspace();
    let t = Date.now();
    seedSyntheticRuns(workspace, { runs: RUNS, steps: 500, metrics: 10, experiment: 'scale', sweep: SWEEP });
    console.log(`    seeded ${RUNS} runs × 10 metrics × 500 steps (about 4 M points) in ${((Date.now() - t) / 1000).toFixed(1)} s`);
    await withWorkbench({ workspace, extensionDevelopmentPath: repoRoot, width: 1440, height: 900 }, async ({ page, consoleLines }) => {
      await openRunLensSidebar(page);
      const sweepRow = page.locator('.part.sidebar .monaco-list-row', { hasText: SWEEP }).first();
      await sweepRow.waitFor({ timeout: 30_000 });
      t = Date.now();
      await contextMenu(page, sweepRow, 'Compare Sweep');
      const menuMs = Date.now() - t;
      const frame = await frameWith(page, '#run-legend', { timeout: 60_000, what: 'Compare webview' }).catch(async (err) => {
        await page.screenshot({ path: join(tmpdir(), 'runlens-compare-1000-failed.png') });
        throw new Error(`${err.message}; screenshot in ${tmpdir()}; console: ${consoleLines.slice(-15).join(' | ')}`);
      });
      const frameMs = Date.now() - t;
      await frame.locator('#run-legend .run-chip').first().waitFor({ timeout: 60_000 });
      const legendMs = Date.now() - t;
      await chartsReady(frame);
      const s = (ms) => `${(ms / 1000).toFixed(1)} s`;
      console.log(`    Compare on ${RUNS} runs, from the menu click: menu closed ${s(menuMs)}, webview ${s(frameMs)}, legend ${s(legendMs)}, charts on screen drawn ${s(Date.now() - t)}`);

      // By default the best 20 by the primary metric are drawn, and the header says so.
      assert.match(await legendText(frame), /^Showing the best 20 of 1,000 runs by val_acc/);
      assert.equal(await chips(frame), 20);
      assert.equal(await frame.locator('#show-all-runs').innerText(), 'Show all 1,000');
      const drawn = await frame.locator('.chart-card[data-key="val_acc"]').getAttribute('data-points');
      assert.ok(Number(drawn) > 0 && Number(drawn) <= 20 * 500, `val_acc draws the 20 runs' buckets (${drawn} points)`);

      // Best 50: a choice in the header.
      await frame.locator('#top-n').click();
      await frame.locator('#top-n').getByRole('option', { name: 'Best 50' }).click();
      await frame.waitForFunction(() => /^Showing the best 50 of 1,000/.test(document.querySelector('.run-count')?.textContent ?? ''), null, { timeout: 15_000 });
      assert.equal(await chips(frame), 50);
      await chartsReady(frame);

      // The run filter finds runs by their params, drawn or not; the chips of the others are struck out.
      const filter = frame.locator('#run-filter input');
      await filter.fill('lr=0.1 optimizer=adam');
      await frame.waitForFunction(() => /100 runs found/.test(document.querySelector('.filter-note')?.textContent ?? ''), null, { timeout: 15_000 });
      assert.equal(await chips(frame), 100);
      await chartsReady(frame);
      await page.mouse.move(1300, 860);
      await painted(page);
      await page.screenshot({ path: join(images, 'compare-1000-runs-filter.png') });

      // Show only these: the charts draw the 100 runs found, and nothing else.
      await frame.locator('#show-only-matches').click();
      await frame.waitForFunction(() => /^Showing 100 of 1,000 runs/.test(document.querySelector('.run-count')?.textContent ?? ''), null, { timeout: 15_000 });
      await frame.waitForFunction(() => document.querySelector('.chart-card[data-key="val_acc"] .chart-wrap')?.getAttribute('aria-busy') === 'false', null, { timeout: 30_000 });
      await chartsReady(frame);
      const pressed = await frame.locator('#run-legend .run-chip[aria-pressed="true"]').count();
      assert.equal(pressed, 100, 'every run found is drawn');
      await frame.waitForFunction(() => document.querySelector('#top-n')?.value === 'chosen', null, { timeout: 5_000 })
        .catch(() => { throw new Error('the top-N choice does not say the runs are chosen'); });
      await page.mouse.move(1300, 860);
      await painted(page);
      await page.screenshot({ path: join(images, 'compare-1000-runs.png') });

      // Every run, in the tables: runs as rows, only the rows in view made.
      await frame.locator('#tab-tables').click();
      await frame.locator('#show-all-runs').click();
      await frame.waitForFunction(() => document.querySelector('.run-count')?.textContent === '1,000 runs', null, { timeout: 15_000 });
      await frame.waitForFunction(() => document.querySelector('#top-n')?.value === '0', null, { timeout: 5_000 })
        .catch(async () => { throw new Error(`the top-N choice shows ${await frame.locator('#top-n').evaluate((e) => e.value)}, not All runs`); });
      const table = frame.locator('#params-table');
      await frame.waitForFunction(() => document.querySelector('#params-table')?.getAttribute('aria-rowcount') === '1001', null, { timeout: 15_000 });
      assert.equal(await table.getAttribute('data-layout'), 'runs-as-rows');
      const made = await frame.locator('#params-table tbody tr[data-run]').count();
      const cells = await frame.locator('#metrics-table td').count();
      console.log(`    tables of 1,000 runs: ${made} params rows and ${cells} metric cells made`);
      assert.ok(made > 5 && made < 100, `${made} of 1,000 params rows made`);
      assert.ok(cells < 100 * 12, `${cells} metric cells made for 1,000 runs × 10 metrics`);
      // scrolled to the end, the last runs are made
      await frame.locator('#params-table').evaluate((el) => { el.parentElement.scrollTop = el.parentElement.scrollHeight; });
      await frame.waitForFunction(() => document.querySelector('#params-table tbody tr[aria-rowindex="1001"]') !== null, null, { timeout: 10_000 });
      assert.ok(await frame.locator('#params-table tbody tr[data-run]').count() < 100);
      await page.mouse.move(1300, 860);
      await painted(page);
      await page.screenshot({ path: join(images, 'compare-1000-tables.png') });
      assert.deepEqual(webviewErrors(consoleLines), []);
    });
  },
};
