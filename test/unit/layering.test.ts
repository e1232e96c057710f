import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { test } from 'node:test';
import ts from 'typescript';

const root = join(import.meta.dirname, '..', '..');

/** Every module a TypeScript file imports: import/export-from, import(), require(), import x = require(). */
export function importsOf(fileName: string, text: string): string[] {
  const source = ts.createSourceFile(fileName, text, ts.ScriptTarget.Latest, true);
  const found: string[] = [];
  const visit = (node: ts.Node): void => {
    if ((ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier)) {
      found.push(node.moduleSpecifier.text);
    } else if (ts.isImportEqualsDeclaration(node) && ts.isExternalModuleReference(node.moduleReference)
      && ts.isStringLiteral(node.moduleReference.expression)) {
      found.push(node.moduleReference.expression.text);
    } else if (ts.isCallExpression(node) && node.arguments.length === 1 && ts.isStringLiteralLike(node.arguments[0]!)
      && (node.expression.kind === ts.SyntaxKind.ImportKeyword || (ts.isIdentifier(node.expression) && node.expression.text === 'require'))) {
      found.push(node.arguments[0].text);
    } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument) && ts.isStringLiteral(node.argument.literal)) {
      found.push(node.argument.literal.text);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((f) => /\.[cm]?tsx?$/.test(f)).map((f) => join(dir, f));
}

test('the import finder sees every way of importing vscode (so the rule below can fail)', () => {
  const samples = [
    "import * as vscode from 'vscode';",
    "import type { Uri } from 'vscode';",
    "export { window } from 'vscode';",
    "const v = require('vscode');",
    "const v = await import('vscode');",
    "import vscode = require('vscode');",
    "let u: import('vscode').Uri;",
  ];
  for (const s of samples) assert.deepEqual(importsOf('x.ts', s), ['vscode'], s);
  assert.deepEqual(importsOf('x.ts', "// import 'vscode'\nconst s = \"require('vscode')\";"), []);
});

test('src/core never imports vscode, directly or through a non-core module', () => {
  const core = join(root, 'src', 'core');
  const files = filesUnder(core);
  assert.ok(files.length >= 5, 'core has files');
  const offenders: string[] = [];
  for (const file of files) {
    for (const spec of importsOf(file, readFileSync(file, 'utf8'))) {
      // a data file (the shared redaction rules in media/) cannot import anything
      const escapes = spec.startsWith('.') && !spec.endsWith('.json') && relative(core, join(file, '..', spec)).startsWith('..');
      if (spec === 'vscode' || spec.startsWith('vscode/') || escapes) offenders.push(`${relative(root, file)} imports ${spec}`);
    }
  }
  assert.deepEqual(offenders, []);
});
