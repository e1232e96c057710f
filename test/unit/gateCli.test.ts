// The `runlens` command as CI runs it: the bundle (built here as esbuild.mjs builds dist/cli.js), started
// from a shell in a real git repository whose store holds real runs of the demo's training (each registering
// a version of demo-classifier), with real exit codes.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import * as esbuild from 'esbuild';
import { Store } from '../../src/core/store/store.ts';
import { seedDemoRuns } from '../fixtures/seedDemoRuns.ts';
import { tempDir } from './helpers.ts';

const root = join(import.meta.dirname, '..', '..');
const { prepareDemoWorkspace } = await import(join(root, 'test', 'harness', 'demoWorkspace.mjs')) as { prepareDemoWorkspace: (parent: string) => string };

test('dist/cli.js from a shell on a real git repository: 0 for a better candidate, 1 for a worse one, 2 for a mistake', async () => {
  const out = tempDir();
  const cli = join(out, 'cli.js');
  // The cli entry of esbuild.mjs (better-sqlite3 stays outside the bundle: NODE_PATH finds this checkout's).
  await esbuild.build({ entryPoints: [join(root, 'src', 'cli', 'runlens.ts')], outfile: cli, bundle: true, platform: 'node', format: 'cjs',
    target: 'node22', external: ['better-sqlite3'], mainFields: ['module', 'main'], logLevel: 'silent' });
  assert.match(readFileSync(cli, 'utf8'), /^#!\/usr\/bin\/env node\n/, 'runnable as a bin');

  const ws = prepareDemoWorkspace(tempDir());
  await seedDemoRuns(ws, { lrs: [0.01, 0.3, 1.0], epochs: 4 });
  const store = Store.open(join(ws, '.runlens'));
  const versions = store.models.versions(store.models.model('demo-classifier')!.id)
    .map((v) => ({ version: v.version, acc: v.metrics.find((m) => m.key === 'val_acc')!.last }))
    .sort((a, b) => a.acc - b.acc);
  assert.equal(versions.length, 3);
  assert.ok(versions[0]!.acc < versions[1]!.acc && versions[1]!.acc < versions[2]!.acc, `three different accuracies: ${JSON.stringify(versions)}`);
  const [worst, middle, best] = versions;
  store.models.setAlias(store.models.find('demo-classifier', middle!.version)!.id, 'production');
  store.close();

  const shell = (args: string) => spawnSync('sh', ['-c', `"${process.execPath}" "${cli}" ${args}`],
    { cwd: join(ws, 'data'), encoding: 'utf8', env: { ...process.env, NODE_PATH: join(root, 'node_modules'), RUNLENS_STORE: '' } });
  const help = shell('check --help');
  assert.equal(help.status, 0, help.stderr);
  assert.match(help.stdout, /^Usage:\n {2}runlens check --model NAME/);

  const better = shell(`check --model demo-classifier --candidate v${best!.version} --metric val_acc:max --report ../better.md`);
  assert.equal(better.status, 0, better.stderr);
  assert.match(better.stdout, new RegExp(`^PASS demo-classifier: v${best!.version}, `));
  assert.match(readFileSync(join(ws, 'better.md'), 'utf8'), /^## ✅ demo-classifier/);

  const worse = shell(`check --model demo-classifier --candidate v${worst!.version} --metric val_acc:max --report ../worse.md`);
  assert.equal(worse.status, 1, worse.stderr);
  assert.match(worse.stdout, /^FAIL demo-classifier: .*\n {2}val_acc {2}max .*REGRESSION$/m);
  assert.match(readFileSync(join(ws, 'worse.md'), 'utf8'), /^## ❌ demo-classifier/);

  const mistake = shell('check --model demo-classifier --against staging --metric val_acc:max');
  assert.equal(mistake.status, 2);
  assert.match(mistake.stderr, /has no alias "staging" \(there is "production"\)/);
});
