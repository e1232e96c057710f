// Hostile inputs: memory and time stay bounded, the rest of the file is read, and the skip is told.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import { MAX_KEYS_PER_LINE } from '../../src/core/ingest/jsonl.ts';
import { MAX_LINE_BYTES } from '../../src/core/ingest/tail.ts';

/** Runs the fixture in a fresh process, so its peak memory is the ingest's own. */
function ingest(mode: 'keys' | 'long', size: number) {
  const out = execFileSync(process.execPath, ['--disable-warning=MODULE_TYPELESS_PACKAGE_JSON',
    join(import.meta.dirname, 'fixtures', 'wideLine.ts'), mode, String(size)], { encoding: 'utf8', maxBuffer: 1 << 24 });
  return JSON.parse(out) as { ms: number; peakRssGrowthMB: number; loss: number[]; keysStored: number; malformed: number;
    problems: string[]; lineBytes?: number; scannedAfterEachPoll?: number[] };
}

test(`a line with 100,000 metric keys is skipped and counted (the cap is ${MAX_KEYS_PER_LINE}); the lines around it count`, () => {
  const r = ingest('keys', 100_000);
  console.log(`100,000 keys (${(r.lineBytes! / 2 ** 20).toFixed(1)} MB line): peak memory +${r.peakRssGrowthMB} MB, ${r.ms} ms `
    + '(before: 2.9 GB and 33 s)');
  assert.deepEqual(r.loss, [1, 2]);
  assert.equal(r.keysStored, 1, 'none of the 100,000 keys was stored');
  assert.equal(r.malformed, 1);
  assert.match(r.problems.join('\n'), /100000 metric keys in one line; at most 10000 are read/);
  assert.ok(r.peakRssGrowthMB < 256, `memory stays bounded (${r.peakRssGrowthMB} MB)`);
});

test('a line with 10,000 keys (at the cap) is read whole, in memory proportional to its points', () => {
  const r = ingest('keys', 10_000);
  console.log(`10,000 keys: peak memory +${r.peakRssGrowthMB} MB, ${r.ms} ms (before: 382 MB, 2.1 s)`);
  assert.equal(r.keysStored, 10_001);
  assert.equal(r.malformed, 0);
  assert.ok(r.peakRssGrowthMB < 150, `memory per key follows its points (${r.peakRssGrowthMB} MB)`);
});

test(`an unterminated 50 MB line is searched once, never held whole, and skipped when it ends (cap ${MAX_LINE_BYTES / 2 ** 20} MiB)`, () => {
  const r = ingest('long', 50);
  console.log(`50 MB line: scanned ${r.scannedAfterEachPoll!.join(' / ')} MB after 3 polls (before: 50 MB re-read per poll), `
    + `peak memory +${r.peakRssGrowthMB} MB, ${r.ms} ms`);
  assert.deepEqual(r.scannedAfterEachPoll, [50, 50, 50], 'polls without new bytes search nothing again');
  assert.deepEqual(r.loss, [1, 2]);
  assert.equal(r.malformed, 1);
  assert.match(r.problems.join('\n'), /52428834 bytes, longer than 16777216 bytes; skipped/);
  assert.ok(r.peakRssGrowthMB < 64, `memory stays bounded (${r.peakRssGrowthMB} MB)`);
});
