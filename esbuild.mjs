// Bundles the extension (Node, CommonJS) and each webview entry (browser, IIFE).
//   node esbuild.mjs [--watch] [--production]
import * as esbuild from 'esbuild';
import { readdirSync, existsSync } from 'node:fs';

const watch = process.argv.includes('--watch');
const production = process.argv.includes('--production');
const withTests = !production;

const common = {
  bundle: true,
  sourcemap: production ? false : 'linked',
  minify: production,
  logLevel: 'info',
  legalComments: 'linked',
};

/** The extension host bundle. vscode is provided by the host; better-sqlite3 ships a native addon. */
const extension = {
  ...common,
  entryPoints: { extension: 'src/extension.ts' },
  outdir: 'dist',
  platform: 'node',
  format: 'cjs',
  target: 'node22',
  external: ['vscode', 'better-sqlite3'],
  // ESM builds first: jsonc-parser's UMD main loads its parts with a dynamic require esbuild cannot follow.
  mainFields: ['module', 'main'],
};

/** A Node bundle beside the extension, on the same store (better-sqlite3 stays a native module). */
const nodeBundle = (entryPoints) => ({
  ...common,
  entryPoints,
  outdir: 'dist',
  platform: 'node',
  format: 'cjs',
  target: 'node22',
  external: ['better-sqlite3'],
  mainFields: ['module', 'main'],
});

/** The ingest worker thread (see src/core/ingest/ingestWorker.ts): its own bundle, loaded by the extension. */
const ingestWorker = nodeBundle({ ingestWorker: 'src/core/ingest/ingestWorker.ts' });

/** The task worker thread (see src/core/tasks/taskWorker.ts): dataset hashing and imports, off the editor's thread. */
const taskWorker = nodeBundle({ taskWorker: 'src/core/tasks/taskWorker.ts' });

/** The `runlens` command line (package.json `bin`): Node only, on the same store. */
const cli = nodeBundle({ cli: 'src/cli/runlens.ts' });

/** One browser bundle per folder in webview/ that has an index.ts. */
const webviewEntries = Object.fromEntries(
  (existsSync('webview') ? readdirSync('webview', { withFileTypes: true }) : [])
    .filter((d) => d.isDirectory() && existsSync(`webview/${d.name}/index.ts`))
    .map((d) => [`webview/${d.name}`, `webview/${d.name}/index.ts`]),
);
const webviews = {
  ...common,
  entryPoints: webviewEntries,
  outdir: 'dist',
  platform: 'browser',
  format: 'iife',
  target: 'es2022',
};

/** The integration suite that runs inside the extension host (not shipped). */
const integration = {
  ...common,
  entryPoints: { 'test/integration': 'test/integration/index.ts', 'test/untrusted': 'test/integration/untrusted.ts', 'test/reload': 'test/integration/reload.ts', 'test/multiroot': 'test/integration/multiRoot.ts', 'test/slurm': 'test/integration/slurm.ts', 'test/slurmReload': 'test/integration/slurmReload.ts' },
  outdir: 'dist',
  platform: 'node',
  format: 'cjs',
  target: 'node22',
  external: ['vscode', 'better-sqlite3', 'mocha'],
  mainFields: ['module', 'main'],
};

const configs = [extension, ingestWorker, taskWorker, cli];
if (Object.keys(webviewEntries).length) configs.push(webviews);
if (withTests && existsSync('test/integration/index.ts')) configs.push(integration);

if (watch) {
  for (const c of configs) await (await esbuild.context(c)).watch();
} else {
  await Promise.all(configs.map((c) => esbuild.build(c)));
}
