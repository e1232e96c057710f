// The packaged extension: `npm run package` builds a universal VSIX, code-server installs it, and the
// installed copy (not this checkout) loads better-sqlite3 from the VSIX and shows stored runs.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startCodeServer } from '../harness/codeServer.mjs';
import { launchBrowser, openWorkbench, workbenchUrl } from '../harness/browser.mjs';
import { prepareDemoWorkspace } from '../harness/demoWorkspace.mjs';
import { seedDemoRuns } from '../fixtures/seedDemoRuns.ts';

const root = join(import.meta.dirname, '..', '..');

/** The prebuilds the README's "Install the VSIX" section says the VSIX carries, as better-sqlite3 names them (linuxmusl-x64, …). */
function claimedPrebuilds(readme) {
  const sentence = /The VSIX carries better-sqlite3's prebuilt[^.]*\./.exec(readme)?.[0]?.replace(/\s+/g, ' ');
  if (!sentence) throw new Error('the README has no sentence on the prebuilds the VSIX carries');
  const linux = /\bLinux \(([^)]*)\)/.exec(sentence)?.[1] ?? (/\bLinux\b/.test(sentence) ? 'glibc' : '');
  const systems = [/glibc/.test(linux) && 'linux', /musl/.test(linux) && 'linuxmusl',
    /\bmacOS\b/.test(sentence) && 'darwin', /\bWindows\b/.test(sentence) && 'win32'].filter(Boolean);
  const arches = ['x64', 'arm64'].filter((a) => new RegExp(`\\b${a}\\b`).test(sentence));
  return systems.flatMap((s) => arches.map((a) => `${s}-${a}`)).sort();
}

export const tests = {
  async 'the packaged VSIX carries the SQLite prebuilds the README names, its licence, changelog, icon and walkthrough, installs in code-server and shows runs'() {
    const vsix = join(root, 'dist', 'runlens.vsix');
    execFileSync('npm', ['run', '--silent', 'package'], { cwd: root, stdio: 'pipe' });
    const listing = execFileSync('unzip', ['-l', vsix], { encoding: 'utf8' });
    // The prebuilds it carries are the ones the README promises (Linux glibc and musl, macOS, Windows; x64, arm64).
    const prebuilds = [...listing.matchAll(/extension\/node_modules\/better-sqlite3\/prebuilds\/([\w-]+)\.node$/gm)].map((m) => m[1]).sort();
    const claimed = claimedPrebuilds(readFileSync(join(root, 'README.md'), 'utf8'));
    console.log(`[e2e] VSIX prebuilds: ${prebuilds.join(', ')}`);
    assert.deepEqual(prebuilds, claimed, 'the VSIX carries exactly the prebuilds the README names');
    assert.ok(claimed.includes('linux-x64') && claimed.includes('linuxmusl-x64'), `the README names glibc and musl builds: ${claimed}`);
    for (const p of prebuilds.filter((p) => p.startsWith('linux'))) {
      const binary = execFileSync('unzip', ['-p', vsix, `extension/node_modules/better-sqlite3/prebuilds/${p}.node`], { maxBuffer: 64 << 20 });
      const musl = binary.includes('libc.musl-');
      assert.equal(musl, p.startsWith('linuxmusl'), `${p}.node links ${musl ? 'musl' : 'glibc'}`);
    }
    // What the Marketplace shows, and only what the extension runs: no sources, maps, tests or Python caches.
    for (const file of ['LICENSE.txt', 'changelog.md', 'readme.md', 'media/icon.png']) {
      assert.match(listing, new RegExp(`extension/${file.replaceAll('.', '\\.')}$`, 'm'), `the VSIX has ${file}`);
    }
    const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
    const images = manifest.contributes.walkthroughs.flatMap((w) => w.steps.map((s) => s.media.image));
    assert.ok(images.length >= 5, 'the walkthrough has its images');
    for (const image of images) assert.ok(listing.includes(`extension/${image}\n`), `the VSIX has ${image}`);
    assert.doesNotMatch(listing, /\.map\b|\/test\/|\.test\.|\/src\/|\.ts\b|__pycache__|\.pyc\b/, 'no sources, maps, tests or caches in the VSIX');
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
      await seedDemoRuns(workspace, { lrs: [0.3], epochs: 5 });
      const server = await startCodeServer({ folder: workspace, userDataDir, extensionsDir, log: () => {} });
      const browser = await launchBrowser();
      try {
        const { page } = await openWorkbench(browser, workbenchUrl(server, { folder: workspace }), { width: 1280, height: 760 });
        await page.locator('.activitybar .action-item a[aria-label^="RunLens"]').first().click();
        const row = page.locator('.part.sidebar .monaco-list-row[aria-label*=", finished,"]');
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
