// The lineage page and the model card show a version's packages, what differs from the version it is
// compared with, and a notebook run's notebook with a link to its snapshot. Runs come in through the
// inbox, as the Python helper writes them.
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { Store } from '../../src/core/store/store.ts';
import { ArtifactCollector } from '../../src/core/artifacts/collector.ts';
import { adoptInbox } from '../../src/core/runs/inbox.ts';
import { lineage } from '../../src/core/models/lineage.ts';
import { LINEAGE_COMMANDS, lineagePage } from '../../src/core/models/lineagePage.ts';
import { modelCard } from '../../src/core/models/modelCard.ts';
import { notebookText } from '../../src/core/models/notebook.ts';
import { diffPackages } from '../../src/core/provenance/packages.ts';
import { inboxEntry, writeHelperRun } from './inboxFixture.ts';
import { tempDir } from './helpers.ts';

const NOTEBOOK = JSON.stringify({
  nbformat: 4, nbformat_minor: 5, metadata: { language_info: { name: 'python' } },
  cells: [
    { cell_type: 'markdown', metadata: {}, source: ['# Train\n', 'with <b>care</b>'] },
    { cell_type: 'code', metadata: {}, execution_count: 1, outputs: [{ output_type: 'stream', text: 'secret output' }], source: 'import runlens\nrunlens.init(name="nb")' },
    { cell_type: 'code', metadata: {}, execution_count: null, outputs: [], source: ['runlens.finish()'] },
  ],
});

/** Two helper runs in a workspace (the second from a notebook), each registered as a version of `clf`. */
async function twoVersions() {
  const ws = tempDir();
  const storeDir = join(ws, '.runlens');
  const store = Store.open(storeDir);
  const collector = new ArtifactCollector(store, store.objects);
  const versions = [];
  const runs = [
    { packages: { conda: null, list: [['numpy', '1.26.4'], ['pandas', '2.2.2'], ['requests', '2.32.3'], ['torch', '2.3.0']] }, notebook: null },
    { packages: { conda: 'ml', list: [['einops', '0.8.0'], ['numpy', '1.26.4'], ['pandas', '2.2.2'], ['requests', '2.32.3'], ['torch', '2.4.1<x>']] },
      notebook: { path: join(ws, 'nb', 'train.ipynb'), snapshot: 'notebook.ipynb' } },
  ];
  for (const [i, r] of runs.entries()) {
    const cwd = join(ws, `r${i}`);
    mkdirSync(cwd, { recursive: true });
    writeFileSync(join(cwd, 'model.bin'), `model ${i}`);
    const e = inboxEntry(cwd, { name: `run-${i}`, source: r.notebook ? 'notebook' : 'script', packages: r.packages, notebook: r.notebook });
    writeHelperRun(storeDir, e, r.notebook ? { 'notebook.ipynb': NOTEBOOK } : {});
    assert.equal((await adoptInbox(store, storeDir)).adopted.length, 1);
    versions.push(await collector.register(store.runs.getByUid(e.uid)!.id, 'model.bin', 'clf'));
  }
  return { ws, store, v1: versions[0]!, v2: versions[1]! };
}

test('the lineage page shows the packages, the notable ones, and only those that differ from the other version', async () => {
  const { store, v1, v2 } = await twoVersions();
  const l1 = lineage(store, v1.id), l2 = lineage(store, v2.id);
  const against = { version: 1, diff: [], packages: diffPackages(l1.packages!, l2.packages!) };
  const html = lineagePage(l2, { cspSource: 'x', style: 's.css', against });
  assert.match(html, /<h2>5 package\(s\) in conda <code>ml<\/code><\/h2>/);
  assert.match(html, /<p><code>torch<\/code> 2\.4\.1&#60;x&#62; · <code>numpy<\/code> 1\.26\.4 · <code>pandas<\/code> 2\.2\.2<\/p>/, 'notable ones, torch first, escaped');
  assert.ok(!html.includes('<code>requests</code> 2.32.3'), 'not a notable package');
  assert.match(html, /2 package\(s\) differ from v1/);
  const card = /<section class="card packages">.*?<\/section>/s.exec(html)![0];
  const rows = [...card.matchAll(/<tr>(.*?)<\/tr>/g)].map((m) => m[1]!);
  assert.deepEqual(rows.filter((r) => r.includes('<td>')), [
    '<td>conda environment</td><td>—</td><td>ml</td>',
    '<td><code>einops</code></td><td>—</td><td>0.8.0</td>',
    '<td><code>torch</code></td><td>2.3.0</td><td>2.4.1&#60;x&#62;</td>',
  ], 'numpy, pandas and requests are the same');
  assert.ok(!/<script|<x>/.test(html));

  const same = lineagePage(l1, { cspSource: 'x', style: 's.css', against: { version: 2, diff: [], packages: diffPackages(l1.packages!, l1.packages!) } });
  assert.match(same, /same packages as v2/);
  const none = lineagePage(l1, { cspSource: 'x', style: 's.css', against: { version: 2, diff: [], packages: null } });
  assert.match(none, /v2 recorded no packages to compare with/);
  const plain = lineagePage(l1, { cspSource: 'x', style: 's.css' });
  assert.ok(!plain.includes('differ') && !plain.includes('Notebook'), 'no comparison, no notebook: neither is mentioned');
  store.close();
});

test('a run that recorded no packages says so, on the page and in the model card', async () => {
  const { store, v1 } = await twoVersions();
  const runId = store.runs.create({ name: 'old', cwd: store.dir, status: 'finished' }).id;
  writeFileSync(join(store.dir, 'old.bin'), 'x');
  const old = await new ArtifactCollector(store, store.objects).register(runId, 'old.bin', 'clf');
  assert.match(lineagePage(lineage(store, old.id), { cspSource: 'x', style: 's.css' }), /No packages were recorded for this run\./);
  assert.match(modelCard(lineage(store, old.id)), /## Packages\n\nNo packages were recorded for this run\./);
  const card = modelCard(lineage(store, v1.id));
  assert.match(card, /^4 installed package\(s\)\. Notable: torch 2\.3\.0, numpy 1\.26\.4, pandas 2\.2\.2\.$/m);
  assert.match(card, /^\| requests \| 2\.32\.3 \|$/m, 'every package in the card');
  store.close();
});

test('a notebook run\'s lineage names the notebook and links to its snapshot by run uid', async () => {
  const { ws, store, v2 } = await twoVersions();
  const l = lineage(store, v2.id);
  const html = lineagePage(l, { cspSource: 'x', style: 's.css' });
  assert.ok(html.includes(`<dt>Notebook</dt><dd><code>${join(ws, 'nb', 'train.ipynb')}</code> · <a href="command:runlens.showNotebookSnapshot?`), html);
  const link = /href="command:runlens\.showNotebookSnapshot\?([^"]*)"/.exec(html)!;
  assert.deepEqual(JSON.parse(decodeURIComponent(link[1]!)), [l.run.uid]);
  assert.ok(LINEAGE_COMMANDS.includes('runlens.showNotebookSnapshot'), 'the panel allows the link');
  assert.match(modelCard(l), new RegExp(`Notebook: \`${join(ws, 'nb', 'train.ipynb')}\`, snapshot sha256 \`${l.notebook!.snapshot!.digest}\``));
  store.close();
});

test('a snapshot reads as its cells in the percent format, outputs left out', () => {
  const { text, language } = notebookText(NOTEBOOK, 'train.ipynb');
  assert.equal(language, 'python');
  assert.equal(text, [
    '# train.ipynb', '',
    '# %% [markdown]', '# # Train', '# with <b>care</b>', '',
    '# %% In [1]', 'import runlens\nrunlens.init(name="nb")', '',
    '# %%', 'runlens.finish()', '',
  ].join('\n'));
  assert.ok(!text.includes('secret output'));
  assert.deepEqual(notebookText('not json'), { text: 'not json', language: 'json' });
  assert.deepEqual(notebookText('{"a": 1}'), { text: '{"a": 1}', language: 'json' });
});
