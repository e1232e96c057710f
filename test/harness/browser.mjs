// Headless Debian Chromium via playwright-core, and the code-server workbench URL.
import { pathToFileURL } from 'node:url';
import { resolve } from 'node:path';
import { chromium } from 'playwright-core';

const ARGS = [
  '--no-sandbox', '--disable-gpu', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic',
];

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
  if (folder) url.searchParams.set('folder', resolve(folder));
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
  await page.waitForTimeout(400);
}
