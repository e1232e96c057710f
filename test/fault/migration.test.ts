// The chunk conversion of schema 8, killed with SIGKILL in the middle, then started again: it finishes,
// and every point is there bit for bit. Real processes, real SQLite files.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import { Store } from '../../src/core/store/store.ts';
import type { Columns } from '../../src/core/store/chunks.ts';
import { isRaw } from '../../src/core/store/codec.ts';
import { prng } from '../../src/core/hparams/sweep.ts';
import { tempDir } from '../unit/helpers.ts';
import { writeOldStore } from '../unit/codecOldStore.ts';

const fixture = join(import.meta.dirname, 'fixtures', 'convert.ts');
const bits = (a: Float64Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);

/** 12 runs x 2 keys: a noisy float32 loss of 20,000 points, and 3,000 odd values (NaN payloads, -0, denormals). */
function series(): [string, string, Columns][] {
  const rnd = prng(99);
  const odd = [NaN, new Float64Array(new Uint32Array([7, 0xfff00007]).buffer)[0]!, -0, 5e-324, Infinity, -1e308];
  const out: [string, string, Columns][] = [];
  for (let r = 0; r < 12; r++) {
    for (const [key, n] of [['loss', 20_000], ['odd', 3000]] as const) {
      const c: Columns = { steps: new Float64Array(n), times: new Float64Array(n), values: new Float64Array(n) };
      let t = 1.7e12 + r * 1e9;
      for (let i = 0; i < n; i++) {
        c.steps[i] = i;
        c.times[i] = t += 40 + rnd() * 20;
        c.values[i] = key === 'loss' ? Math.fround(Math.exp(-i / 5000) * (1 + 0.05 * rnd())) : i % 3 ? odd[i % odd.length]! : rnd();
      }
      out.push([`run-${r}`, key, c]);
    }
  }
  return out;
}

/** Runs the converter; with killAt, SIGKILLs it once that share of the chunks is done. Resolves with the last progress line. */
function convert(dir: string, killAt?: number): Promise<{ done: number; total: number; killed: boolean }> {
  const child = spawn(process.execPath, ['--disable-warning=MODULE_TYPELESS_PACKAGE_JSON', fixture, dir, '40'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '', last = { done: 0, total: 0 };
  child.stdout!.on('data', (d) => {
    out += d;
    const lines = out.trim().split('\n');
    const [, done, total] = lines.at(-1)!.split(' ').map(Number) as [number, number, number];
    last = { done, total };
    if (killAt !== undefined && done >= killAt * total) child.kill('SIGKILL');
  });
  child.stderr!.on('data', (d) => (out += d));
  return new Promise((resolve, reject) => child.on('exit', (code, signal) => (
    code === 0 || signal === 'SIGKILL' ? resolve({ ...last, killed: signal === 'SIGKILL' }) : reject(new Error(`converter exited ${code ?? signal}: ${out}`)))));
}

function blobs(file: string): { raw: number; compressed: number } {
  const db = new Database(file, { readonly: true });
  const rows = db.prepare('SELECT data FROM metric_chunk_points').pluck().all() as Buffer[];
  db.close();
  return { raw: rows.filter(isRaw).length, compressed: rows.filter((b) => !isRaw(b)).length };
}

test('a conversion killed with SIGKILL twice, then started again, finishes with every point bit for bit', async () => {
  const dir = tempDir('runlens-migration-');
  const file = join(dir, 'runs.db');
  const written = series();
  writeOldStore(dir, written);
  const chunks = blobs(file).raw;

  const first = await convert(dir, 0.3);
  assert.ok(first.killed, 'the first converter was killed');
  const afterFirst = blobs(file);
  const second = await convert(dir, 0.7);
  assert.ok(second.killed, 'the second converter was killed');
  const afterSecond = blobs(file);
  const third = await convert(dir);
  const afterThird = blobs(file);
  console.log(`${chunks} chunks; killed at ${first.done}/${first.total}: ${JSON.stringify(afterFirst)}; `
    + `at ${second.done}/${second.total}: ${JSON.stringify(afterSecond)}; then ${third.done}/${third.total}: ${JSON.stringify(afterThird)}`);
  assert.ok(afterFirst.compressed > 0 && afterFirst.raw > 0, 'killed in the middle');
  assert.ok(afterSecond.compressed > afterFirst.compressed, 'the second run went on from where the first stopped');
  assert.ok(afterSecond.raw > 0, 'and was killed in the middle too');
  assert.equal(third.done, third.total);
  assert.deepEqual(afterThird, { raw: 0, compressed: chunks }, 'every chunk converted, none lost or added');

  const store = Store.open(dir);
  assert.equal(store.metrics.conversionProgress(), undefined, 'nothing left to convert');
  const ids = new Map(store.runs.list({ limit: 100 }).map((r) => [r.name, r.id]));
  let points = 0;
  for (const [run, key, c] of written) {
    const got = store.metrics.points(ids.get(run)!, key);
    for (const k of ['steps', 'times', 'values'] as const) assert.ok(bits(got[k]).equals(bits(c[k])), `${run} ${key} ${k} bit for bit`);
    points += got.values.length;
  }
  assert.equal(points, written.reduce((a, [, , c]) => a + c.values.length, 0));
  store.close();
});
