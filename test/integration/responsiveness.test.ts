// The editor's responsiveness (issue 15): the extension host's event-loop delay while a launched run
// streams 10,000,000 points through the helper (ingest in the worker, then on this thread as the
// baseline) and while a 1 GB dataset is hashed. The figures are printed (measured); only what was
// stored is asserted, never timing (speed targets belong in benchmarks).
import * as assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { PerformanceObserver, monitorEventLoopDelay } from 'node:perf_hooks';
import { promisify } from 'node:util';
import * as vscode from 'vscode';
import type { RunLensApi } from '../../src/extension.ts';
import type { Store } from '../../src/core/store/store.ts';
import { hashDatasets } from '../../src/runs/hashDatasets.ts';
import { taskScript } from '../../src/core/tasks/taskClient.ts';
import { EXTENSION_ID, activate, eventually, measured, runEnded, withLog, workspaceDir } from './util.ts';

const STEPS = 5_000_000; // × 2 keys: 10,000,000 points
const DATASET_MB = 1024;
const FOLDER = '.rl-responsiveness'; // under the workspace: the script, the dataset and the stores

const STREAM = `import runlens
log = runlens.log
for i in range(${STEPS}):
    log({"loss": 1.0 / (i + 1) + 0.25, "acc": (i % 1000) / 1001.0}, step=i)
runlens.finish()
`;
const EXPECTED: [key: string, value: (i: number) => number][] = [['loss', (i) => 1 / (i + 1) + 0.25], ['acc', (i) => (i % 1000) / 1001]];

const CONFIGS = `runs:
  rl-stream:
    command: [python3, stream.py]
    cwd: ${FOLDER}
  rl-hash:
    command: [python3, -c, "pass"]
    cwd: ${FOLDER}
    datasets: [data.bin]
`;

interface Delay { p99: number; max: number; seconds: number; gcMax: number }

/** This thread's (the extension host's) event-loop delay while `work` runs, in ms, and its longest GC pause (part of the delay). */
async function delayDuring<T>(work: () => Promise<T>): Promise<Delay & { result: T }> {
  const h = monitorEventLoopDelay({ resolution: 10 });
  let gcMax = 0;
  const gc = new PerformanceObserver((list) => { for (const e of list.getEntries()) gcMax = Math.max(gcMax, e.duration); });
  gc.observe({ entryTypes: ['gc'] });
  const t0 = performance.now();
  h.enable();
  try {
    const result = await work();
    return { result, p99: h.percentile(99) / 1e6, max: h.max / 1e6, seconds: (performance.now() - t0) / 1000, gcMax };
  } finally {
    h.disable();
    gc.disconnect();
  }
}

function record(name: string, d: Delay): void {
  measured[`${name}P99Ms`] = d.p99;
  measured[`${name}MaxMs`] = d.max;
  measured[`${name}GcMaxMs`] = d.gcMax;
  measured[`${name}Seconds`] = d.seconds;
}

/** Whether this window's run monitor ingests in its worker thread (it falls back to this thread when the worker cannot start). */
const inWorker = (api: RunLensApi) => (api.runs as unknown as { monitor?: { inWorker: boolean } }).monitor?.inWorker;

async function useStoreDir(api: RunLensApi, dir: string | undefined): Promise<void> {
  await vscode.workspace.getConfiguration('runlens').update('storeDir', dir, vscode.ConfigurationTarget.Workspace);
  const want = join(workspaceDir(), dir ?? '.runlens');
  await eventually(() => api.store.dir === want, `the store setting to read ${want}`);
}

/**
 * Starts rl-stream and waits until it ended and every point is stored. The event-loop delay while it
 * streams (from the moment Start Run returned), and separately over the start itself (opening the
 * store for writing, reading runlens.yaml, capturing git: once per run, on the user's click).
 */
async function stream(api: RunLensApi): Promise<Delay & { runId: number; store: Store; start: Delay }> {
  const start = await delayDuring(async () => {
    const runId = await vscode.commands.executeCommand<number>('runlens.startRun', 'rl-stream');
    assert.equal(typeof runId, 'number', 'the run started');
    return runId;
  });
  const runId = start.result;
  const m = await delayDuring(async () => {
    const store = api.store.get()!;
    await runEnded(store, runId, 600_000);
    const stored = () => store.metrics.count(runId, 'loss') + store.metrics.count(runId, 'acc');
    await eventually(() => stored() === 2 * STEPS, 'every point stored', 30_000).catch(() => undefined); // asserted below
    return store;
  });
  return { ...m, runId, store: m.result, start };
}

/** The run finished with every step of both keys exactly once, in order, with the value logged. */
function assertStream(store: Store, runId: number): void {
  const run = store.runs.get(runId)!;
  assert.equal(run.status, 'finished', `exit ${run.exitCode}`);
  for (const [key, value] of EXPECTED) {
    const p = store.metrics.points(runId, key);
    assert.equal(p.values.length, STEPS, `${key}: points stored`);
    for (let i = 0; i < STEPS; i++) {
      if (p.steps[i] !== i || p.values[i] !== value(i)) assert.fail(`${key}: point ${i} is step ${p.steps[i]} = ${p.values[i]}, logged step ${i} = ${value(i)}`);
    }
  }
}

/** A 1 GB file of random-ish bytes (a 1 MB random block, each copy stamped with its index), written without holes. */
async function writeDataset(file: string): Promise<void> {
  const block = randomBytes(1 << 20);
  const fh = await open(file, 'w');
  try {
    for (let i = 0; i < DATASET_MB; i++) {
      block.writeUInt32LE(i, 0);
      await fh.write(block, 0, block.length, i * block.length);
    }
  } finally {
    await fh.close();
  }
}

export function registerResponsivenessTests(): void {
  describe('Responsiveness while a run streams 10,000,000 points and a 1 GB dataset is hashed', () => {
    let api: RunLensApi;
    let dir: string;
    let configFile: string;
    let config: string;
    before(async () => {
      api = await activate();
      dir = join(workspaceDir(), FOLDER);
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, 'stream.py'), STREAM);
      configFile = join(workspaceDir(), 'runlens.yaml');
      config = readFileSync(configFile, 'utf8');
      writeFileSync(configFile, config.replace(/^runs:\n/m, CONFIGS));
      await useStoreDir(api, `${FOLDER}/store`); // a store of its own: the shared one stays small
    });
    after(async () => {
      delete process.env.RUNLENS_INGEST_INLINE;
      writeFileSync(configFile, config);
      await useStoreDir(api, undefined);
      rmSync(dir, { recursive: true, force: true });
    });

    it('the extension host stays responsive while the ingest worker stores the stream', async function () {
      this.timeout(600_000);
      const idle = await delayDuring(() => new Promise((r) => setTimeout(r, 5000)));
      record('eventLoopIdle', idle);
      const m = await withLog(api, () => stream(api));
      record('streamWorker', m);
      record('streamWorkerStart', m.start);
      assert.equal(inWorker(api), true, 'the worker ingested the stream');
      assertStream(m.store, m.runId);
    });

    it('the extension host stays responsive while a 1 GB dataset is hashed, alone and for a run', async function () {
      this.timeout(300_000);
      const file = join(dir, 'data.bin');
      await writeDataset(file);
      try {
        const sha256 = (await promisify(execFile)('sha256sum', [file])).stdout.split(' ')[0];
        const want = { path: 'data.bin', kind: 'file', bytes: DATASET_MB << 20, digest: sha256 };
        const store = api.store.require();
        const script = taskScript(vscode.extensions.getExtension(EXTENSION_ID)!.extensionPath);
        // the hashing path Start Run takes (with its progress notification), on its own
        const alone = await withLog(api, () => delayDuring(() => api.store.writeSteps([], (s) => hashDatasets(s, ['data.bin'], dir, { script }))));
        record('hash1Gb', alone);
        const [hashed] = alone.result;
        assert.deepEqual({ path: hashed!.path, kind: hashed!.kind, bytes: hashed!.bytes, digest: hashed!.digest }, want);
        // a run that declares it: hashed again (a new stamp misses the cache), beside the provenance capture and the launch
        utimesSync(file, new Date(), new Date());
        const started = await withLog(api, () => delayDuring(() => Promise.resolve(vscode.commands.executeCommand<number>('runlens.startRun', 'rl-hash'))));
        record('hash1GbRunStart', started);
        assert.equal(typeof started.result, 'number', 'the run started');
        const run = await runEnded(store, started.result);
        assert.equal(run.status, 'finished');
        const [data] = store.provenance.datasets(started.result);
        assert.deepEqual({ path: data!.path, kind: data!.kind, bytes: data!.bytes, digest: data!.digest }, want);
      } finally {
        rmSync(file, { force: true });
      }
    });

    it('baseline: the same stream ingested on the extension host thread', async function () {
      this.timeout(600_000);
      process.env.RUNLENS_INGEST_INLINE = '1'; // read when the run controller makes its monitor: on the next store
      try {
        await useStoreDir(api, `${FOLDER}/inline-store`);
        const m = await withLog(api, () => stream(api));
        record('streamInline', m);
        record('streamInlineStart', m.start);
        assert.equal(inWorker(api), false, 'this thread ingested the stream');
        assertStream(m.store, m.runId);
      } finally {
        delete process.env.RUNLENS_INGEST_INLINE;
      }
    });
  });
}
