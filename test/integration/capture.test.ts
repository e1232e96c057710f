import * as assert from 'node:assert/strict';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as vscode from 'vscode';
import type { HostMessage } from '../../src/core/compare/protocol.ts';
import { activate, eventually, runEnded, workspaceDir } from './util.ts';

/**
 * A training script that knows nothing of RunLens: it writes a TensorBoard event file (TFRecord
 * framing, masked CRC32C, simple_value scalars) and a Lightning-style sparse metrics.csv, with the
 * Python standard library only. It logs a few points, waits for the test's `go` file, then logs more.
 */
const SCRIPT = String.raw`
import os, socket, struct, time

def crc32c(data):
    crc = 0xFFFFFFFF
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 if crc & 1 else 0)
    return crc ^ 0xFFFFFFFF

def masked(data):
    c = crc32c(data)
    return (((c >> 15) | (c << 17)) + 0xA282EAD8) & 0xFFFFFFFF

def varint(n):
    out = bytearray()
    while n >= 0x80:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)

def key(field, wire):
    return varint((field << 3) | wire)

def length_delimited(field, payload):
    return key(field, 2) + varint(len(payload)) + payload

def record(event):
    header = struct.pack("<Q", len(event))
    return header + struct.pack("<I", masked(header)) + event + struct.pack("<I", masked(event))

def scalar_event(step, tag, value):
    v = length_delimited(1, tag.encode()) + key(2, 5) + struct.pack("<f", value)
    summary = length_delimited(1, v)
    return key(1, 1) + struct.pack("<d", time.time()) + key(2, 0) + varint(step) + length_delimited(5, summary)

os.makedirs("tb", exist_ok=True)
os.makedirs("csv_logs", exist_ok=True)
events = open("tb/events.out.tfevents.%d.%s" % (time.time(), socket.gethostname()), "wb")
events.write(record(key(1, 1) + struct.pack("<d", time.time()) + length_delimited(3, b"brain.Event:2")))
table = open("csv_logs/metrics.csv", "w")
table.write("epoch,step,csv_loss,csv_acc\n")

def log(tb, rows):
    for step, value in tb:
        events.write(record(scalar_event(step, "tb_loss", value)))
    for row in rows:
        table.write(row + "\n")
    events.flush()
    table.flush()

log([(0, 1.0), (1, 0.5), (2, 0.25)], ["0,0,0.75,", "0,1,0.5,", "0,1,,0.5"])
deadline = time.time() + 30
while not os.path.exists("go") and time.time() < deadline:
    time.sleep(0.1)
log([(3, 0.125), (4, 0.0625)], ["1,2,0.25,", "1,3,,0.75"])
`;

const values = (c: { values: Float64Array }) => Array.from(c.values);
const steps = (c: { steps: Float64Array }) => Array.from(c.steps);

export function registerCaptureTests(): void {
  describe('Live capture of other tools\' files', () => {
    const dir = () => join(workspaceDir(), 'capture-fixture');
    after(async () => {
      await vscode.commands.executeCommand('workbench.action.closeAllEditors');
      rmSync(dir(), { recursive: true, force: true });
    });

    it('captures TensorBoard scalars and a Lightning metrics.csv while the run goes, into the store and Compare', async function () {
      this.timeout(90_000);
      const api = await activate();
      mkdirSync(dir(), { recursive: true });
      const file = join(dir(), 'train_capture.py');
      writeFileSync(file, SCRIPT);
      const doc = await vscode.workspace.openTextDocument(file);
      await vscode.window.showTextDocument(doc);
      await eventually(() => vscode.window.activeTextEditor?.document.languageId === 'python', 'the script to open as Python');
      const runId = await vscode.commands.executeCommand<number>('runlens.startRun', 'capture-fixture/train_capture.py');
      assert.equal(typeof runId, 'number');
      const store = api.store.get()!;
      assert.equal(store.runs.get(runId)!.cwd, dir());

      // While it waits half-way: the first points are in the store...
      await eventually(() => store.metrics.points(runId, 'tb_loss').values.length === 3
        && store.metrics.points(runId, 'csv_acc').values.length === 1, 'the first captured points', 20_000);
      assert.equal(store.runs.get(runId)!.status, 'running');
      assert.deepEqual(values(store.metrics.points(runId, 'csv_loss')), [0.75, 0.5]);

      // ...and in the Compare panel opened on the run.
      const messages: HostMessage[] = [];
      const sub = api.compare.onDidPost((m) => messages.push(m));
      try {
        await vscode.commands.executeCommand('runlens.openRun', runId);
        const model = await eventually(() => messages.find((m) => m.type === 'model' && m.model.keys.includes('tb_loss')), 'the model with the captured keys', 30_000);
        assert.ok(model.type === 'model');
        for (const k of ['tb_loss', 'csv_loss', 'csv_acc']) assert.ok(model.model.keys.includes(k), `${k} in ${model.model.keys.join(', ')}`);
        await api.compare.receive({ type: 'query', requestId: 4242, key: 'tb_loss', axis: 'step', range: null, buckets: 100 });
        const answer = messages.find((m) => m.type === 'series' && m.requestId === 4242);
        assert.ok(answer && answer.type === 'series');
        assert.deepEqual(answer.series.map((s) => [s.runId, s.x, s.last]), [[runId, [0, 1, 2], [1, 0.5, 0.25]]]);
        assert.equal(store.runs.get(runId)!.status, 'running', 'all of this while the run is still going');
      } finally {
        sub.dispose();
      }

      writeFileSync(join(dir(), 'go'), '');
      const run = await runEnded(store, runId, 40_000);
      assert.equal(run.status, 'finished', `exit ${run.exitCode}`);
      const tb = store.metrics.points(runId, 'tb_loss');
      assert.deepEqual(steps(tb), [0, 1, 2, 3, 4]);
      assert.deepEqual(values(tb), [1, 0.5, 0.25, 0.125, 0.0625]);
      const loss = store.metrics.points(runId, 'csv_loss');
      assert.deepEqual([steps(loss), values(loss)], [[0, 1, 2], [0.75, 0.5, 0.25]]);
      const acc = store.metrics.points(runId, 'csv_acc');
      assert.deepEqual([steps(acc), values(acc)], [[1, 3], [0.5, 0.75]]);
      const epoch = store.metrics.points(runId, 'epoch');
      assert.deepEqual([steps(epoch), values(epoch)], [[0, 1, 2, 3], [0, 0, 1, 1]], 'epoch once per step');
      assert.deepEqual(store.metrics.summaries(runId).map((s) => s.key), ['csv_acc', 'csv_loss', 'epoch', 'tb_loss'], 'nothing else, nothing twice');
    });
  });
}
