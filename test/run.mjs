// npm test: every tier, then one summary line. Run through .ci/env.sh (Node 24, code-server, Chromium).
//   unit         node:test over src/core, on real SQLite files
//   fault        node:test: the core under faults (second writer, kill -9, busy/full disk, huge input)
//   integration  mocha inside the real VS Code extension host (code-server + headless Chromium)
//   slurmcore    node:test: the Slurm core on a one-node cluster (skipped where one cannot start)
//   slurm        the extension host on a one-node Slurm cluster (skipped where one cannot start)
//   e2e          the workbench UI in headless Chromium, with screenshots in test-results/images/
//                (`npm run images` writes them to docs/images/ instead, for the README)
// A run that changes a tracked file counts as a failure: tests write only to test-results/ and temp folders.
// RUNLENS_TIERS=unit,integration limits the tiers.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runExtensionTests } from './harness/extensionTests.mjs';
import { prepareDemoWorkspace } from './harness/demoWorkspace.mjs';
import { seedDemoRuns } from './fixtures/seedDemoRuns.ts';
import { startSlurm } from './harness/slurm.mjs';

const root = join(import.meta.dirname, '..');
const results = join(root, 'test-results');
const tiers = (process.env.RUNLENS_TIERS ?? 'unit,fault,integration,untrusted,multiroot,slurmcore,slurm,reload,e2e').split(',');
const counts = {};
/** Every failed test, tier and title with its first error line, listed again just above the summary. */
const failures = [];
let currentTier = '';
const started = Date.now();
rmSync(results, { recursive: true, force: true });
/** Tracked files that differ from HEAD (git status), or undefined outside a git checkout. */
function trackedChanges() {
  const r = spawnSync('git', ['status', '--porcelain', '--untracked-files=no'], { cwd: root, encoding: 'utf8' });
  return r.status === 0 ? r.stdout : undefined;
}
const trackedBefore = trackedChanges();
mkdirSync(results, { recursive: true });

function step(title, cmd, args) {
  console.log(`\n== ${title}`);
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) throw new Error(`${title} failed (exit ${r.status})`);
}

async function tier(name, fn) {
  if (!tiers.includes(name)) return;
  console.log(`\n== ${name} tests`);
  currentTier = name;
  try {
    counts[name] = await fn();
  } catch (err) {
    console.error(`${name} tests could not run: ${err.stack ?? err}`);
    failures.push(`${name}: could not run: ${String(err.message ?? err).split('\n')[0]}`);
    counts[name] = { passed: counts[name]?.passed ?? 0, failed: (counts[name]?.failed ?? 0) + 1 };
  }
}

/** One line per test from an extension-host results file, with the error under a failure. */
function printResults(r) {
  for (const t of r.tests) {
    console.log(`  ${t.state === 'passed' ? '✔' : '✖'} ${t.title} (${Math.round(t.durationMs)} ms)`);
    if (t.error) console.log(t.error.split('\n').map((l) => `      ${l}`).join('\n'));
    if (t.state !== 'passed') failures.push(`${currentTier}: ${t.title}: ${(t.error ?? '').split('\n').filter((l) => l.trim()).slice(0, 4).join(' ⏎ ')}`);
  }
}

let fatal = false;
try {
  step('typecheck', process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', root, '--noEmit']);
  step('build', process.execPath, [join(root, 'esbuild.mjs')]);
} catch (err) {
  console.error(String(err.message));
  fatal = true;
}

if (!fatal) {
  /** node:test over a glob, counted from its TAP report. */
  const nodeTests = (name, glob) => async () => {
    const tap = join(results, `${name}.tap`);
    spawnSync(process.execPath, ['--disable-warning=MODULE_TYPELESS_PACKAGE_JSON', '--test',
      '--test-reporter=spec', '--test-reporter-destination=stdout',
      '--test-reporter=tap', `--test-reporter-destination=${tap}`, glob], { cwd: root, stdio: 'inherit' });
    const text = readFileSync(tap, 'utf8');
    const count = (label) => Number(new RegExp(`^# ${label} (\\d+)$`, 'm').exec(text)?.[1] ?? NaN);
    // a test that timed out is reported as cancelled, not failed: it counts as failed here
    const passed = count('pass'), failed = count('fail') + (count('cancelled') || 0);
    if (Number.isNaN(passed) || Number.isNaN(failed)) throw new Error(`the ${name} test report has no totals`);
    for (const m of text.matchAll(/^\s*not ok \d+ - (.*)$/gm)) failures.push(`${name}: ${m[1]}`);
    return { passed, failed };
  };
  await tier('unit', nodeTests('unit', 'test/unit/**/*.test.ts'));
  // fault injection: two writers, kill -9, a busy or full disk, huge inputs, refused stores, secrets
  await tier('fault', nodeTests('fault', 'test/fault/**/*.test.ts'));

  await tier('integration', async () => {
    const workspace = prepareDemoWorkspace();
    const r = await runExtensionTests({
      extensionDevelopmentPath: root,
      extensionTestsPath: join(root, 'dist', 'test', 'integration.js'),
      workspace,
      resultsFile: join(results, 'integration.json'),
      artifactsDir: results,
      label: 'integration',
    });
    printResults(r);
    for (const [k, v] of Object.entries(r.measured ?? {})) console.log(`  measured: ${k} = ${Number(v).toFixed(1)}`);
    return { passed: r.passed, failed: r.failed };
  });

  await tier('untrusted', async () => {
    const workspace = prepareDemoWorkspace();
    await seedDemoRuns(workspace, { lrs: [0.3], epochs: 3 });
    const r = await runExtensionTests({
      extensionDevelopmentPath: root,
      extensionTestsPath: join(root, 'dist', 'test', 'untrusted.js'),
      workspace,
      resultsFile: join(results, 'untrusted.json'),
      artifactsDir: results,
      label: 'untrusted',
      trusted: false,
    });
    printResults(r);
    return { passed: r.passed, failed: r.failed };
  });

  await tier('multiroot', async () => {
    // Two folders in one workspace: each has its store, its Runs view section, its lenses.
    const parent = mkdtempSync(join(tmpdir(), 'runlens-multi-'));
    const first = prepareDemoWorkspace(parent);
    await seedDemoRuns(first, { lrs: [0.3, 1.0], epochs: 3 });
    const second = join(parent, 'second');
    renameSync(prepareDemoWorkspace(), second);
    const workspace = join(parent, 'multi.code-workspace');
    writeFileSync(workspace, JSON.stringify({ folders: [{ path: 'demo' }, { path: 'second' }] }, null, 2));
    const r = await runExtensionTests({
      extensionDevelopmentPath: root,
      extensionTestsPath: join(root, 'dist', 'test', 'multiroot.js'),
      workspace,
      resultsFile: join(results, 'multiroot.json'),
      artifactsDir: results,
      label: 'multiroot',
    });
    printResults(r);
    return { passed: r.passed, failed: r.failed };
  });

  // The Slurm core on a real one-node cluster of its own: job states, TIMEOUT, cancel, arrays, one squeue per interval.
  await tier('slurmcore', nodeTests('slurmcore', 'test/slurm/*.test.ts'));

  await tier('slurm', async () => {
    // Runs and sweeps as jobs on a real one-node cluster; the extension host finds it by SLURM_CONF.
    const cluster = await startSlurm({ log: (m) => console.log(`  ${m}`) });
    if (!cluster.ok) {
      console.log(`  skipped: ${cluster.skipped}`);
      return { passed: 0, failed: 0 };
    }
    // The main suite, and the reload suite (two windows one after the other, on a workspace of its
    // own), at the same time: both mostly wait for Slurm. A session that could not run is one failure.
    const session = (label, file, workspace, env = {}) => runExtensionTests({
      extensionDevelopmentPath: root, extensionTestsPath: join(root, 'dist', 'test', `${file}.js`), workspace,
      env: { ...cluster.env, ...env }, resultsFile: join(results, `${label}.json`), artifactsDir: results, label,
    }).catch((err) => ({ passed: 0, failed: 1, tests: [{ title: `${label}: the session`, state: 'failed', durationMs: 0, error: String(err.stack ?? err) }] }));
    const reload = async (workspace) => {
      const out = [];
      for (const phase of ['start', 'resume']) out.push(await session(`slurm-reload-${phase}`, 'slurmReload', workspace, { RUNLENS_RELOAD_PHASE: phase }));
      return out;
    };
    try {
      const [main, phases] = await Promise.all([session('slurm', 'slurm', prepareDemoWorkspace()), reload(prepareDemoWorkspace())]);
      const all = [main, ...phases];
      all.forEach(printResults);
      return { passed: all.reduce((n, r) => n + r.passed, 0), failed: all.reduce((n, r) => n + r.failed, 0) };
    } finally {
      await cluster.stop();
    }
  });

  await tier('reload', async () => {
    // A run started in one window survives the whole server going away and finishes in the next.
    const workspace = prepareDemoWorkspace();
    // A `slow` run configuration, added under `runs:` (the demo's file has other sections after it).
    // Halfway it waits for the next window to say it reattached (however slowly that window starts).
    const config = join(workspace, 'runlens.yaml');
    writeFileSync(config, readFileSync(config, 'utf8').replace(/^runs:\n/m, `runs:
  slow:
    command: [python3, -c, "import os, runlens, time\\nt0 = time.time()\\nfor i in range(60):\\n    runlens.log({'loss': 1 / (i + 1)}, step=i); runlens.flush(); time.sleep(0.2)\\n    while i == 30 and not os.path.exists('.reload-resumed') and time.time() - t0 < 600: time.sleep(0.2)"]
`));
    let passed = 0, failed = 0;
    for (const phase of ['start', 'resume']) {
      const r = await runExtensionTests({
        extensionDevelopmentPath: root,
        extensionTestsPath: join(root, 'dist', 'test', 'reload.js'),
        workspace,
        env: { RUNLENS_RELOAD_PHASE: phase },
        resultsFile: join(results, `reload-${phase}.json`),
        artifactsDir: results,
        label: `reload-${phase}`,
      });
      printResults(r);
      passed += r.passed;
      failed += r.failed;
      if (phase === 'start') {
        // no window is open now: a plain script with the helper records a run, for the next window to adopt
        const script = 'import runlens\nrunlens.init(name="while-no-window")\nfor i in range(100): runlens.log({"loss": 1 / (i + 1)}, step=i)\n';
        const env = { PATH: process.env.PATH, HOME: process.env.HOME, PYTHONPATH: join(root, 'media', 'python') };
        const w = spawnSync('python3', ['-c', script], { cwd: workspace, env, encoding: 'utf8' });
        if (w.status !== 0) throw new Error(`the script with the helper failed: ${w.stderr}`);
      }
    }
    return { passed, failed };
  });

  await tier('e2e', async () => {
    let passed = 0, failed = 0;
    for (const file of readdirSync(join(root, 'test', 'e2e')).filter((f) => f.endsWith('.e2e.mjs')).sort()) {
      const { tests } = await import(join(root, 'test', 'e2e', file));
      for (const [title, fn] of Object.entries(tests)) {
        const t0 = Date.now();
        try {
          await fn();
          passed++;
          console.log(`  ✔ ${title} (${Date.now() - t0} ms)`);
        } catch (err) {
          failed++;
          console.log(`  ✖ ${title}\n      ${String(err.stack ?? err).split('\n').join('\n      ')}`);
          failures.push(`e2e: ${title}: ${String(err.message ?? err).split('\n')[0]}`);
        }
      }
    }
    return { passed, failed };
  });
}

const trackedAfter = trackedChanges();
if (trackedBefore !== undefined && trackedAfter !== trackedBefore && !process.env.RUNLENS_IMAGES) {
  console.log(`\n== the tests changed tracked files (they may write only to test-results/ and temp folders):\n${trackedAfter}`);
  counts['tracked files'] = { passed: 0, failed: 1 };
}
if (failures.length) console.log(`\n== failed (${failures.length}):\n${failures.map((f) => `  ✖ ${f.slice(0, 800)}`).join('\n')}`);
const total = Object.values(counts).reduce((a, c) => ({ passed: a.passed + c.passed, failed: a.failed + c.failed }), { passed: 0, failed: fatal ? 1 : 0 });
console.log(`\n${Object.entries(counts).map(([k, c]) => `${k}: ${c.passed} passed, ${c.failed} failed`).join(' · ')} · ${Math.round((Date.now() - started) / 1000)} s`);
console.log(`${total.passed} passed, ${total.failed} failed`);
process.exit(total.failed > 0 || total.passed === 0 ? 1 : 0);
