import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { test } from 'node:test';
import ts from 'typescript';

const root = join(import.meta.dirname, '..', '..', '..');
const PURE = ['queryState.ts', 'ticks.ts', 'pngLayout.ts', 'pcLayout.ts', 'runScope.ts'].map((f) => join(root, 'webview', 'compare', f));

/** Every file a module reaches through relative imports, and the packages it imports anywhere. */
function reach(entry: string): { files: string[]; packages: string[] } {
  const files = new Set<string>();
  const packages = new Set<string>();
  const visit = (file: string) => {
    if (files.has(file)) return;
    files.add(file);
    for (const { fileName } of ts.preProcessFile(readFileSync(file, 'utf8'), true, true).importedFiles) {
      if (fileName.startsWith('.')) visit(join(dirname(file), fileName));
      else packages.add(fileName);
    }
  };
  visit(entry);
  return { files: [...files], packages: [...packages] };
}

test('the chart card\'s query state, ticks and PNG layout use neither the DOM nor chart.js', () => {
  for (const entry of PURE) {
    const { files, packages } = reach(entry);
    assert.deepEqual(packages, [], `${relative(root, entry)} imports packages`);
    for (const file of files) {
      const code = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest);
      const globals: string[] = [];
      const walk = (n: ts.Node): void => {
        if (ts.isIdentifier(n) && /^(document|window|HTMLElement|HTMLCanvasElement|CanvasRenderingContext2D|requestAnimationFrame)$/.test(n.text)) globals.push(n.text);
        ts.forEachChild(n, walk);
      };
      walk(code);
      assert.deepEqual(globals, [], `${relative(root, file)} (reached from ${relative(root, entry)}) uses the DOM`);
    }
  }
});
