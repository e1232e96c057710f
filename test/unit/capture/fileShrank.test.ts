import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { Store } from '../../../src/core/store/store.ts';
import { FileCapture } from '../../../src/core/capture/fileCapture.ts';
import { readEventSlice } from '../../../src/core/capture/eventFiles.ts';
import { EventDecoder } from '../../../src/core/capture/eventColumns.ts';
import { importTensorBoard } from '../../../src/core/importers/importTensorBoard.ts';
import { FileShrank, tailLines } from '../../../src/core/ingest/tail.ts';
import { tempDir } from '../helpers.ts';
import { encodeTfEvent, eventFile } from '../formats/tfeventsWriter.ts';

const T0 = 1_700_000_000;
const enc = (step: number, scalars: { [k: string]: number }) => encodeTfEvent({ step, wallTime: T0 + step, scalars, mode: 'tensor-double' });
const write = (path: string, data: string | Uint8Array) => { mkdirSync(dirname(path), { recursive: true }); writeFileSync(path, data); };
const steps = (store: Store, runId: number, key: string) => [...store.metrics.points(runId, key).steps];

function setup() {
  const dir = tempDir();
  const store = Store.open(join(dir, '.runlens'));
  const run = store.runs.create({ name: 'r', status: 'running', startedAt: Date.now() - 1000 });
  return { dir, store, run };
}

test('reading past the end of a file that shrank throws FileShrank, with where and how big', () => {
  const file = join(tempDir(), 'log.txt');
  writeFileSync(file, 'a\n');
  const shrank = (e: unknown) => e instanceof FileShrank && e.file === file && e.offset === 10 && e.size === 2;
  assert.throws(() => tailLines(file, 10, () => {}), shrank);
  assert.throws(() => readEventSlice(file, 10, new EventDecoder('')), shrank);
  assert.doesNotThrow(() => tailLines(file, 2, () => {}));
});

test('a DVCLive .tsv rewritten shorter is read again from the start, keeping only steps after the stored ones', () => {
  const { dir, store, run } = setup();
  const tsv = join(dir, 'dvclive', 'plots', 'metrics', 'loss.tsv');
  write(tsv, 'timestamp\tstep\tloss\n1700000000000\t0\t0.5\n1700000001000\t1\t0.4\n1700000002000\t2\t0.3\n');
  const capture = new FileCapture(store, run.id, [dir], { rescanMs: 0 });
  assert.equal(capture.poll(), 3);
  write(tsv, 'timestamp\tstep\tloss\n1700000001000\t1\t0.4\n1700000003000\t3\t0.2\n');
  assert.equal(capture.poll(), 1);
  assert.deepEqual(steps(store, run.id, 'loss'), [0, 1, 2, 3]);
  assert.ok(capture.stats.problems.some((p) => /loss\.tsv shrank; read again from the start/.test(p)), capture.stats.problems.join('\n'));
  store.close();
});

test('an event file rewritten shorter is read again from the start, keeping only steps after the stored ones', () => {
  const { dir, store, run } = setup();
  const file = join(dir, 'runs', 'events.out.tfevents.1.host');
  write(file, eventFile([enc(0, { loss: 1 }), enc(1, { loss: 0.9 }), enc(2, { loss: 0.8 }), enc(3, { loss: 0.7 })]));
  const capture = new FileCapture(store, run.id, [dir], { rescanMs: 0 });
  assert.equal(capture.poll(), 4);
  write(file, eventFile([enc(3, { loss: 0.7 }), enc(4, { loss: 0.6 })]));
  assert.equal(capture.poll(), 1);
  assert.deepEqual(steps(store, run.id, 'loss'), [0, 1, 2, 3, 4]);
  assert.ok(capture.stats.problems.some((p) => /it shrank from \d+ to \d+ bytes; read again from the start/.test(p)), capture.stats.problems.join('\n'));
  store.close();
});

test('a TensorBoard import of a file that shrank since says so and reads nothing twice', async () => {
  const dir = tempDir();
  const file = join(dir, 'tb', 'a', 'events.out.tfevents.1.host');
  write(file, eventFile([enc(0, { loss: 1 }), enc(1, { loss: 0.9 }), enc(2, { loss: 0.8 })]));
  const store = Store.open(join(dir, '.runlens'));
  assert.equal((await importTensorBoard(store, join(dir, 'tb'))).points, 3);
  write(file, eventFile([enc(0, { loss: 1 })]));
  const again = await importTensorBoard(store, join(dir, 'tb'));
  assert.equal(again.points, 0);
  assert.equal(again.skipped.length, 1);
  assert.match(again.skipped[0]!.why, /^it shrank from \d+ to \d+ bytes since it was imported; not read again$/);
  store.close();
});
