import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { test } from 'node:test';

const root = join(import.meta.dirname, '..', '..');

/** Shared helpers, each under the names a copy of it has had or would likely get. One definition each. */
const HELPERS: { [what: string]: string[] } = {
  'run-reference resolver': ['resolveRuns', 'resolveRefs', 'resolveRunRefs'],
  'params flattener': ['flatten', 'flattenParams'],
  'number formatter': ['metricValue', 'formatValue', 'formatCell', 'formatNumber'],
  'duration formatter': ['duration', 'formatDuration'],
  'short hash formatter': ['shortSha', 'shortDigest', 'shortCommit', 'shortHash'],
  'relative-time formatter': ['ago', 'timeAgo', 'relativeTime', 'formatAgo'],
  'date formatter': ['dateTime', 'formatDateTime', 'iso'],
  'CSV writer': ['csvCell', 'csvField', 'csvEscape', 'csvQuote'],
};

/** Where `name` is defined in `text`: a function declaration, or a const/let/var holding a function. */
export function definitions(name: string, text: string): number {
  const fn = String.raw`\bfunction\s*\*?\s*${name}\s*[<(]`;
  const bound = String.raw`\b(?:const|let|var)\s+${name}\s*(?::[^=]+)?=\s*(?:async\s+)?(?:function\b|(?:\([^)]*\)|\w+)\s*(?::[^=]+)?=>)`;
  return text.match(new RegExp(`${fn}|${bound}`, 'g'))?.length ?? 0;
}

/** For each helper: the files (with counts) defining it, when that is not exactly one definition. */
export function duplicates(files: { path: string; text: string }[]): string[] {
  const problems: string[] = [];
  for (const [what, names] of Object.entries(HELPERS)) {
    const found = files.flatMap(({ path, text }) => names.flatMap((n) => Array(definitions(n, text)).fill(`${path}: ${n}`) as string[]));
    if (found.length !== 1) problems.push(`${what}: ${found.length} definitions${found.length ? ` (${found.join(', ')})` : ''}`);
  }
  return problems;
}

test('the finder sees each way of defining a helper, and not its calls or plain variables', () => {
  const defs = [
    'function flatten(v) {}', 'export function flatten<T>(v: T) {}', 'const flatten = (v: unknown, p: string) => {',
    'let flatten = async (v) => v', 'const flatten: F = function (v) {}', 'const flatten = v => v',
  ];
  for (const d of defs) assert.equal(definitions('flatten', d), 1, d);
  for (const d of ['flatten(x, out);', 'const flattened = (a) => a', 'const duration = (end - start) / 1000;', '// function flattenX(']) {
    assert.equal(definitions(d.includes('duration') ? 'duration' : 'flatten', d), 0, d);
  }
  const one = Object.values(HELPERS).map((names) => `export function ${names[0]}() {}`).join('\n');
  assert.deepEqual(duplicates([{ path: 'a.ts', text: one }]), []);
  assert.deepEqual(duplicates([{ path: 'a.ts', text: one }, { path: 'b.ts', text: 'const formatValue = (v: number) => String(v);' }]),
    ['number formatter: 2 definitions (a.ts: metricValue, b.ts: formatValue)']);
});

test('src/ and webview/ define each shared helper exactly once', () => {
  const files = ['src', 'webview'].flatMap((dir) => readdirSync(join(root, dir), { recursive: true, encoding: 'utf8' })
    .filter((f) => /\.[cm]?tsx?$/.test(f))
    .map((f) => ({ path: relative(root, join(root, dir, f)), text: readFileSync(join(root, dir, f), 'utf8') })));
  assert.ok(files.length > 50, `${files.length} source files`);
  assert.deepEqual(duplicates(files), []);
});
