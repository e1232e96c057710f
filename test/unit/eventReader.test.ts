// Event files read a slice ahead in a worker (capture/eventReader.ts): the same slices and the same
// import as on one thread, on from the last slice when the worker stops, and its errors as they are.
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { EventReader } from '../../src/core/capture/eventReader.ts';
import { SLICE_BYTES } from '../../src/core/capture/eventFiles.ts';
import { Store } from '../../src/core/store/store.ts';
import { importTensorBoard } from '../../src/core/importers/importTensorBoard.ts';
import { encodeTfEvent, frameRecord } from './formats/tfeventsWriter.ts';
import { tempDir } from './helpers.ts';

const TASK_WORKER = new URL('../../src/core/tasks/taskWorker.ts', import.meta.url);
const TAGS = Array.from({ length: 20 }, (_, i) => `metric/${i}`);

/** An event file of about three slices: events of 20 scalars, then a torn record at the end. */
function bigEventFile(): { dir: string; file: string; size: number; steps: number } {
  const dir = join(tempDir(), 'logs', 'run');
  mkdirSync(dir, { recursive: true });
  const parts: Uint8Array[] = [];
  let size = 0, steps = 0;
  while (size < 2.6 * SLICE_BYTES) {
    const scalars = Object.fromEntries(TAGS.map((t, i) => [t, Math.sin(steps / 100 + i) * (i + 1)]));
    const rec = frameRecord(encodeTfEvent({ step: steps, wallTime: 1_700_000_000 + steps / 10, scalars, mode: 'simple' }));
    parts.push(rec);
    size += rec.length;
    steps++;
  }
  const torn = parts[0]!.subarray(0, 20);
  parts.push(torn);
  const file = join(dir, 'events.out.tfevents.1700000000.test');
  writeFileSync(file, Buffer.concat(parts));
  return { dir: join(dir, '..'), file, size: size + torn.length, steps };
}

/** Every slice of `file`, copied (those read on this thread lend a buffer), from `reader`. */
async function readAll(reader: EventReader, file: string, size: number, each?: (i: number) => void) {
  const out: { end: number; broken: boolean; problems: string[]; keys: string[]; points: number; sum: number }[] = [];
  let i = 0;
  for await (const s of reader.slices(file, 0, '', size, Buffer.allocUnsafe(SLICE_BYTES))) {
    let points = 0, sum = 0;
    for (const [, c] of s.batch) { points += c.values.length; for (const v of c.values) sum += v; }
    out.push({ end: s.end, broken: s.broken, problems: s.problems, keys: s.batch.map(([k]) => k), points, sum });
    each?.(i++);
  }
  return out;
}

test('slices read in the worker are the slices read on this thread', async () => {
  const { file, size } = bigEventFile();
  const here = await readAll(new EventReader(undefined), file, size);
  const reader = new EventReader(TASK_WORKER);
  const there = await readAll(reader, file, size);
  reader.close();
  assert.ok(here.length >= 4, `${here.length} slices`);
  assert.deepEqual(there, here);
  assert.equal(reader.inWorker, here.length - 1, 'every slice but the first (read while the worker starts) came from the worker');
});

test('a worker that stops mid-file: the rest is read on this thread, from the end of the last slice', async () => {
  const { file, size } = bigEventFile();
  const here = await readAll(new EventReader(undefined), file, size);
  const reader = new EventReader(TASK_WORKER);
  const there = await readAll(reader, file, size, (i) => { if (i === 1) reader.close(); });
  assert.deepEqual(there, here);
  assert.ok(reader.inWorker >= 1 && reader.inWorker < here.length, `${reader.inWorker} of ${here.length} from the worker`);
});

test('a worker that cannot start reads on this thread', async () => {
  const { file, size } = bigEventFile();
  const reader = new EventReader(join(tempDir(), 'no-such-worker.js'));
  const there = await readAll(reader, file, size);
  assert.deepEqual(there, await readAll(new EventReader(undefined), file, size));
  assert.equal(reader.inWorker, 0);
  reader.close();
});

test("the worker's read errors reach the import as on this thread", async () => {
  const missing = join(tempDir(), 'events.out.tfevents.gone');
  const errorOf = async (reader: EventReader) => {
    try {
      await readAll(reader, missing, 4 * SLICE_BYTES);
    } catch (err) {
      return (err as Error).message;
    } finally {
      reader.close();
    }
    return 'no error';
  };
  const reader = new EventReader(TASK_WORKER);
  assert.equal(await errorOf(reader), await errorOf(new EventReader(undefined)));
  assert.match(await errorOf(new EventReader(undefined)), /ENOENT/);
});

test('an import with the reader worker stores what an import on one thread stores', async () => {
  const { dir, steps } = bigEventFile();
  const imported = async (script?: URL) => {
    const store = Store.open(join(tempDir(), 'store'));
    const report = await importTensorBoard(store, dir, { script });
    const run = store.runs.list({})[0]!;
    const series = TAGS.map((t) => store.metrics.points(run.id, t));
    const offsets = store.offset(run.id, 'import:events.out.tfevents.1700000000.test');
    store.close();
    return { report, series, offsets };
  };
  const here = await imported(), there = await imported(TASK_WORKER);
  assert.equal(here.report.points, steps * TAGS.length);
  assert.deepEqual(there.report, here.report);
  assert.ok(here.report.skipped.some((s) => /incomplete record/.test(s.why)), 'the torn last record is reported');
  assert.equal(there.offsets, here.offsets);
  there.series.forEach((s, i) => {
    assert.deepEqual(s.steps, here.series[i]!.steps);
    assert.deepEqual(s.values, here.series[i]!.values);
    assert.deepEqual(s.times, here.series[i]!.times);
  });
});
