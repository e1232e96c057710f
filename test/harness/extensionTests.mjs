// Runs an extension's test module inside a real VS Code extension host (code-server + Chromium).
import { rmSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { startCodeServer } from './codeServer.mjs';
import { launchBrowser, openWorkbench, workbenchUrl } from './browser.mjs';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const secs = (ms) => `${(ms / 1000).toFixed(1)} s`;

const EXTHOST_EXIT = /Extension Host Process exited with code/;
const NOISE = /open-vsx\.org|status of 404|ERR_NAME_NOT_RESOLVED|Canceled: Canceled/;

// Browser console errors worth showing (test failures surface here), minus known offline noise.
function errorLines(lines) {
  const errs = lines.filter((l) => l.startsWith('[error]') && !NOISE.test(l));
  return errs.length ? `\n----- browser console errors -----\n${errs.slice(-5).join('\n').slice(0, 4000)}` : '';
}

async function readResults(file) {
  try { return JSON.parse(await readFile(file, 'utf8')); } catch { return undefined; } // absent or half-written
}

// Fresh temp dirs + server + browser; cleanup() undoes all of it.
async function startSession({ workspace, env, settings, log, trusted = true }) {
  const tmp = await mkdtemp(join(tmpdir(), 'runlens-cs-'));
  const s = { tmp, server: null, browser: null, page: null, consoleLines: [] };
  const rmTmp = () => rmSync(tmp, { recursive: true, force: true, maxRetries: 3 });
  s.cleanup = async () => {
    await s.browser?.close().catch(() => {});
    await s.server?.stop().catch(() => {});
    await rm(tmp, { recursive: true, force: true }).catch(() => {});
    process.off('exit', rmTmp);
  };
  try {
    s.server = await startCodeServer({
      folder: workspace, userDataDir: join(tmp, 'ud'), extensionsDir: join(tmp, 'ext'), env, settings, log, trusted,
    });
    process.on('exit', rmTmp); // after the server's own hook, which kills it first
    s.browser = await launchBrowser();
  } catch (err) {
    await s.cleanup();
    throw err;
  }
  return s;
}

async function open(s, url, opts) {
  try {
    Object.assign(s, await openWorkbench(s.browser, url, opts));
  } catch (err) {
    s.page = err.page;
    s.consoleLines = err.consoleLines ?? s.consoleLines;
    throw err;
  }
}

async function saveFailure(s, artifactsDir, label, err) {
  await mkdir(artifactsDir, { recursive: true });
  const png = join(artifactsDir, `${label}-failure.png`);
  const logFile = join(artifactsDir, `${label}-failure.log`);
  let shot = 'no page to screenshot';
  if (s.page) shot = await s.page.screenshot({ path: png, timeout: 10_000 }).then(() => png, (e) => `screenshot failed: ${e.message}`);
  const output = s.server?.output() ?? '';
  await writeFile(logFile, [
    `error: ${err.stack || err}`, '',
    '===== code-server output =====', output, '',
    '===== browser console =====', ...s.consoleLines, '',
  ].join('\n'));
  const tail = output.trimEnd().split('\n').slice(-40).join('\n');
  return new Error(`${label}: ${err.message}\n  screenshot: ${shot}\n  log: ${logFile}\n` +
    `----- last code-server output -----\n${tail}`, { cause: err });
}

export async function runExtensionTests({
  extensionDevelopmentPath, extensionTestsPath, workspace, resultsFile, timeoutMs = 900000,
  env = {}, settings = {}, artifactsDir = join(tmpdir(), 'runlens-artifacts'), label = 'integration', trusted = true,
  log = console.error,
}) {
  if (!extensionDevelopmentPath || !extensionTestsPath || !resultsFile) {
    throw new Error('runExtensionTests needs extensionDevelopmentPath, extensionTestsPath and resultsFile');
  }
  resultsFile = resolve(resultsFile);
  await rm(resultsFile, { force: true }); // never pick up a stale result
  const t0 = Date.now();
  const deadline = t0 + timeoutMs;
  let s;
  try {
    s = await startSession({ workspace, env: { ...env, RUNLENS_TEST_RESULTS: resultsFile }, settings, log, trusted });
    const tServer = Date.now();
    const url = workbenchUrl(s.server, { folder: workspace, extensionDevelopmentPath, extensionTestsPath });
    await open(s, url, { restored: false }); // the results file is the signal here
    const tWorkbench = Date.now();
    let results;
    for (;;) {
      results = await readResults(resultsFile);
      if (results !== undefined) break;
      if (s.page.isClosed()) throw new Error('the workbench page closed before results were written');
      if (EXTHOST_EXIT.test(s.server.output())) { // fresh server: any exit means the run ended
        await sleep(2000); // let a just-finished writer land
        results = await readResults(resultsFile);
        if (results !== undefined) break;
        throw new Error(`the extension host exited without writing ${resultsFile} (did run() throw?)` +
          errorLines(s.consoleLines));
      }
      if (Date.now() > deadline) throw new Error(`no results in ${resultsFile} after ${secs(timeoutMs)}` +
        errorLines(s.consoleLines));
      await sleep(250);
    }
    log(`[${label}] server ${secs(tServer - t0)}, workbench ${secs(tWorkbench - tServer)}, ` +
      `tests ${secs(Date.now() - tWorkbench)}`);
    return results;
  } catch (err) {
    throw s ? await saveFailure(s, resolve(artifactsDir), label, err) : err;
  } finally {
    await s?.cleanup();
  }
}

export async function withWorkbench({
  workspace, extensionDevelopmentPath, env = {}, settings = {}, colorScheme, width, height,
  artifactsDir, label = 'e2e', log = console.error,
} = {}, fn) {
  const s = await startSession({ workspace, env, settings, log });
  try {
    await open(s, workbenchUrl(s.server, { folder: workspace, extensionDevelopmentPath }), { colorScheme, width, height });
    return await fn({ page: s.page, server: s.server, consoleLines: s.consoleLines });
  } catch (err) {
    throw artifactsDir ? await saveFailure(s, resolve(artifactsDir), label, err) : err; // optional artifacts
  } finally {
    await s.cleanup();
  }
}
