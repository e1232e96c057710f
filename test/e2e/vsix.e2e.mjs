// The packaged extension: `npm run package` builds a universal VSIX, code-server installs it, and the
// installed copy (not this checkout) loads better-sqlite3 from the VSIX and shows stored runs.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startCodeServer } from '../harness/codeServer.mjs';
import { launchBrowser, openWorkbench, workbenchUrl } from '../harness/browser.mjs';
import { prepareDemoWorkspace } from '../harness/demoWorkspace.mjs';
import { seedDemoRuns } from '../fixtures/seedDemoRuns.ts';

const root = join(import.meta.dirname, '..', '..');

export const tests = {
  async 'the packaged VSIX carries the SQLite prebuilds, installs in code-server and shows runs'() {
    const vsix = join(root, 'dist', 'runlens.vsix');
    execFileSync('npm', ['run', '--silent', 'package'], { cwd: root, stdio: 'pipe' });
    const listing = execFileSync('unzip', ['-l', vsix], { encoding: 'utf8' });
    for (const platform of ['linux-x64', 'linux-arm64', 'darwin-x64', 'darwin-arm64', 'win32-x64', 'win32-arm64']) {
      assert.match(listing, new RegExp(`extension/node_modules/better-sqlite3/prebuilds/${platform}\\.node`));
    }
    assert.doesNotMatch(listing, /\.map\b|test\/integration|\/src\/|\.ts\b/, 'no sources, maps or tests in the VSIX');
    console.log(`[metric] vsix ${(statSync(vsix).size / 1024 / 1024).toFixed(2)} MB`);

    const tmp = mkdtempSync(join(tmpdir(), 'runlens-vsix-'));
    try {
      const extensionsDir = join(tmp, 'ext');
      const userDataDir = join(tmp, 'ud');
      execFileSync(process.env.RUNLENS_CODE_SERVER, ['--extensions-dir', extensionsDir, '--user-data-dir', userDataDir,
        '--install-extension', vsix], { stdio: 'pipe' });
      const installed = execFileSync(process.env.RUNLENS_CODE_SERVER, ['--extensions-dir', extensionsDir,
        '--user-data-dir', userDataDir, '--list-extensions', '--show-versions'], { encoding: 'utf8' });
      assert.match(installed, /^runlens\.runlens@0\.1\.0$/m);

      const workspace = prepareDemoWorkspace();
      seedDemoRuns(workspace, { lrs: [0.3], epochs: 5 });
      const server = await startCodeServer({ folder: workspace, userDataDir, extensionsDir, log: () => {} });
      const browser = await launchBrowser();
      try {
        const { page } = await openWorkbench(browser, workbenchUrl(server, { folder: workspace }), { width: 1280, height: 760 });
        await page.locator('.activitybar .action-item a[aria-label^="RunLens"]').first().click();
        const row = page.locator('.part.sidebar .monaco-list-row', { hasText: 'finished' });
        await row.first().waitFor({ timeout: 30_000 });
        assert.equal(await row.count(), 1);
      } finally {
        await browser.close();
        await server.stop();
      }
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  },
};
