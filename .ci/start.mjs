// npm start: builds RunLens, copies the demo into a fresh git repository, and starts VS Code in the
// browser (code-server, on 127.0.0.1 only) with RunLens loaded on it. Prints one line per step, then
// the URL last; what the steps print goes to .tools/start.log. Ctrl-C stops.
//   npm start                   the demo workspace
//   npm start -- --folder DIR   your own folder instead
//   npm start -- --empty        the demo without its three recorded example runs
//   npm start -- --smoke        also open the URL in headless Chromium, check the RunLens sidebar,
//                               save test-results/images/npm-start.png (RUNLENS_IMAGES=docs/images: the README's), and exit
import { spawnSync } from 'node:child_process';
import { appendFileSync, closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { startCodeServer } from '../test/harness/codeServer.mjs';
import { imagesDir, launchBrowser, openWorkbench, workbenchUrl } from '../test/harness/browser.mjs';
import { prepareDemoWorkspace } from '../test/harness/demoWorkspace.mjs';

const root = resolve(import.meta.dirname, '..');
const { values: opts } = parseArgs({ options: { folder: { type: 'string' }, smoke: { type: 'boolean' }, empty: { type: 'boolean' } } });
const say = (m) => console.log(`[runlens start] ${m}`);
const log = join(root, '.tools', 'start.log');
mkdirSync(dirname(log), { recursive: true });
writeFileSync(log, `npm start, ${new Date().toISOString()}\n`);
const note = (m) => appendFileSync(log, `${m}\n`);

/** The temp folders this start made (the profile, and the demo copy; never your own --folder). */
let profile, folder;
const cleanUp = () => {
  if (profile) rmSync(profile, { recursive: true, force: true });
  if (folder && !opts.folder) rmSync(dirname(folder), { recursive: true, force: true });
};
/** A step failed: its last lines, where the whole log is, and no temp folders left behind. */
const failed = (what, err) => {
  if (err) note(String(err.stack ?? err));
  cleanUp();
  console.error(`${readFileSync(log, 'utf8').trimEnd().split('\n').slice(-20).join('\n')}\n[runlens start] ${what} failed; the whole output is in ${log}`);
  process.exit(1);
};

say('building the extension');
const out = openSync(log, 'a');
const build = spawnSync(process.execPath, [join(root, 'esbuild.mjs')], { cwd: root, stdio: ['ignore', out, out] });
closeSync(out);
if (build.status !== 0) failed('the build');

folder = opts.folder ? resolve(opts.folder) : prepareDemoWorkspace();
say(opts.folder ? `opening ${folder}` : `copied the demo into ${folder} (a git repository)`);
if (!opts.folder && !opts.empty) {
  say('recording the demo: three runs registering versions of demo-classifier, three monthly evaluations of production on drifting data, and a run whose loss diverges');
  const t0 = Date.now();
  const { seedDemoModels } = await import('../test/fixtures/seedDemoModels.ts');
  const { seedDemoRuns } = await import('../test/fixtures/seedDemoRuns.ts');
  await seedDemoModels(folder).catch((err) => failed('recording the demo runs', err));
  await seedDemoRuns(folder, { lrs: [10], epochs: 15 }).catch((err) => failed('recording the diverging run', err)); // lr 10: the divergence alert
  note(`recorded the demo runs in ${Date.now() - t0} ms`);
}

say('starting code-server');
profile = mkdtempSync(join(tmpdir(), 'runlens-code-server-'));
const server = await startCodeServer({
  folder,
  userDataDir: join(profile, 'user-data'),
  extensionsDir: join(profile, 'extensions'),
  log: note,
}).catch((err) => failed('starting code-server', err));
const url = workbenchUrl(server, { folder, extensionDevelopmentPath: root });
const stop = async () => { await server.stop(); cleanUp(); process.exit(0); };
process.on('SIGINT', stop);
process.on('SIGTERM', stop);

if (opts.smoke) {
  const browser = await launchBrowser();
  try {
    const { page } = await openWorkbench(browser, url, { width: 1280, height: 760 });
    await page.locator('.activitybar .action-item a[aria-label^="RunLens"]').first().click();
    await page.locator('.part.sidebar .title-label', { hasText: /runlens/i }).first().waitFor({ timeout: 30_000 });
    // The demo's three recorded runs are listed (not the welcome shown while the extension activates).
    if (!opts.folder && !opts.empty) await page.locator('.part.sidebar .monaco-list-row[aria-label*=", finished,"]').nth(2).waitFor({ timeout: 30_000 });
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

const port = new URL(url).port;
const setupLog = process.env.RUNLENS_SETUP_LOG && existsSync(process.env.RUNLENS_SETUP_LOG) ? ` (installs: ${process.env.RUNLENS_SETUP_LOG})` : '';
console.log(`
  Log: ${log}${setupLog}
  Ctrl-C stops the server and removes the demo's temp copy. The server listens on 127.0.0.1 only;
  from another machine, forward the port first (ssh -L ${port}:127.0.0.1:${port} you@this-machine)
  and open the same address there. The long address loads RunLens from this checkout.

  RunLens is running in VS Code in the browser. Open:

    ${url}
`);
