// Starts code-server (VS Code in the browser) on a free loopback port.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { constants } from 'node:os';
import { join } from 'node:path';

const DEFAULT_SETTINGS = {
  'workbench.startupEditor': 'none',
  'telemetry.telemetryLevel': 'off',
  'update.mode': 'none',
  'extensions.autoCheckUpdates': false,
  'extensions.autoUpdate': false,
  'workbench.enableExperiments': false,
  'security.workspace.trust.enabled': false,
  'workbench.tips.enabled': false,
  'workbench.secondarySideBar.defaultVisibility': 'hidden', // else an empty chat side bar
  'chat.disableAIFeatures': true,
  'workbench.colorTheme': 'Default Dark Modern',
  // code-server's port finder spawns a process scan every 2 s or more on the extension host's thread (up
  // to 190 ms a spawn on a loaded machine): not ours, and it drowns what the tests measure. With a tunnel
  // provider (code-server has one) only this source setting turns the scan off.
  'remote.autoForwardPorts': false,
  'remote.autoForwardPortsSource': 'output',
};
const OUTPUT_LIMIT = 256 * 1024; // chars kept by output()

export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

async function writeSettings(userDataDir, settings) {
  const dir = join(userDataDir, 'User');
  await mkdir(dir, { recursive: true });
  const file = join(dir, 'settings.json');
  let existing = {};
  try { existing = JSON.parse(await readFile(file, 'utf8')); } catch { /* none yet */ }
  const merged = { ...DEFAULT_SETTINGS, ...existing, ...settings };
  await writeFile(file, JSON.stringify(merged, null, 2));
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export async function startCodeServer({
  folder, userDataDir, extensionsDir, env = {}, settings = {}, log = console.error, trusted = true,
}) {
  const bin = process.env.RUNLENS_CODE_SERVER;
  if (!bin) throw new Error('RUNLENS_CODE_SERVER is not set: run through `bash .ci/env.sh <cmd>`');
  if (!existsSync(bin)) throw new Error(`RUNLENS_CODE_SERVER=${bin} does not exist: run \`bash .ci/env.sh\``);
  if (!userDataDir || !extensionsDir) throw new Error('startCodeServer needs userDataDir and extensionsDir');

  await writeSettings(userDataDir, trusted ? settings : {
    ...settings, 'security.workspace.trust.enabled': true, 'security.workspace.trust.startupPrompt': 'never',
  });
  await mkdir(extensionsDir, { recursive: true });
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const args = [
    '--auth', 'none', '--bind-addr', `127.0.0.1:${port}`,
    '--disable-telemetry', '--disable-update-check', ...(trusted ? ['--disable-workspace-trust'] : []),
    '--ignore-last-opened', '--config', join(userDataDir, 'code-server.yaml'),
    '--user-data-dir', userDataDir, '--extensions-dir', extensionsDir,
    '--vscode-option', 'enable-smoke-test-driver',
  ];
  if (folder) args.push(folder);

  let out = '';
  const append = (chunk) => {
    out += chunk.toString();
    if (out.length > OUTPUT_LIMIT) out = out.slice(-OUTPUT_LIMIT);
  };
  // VS Code puts its vscode-ipc-*.sock files in XDG_RUNTIME_DIR (else /tmp) and leaves them behind.
  const runtimeDir = join(userDataDir, 'run');
  await mkdir(runtimeDir, { recursive: true, mode: 0o700 });
  const child = spawn(bin, args, {
    env: { ...process.env, XDG_RUNTIME_DIR: runtimeDir, ...env },
    detached: true, // own process group, so stop() kills the whole tree
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout.on('data', append);
  child.stderr.on('data', append);
  let exited = null;
  const exitPromise = new Promise((resolve) => {
    child.on('exit', (code, signal) => { exited = { code, signal }; resolve(); });
    child.on('error', (err) => { append(`spawn error: ${err.message}\n`); exited ??= { code: -1 }; resolve(); });
  });

  const killGroup = (sig) => { try { process.kill(-child.pid, sig); } catch { /* gone */ } };
  // Never leave a server behind: it is in its own group, so Ctrl+C does not reach it.
  const onExit = () => killGroup('SIGKILL');
  const onSignal = (sig) => {
    onExit();
    unhook();
    if (process.listenerCount(sig) === 0) process.exit(128 + constants.signals[sig]); // runs 'exit' hooks
  };
  const unhook = () => {
    process.off('exit', onExit);
    for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.off(sig, onSignal);
  };
  process.on('exit', onExit);
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(sig, onSignal);

  let stopped = false;
  async function stop() {
    if (stopped) return;
    stopped = true;
    unhook();
    if (child.pid) {
      killGroup('SIGTERM');
      const timer = sleep(3000).then(() => 'timeout');
      if ((await Promise.race([exitPromise, timer])) === 'timeout') killGroup('SIGKILL');
      await sleep(100);
      killGroup('SIGKILL'); // stragglers in the group (extension host, pty host)
    }
  }

  const started = Date.now();
  const deadline = started + 60_000;
  for (;;) {
    if (exited) {
      await stop();
      throw new Error(`code-server exited early (${JSON.stringify(exited)}). Output:\n${out.slice(-4000)}`);
    }
    try {
      const res = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(2000) });
      if (res.ok) break;
    } catch { /* not up yet */ }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`code-server did not answer ${url}/healthz within 60 s. Output:\n${out.slice(-4000)}`);
    }
    await sleep(200);
  }
  log(`[code-server] ready at ${url} in ${Date.now() - started} ms`);
  return { port, url, stop, output: () => out };
}
