// End to end in headless Chromium: a user checks runs in the sidebar and compares them.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { withWorkbench } from '../harness/extensionTests.mjs';
import { frameWith, openRunLensSidebar, painted, runCommand, imagesDir } from '../harness/browser.mjs';
import { prepareDemoWorkspace } from '../harness/demoWorkspace.mjs';
import { seedDemoRuns } from '../fixtures/seedDemoRuns.ts';
import { seedSyntheticRuns } from '../fixtures/seedSyntheticRuns.ts';

const repoRoot = join(import.meta.dirname, '..', '..');
const images = imagesDir();

const openSidebar = (page) => openRunLensSidebar(page);
const compareFrame = (page, timeout) => frameWith(page, '#run-legend', { timeout, what: 'Compare webview' });

async function chartsReady(frame, n, timeout = 60_000) {
  await frame.waitForFunction((count) => document.querySelectorAll('.chart-card[data-ready="true"]').length >= count, n, { timeout });
}

const CHECKBOX = '.part.sidebar .monaco-list-row .custom-view-tree-node-item-checkbox';
const CHECKED = `${CHECKBOX}[aria-checked="true"]`;

/** Clicks the unchecked checkboxes of `rows`, as a user would. A click a redraw swallowed is left to the next round. */
async function checkRows(rows) {
  for (let i = 0; i < await rows.count(); i++) {
    const box = rows.nth(i).locator('.custom-view-tree-node-item-checkbox');
    if (await box.getAttribute('aria-checked', { timeout: 10_000 }).catch(() => null) === 'true') continue;
    await box.click({ timeout: 10_000 }).catch(() => {});
  }
}

/**
 * Checks `rows` until the view shows them all checked and keeps showing that for `steady` ms: the
 * view redraws from the extension's selection once the clicks settle (300 ms after the last), and
 * then a click VS Code dropped shows up unchecked, and the user clicks it again.
 */
async function checkSteadily(page, rows, n, { steady = 1500, rounds = 5 } = {}) {
  for (let round = 1; ; round++) {
    await checkRows(rows);
    const ok = await page.waitForFunction(({ selector, n, steady }) => {
      const now = performance.now();
      if (document.querySelectorAll(selector).length !== n) { globalThis.__e2eSteadySince = undefined; return false; }
      globalThis.__e2eSteadySince ??= now;
      return now - globalThis.__e2eSteadySince >= steady;
    }, { selector: CHECKED, n, steady }, { timeout: steady + 8_000, polling: 100 }).then(() => true, () => false);
    await page.evaluate(() => { globalThis.__e2eSteadySince = undefined; });
    if (ok) return;
    if (round === rounds) {
      throw new Error(`${await page.locator(CHECKED).count()} of ${n} runs checked after ${rounds} rounds: ` +
        (await page.locator('.part.sidebar .monaco-list-row').allInnerTexts()).join(' | '));
    }
  }
}

/** Moves the mouse to a spot with no hover (in the workbench or a chart) and waits until none shows. */
async function noHovers(page, frame, spot) {
  await page.mouse.move(spot.x, spot.y);
  await page.locator('.monaco-hover').filter({ visible: true }).first().waitFor({ state: 'hidden', timeout: 15_000 });
  await frame.locator('.chart-tooltip').filter({ visible: true }).first().waitFor({ state: 'hidden', timeout: 15_000 });
  await painted(page);
}

/** Errors a user would see in the developer tools: script errors and CSP refusals, from the webview. */
function webviewErrors(consoleLines) {
  return consoleLines.filter((l) => /\[pageerror\]|Refused to|Content Security Policy|compare\.js/.test(l)
    && !/open-vsx|vsda|telemetry/.test(l));
}

/** The WCAG contrast ratio of two computed CSS colours ("rgb(r, g, b)" or "rgba(...)"). */
function contrast({ fg, bg, ...rest }) {
  const lum = (c) => {
    const [r, g, b] = c.match(/[\d.]+/g).slice(0, 3).map((v) => Number(v) / 255)
      .map((v) => (v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4));
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  };
  const [a, b] = [lum(fg), lum(bg)].sort((x, y) => y - x);
  return { fg, bg, ...rest, value: (a + 0.05) / (b + 0.05) };
}

export const tests = {
  async 'three demo runs checked in the sidebar compare side by side: a chart per metric and the params diff (dark and light)'() {
    const workspace = prepareDemoWorkspace();
    await seedDemoRuns(workspace, { lrs: [0.05, 0.3, 1.0], epochs: 15 });
    for (const theme of ['dark', 'light']) {
      const settings = { 'workbench.colorTheme': theme === 'dark' ? 'Default Dark Modern' : 'Default Light Modern' };
      await withWorkbench({ workspace, extensionDevelopmentPath: repoRoot, settings, colorScheme: theme, width: 1440, height: 900 }, async ({ page, consoleLines }) => {
        await openSidebar(page);
        const rows = page.locator('.part.sidebar .monaco-list-row[aria-label*=", finished,"]');
        await page.waitForFunction((sel) => document.querySelectorAll(sel).length >= 3, CHECKBOX, { timeout: 30_000 });
        // Check the three runs with their checkboxes, as a user would.
        await checkSteadily(page, rows, 3);
        await runCommand(page, 'RunLens: Compare Selected Runs');
        const frame = await compareFrame(page);
        await chartsReady(frame, 4);
        const cards = await frame.locator('.chart-card').evaluateAll((els) => els.map((e) => ({ key: e.dataset.key, canvases: e.querySelectorAll('canvas').length })));
        // train.py logs the epoch metrics and, through the helper, batch_loss at every step.
        assert.deepEqual(cards.map((c) => c.key).sort(), ['batch_loss', 'train_loss', 'val_acc', 'val_loss'], 'one chart per metric');
        assert.ok(cards.every((c) => c.canvases === 1), 'each chart is one canvas');
        // The last checkbox events may reach the extension just after the panel opened: it follows
        // them. A click the extension never got shows unchecked by now: the user checks it again.
        const legend3 = (timeout) => frame.waitForFunction(() => document.querySelectorAll('#run-legend .run-chip').length === 3, null, { timeout });
        await legend3(20_000).catch(async () => {
          await checkSteadily(page, rows, 3);
          await legend3(30_000);
        }).catch(async (err) => { throw new Error(`${theme}: legend ${await frame.locator('#run-legend').innerText()}; tabs ${await page.locator('.tab').allInnerTexts()}; ${err.message}`); });
        await chartsReady(frame, 4);
        await noHovers(page, frame, { x: 1300, y: 820 }); // an empty corner of the panel, away from every hover
        await page.screenshot({ path: join(images, `compare-${theme}.png`) });

        assert.ok(await frame.locator('#smoothing').isVisible(), 'the chart options show on the charts tab');
        await frame.locator('#tab-tables').click();
        await frame.locator('#params-table').waitFor({ timeout: 15_000 });
        assert.ok(!await frame.locator('#smoothing').isVisible(), 'no smoothing on the tables tab: it does nothing there');
        assert.ok(!await frame.locator('#x-axis-label').isVisible(), 'no x axis on the tables tab');
        // The "changed files" note of the provenance table, in this theme, on its cell's background.
        const ratio = contrast(await frame.evaluate(() => {
          const cell = document.querySelector('#provenance-table td, #provenance-table [role="cell"], #provenance-table [role="gridcell"]');
          const probe = document.createElement('span');
          probe.className = 'changed-files';
          probe.textContent = 'Δ 1 file';
          (cell ?? document.body).appendChild(probe);
          const fg = getComputedStyle(probe).color;
          let el = probe, bg = 'rgba(0, 0, 0, 0)';
          while (el && /rgba\(0, 0, 0, 0\)|transparent/.test(bg)) { bg = getComputedStyle(el).backgroundColor; el = el.parentElement; }
          if (/rgba\(0, 0, 0, 0\)|transparent/.test(bg)) { // the page is see-through: the editor's background shows
            probe.style.background = 'var(--vscode-editor-background)';
            bg = getComputedStyle(probe).backgroundColor;
          }
          probe.remove();
          return { fg, bg, inCell: cell !== null };
        }));
        assert.ok(ratio.inCell, 'a provenance cell to measure in');
        const alertsRow = frame.locator('#provenance-table [data-key="alerts"]');
        assert.match(await alertsRow.innerText(), /^Alerts\s+none\s+none\s+none$/, 'an Alerts row: none of the three demo runs has one');
        assert.ok(ratio.value >= 4.5, `${theme}: the changed-files note has ${ratio.value.toFixed(2)}:1 contrast (${ratio.fg} on ${ratio.bg}); WCAG AA wants 4.5:1`);
        const differs = await frame.locator('#params-table [data-differs="true"]').evaluateAll((els) => els.map((e) => e.dataset.key));
        assert.ok(differs.includes('train.lr'), `train.lr differs across the runs (differing rows: ${differs})`);
        const shown = await frame.locator('#params-table [data-key]').evaluateAll((els) => els.map((e) => e.dataset.key));
        assert.deepEqual(shown, differs, 'only differences are shown by default');
        if (theme === 'dark') await page.screenshot({ path: join(images, 'compare-tables.png') });
        assert.deepEqual(webviewErrors(consoleLines), []);
      });
    }
  },

  async 'a comparison of 100 runs opens without errors'() {
    const workspace = prepareDemoWorkspace();
    seedSyntheticRuns(workspace, { runs: 100, steps: 2000 });
    await withWorkbench({ workspace, extensionDevelopmentPath: repoRoot, width: 1440, height: 900 }, async ({ page, consoleLines }) => {
      await openSidebar(page);
      const first = page.locator('.part.sidebar .monaco-list-row', { hasText: 'sweep-099' }).first();
      await first.waitFor({ timeout: 30_000 });
      // select every row, then "Compare Selected Runs" from the context menu (again if the view
      // was redrawing under the clicks)
      let frame;
      for (let attempt = 0; !frame; attempt++) {
        await page.keyboard.press('Escape'); // a menu left open by a dropped click
        await first.click();
        await page.keyboard.press('Control+A');
        await first.click({ button: 'right' });
        // The menu drops a click that comes too soon after it opened: point at the item, wait until it
        // has the focus, click, and press Enter if the menu is still open (the pointed item has the focus).
        const item = page.locator('.context-view .action-label', { hasText: 'Compare Selected Runs' });
        await item.hover({ timeout: 10_000 }).catch(() => {});
        await page.locator('.context-view .action-item.focused', { hasText: 'Compare Selected Runs' }).waitFor({ timeout: 5_000 }).catch(() => {});
        await item.click({ timeout: 5_000 }).catch(() => {});
        if (!await item.waitFor({ state: 'hidden', timeout: 3_000 }).then(() => true, () => false)) await page.keyboard.press('Enter');
        frame = await compareFrame(page, 40_000).catch(async (err) => {
          if (attempt < 2) return undefined;
          await page.screenshot({ path: join(tmpdir(), 'runlens-compare-100-failed.png') });
          throw new Error(`${err.message}; screenshot in ${tmpdir()}; console: ${consoleLines.slice(-15).join(' | ')}`);
        });
      }
      await chartsReady(frame, 3);
      await frame.waitForFunction(() => document.querySelectorAll('#run-legend .run-chip').length >= 100, null, { timeout: 30_000 }).catch(() => {});
      assert.equal(await frame.locator('#run-legend .run-chip').count(), 100, 'all 100 runs in the legend');
      await noHovers(page, frame, { x: 1300, y: 820 }); // an empty corner of the panel, away from every hover
      await page.screenshot({ path: join(images, 'compare-100.png') });
      await frame.locator('#tab-across').click();
      // the parallel coordinates have drawn when their note says what the axes are
      await frame.locator('.across-tab').filter({ visible: true }).waitFor({ timeout: 30_000 });
      assert.ok(!await frame.locator('.toolbar').isVisible(), 'no chart toolbar on the across-runs tab');
      await frame.waitForFunction(() => /Numeric axes/.test(document.querySelector('.across-tab')?.textContent ?? ''), null, { timeout: 30_000 });
      await noHovers(page, frame, { x: 1300, y: 820 });
      await page.screenshot({ path: join(images, 'compare-across.png') });
      assert.deepEqual(webviewErrors(consoleLines), []);
    });
  },
  async 'a store from before compression opens, is converted in the background, and compares its runs exactly'() {
    const workspace = prepareDemoWorkspace();
    const { writeOldStore } = await import('../unit/codecOldStore.ts');
    const { Store } = await import('../../src/core/store/store.ts');
    const N = 20_000;
    const series = ['old-a', 'old-b', 'old-c'].map((name, r) => {
      const steps = new Float64Array(N), times = new Float64Array(N), values = new Float64Array(N);
      for (let i = 0; i < N; i++) { steps[i] = i; times[i] = 1.7e12 + i * 1000; values[i] = Math.fround(Math.exp(-i / (4000 + 2000 * r)) + 0.05 * Math.sin(i * 0.37 + r)); }
      return [name, 'loss', { steps, times, values }];
    });
    const storeDir = join(workspace, '.runlens');
    writeOldStore(storeDir, series); // schema 7: raw float64 chunks
    await withWorkbench({ workspace, extensionDevelopmentPath: repoRoot, width: 1440, height: 900 }, async ({ page, consoleLines }) => {
      await openSidebar(page);
      const rows = page.locator('.part.sidebar .monaco-list-row[aria-label^="Run old-"]');
      await rows.nth(2).waitFor({ timeout: 30_000 });
      await checkSteadily(page, rows, 3);
      await runCommand(page, 'RunLens: Compare Selected Runs');
      const frame = await compareFrame(page);
      await chartsReady(frame, 1);
      assert.match(await frame.locator('#run-legend').innerText(), /old-a[\s\S]*old-b[\s\S]*old-c/);
      await painted(page);
      await page.screenshot({ path: join(images, 'compare-migrated.png') });
      assert.deepEqual(webviewErrors(consoleLines), []);
    });
    // the window converted the store in place: every point is there, bit for bit
    const store = Store.open(storeDir);
    try {
      for (const [name, key, c] of series) {
        const run = store.runs.list({ limit: 10 }).find((x) => x.name === name);
        const p = store.metrics.points(run.id, key);
        assert.deepEqual([Array.from(p.steps), Array.from(p.values)], [Array.from(c.steps), Array.from(c.values)], `${name}: every point, bit for bit`);
      }
    } finally {
      store.close();
    }
  },
};
