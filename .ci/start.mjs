// npm start: builds RunLens, copies the demo into a fresh git repository, and starts VS Code in the
// browser (code-server, on 127.0.0.1 only) with RunLens loaded on it. Prints the URL; Ctrl-C stops.
//   npm start                   the demo workspace
//   npm start -- --folder DIR   your own folder instead
//   npm start -- --empty        the demo without its three recorded example runs
//   npm start -- --smoke        also open the URL in headless Chromium, check the RunLens sidebar,
//                               save test-results/images/npm-start.png (RUNLENS_IMAGES=docs/images: the README's), and exit
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { startCodeServer } from '../test/harness/codeServer.mjs';
import { imagesDir, launchBrowser, openWorkbench, workbenchUrl } from '../test/harness/browser.mjs';
import { prepareDemoWorkspace } from '../test/harness/demoWorkspace.mjs';

const root = resolve(import.meta.dirname, '..');
const { values: opts } = parseArgs({ options: { folder: { type: 'string' }, smoke: { type: 'boolean' }, empty: { type: 'boolean' } } });
const say = (m) => console.log(`[runlens start] ${m}`);

say('building the extension');
const build = spawnSync(process.execPath, [join(root, 'esbuild.mjs')], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] });
if (build.status !== 0) process.exit(build.status ?? 1);

const folder = opts.folder ? resolve(opts.folder) : prepareDemoWorkspace();
say(opts.folder ? `opening ${folder}` : `demo workspace (a git repository): ${folder}`);
if (!opts.folder && !opts.empty) {
  say('recording three runs of the demo training script, each registering a version of demo-classifier, so the sidebar has something to show');
  const { seedDemoModels } = await import('../test/fixtures/seedDemoModels.ts');
  await seedDemoModels(folder);
}

const profile = mkdtempSync(join(tmpdir(), 'runlens-code-server-'));
const server = await startCodeServer({
  folder,
  userDataDir: join(profile, 'user-data'),
  extensionsDir: join(profile, 'extensions'),
  log: () => {},
});
const url = workbenchUrl(server, { folder, extensionDevelopmentPath: root });
/** The temp folders this start made (the profile, and the demo copy; never your own --folder). */
const cleanUp = () => {
  rmSync(profile, { recursive: true, force: true });
  if (!opts.folder) rmSync(dirname(folder), { recursive: true, force: true });
};
const stop = async () => { await server.stop(); cleanUp(); process.exit(0); };
process.on('SIGINT', stop);
process.on('SIGTERM', stop);

if (opts.smoke) {
  const browser = await launchBrowser();
  try {
    const { page } = await openWorkbench(browser, url, { width: 1280, height: 760 });
    await page.locator('.activitybar .action-item a[aria-label^="RunLens"]').first().click();
    await page.locator('.part.sidebar .title-label', { hasText: /runlens/i }).first().waitFor({ timeout: 30_000 });
    await page.waitForTimeout(1000);
    await page.screenshot({ path: join(imagesDir(), 'npm-start.png') });
    say(`smoke check passed: the workbench opened with the RunLens sidebar (${join(imagesDir(), 'npm-start.png')})`);
  } finally {
    await browser.close();
    await server.stop();
    cleanUp();
  }
  process.exit(0);
}

console.log(`
  RunLens is running in VS Code in the browser. Open:

  ${url}

  (The long address loads RunLens from this checkout. Press Ctrl-C to stop; the demo's temp copy
  goes with it.) The server listens on 127.0.0.1 only. From another machine, forward the port:
    ssh -L ${new URL(url).port}:127.0.0.1:${new URL(url).port} you@this-machine
  then open the same address there.
`);
