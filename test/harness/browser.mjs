// Headless Debian Chromium via playwright-core, and the code-server workbench URL.
import { pathToFileURL } from 'node:url';
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { chromium } from 'playwright-core';

const ARGS = [
  '--no-sandbox', '--disable-gpu', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic',
];

/**
 * Where e2e screenshots go: test-results/images, so `npm test` changes no tracked file.
 * `npm run images` sets RUNLENS_IMAGES=docs/images to refresh the README's pictures.
 */
export function imagesDir() {
  const dir = resolve(import.meta.dirname, '..', '..', process.env.RUNLENS_IMAGES || join('test-results', 'images'));
  mkdirSync(dir, { recursive: true });
  return dir;
}

export async function launchBrowser() {
  const executablePath = process.env.RUNLENS_CHROMIUM || '/usr/bin/chromium';
  return chromium.launch({ executablePath, headless: true, args: ARGS });
}

// vscode-remote URI for an absolute path on the code-server machine.
function remoteUri(server, path) {
  const host = new URL(server.url).host; // 127.0.0.1:PORT
  return `vscode-remote://${host}${pathToFileURL(resolve(path)).pathname}`;
}

export function workbenchUrl(server, { folder, extensionDevelopmentPath, extensionTestsPath } = {}) {
  const url = new URL('/', server.url);
  // a .code-workspace file opens a multi-root workspace
  if (folder) url.searchParams.set(folder.endsWith('.code-workspace') ? 'workspace' : 'folder', resolve(folder));
  const payload = [];
  if (extensionDevelopmentPath) payload.push(['extensionDevelopmentPath', remoteUri(server, extensionDevelopmentPath)]);
  if (extensionTestsPath) payload.push(['extensionTestsPath', remoteUri(server, extensionTestsPath)]);
  if (payload.length) url.searchParams.set('payload', JSON.stringify(payload));
  return url.toString();
}

// restored: also wait until the workbench reports its restored phase (ready for keyboard/commands).
export async function openWorkbench(browser, url, { width = 1400, height = 900, colorScheme = 'dark', restored = true } = {}) {
  const context = await browser.newContext({ viewport: { width, height }, colorScheme });
  const page = await context.newPage();
  const consoleLines = [];
  page.on('console', (m) => consoleLines.push(`[${m.type()}] ${m.text()}`));
  page.on('pageerror', (e) => consoleLines.push(`[pageerror] ${e.message}`));
  try {
    await page.goto(url, { waitUntil: 'domcontentloaded', timeout: 60_000 });
    await page.locator('.monaco-workbench').first().waitFor({ state: 'visible', timeout: 60_000 });
    // The smoke-test driver (--vscode-option enable-smoke-test-driver) says when the workbench has
    // restored; before that, keybindings and contributed commands may not be ready yet.
    if (restored) {
      await page.waitForFunction(() => globalThis.driver?.whenWorkbenchRestored, null, { timeout: 60_000 });
      await page.evaluate(() => globalThis.driver.whenWorkbenchRestored());
    }
  } catch (err) {
    err.page = page; // lets callers screenshot the failure
    err.consoleLines = consoleLines;
    throw err;
  }
  return { page, context, consoleLines };
}

// Runs a command by its palette title. Retries: commands contributed by extensions show up
// in the palette a little after the workbench has restored, and an open palette does not refresh.
export async function runCommand(page, title, { timeout = 30_000 } = {}) {
  const deadline = Date.now() + timeout;
  const input = page.locator('.quick-input-widget .quick-input-box input');
  // Enter on the focused row: clicking races with the list re-rendering as it filters.
  const row = page.locator('.quick-input-list .monaco-list-row.focused', { hasText: title });
  for (;;) {
    await page.keyboard.press('F1');
    await input.waitFor({ state: 'visible', timeout: 5_000 });
    await input.fill(`>${title}`);
    if (await row.waitFor({ state: 'visible', timeout: 2_000 }).then(() => true, () => false)) {
      await input.press('Enter');
      return;
    }
    await page.keyboard.press('Escape');
    if (Date.now() > deadline) throw new Error(`command "${title}" not in the command palette after ${timeout} ms`);
    await page.waitForTimeout(500);
  }
}

/** The document of a webview whose content matches `selector`: one of the page's (nested) frames. */
export async function frameWith(page, selector, { timeout = 60_000, what = selector } = {}) {
  const deadline = Date.now() + timeout;
  for (;;) {
    for (const frame of page.frames()) {
      if (await frame.locator(selector).count().catch(() => 0)) return frame;
    }
    if (Date.now() > deadline) throw new Error(`no ${what} appeared`);
    await page.waitForTimeout(250);
  }
}

/** Opens the RunLens sidebar and, with `width`, drags its edge as a user would so descriptions are not cut off. */
export async function openRunLensSidebar(page, width) {
  await page.locator('.activitybar .action-item a[aria-label^="RunLens"]').first().click();
  const sidebar = page.locator('.part.sidebar');
  await sidebar.locator('.title-label', { hasText: /runlens/i }).first().waitFor({ timeout: 30_000 });
  if (!width) return;
  const box = await sidebar.boundingBox();
  await page.mouse.move(box.x + box.width + 2, box.y + 300);
  await page.mouse.down();
  await page.mouse.move(box.x + width, box.y + 300, { steps: 8 });
  await page.mouse.up();
  await page.mouse.move(box.x + width + 400, box.y + 500); // off the sash, so it is not highlighted
  // the drag has landed (the sidebar has its new width) and no sash is highlighted any more
  const want = box.x + width;
  await page.waitForFunction((right) => {
    const r = document.querySelector('.part.sidebar')?.getBoundingClientRect();
    return r && Math.abs(r.right - right) < 3 && !document.querySelector('.monaco-sash.hover, .monaco-sash.active');
  }, want, { timeout: 15_000 }).catch(async (err) => {
    const now = await sidebar.boundingBox();
    throw new Error(`the sidebar did not take the dragged width (${width} px; now ${now?.width} px): ${err.message}`);
  });
  await painted(page);
}

/**
 * Resolves once the page (or a webview's frame) has painted twice since the call: a screenshot then
 * shows what the DOM holds. Best effort: a frame that gets no animation frames (hidden, or a webview
 * frame being swapped) does not hold the test up for more than a few seconds.
 */
export async function painted(page, { timeout = 5_000 } = {}) {
  let timer;
  await Promise.race([
    page.evaluate(() => new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve)))).catch(() => {}),
    new Promise((resolve) => { timer = setTimeout(resolve, timeout); }),
  ]);
  clearTimeout(timer);
}

/** The locator's box once it stops moving (the layout settles after a resize or a redraw). */
export async function settledBox(locator, { timeout = 15_000 } = {}) {
  const deadline = Date.now() + timeout;
  let last = null;
  for (;;) {
    const box = await locator.boundingBox({ timeout: Math.max(1000, deadline - Date.now()) });
    if (box && last && ['x', 'y', 'width', 'height'].every((k) => Math.abs(box[k] - last[k]) < 0.5)) return box;
    if (Date.now() > deadline) {
      if (box) return box;
      throw new Error('the element has no box');
    }
    last = box;
    await locator.page().waitForTimeout(100);
  }
}

/**
 * Points at `target` as a user would to see its hover: from `away` onto it (at `x` px from its left
 * edge), then a little along it (staying on it), and waits for `hover` (a locator of the hover with
 * its content) to show. Returns the hover's text. A hover can be lost under a mouse that does not
 * move: the Runs view redraws its rows when the store changes (it also does once shortly after it
 * first shows them), which takes a shown tooltip away for good, or the layout shifts. Then the mouse
 * goes away and comes back, up to `attempts` times. `away` must be a point with no hover of its own.
 */
export async function hoverUntil(page, target, hover, { away, x = 80, attempts = 4, timeout = 15_000 } = {}) {
  if (!away) throw new Error('hoverUntil needs an `away` point');
  let last;
  for (let attempt = 1; attempt <= attempts; attempt++) {
    await page.mouse.move(away.x, away.y);
    // a hover from the last attempt goes when the mouse leaves; the next one must be new
    await hover.waitFor({ state: 'hidden', timeout: 5_000 }).catch(() => {});
    let at;
    try {
      await target.waitFor({ state: 'visible', timeout });
      const box = await settledBox(target, { timeout });
      at = { x: box.x + Math.min(x, box.width / 3), y: box.y + box.height / 2 };
      // counts the target's redraws while the mouse rests on it, to say why a hover did not show
      await target.evaluate((el) => {
        el.__e2eRedraws = 0;
        el.__e2eObserver?.disconnect();
        el.__e2eObserver = new MutationObserver((ms) => { el.__e2eRedraws += ms.filter((m) => m.type !== 'attributes').length; });
        el.__e2eObserver.observe(el, { subtree: true, childList: true, characterData: true });
      }, undefined, { timeout: 2_000 }).catch(() => {});
      await page.mouse.move(at.x, at.y, { steps: 2 });
      at.x = Math.min(at.x + 30, box.x + box.width - 2); // still on the target
      await page.mouse.move(at.x, at.y, { steps: 4 });
      await hover.waitFor({ state: 'visible', timeout });
      return await hover.innerText({ timeout: 2_000 });
    } catch (err) {
      last = err;
      const why = await page.evaluate(({ el, at }) => {
        const under = at && document.elementFromPoint(at.x, at.y);
        return {
          redraws: el?.__e2eRedraws,
          underMouse: (under?.closest('.monaco-list-row, .view-line') ?? under)?.textContent?.slice(0, 60),
          hoversShown: [...document.querySelectorAll('.monaco-hover')].filter((h) => h.getClientRects().length)
            .map((h) => h.textContent.slice(0, 60)),
        };
      }, { el: await target.elementHandle({ timeout: 1_000 }).catch(() => null), at }).catch((e) => ({ error: e.message }));
      console.error(`[e2e] no hover on attempt ${attempt} of ${attempts} (${JSON.stringify(why)}): ${err.message.split('\n')[0]}`);
    } finally {
      await target.evaluate((el) => el.__e2eObserver?.disconnect(), undefined, { timeout: 2_000 }).catch(() => {});
    }
  }
  throw new Error(`no hover after ${attempts} attempts: ${last?.message}`);
}

/**
 * The shown terminal's text as xterm holds it (what it paints): every line of its buffer, rows
 * wrapped by the terminal joined again, and the rows on screen now. Undefined until there is one.
 */
export function terminalText(page) {
  return page.evaluate(() => {
    // VS Code keeps the xterm instance on its wrapper element; the shown terminal's is laid out.
    const wrapper = [...document.querySelectorAll('.terminal-wrapper')].find((w) => w.xterm && w.getClientRects().length);
    const term = wrapper?.xterm;
    if (!term) return undefined;
    const buf = term.buffer.active;
    const lines = [];
    const visible = [];
    for (let i = 0; i < buf.length; i++) {
      const line = buf.getLine(i);
      const text = line.translateToString(true);
      if (line.isWrapped && lines.length) lines[lines.length - 1] += text;
      else lines.push(text);
      if (i >= buf.viewportY && i < buf.viewportY + term.rows) visible.push(text);
    }
    return { lines, visible, rows: term.rows, cols: term.cols };
  });
}

/** Polls the shown terminal until `ok(text)`; the error says what it showed instead. */
export async function waitForTerminal(page, ok, what, timeout) {
  const deadline = Date.now() + timeout;
  let text;
  for (;;) {
    text = await terminalText(page);
    if (text && ok(text)) return text;
    if (Date.now() > deadline) {
      throw new Error(`the terminal did not show ${what} within ${timeout} ms; on screen:\n` +
        `${text ? text.visible.join('\n') : '(no terminal)'}`);
    }
    await page.waitForTimeout(250);
  }
}

/**
 * Answers the open quick pick (the one whose placeholder is `placeholder`, when given): types `filter`
 * (default: the label) and presses Enter once the row with `label` is the focused one.
 */
export async function pickQuickItem(page, label, { filter = label, placeholder, timeout = 30_000 } = {}) {
  const input = page.locator(`.quick-input-widget .quick-input-box input${placeholder ? `[placeholder="${placeholder.replace(/"/g, '\\"')}"]` : ''}`);
  await input.waitFor({ state: 'visible', timeout });
  await input.fill(filter);
  await page.locator('.quick-input-list .monaco-list-row.focused', { hasText: label }).waitFor({ timeout });
  await input.press('Enter');
}

/**
 * Right-clicks `row` and picks the menu item, again if the menu dropped the click (it does when the click
 * comes too soon, and then it may close without running the item). With `until`, a locator the item's
 * command shows, the menu is tried again while that does not appear.
 */
export async function contextMenu(page, row, item, { until } = {}) {
  const entry = page.locator('.context-view .action-label', { hasText: item });
  for (let attempt = 0; ; attempt++) {
    await page.keyboard.press('Escape');
    await row.click({ button: 'right' });
    await entry.hover({ timeout: 10_000 }).catch(() => {});
    await page.locator('.context-view .action-item.focused', { hasText: item }).waitFor({ timeout: 5_000 }).catch(() => {});
    await entry.click({ timeout: 5_000 }).catch(() => {});
    if (!await entry.waitFor({ state: 'hidden', timeout: 3_000 }).then(() => true, () => false)) await page.keyboard.press('Enter');
    const closed = await entry.waitFor({ state: 'hidden', timeout: 3_000 }).then(() => true, () => false);
    const ran = !until || await until.waitFor({ state: 'visible', timeout: 10_000 }).then(() => true, () => false);
    if ((closed && ran) || attempt === 2) return;
  }
}
