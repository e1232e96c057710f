// A store written before compressed chunks (schema 7, raw float64 chunks), opened by the extension:
// converted in place in the background, every point intact, and Compare answers a chart on its runs.
import * as assert from 'node:assert/strict';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import * as vscode from 'vscode';
import type { Columns } from '../../src/core/store/chunks.ts';
import type { HostMessage, SeriesData } from '../../src/core/compare/protocol.ts';
import { isRaw } from '../../src/core/store/codec.ts';
import { prng } from '../../src/core/hparams/sweep.ts';
import { writeOldStore } from '../unit/codecOldStore.ts';
import { activate, eventually, withLog, workspaceDir } from './util.ts';

const FOLDER = '.rl-migrated';
const NAMES = ['old-a', 'old-b', 'old-c'];
const NAN_PAYLOAD = new Float64Array(new Uint32Array([0xdeadbeef, 0x7ff4beef]).buffer)[0]!;
const bits = (a: Float64Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);

/** Per run: a noisy float32 loss (several conversion batches in all), odd values and steps, a short series. */
function oldSeries(): [string, string, Columns][] {
  const rnd = prng(7);
  const make = (n: number, t0: number, step: (i: number) => number, value: (i: number) => number): Columns => {
    const c: Columns = { steps: new Float64Array(n), times: new Float64Array(n), values: new Float64Array(n) };
    let t = t0;
    for (let i = 0; i < n; i++) [c.steps[i], c.times[i], c.values[i]] = [step(i), (t += 50 + rnd()), value(i)];
    return c;
  };
  return NAMES.flatMap((name, r): [string, string, Columns][] => [
    [name, 'loss', make(60_000 + 1000 * r, 1.7e12 + r * 1e8, (i) => i, (i) => Math.fround(2 * Math.exp(-i / 5000) * (1 + 0.05 * rnd())))],
    [name, 'odd', make(1500, 1.7e12 + r * 1e8, (i) => (i % 100 === 99 ? i - 50 : i), (i) => [NaN, NAN_PAYLOAD, -0, 5e-324, -Infinity, 1e308, rnd()][i % 7]!)],
    [name, 'lr', make(3, 1.7e12 + r * 1e8, (i) => i * 1000, (i) => 0.1 / 10 ** i)],
  ]);
}

/** Chunk blobs still in the raw layout, and the schema version, read beside the extension. */
function rawChunks(file: string): { raw: number; all: number; version: number } {
  const db = new Database(file, { readonly: true });
  try {
    const blobs = db.prepare('SELECT data FROM metric_chunk_points').pluck().all() as Buffer[];
    return { raw: blobs.filter(isRaw).length, all: blobs.length, version: db.pragma('user_version', { simple: true }) as number };
  } finally {
    db.close();
  }
}

export function registerMigratedStoreTests(): void {
  describe('A store from before compressed chunks', () => {
    it('is converted in place when the window opens it: every point intact, and Compare charts its runs', async function () {
      this.timeout(120_000);
      const api = await activate();
      const dir = join(workspaceDir(), FOLDER);
      const storeDir = join(dir, 'store');
      const series = oldSeries();
      writeOldStore(storeDir, series);
      const file = join(storeDir, 'runs.db');
      const before = rawChunks(file);
      assert.equal(before.version, 7);
      assert.equal(before.raw, before.all, 'the fixture is all raw chunks');
      const cfg = vscode.workspace.getConfiguration('runlens');
      await cfg.update('storeDir', `${FOLDER}/store`, vscode.ConfigurationTarget.Workspace);
      try {
        await withLog(api, async () => {
          const store = await eventually(() => api.store.dir === storeDir && api.store.get(), 'the old store to open');
          await eventually(() => store.metrics.conversionProgress() === undefined, 'the conversion to finish', 60_000);
          const after = rawChunks(file);
          assert.deepEqual(after, { raw: 0, all: before.all, version: after.version }, 'every chunk compressed, none lost');
          assert.ok(after.version > 7, `schema ${after.version}`);
          const logged = await eventually(() => /Compressed (\d+) chunks of /.exec(readFileSync(join(api.logUri.fsPath, 'RunLens.log'), 'utf8')) ?? undefined, 'the log to say so');
          assert.equal(Number(logged[1]), before.all);

          const ids = new Map(store.runs.list({ limit: 100 }).map((r) => [r.name, r.id]));
          assert.deepEqual([...ids.keys()].sort(), NAMES);
          for (const [run, key, c] of series) {
            const got = store.metrics.points(ids.get(run)!, key);
            for (const k of ['steps', 'times', 'values'] as const) assert.ok(bits(got[k]).equals(bits(c[k])), `${run} ${key} ${k} bit for bit`);
          }

          // Compare on the migrated runs: the real webview gets the model, and a chart query is answered from the new chunks
          const posted: HostMessage[] = [];
          const sub = api.compare.onDidPost((m) => posted.push(m));
          try {
            const runIds = NAMES.map((n) => ids.get(n)!);
            await vscode.commands.executeCommand('workbench.action.closeAllEditors'); // a new panel: its webview asks for the model
            assert.deepEqual(await vscode.commands.executeCommand<number[]>('runlens.compareRuns', runIds), runIds);
            const model = await eventually(() => posted.find((m) => m.type === 'model'), 'the model sent to the webview', 30_000);
            assert.ok(model.type === 'model');
            assert.deepEqual(model.model.runs.map((r) => r.name), NAMES);
            assert.deepEqual([...model.model.keys].sort(), ['loss', 'lr', 'odd']);
            await api.compare.receive({ type: 'query', requestId: 9101, key: 'loss', axis: 'step', range: null, buckets: 500 });
            const answer = posted.find((m) => m.type === 'series' && m.requestId === 9101);
            assert.ok(answer?.type === 'series', 'a series answer');
            assert.deepEqual(answer.domain, [0, 61_999]);
            const lowest = (a: Iterable<number | null>) => { let v = Infinity; for (const x of a) if (x !== null && x < v) v = x; return v; };
            const highest = (a: Iterable<number | null>) => { let v = -Infinity; for (const x of a) if (x !== null && x > v) v = x; return v; };
            for (const [run, , c] of series.filter(([, key]) => key === 'loss')) {
              const got: SeriesData = answer.series.find((x) => x.runId === ids.get(run))!;
              assert.ok(got.count.length <= 500, `${run}: ${got.count.length} buckets`);
              assert.equal(got.count.reduce((a, b) => a + b, 0), c.values.length, `${run}: every point in a bucket`);
              assert.equal(lowest(got.min), lowest(c.values), `${run}: the lowest point`);
              assert.equal(highest(got.max), highest(c.values), `${run}: the highest point`);
            }
          } finally {
            sub.dispose();
            await vscode.commands.executeCommand('workbench.action.closeAllEditors');
          }
        });
      } finally {
        await cfg.update('storeDir', undefined, vscode.ConfigurationTarget.Workspace);
        await eventually(() => api.store.dir === join(workspaceDir(), '.runlens'), 'the store setting to be restored');
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });
}
