// End to end on a one-node Slurm cluster of its own (test/harness/slurm.mjs; skipped, saying why,
// where one cannot start): a user starts a long job that takes the whole node, then the demo
// training; the training waits in Slurm's queue, and its tooltip gives Slurm's reason. Screenshot:
// slurm-runs.png. The cluster is stopped (every job cancelled, every daemon gone) at the end.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { withWorkbench } from '../harness/extensionTests.mjs';
import { hoverUntil, imagesDir, openRunLensSidebar, painted, runCommand } from '../harness/browser.mjs';
import { prepareDemoWorkspace } from '../harness/demoWorkspace.mjs';
import { startSlurm } from '../harness/slurm.mjs';

const repoRoot = join(import.meta.dirname, '..', '..');
const CPUS = 2;
const CLUSTER = `executor: { type: slurm, partition: debug, time: "0:30:00", cpus: ${CPUS} }`;
const CONFIG = `  pretrain:
    command: [python3, pretrain.py]
    ${CLUSTER}
  train-slurm:
    command: [python3, train.py]
    params: [params.yaml]
    override_style: argparse
    datasets: [data]
    outputs: [outputs]
    ${CLUSTER}
`;
// The long job: a point every 20 s. (The Runs view redraws its rows on every new point, which takes a
// shown tooltip away; the demo training's 40 points a second would leave none to see.)
const PRETRAIN = `import math, time
import runlens

for step in range(1, 1000):
    runlens.log({"val_acc": round(0.5 + 0.4 * (1 - math.exp(-step / 5)), 4)}, step=step)
    runlens.flush()
    time.sleep(20)
`;
// An empty stretch of the editor area: the mouse rests there, away from every hover.
const AWAY = { x: 1000, y: 250 };

/** The runs in the workspace's store, with their Slurm tags (read-only). */
function storedRuns(workspace) {
  const db = new Database(join(workspace, '.runlens', 'runs.db'), { readonly: true, fileMustExist: true });
  try {
    return db.prepare('SELECT id, name, status FROM runs ORDER BY id').all().map((run) => ({
      ...run, tags: Object.fromEntries(db.prepare('SELECT key, value FROM tags WHERE run_id = ?').raw().all(run.id)),
    }));
  } finally {
    db.close();
  }
}

async function until(check, what, timeoutMs) {
  for (const end = Date.now() + timeoutMs; ;) {
    const v = check();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** Start Run from the command palette, on the configuration whose command is `command`. */
async function startRun(page, name, command) {
  await runCommand(page, 'RunLens: Start Run…'); // the ellipsis: "Start Run" alone matches "Start Run with Overrides…" too
  const input = page.locator('.quick-input-widget .quick-input-box input');
  await page.locator('.quick-input-list .monaco-list-row', { hasText: name }).first().waitFor({ timeout: 30_000 });
  await input.fill(name);
  await page.locator('.quick-input-list .monaco-list-row.focused', { hasText: command }).waitFor({ timeout: 15_000 });
  await input.press('Enter');
}

export const tests = {
  async 'Slurm runs in the Runs view: one running, one queued with Slurm\'s reason in its tooltip'() {
    const cluster = await startSlurm({ dir: join(tmpdir(), 'runlens-slurm-e2e'), cpus: CPUS, log: (m) => console.log(`  ${m}`) });
    if (!cluster.ok) {
      console.log(`  skipped: ${cluster.skipped}`);
      return;
    }
    try {
      const workspace = prepareDemoWorkspace();
      const file = join(workspace, 'runlens.yaml');
      writeFileSync(file, readFileSync(file, 'utf8').replace(/^runs:\n/m, `runs:\n${CONFIG}`));
      writeFileSync(join(workspace, 'pretrain.py'), PRETRAIN);
      execFileSync('git', ['add', '-A'], { cwd: workspace });
      execFileSync('git', ['commit', '-qm', 'train on the cluster'], { cwd: workspace });
      await withWorkbench({ workspace, extensionDevelopmentPath: repoRoot, env: cluster.env, width: 1280, height: 760 }, async ({ page }) => {
        await openRunLensSidebar(page, 460);
        // the first job takes every CPU of the node; the second waits for it
        await startRun(page, 'pretrain', 'python3 pretrain.py');
        await page.locator('.part.sidebar .monaco-list-row[aria-label*=", running,"]').first().waitFor({ timeout: 90_000 });
        await startRun(page, 'train-slurm', 'python3 train.py');
        const queuedRow = page.locator('.part.sidebar .monaco-list-row[aria-label*=", queued,"]').first();
        await queuedRow.waitFor({ timeout: 30_000 });
        const queued = await until(() => {
          const runs = storedRuns(workspace);
          return runs.length === 2 && runs[1].tags['runlens.slurm.reason'] === 'Resources' && runs[1];
        }, 'Slurm\'s reason for the second job (Resources)', 30_000);
        const [running] = storedRuns(workspace);
        assert.equal(running.status, 'running');
        assert.equal(running.tags['runlens.slurm.state'], 'RUNNING');
        assert.equal(queued.status, 'queued');
        const job = queued.tags['runlens.slurm.job'];
        assert.match(job, /^\d+$/);
        assert.equal(execFileSync('squeue', ['-h', '-j', job, '-o', '%T %r'], { env: { ...process.env, ...cluster.env }, encoding: 'utf8' }).trim(), 'PENDING Resources');

        const hover = page.locator('.monaco-hover').filter({ hasText: 'PENDING (Resources)' }).first();
        for (let attempt = 1; ; attempt++) {
          const text = await hoverUntil(page, queuedRow, hover, { away: AWAY, timeout: 20_000 });
          assert.ok(text.includes(`Slurm job ${job} · PENDING (Resources)`), text);
          assert.match(text, /train\.lr\s*\|?\s*0\.3/);
          await painted(page);
          await page.screenshot({ path: join(imagesDir(), 'slurm-runs.png') });
          if (await hover.isVisible()) break; // still there after the shot: the image has it
          if (attempt === 3) throw new Error('the tooltip went before each of 3 screenshots');
        }
      });
    } finally {
      await cluster.stop();
    }
  },
};
