import * as assert from 'node:assert/strict';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { Store } from '../../src/core/store/store.ts';
import { activate, eventually, runEnded, workspaceDir } from './util.ts';

const FIXTURE = `import argparse
from dataclasses import dataclass

WARMUP_STEPS = 100
GRAD_CLIP: float = 1.0

hparams = {"optim": {"momentum": 0.9}}


@dataclass
class TrainConfig:
    weight_decay: float = 0.01


def main(label_smoothing=0.1):
    parser = argparse.ArgumentParser()
    parser.add_argument("--dropout-rate", type=float, default=0.5)
    return parser
`;

interface Lens { line: number; title: string; command?: string; args?: unknown[] }

async function lensesOf(uri: vscode.Uri): Promise<Lens[]> {
  await vscode.workspace.openTextDocument(uri); // the lens command needs the document loaded
  const lenses = await vscode.commands.executeCommand<vscode.CodeLens[]>('vscode.executeCodeLensProvider', uri, 100);
  return lenses.filter((l) => l.command?.title).map((l) => ({
    line: l.range.start.line, title: l.command!.title, command: l.command!.command || undefined, args: l.command!.arguments,
  }));
}

/** The summary lens of each line, by its first word. */
const summaries = (lenses: Lens[]) => lenses.filter((l) => !l.title.startsWith('$(')).map((l) => [l.line, l.title]);

export function registerHparamTests(): void {
  describe('Hyperparameter CodeLens', () => {
    let store: Store;
    before(() => {
      store = Store.open(join(workspaceDir(), '.runlens'));
      // Three runs of the fixture script, with known params and val_acc (the demo's primary metric).
      for (const [warmup, momentum, wd, smoothing, dropout, acc] of [[100, 0.9, 0.01, 0.1, 0.5, 0.8], [500, 0.95, 0.001, 0, 0.3, 0.9], [500, 0.9, 0.01, 0.1, 0.3, 0.85]]) {
        const run = store.runs.create({ experiment: 'hp-fixture', status: 'finished', params: {
          warmup_steps: warmup!, 'optim.momentum': momentum!, weight_decay: wd!, label_smoothing: smoothing!, dropout_rate: dropout!,
        } });
        store.metrics.append(run.id, 'val_acc', { steps: Float64Array.of(1), times: Float64Array.of(Date.now()), values: Float64Array.of(acc!) });
      }
    });
    after(() => store.close());

    it('shows, above each pattern in a Python script, the runs and the best value, and one quiet lens for an unrecorded param', async () => {
      const api = await activate();
      const file = join(workspaceDir(), 'hp_fixture.py');
      writeFileSync(file, FIXTURE);
      api.hparamLenses.refresh();
      const resolved = await lensesOf(vscode.Uri.file(file));
      assert.deepEqual(summaries(resolved), [
        [3, 'warmup_steps · 3 runs · best val_acc 0.9 @ 500 · here 100'],
        [4, 'GRAD_CLIP · not in any run yet'],
        [6, 'optim.momentum · 3 runs · best val_acc 0.9 @ 0.95 · here 0.9'],
        [11, 'weight_decay · 3 runs · best val_acc 0.9 @ 1e-3 · here 0.01'],
        [14, 'label_smoothing · 3 runs · best val_acc 0.9 @ 0 · here 0.1'],
        [16, 'dropout_rate · 3 runs · best val_acc 0.9 @ 0.3 · here 0.5'],
      ]);
      const runWith = resolved.find((l) => l.line === 3 && l.command === 'runlens.hparamRunWith')!;
      assert.deepEqual(runWith.args, ['warmup_steps', undefined, undefined, '500'], 'prefilled with the best value');
      const compare = resolved.find((l) => l.line === 3 && l.command === 'runlens.compareByParam')!;
      const ids = await vscode.commands.executeCommand<number[]>(compare.command!, ...compare.args!);
      const values = ids.map((id) => store.runs.params(id).warmup_steps);
      assert.deepEqual(values, [100, 500, 500], 'Compare opens on the runs, ordered by the param');
      assert.deepEqual([...api.compare.runs], ids);

      const hovers = await vscode.commands.executeCommand<vscode.Hover[]>('vscode.executeHoverProvider', vscode.Uri.file(file), new vscode.Position(3, 2));
      const text = hovers.flatMap((h) => h.contents.map((c) => (typeof c === 'string' ? c : c.value))).join('\n');
      assert.match(text, /\| 100 ← here \| 1 \| 0\.8 \| 0\.8 \| 0\.8 \|/);
      const best = store.runs.list({ limit: 500 }).find((r) => r.experiment === 'hp-fixture' && store.runs.params(r.id).weight_decay === 0.001)!;
      assert.match(text, new RegExp(`@ 500, run ${best.name}\\.`), 'the best run by name');
      assert.match(text, /\| 500 ★ \| 2 \| 0\.9 \| 0\.875 \| 0\.85 \|/);
    });

    it('reads params.yaml and a nested JSON config by dotted key, and the lens launches the override', async () => {
      const api = await activate();
      const dir = workspaceDir();
      const params = await lensesOf(vscode.Uri.file(join(dir, 'params.yaml')));
      const lr = params.find((l) => /^train\.lr · \d+ runs · best val_acc [\d.]+ @ [\de.-]+ · here 0\.3/.test(l.title));
      assert.ok(lr, JSON.stringify(summaries(params)));
      mkdirSync(join(dir, 'conf'), { recursive: true });
      writeFileSync(join(dir, 'conf', 'params.json'), '{\n  "model": {\n    "hidden": 16,\n    "dropout": 0.25\n  }\n}\n');
      const json = summaries(await lensesOf(vscode.Uri.file(join(dir, 'conf', 'params.json'))));
      assert.match(String(json[0]![1]), /^model\.hidden · \d+ runs · best val_acc/);
      assert.equal(json[0]![0], 2);
      assert.deepEqual(json[1], [3, 'model.dropout · not in any run yet']);

      // "Run with…" on train.lr in params.yaml: the train configuration with --lr.
      const runWith = params.find((l) => l.line === lr!.line && l.command === 'runlens.hparamRunWith')!;
      assert.equal(runWith.args![2], 'train', 'the run configuration that reads params.yaml');
      const [key, , run] = runWith.args as [string, undefined, string];
      const runId = await vscode.commands.executeCommand<number>('runlens.hparamRunWith', key, '0.07', run);
      const ended = await runEnded(api.store.require(), runId);
      assert.equal(ended.status, 'finished');
      assert.deepEqual(ended.command, ['python3', 'train.py', '--lr', '0.07']);
      assert.equal(api.store.require().runs.params(runId)['train.lr'], 0.07);
    });

    it('runs a 4-member grid sweep from the Sweep… lens; every member ends in the store, grouped under one sweep', async function () {
      this.timeout(120_000);
      const api = await activate();
      const params = await lensesOf(vscode.Uri.file(join(workspaceDir(), 'params.yaml')));
      const sweep = params.find((l) => l.command === 'runlens.hparamSweep' && (l.args as string[])[0] === 'train.lr')!;
      const [key, run] = sweep.args as [string, string];
      assert.equal(run, 'train');
      const started = await vscode.commands.executeCommand<{ sweepId: string; runIds: number[] }>('runlens.hparamSweep', key, run, '0.05, 0.1, 0.2, 0.3', undefined, { concurrency: 2 });
      assert.equal(started.runIds.length, 4);
      const s = api.store.require();
      const ended = [];
      for (const id of started.runIds) {
        ended.push(await eventually(() => { const r = s.runs.get(id)!; return r.status !== 'queued' && r.status !== 'running' && r; }, `trial ${id} to end`, 100_000));
      }
      assert.deepEqual(ended.map((r) => r.status), ['finished', 'finished', 'finished', 'finished']);
      assert.deepEqual(started.runIds.map((id) => s.runs.params(id)['train.lr']), [0.05, 0.1, 0.2, 0.3]);
      assert.deepEqual(ended.map((r) => (r.command as string[]).slice(-2)), [['--lr', '0.05'], ['--lr', '0.1'], ['--lr', '0.2'], ['--lr', '0.3']]);
      const demo = api.runsTree.getChildren().find((n) => n.kind === 'experiment' && n.experiment.name === 'demo')!;
      const node = api.runsTree.getChildren(demo).find((n) => n.kind === 'sweep' && n.sweep.id === started.sweepId)!;
      assert.ok(node, 'a sweep node in the demo experiment');
      const members = api.runsTree.getChildren(node).flatMap((n) => (n.kind === 'run' ? [n.run.id] : []));
      assert.deepEqual([...members].sort(), [...started.runIds].sort());
    });

    it('gives lenses to the files hparams.files names by glob, with its prefix, and to no others', async () => {
      const api = await activate();
      store.runs.create({ experiment: 'hp-fixture', status: 'finished', params: { 'grp.glob_lr': 0.3 } });
      api.hparamLenses.refresh();
      const dir = workspaceDir();
      const configFile = join(dir, 'runlens.yaml');
      const original = readFileSync(configFile, 'utf8');
      const deep = vscode.Uri.file(join(dir, 'exp', 'a', 'b.yaml'));
      const top = vscode.Uri.file(join(dir, 'exp', 'top.yaml'));
      const other = vscode.Uri.file(join(dir, 'other', 'b.yaml'));
      for (const uri of [deep, top, other]) {
        mkdirSync(join(uri.fsPath, '..'), { recursive: true });
        writeFileSync(uri.fsPath, 'glob_lr: 0.3\n');
      }
      /** Waits for runlens.yaml to be read again (its watcher) until `lensesOf(uri)` passes `check`. */
      const settled = async (uri: vscode.Uri, check: (l: Lens[]) => boolean, what: string) => {
        const end = Date.now() + 10_000;
        for (let l = await lensesOf(uri); !check(l); l = await lensesOf(uri)) {
          if (Date.now() > end) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(summaries(l))}`);
          await new Promise((r) => setTimeout(r, 100));
        }
      };
      try {
        assert.deepEqual(await lensesOf(deep), [], 'not a params file until runlens.yaml names it');
        writeFileSync(configFile, original.replace(/^hparams:.*\n/m, (line) => `${line}  files: [{ path: "./exp/**/*.yaml", prefix: grp }]\n`));
        const prefixed = (l: Lens[]) => /^grp\.glob_lr · 1 run\b/.test(l[0]?.title ?? '');
        await settled(deep, prefixed, 'exp/a/b.yaml to get a grp.glob_lr lens');
        assert.ok(prefixed(await lensesOf(top)), '** matches no folder too');
        assert.deepEqual(await lensesOf(other), [], 'a file the glob does not match');
      } finally {
        writeFileSync(configFile, original);
        await settled(deep, (l) => l.length === 0, 'the lenses to go with the glob');
        rmSync(join(dir, 'exp'), { recursive: true, force: true });
        rmSync(join(dir, 'other'), { recursive: true, force: true });
      }
    });

    it('turns off per language', async () => {
      const file = vscode.Uri.file(join(workspaceDir(), 'hp_fixture.py'));
      const config = vscode.workspace.getConfiguration('runlens.codeLens', { languageId: 'python' });
      await config.update('enabled', false, vscode.ConfigurationTarget.Workspace, true);
      try {
        assert.deepEqual(await lensesOf(file), []);
        assert.ok((await lensesOf(vscode.Uri.file(join(workspaceDir(), 'params.yaml')))).length > 0, 'YAML keeps its lenses');
      } finally {
        await config.update('enabled', undefined, vscode.ConfigurationTarget.Workspace, true);
      }
    });
  });
}
