import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, extname, isAbsolute, join } from 'node:path';
import { parseDocument } from 'yaml';
import type { ParamValue } from '../types.ts';

/**
 * For `override_style: file`: writes copies of the params files into `dir` with the overrides applied
 * (YAML comments and layout kept; JSON stays JSON). A dotted key goes to the first file that has
 * it, else to the first file. The user's files are never edited. Returns original → copy paths.
 */
export function writeParamsCopies(files: string[], cwd: string, overrides: { [key: string]: ParamValue }, dir: string): Map<string, string> {
  const docs = files.map((f) => {
    const path = isAbsolute(f) ? f : join(cwd, f);
    return { f, doc: parseDocument(readFileSync(path, 'utf8')) };
  });
  if (!docs.length) throw new Error('override_style: file needs a params file in the run configuration.');
  for (const [key, value] of Object.entries(overrides)) {
    const path = key.split('.');
    const target = docs.find((d) => d.doc.hasIn(path)) ?? docs[0]!;
    target.doc.setIn(path, value);
  }
  mkdirSync(dir, { recursive: true });
  const copies = new Map<string, string>();
  docs.forEach(({ f, doc }, i) => {
    const copy = join(dir, `${i}-${basename(f)}`);
    const json = extname(f).toLowerCase() === '.json';
    writeFileSync(copy, json ? `${JSON.stringify(doc.toJSON(), null, 2)}\n` : doc.toString());
    copies.set(f, copy);
  });
  return copies;
}
