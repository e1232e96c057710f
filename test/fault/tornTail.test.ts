// A writer killed in the middle of a line leaves the metrics file without its last newline. The next
// writer must not glue its first line onto those bytes: the fragment is one malformed line, the new
// writer's points all arrive (src/core/ingest/FORMAT.md).
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { appendFileSync, closeSync, existsSync, fstatSync, mkdirSync, openSync, readFileSync, readSync, rmSync } from 'node:fs';
import { delimiter, dirname, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';
import { Store } from '../../src/core/store/store.ts';
import { JsonlIngestor } from '../../src/core/ingest/jsonlIngestor.ts';
import { runEnvironment } from '../../src/core/runs/launch.ts';
import { runFolder } from '../../src/core/runs/runProcess.ts';
import { tempDir } from '../unit/helpers.ts';

const helperDir = resolve(import.meta.dirname, '../../media/python');

/** A run in a fresh store, and its metrics file where a RunLens launch puts it. */
function setup() {
  const dir = tempDir('runlens-torn-');
  const storeDir = resolve(dir, '.runlens');
  const store = Store.open(storeDir);
  const run = store.runs.create({ name: 'torn', status: 'running' });
  const metrics = runFolder(storeDir, run.uid).metrics;
  mkdirSync(dirname(metrics), { recursive: true });
  return { dir, store, runId: run.id, metrics };
}

/** The environment of a launched run: the helper on PYTHONPATH, RUNLENS_METRICS_FILE set. */
function launchEnv(metrics: string): NodeJS.ProcessEnv {
  const env = runEnvironment({ ...process.env }, helperDir, delimiter);
  delete env.RUNLENS_FLUSH_MS;
  return { ...env, PYTHONDONTWRITEBYTECODE: '1', RUNLENS_METRICS_FILE: metrics };
}

function python(script: string, metrics: string, cwd: string): void {
  const r = spawnSync('python3', ['-c', script], { cwd, env: launchEnv(metrics), encoding: 'utf8', timeout: 60_000 });
  if (r.error) throw r.error;
  assert.equal(r.status, 0, r.stderr);
}

/** The last byte of the file, or undefined when it is empty. */
function lastByte(fd: number): number | undefined {
  const size = fstatSync(fd).size;
  if (!size) return undefined;
  const b = Buffer.alloc(1);
  readSync(fd, b, 0, 1, size - 1);
  return b[0];
}

function isJson(text: string): boolean {
  try { JSON.parse(text); return true; } catch { return false; }
}

// The second writer: 10 points at steps 100..109.
const SECOND = `
import runlens
for i in range(10):
    runlens.log({"after": i + 0.5}, step=100 + i)
`;

/** Ingests the whole file and checks the second writer's 10 points and the one malformed fragment. */
function checkAfterTear(store: Store, runId: number, metrics: string, fragment: string): JsonlIngestor {
  const ingest = new JsonlIngestor(store, runId, metrics);
  ingest.poll();
  assert.equal(ingest.poll(), 0, 'everything was read in one poll');
  const pts = store.metrics.points(runId, 'after');
  assert.equal(pts.values.length, 10, `${pts.values.length} of the second writer's 10 points arrived; problems: ${ingest.stats.problems.join(' | ').slice(0, 500)}`);
  assert.deepEqual(Array.from(pts.steps), Array.from({ length: 10 }, (_, i) => 100 + i));
  assert.deepEqual(Array.from(pts.values), Array.from({ length: 10 }, (_, i) => i + 0.5));
  // A fragment cut just before its newline would be a whole line; any other cut is malformed.
  assert.equal(ingest.stats.malformed, isJson(fragment) ? 0 : 1, ingest.stats.problems.join(' | ').slice(0, 500));
  return ingest;
}

test('torn bytes left by a killed writer stay one malformed line; the next writer loses nothing', () => {
  const { dir, store, runId, metrics } = setup();
  python(`
import runlens
for i in range(5):
    runlens.log({"before": float(i)})
`, metrics, dir);
  const fragment = '{"t": 1700000000.5, "step": 5, "metrics": {"bef';
  appendFileSync(metrics, fragment); // what a write cut by kill -9 leaves
  python(SECOND, metrics, dir);
  const ingest = checkAfterTear(store, runId, metrics, fragment);
  assert.deepEqual(Array.from(store.metrics.points(runId, 'before').steps), [0, 1, 2, 3, 4]);
  assert.equal(ingest.stats.malformed, 1);
  assert.ok(readFileSync(metrics, 'utf8').includes(`${fragment}\n`), 'the fragment ends its own line');
  store.close();
});

test('a real writer killed with SIGKILL in the middle of a large write: the next writer loses nothing', async (t) => {
  const { dir, store, runId, metrics } = setup();
  // Streams large batches: each flush is one write of several MB, so a kill lands inside one.
  const streamer = `
import runlens
runlens.configure(batch_size=200000, flush_interval_ms=1e9)
i = 0
while True:
    runlens.log({"loss": i * 1e-3, "acc": 0.5, "lr": 0.1, "grad": 1.0}, step=i)
    i += 1
`;
  let fragment: string | undefined;
  const attempts: string[] = [];
  for (let attempt = 0; attempt < 10 && fragment === undefined; attempt++) {
    rmSync(metrics, { force: true });
    const child = spawn('python3', ['-c', streamer], { cwd: dir, env: launchEnv(metrics), stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (b) => (stderr += b));
    const exited = new Promise<void>((ok) => child.on('exit', () => ok()));
    let fd: number | undefined;
    try {
      // Watch the file's last byte; kill as soon as a write is under way (no newline at the end).
      const end = Date.now() + 30_000;
      while (Date.now() < end && child.exitCode === null && child.signalCode === null) {
        if (fd === undefined && existsSync(metrics)) fd = openSync(metrics, 'r');
        let midWrite = false;
        const spin = Date.now() + 20; // spin 20 ms, then let the event loop run
        while (fd !== undefined && Date.now() < spin) {
          const b = lastByte(fd);
          if (b !== undefined && b !== 0x0a) { midWrite = true; break; }
        }
        if (midWrite) break;
        await sleep(fd === undefined ? 10 : 0);
      }
    } finally {
      child.kill('SIGKILL');
      await exited;
      if (fd !== undefined) closeSync(fd);
    }
    const text = existsSync(metrics) ? readFileSync(metrics, 'latin1') : '';
    attempts.push(`${text.length} bytes, ends in newline: ${text.endsWith('\n')}${stderr ? `, stderr: ${stderr.slice(0, 200)}` : ''}`);
    if (text.length && !text.endsWith('\n')) fragment = text.slice(text.lastIndexOf('\n') + 1);
  }
  assert.ok(fragment !== undefined, `no kill left a torn line in 10 attempts: ${attempts.join('; ')}`);
  t.diagnostic(`torn after ${attempts.length} attempt(s): ${attempts.at(-1)}`);
  python(SECOND, metrics, dir);
  checkAfterTear(store, runId, metrics, fragment);
  store.close();
});
