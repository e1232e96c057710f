// What the Marketplace and the Welcome page read from the manifest: icon, licence, changelog,
// repository links, the walkthrough's commands and images, and the starter runlens.yaml.
import assert from 'node:assert/strict';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { parseRunConfig } from '../../src/core/config/runConfig.ts';
import { starterConfig } from '../../src/runs/starterConfig.ts';

const root = join(import.meta.dirname, '..', '..');
const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));

/** Width and height of a PNG, or undefined when the bytes are not one. */
function pngSize(file: string): { width: number; height: number } | undefined {
  const b = readFileSync(file);
  if (b.length < 24 || b.toString('latin1', 0, 8) !== '\x89PNG\r\n\x1a\n' || b.toString('latin1', 12, 16) !== 'IHDR') return undefined;
  return { width: b.readUInt32BE(16), height: b.readUInt32BE(20) };
}

interface Step { id: string; title: string; description: string; media: { image?: string; altText?: string } }

test('the icon is a 128×128 PNG, and the gallery banner has a colour and a theme', () => {
  assert.match(manifest.icon, /\.png$/, 'the Marketplace takes no SVG icon');
  assert.deepEqual(pngSize(join(root, manifest.icon)), { width: 128, height: 128 });
  assert.match(manifest.galleryBanner?.color ?? '', /^#[0-9a-f]{6}$/i);
  assert.ok(['dark', 'light'].includes(manifest.galleryBanner?.theme), 'galleryBanner.theme is dark or light');
});

test('LICENSE matches the manifest licence, and CHANGELOG.md has the manifest version', () => {
  assert.equal(manifest.license, 'MIT');
  const license = readFileSync(join(root, 'LICENSE'), 'utf8');
  assert.match(license, /^MIT License\n\nCopyright \(c\) \d{4} RunLens contributors\n/);
  assert.match(license, /THE SOFTWARE IS PROVIDED "AS IS"/);
  const changelog = readFileSync(join(root, 'CHANGELOG.md'), 'utf8');
  assert.match(changelog, new RegExp(`^## ${manifest.version.replaceAll('.', '\\.')}\\b`, 'm'));
});

test('repository, bugs and homepage name the same repository, and packaging checks licence and repository', () => {
  const repo = /^https:\/\/github\.com\/([\w.-]+\/[\w.-]+?)(\.git)?$/.exec(manifest.repository?.url ?? '')?.[1];
  assert.ok(repo, `repository.url is a GitHub URL: ${manifest.repository?.url}`);
  assert.equal(manifest.bugs?.url, `https://github.com/${repo}/issues`);
  assert.equal(manifest.homepage, `https://github.com/${repo}#readme`);
  assert.doesNotMatch(manifest.scripts.package, /--skip-license|--allow-missing-repository/);
  for (const file of ['LICENSE', 'CHANGELOG.md']) assert.ok(manifest.files.includes(file), `"files" lists ${file}`);
});

test('every worker thread the extension starts ships in the VSIX ("files" lists its bundle)', () => {
  // esbuild.mjs bundles each src/core/**/<name>Worker.ts as dist/<name>Worker.js; a missing one falls back to the editor's thread
  const build = readFileSync(join(root, 'esbuild.mjs'), 'utf8');
  const workers = [...build.matchAll(/nodeBundle\(\{ (\w+Worker): 'src\/core\/[\w/]+\.ts' \}\)/g)].map((m) => m[1]);
  assert.deepEqual(workers.sort(), ['ingestWorker', 'taskWorker']);
  for (const w of workers) assert.ok(manifest.files.includes(`dist/${w}.js`), `"files" lists dist/${w}.js`);
});

test('the walkthrough teaches the five steps, each with a button for a real command and its own small image', () => {
  const walkthroughs: { id: string; steps: Step[] }[] = manifest.contributes.walkthroughs ?? [];
  assert.equal(walkthroughs.length, 1);
  const steps = walkthroughs[0]!.steps;
  assert.deepEqual(steps.map((s) => s.id.replace(/^runlens\./, '')), ['config', 'startRun', 'compare', 'lens', 'model']);
  const commands = new Set<string>(manifest.contributes.commands.map((c: { command: string }) => c.command));
  // VS Code's own commands a step may use (they exist in every VS Code, not in this manifest)
  const builtIn = new Set(['workbench.action.quickOpen']);
  const images = new Set<string>();
  for (const step of steps) {
    // a button: a command link alone on its line
    const buttons = [...step.description.matchAll(/^\[[^\]]+\]\(command:([\w.]+)(\?[^)]*)?\)$/gm)].map((m) => m[1]!);
    assert.ok(buttons.length > 0, `step ${step.id} has a button`);
    for (const id of buttons) {
      assert.ok(id.startsWith('runlens.') ? commands.has(id) : builtIn.has(id), `step ${step.id}: command ${id} exists`);
    }
    const image = step.media.image ?? '';
    assert.match(image, /^media\/walkthrough\/[\w-]+\.png$/, `step ${step.id} has its image in media/walkthrough/`);
    assert.ok(!images.has(image), `step ${step.id} has an image of its own`);
    images.add(image);
    assert.ok(step.media.altText, `step ${step.id} has alt text`);
    const size = pngSize(join(root, image));
    assert.ok(size && size.width >= 400 && size.width <= 1200, `${image} is a PNG 400–1200 px wide (${JSON.stringify(size)})`);
    assert.ok(statSync(join(root, image)).size < 200_000, `${image} is under 200 KB`);
  }
  assert.ok(commands.has('runlens.createConfig'), 'the first step\'s command is contributed');
});

test('the starter runlens.yaml parses without problems and names the folder as its experiment', () => {
  for (const [folder, experiment] of [['demo', 'demo'], ['my project', 'my project'], ['2024', '2024'], ['true', 'true'],
    ['a"b: c', 'a"b: c'], ['', 'default']] as const) {
    const { config, problems } = parseRunConfig(starterConfig(folder));
    assert.deepEqual(problems, [], `folder ${JSON.stringify(folder)}`);
    assert.equal(config.experiment, experiment);
    assert.deepEqual(config.runs.map((r) => [r.name, r.command]), [['train', ['python3', 'train.py']]]);
    assert.deepEqual(config.primaryMetric, { name: 'val_loss', goal: 'min' });
  }
  // every other key is there to uncomment: uncommented, it still parses
  const all = starterConfig('demo').replace(/^(\s*)# (params|override_style|datasets|outputs|metric_patterns):/gm, '$1$2:');
  const { config, problems } = parseRunConfig(all);
  assert.deepEqual(problems, []);
  assert.deepEqual(config.runs[0]!.params, ['params.yaml']);
  assert.deepEqual(config.metricPatterns, ['val loss (?<val_loss>[0-9.]+)']);
});
