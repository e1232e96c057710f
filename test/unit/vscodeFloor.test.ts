import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';

const root = join(import.meta.dirname, '..', '..');
const readJson = (path: string) => JSON.parse(readFileSync(join(root, path), 'utf8'));

/**
 * VS Code minor → Node major of its extension host (the Node inside its Electron), from that minor
 * on. Source: the Electron version in each release (release notes, Engineering; the `target` in
 * microsoft/vscode's .npmrc at the release tag) and that Electron's Node:
 * 1.82 Electron 25 (Node 18.15), 1.90 Electron 29 (Node 20.9), 1.100 Electron 34 (Node 20.19),
 * 1.101 Electron 35 (Node 22.15.1). Add a row when a release moves to a new Node major.
 */
const HOST_NODE: [minor: number, nodeMajor: number][] = [[82, 18], [90, 20], [100, 20], [101, 22]];

function hostNode(minor: number): number | undefined {
  return HOST_NODE.filter(([m]) => m <= minor).at(-1)?.[1];
}

interface Facts {
  /** package.json engines.vscode, like ^1.101.0 */
  floor: string;
  /** better-sqlite3's engines.node, like >=22 */
  sqliteNode: string;
  esbuildConfig: string;
  /** The installed @types/vscode version. */
  types: string;
}

/** What is wrong with the declared VS Code floor, if anything. */
function floorProblems(f: Facts): string[] {
  const floor = /^\^?1\.(\d+)\.\d+$/.exec(f.floor);
  if (!floor) return [`engines.vscode ${f.floor} is not ^1.N.0`];
  const minor = Number(floor[1]);
  const node = hostNode(minor);
  if (node === undefined) return [`VS Code 1.${minor} is older than the table`];
  const problems: string[] = [];
  const need = Number(/^>=\s*(\d+)/.exec(f.sqliteNode)?.[1]);
  if (!(node >= need)) problems.push(`VS Code 1.${minor} runs extensions on Node ${node}; better-sqlite3 needs ${f.sqliteNode}`);
  const targets = [...f.esbuildConfig.matchAll(/target:\s*'node(\d+)'/g)].map((m) => Number(m[1]));
  if (targets.length === 0) problems.push('esbuild.mjs has no node target');
  for (const t of targets) if (t > node) problems.push(`esbuild targets node${t}, above VS Code 1.${minor}'s Node ${node}`);
  const types = Number(/^1\.(\d+)\./.exec(f.types)?.[1]);
  if (!(types <= minor)) problems.push(`@types/vscode ${f.types} is above the floor 1.${minor} (vsce refuses it)`);
  return problems;
}

const facts = (): Facts => ({
  floor: readJson('package.json').engines.vscode,
  sqliteNode: readJson('node_modules/better-sqlite3/package.json').engines.node,
  esbuildConfig: readFileSync(join(root, 'esbuild.mjs'), 'utf8'),
  types: readJson('node_modules/@types/vscode/package.json').version,
});

test('the VS Code floor runs extensions on a Node that better-sqlite3 and the bundle target accept', () => {
  assert.deepEqual(floorProblems(facts()), []);
});

test('the floor check catches 1.100 (Node 20), a too-new bundle target and too-new @types/vscode', () => {
  const real = facts();
  assert.equal(hostNode(100), 20);
  assert.equal(hostNode(101), 22);
  assert.match(floorProblems({ ...real, floor: '^1.100.0' }).join('\n'), /VS Code 1\.100 runs extensions on Node 20; better-sqlite3 needs >=22/);
  assert.match(floorProblems({ ...real, esbuildConfig: "target: 'node24'" }).join('\n'), /esbuild targets node24/);
  assert.match(floorProblems({ ...real, types: '1.200.0' }).join('\n'), /@types\/vscode 1\.200\.0 is above the floor/);
});
