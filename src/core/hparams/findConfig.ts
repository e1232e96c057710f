import { type Node as JsonNode, parseTree } from 'jsonc-parser';
import { type TomlTable, TomlError, parse as parseToml } from 'smol-toml';
import { type Node as YamlNode, isMap, isScalar, parseDocument } from 'yaml';
import type { ParamValue } from '../types.ts';
import { type FoundParam, type Span, lineAt, lineStarts } from './found.ts';
import { tomlKeys } from './tomlKeys.ts';

export type ConfigFormat = 'yaml' | 'json' | 'toml';

const MAX_DEPTH = 32;

/**
 * Every leaf scalar of a config file with its dotted key path (`model.dropout`); the range is the
 * last key's text. Lists are skipped. On a syntax error only what comes before its line is kept.
 * `prefix` is put before every key (a Hydra config group, say).
 */
export function findConfigParams(text: string, format: ConfigFormat, options: { prefix?: string } = {}): FoundParam[] {
  const starts = lineStarts(text);
  const out: FoundParam[] = [];
  const prefix = options.prefix ? `${options.prefix.replace(/\.$/, '')}.` : '';
  const add = (path: string, range: Span, valueRange: Span, value: unknown) => {
    if (!isScalarValue(value)) return;
    out.push({
      name: path, key: prefix + path, range, valueRange, value, valueText: text.slice(valueRange.start, valueRange.end),
      kind: 'config', line: lineAt(starts, range.start),
    });
  };
  try {
    if (format === 'yaml') findYaml(text, starts, add);
    else if (format === 'json') findJson(text, starts, add);
    else findToml(text, starts, add);
  } catch (err) {
    if (err instanceof RangeError) return []; // nested too deep for the parser's stack
    throw err;
  }
  return out.sort((a, b) => a.range.start - b.range.start);
}

type Add = (path: string, range: Span, valueRange: Span, value: unknown) => void;

function isScalarValue(v: unknown): v is ParamValue {
  return typeof v === 'string' || typeof v === 'boolean' || (typeof v === 'number' && Number.isFinite(v));
}

/** Where the line of the first error starts: everything from there on is ignored. */
function cutAt(starts: number[], errorOffsets: number[]): number {
  if (!errorOffsets.length) return Infinity;
  return starts[lineAt(starts, Math.min(...errorOffsets))]!;
}

function findYaml(text: string, starts: number[], add: Add): void {
  const doc = parseDocument(text, { prettyErrors: false, uniqueKeys: false });
  const cut = cutAt(starts, doc.errors.map((e) => e.pos[0]));
  const walk = (node: unknown, path: string, depth: number) => {
    if (!isMap(node) || depth > MAX_DEPTH) return;
    for (const pair of node.items) {
      const key = pair.key as YamlNode | null, value = pair.value as YamlNode | null;
      if (!isScalar(key) || !key.range || !value?.range) continue;
      const name = path + String(key.value);
      if (isMap(value)) { walk(value, `${name}.`, depth + 1); continue; }
      if (!isScalar(value) || value.range[1] >= cut) continue;
      const quoted = key.type === 'QUOTE_DOUBLE' || key.type === 'QUOTE_SINGLE' ? 1 : 0;
      add(name, { start: key.range[0] + quoted, end: key.range[1] - quoted }, { start: value.range[0], end: value.range[1] }, value.value);
    }
  };
  walk(doc.contents, '', 0);
}

function findJson(text: string, starts: number[], add: Add): void {
  const errors: { offset: number }[] = [];
  const root = parseTree(text, errors as never, { allowTrailingComma: true });
  const cut = cutAt(starts, errors.map((e) => e.offset));
  const walk = (node: JsonNode | undefined, path: string, depth: number) => {
    if (node?.type !== 'object' || depth > MAX_DEPTH) return;
    for (const prop of node.children ?? []) {
      const [key, value] = prop.children ?? [];
      if (!key || !value || typeof key.value !== 'string') continue;
      const name = path + key.value;
      if (value.type === 'object') walk(value, `${name}.`, depth + 1);
      else if (value.offset + value.length < cut) add(name, { start: key.offset + 1, end: key.offset + key.length - 1 }, { start: value.offset, end: value.offset + value.length }, value.value);
    }
  };
  walk(root, '', 0);
}

function findToml(text: string, starts: number[], add: Add): void {
  // smol-toml gives values but no positions: parse the longest valid prefix, then scan it for keys.
  let end = text.length, data: TomlTable = {};
  for (let tries = 0; tries < 8; tries++) {
    try {
      data = parseToml(text.slice(0, end));
      break;
    } catch (err) {
      if (!(err instanceof TomlError)) throw err;
      const cut = starts[Math.max(0, Math.min(err.line - 1, starts.length - 1))]!;
      end = cut < end ? cut : 0;
      data = {};
    }
  }
  for (const k of tomlKeys(text, end)) {
    let v: unknown = data;
    for (const part of k.path) v = v !== null && typeof v === 'object' && !Array.isArray(v) && Object.hasOwn(v, part) ? (v as TomlTable)[part] : undefined;
    add(k.path.join('.'), k.range, k.valueRange, v);
  }
}
