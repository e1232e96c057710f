import { parser } from '@lezer/python';
import { type SyntaxNode, type Tree, TreeFragment } from '@lezer/common';
import type { ParamValue } from '../types.ts';
import { type FoundParam, type Span, lineAt, lineStarts } from './found.ts';

export interface PythonFindOptions {
  /** Functions whose keyword defaults are params: `def train(lr=1e-3)`. */
  entryPoints?: string[];
  /** Names a document (its URI): its last tree is kept, and the next text is parsed incrementally. */
  cacheKey?: string;
}

const CONSTANT = /^_*[A-Z][A-Z0-9_]*$/;
const CONFIG_NAME = /^(config|params|hparams|cfg)$/i;
const MAX_DEPTH = 16;

/**
 * Hyperparameters in Python source: module constants, argparse options, config dicts, dataclass
 * fields and entry-point keyword defaults. Anything on a line the parser could not read is left out.
 */
export function findPythonParams(text: string, options: PythonFindOptions = {}): FoundParam[] {
  // A byte-order mark is not code (Python drops it too); a newline in its place keeps every offset.
  const tree = parse(text.charCodeAt(0) === 0xfeff ? `\n${text.slice(1)}` : text, options.cacheKey ?? '');
  return new Finder(text, tree, options.entryPoints ?? []).run();
}

// ---------------------------------------------------------------- parsing, with a few trees kept

const trees = new Map<string, { text: string; tree: Tree }>();

function parse(text: string, key: string): Tree {
  const prev = trees.get(key);
  let tree: Tree;
  if (prev?.text === text) tree = prev.tree;
  else if (prev) {
    const a = prev.text, n = Math.min(a.length, text.length);
    let from = 0, tail = 0;
    while (from < n && a.charCodeAt(from) === text.charCodeAt(from)) from++;
    while (tail < n - from && a.charCodeAt(a.length - 1 - tail) === text.charCodeAt(text.length - 1 - tail)) tail++;
    const change = { fromA: from, toA: a.length - tail, fromB: from, toB: text.length - tail };
    tree = parser.parse(text, TreeFragment.applyChanges(TreeFragment.addTree(prev.tree), [change]));
  } else tree = parser.parse(text);
  trees.delete(key);
  trees.set(key, { text, tree });
  if (trees.size > 8) trees.delete(trees.keys().next().value!);
  return tree;
}

// ---------------------------------------------------------------- literals

/** A Python literal: number, string, bool, or a negated number. */
function literal(node: SyntaxNode | null, text: string): ParamValue | undefined {
  if (!node) return undefined;
  const raw = text.slice(node.from, node.to);
  switch (node.name) {
    case 'Number': {
      if (/[jJ]$/.test(raw)) return undefined;
      const v = Number(raw.replace(/_/g, ''));
      return Number.isFinite(v) ? v : undefined;
    }
    case 'Boolean': return raw === 'True';
    case 'String': return stringLiteral(raw)?.value;
    case 'UnaryExpression': {
      const op = node.firstChild, num = op?.nextSibling;
      if (op?.name !== 'ArithOp' || num?.name !== 'Number' || num.nextSibling) return undefined;
      const v = literal(num, text) as number | undefined;
      if (v === undefined) return undefined;
      const sign = text.slice(op.from, op.to);
      return sign === '-' ? -v : sign === '+' ? v : undefined;
    }
    default: return undefined;
  }
}

/** A terminated, non-bytes string literal: its value and where its content starts and ends (relative). */
function stringLiteral(raw: string): { value: string; start: number; end: number } | undefined {
  const prefix = /^[rRuUbB]*/.exec(raw)![0];
  if (/b/i.test(prefix)) return undefined;
  const rest = raw.slice(prefix.length);
  const quote = rest.startsWith('"""') || rest.startsWith("'''") ? rest.slice(0, 3) : rest.slice(0, 1);
  if ((quote !== '"' && quote !== "'" && quote.length !== 3) || rest.length < 2 * quote.length || !rest.endsWith(quote)) return undefined;
  const start = prefix.length + quote.length, end = raw.length - quote.length;
  const body = raw.slice(start, end);
  if (quote.length === 1 && /[\n\r]/.test(body)) return undefined;
  if (quote.length === 1 && /(^|[^\\])(\\\\)*\\$/.test(body)) return undefined; // the closing quote is escaped
  return { value: /r/i.test(prefix) ? body : unescape(body), start, end };
}

const ESCAPES: { [c: string]: string } = { n: '\n', t: '\t', r: '\r', '\\': '\\', "'": "'", '"': '"', a: '\x07', b: '\b', f: '\f', v: '\v', '\n': '' };

function unescape(s: string): string {
  return s.replace(/\\(x[0-9a-fA-F]{2}|u[0-9a-fA-F]{4}|U[0-9a-fA-F]{8}|[0-7]{1,3}|[\s\S])/g, (all, e: string) => {
    if (e in ESCAPES) return ESCAPES[e]!;
    if (/^[xuU]/.test(e) && e.length > 1) return String.fromCodePoint(Math.min(parseInt(e.slice(1), 16), 0x10ffff));
    if (/^[0-7]/.test(e)) return String.fromCharCode(parseInt(e, 8));
    return all;
  });
}

// ---------------------------------------------------------------- the finder

const PUNCTUATION = new Set(['(', ')', '[', ']', '{', '}', ',', ':', '*', '**']);

/** A call's or a def's arguments: positional nodes and keyword name → value node. */
function argumentsOf(list: SyntaxNode): { positional: SyntaxNode[]; keywords: { name: SyntaxNode; value: SyntaxNode }[] } {
  const kids: SyntaxNode[] = [];
  for (let c = list.firstChild; c; c = c.nextSibling) kids.push(c);
  const positional: SyntaxNode[] = [];
  const keywords: { name: SyntaxNode; value: SyntaxNode }[] = [];
  for (let i = 0; i < kids.length; i++) {
    const k = kids[i]!;
    if (PUNCTUATION.has(k.name)) { if (k.name === '*' || k.name === '**') i++; continue; }
    let v = i + 1;
    if (kids[v]?.name === 'TypeDef') v++;
    if (k.name === 'VariableName' && kids[v]?.name === 'AssignOp' && kids[v + 1]) {
      keywords.push({ name: k, value: kids[v + 1]! });
      i = v + 1;
    } else positional.push(k);
  }
  return { positional, keywords };
}

class Finder {
  private readonly text: string;
  private readonly tree: Tree;
  private readonly entryPoints: Set<string>;
  private readonly starts: number[];
  private readonly found: FoundParam[] = [];
  private badLines!: Uint8Array;

  constructor(text: string, tree: Tree, entryPoints: string[]) {
    this.text = text;
    this.tree = tree;
    this.entryPoints = new Set(entryPoints);
    this.starts = lineStarts(text);
  }

  run(): FoundParam[] {
    const calls: SyntaxNode[] = [], decorated: SyntaxNode[] = [], defs: SyntaxNode[] = [];
    const errors: Span[] = [];
    let inFormat = 0;
    this.tree.iterate({
      enter: (ref) => {
        if (ref.type.isError) errors.push({ start: ref.from, end: ref.to });
        else if (ref.name === 'FormatString') inFormat++;
        else if (inFormat) return;
        else if (ref.name === 'CallExpression') calls.push(ref.node);
        else if (ref.name === 'DecoratedStatement') decorated.push(ref.node);
        else if (ref.name === 'FunctionDefinition' && this.entryPoints.size) defs.push(ref.node);
      },
      leave: (ref) => { if (ref.name === 'FormatString') inFormat--; },
    });
    this.badLines = new Uint8Array(this.starts.length);
    for (const e of errors) for (let l = this.line(e.start); l <= this.line(e.end); l++) this.badLines[l] = 1;

    for (let s = this.tree.topNode.firstChild; s; s = s.nextSibling) if (s.name === 'AssignStatement') this.moduleAssign(s);
    for (const c of calls) this.argparse(c);
    for (const d of decorated) this.dataclass(d);
    for (const d of defs) this.entryPoint(d);
    return this.found.sort((a, b) => a.range.start - b.range.start);
  }

  private line(offset: number): number { return lineAt(this.starts, offset); }

  /** No parse error on any line from `from` to `to`. */
  private clean(from: number, to: number): boolean {
    for (let l = this.line(from), last = this.line(to); l <= last; l++) if (this.badLines[l]) return false;
    return true;
  }

  private slice(n: SyntaxNode): string { return this.text.slice(n.from, n.to); }

  private add(kind: FoundParam['kind'], name: string, key: string, range: Span, valueNode?: SyntaxNode, value?: ParamValue): void {
    const p: FoundParam = { name, key, range, kind, line: this.line(range.start) };
    if (valueNode) {
      p.valueRange = { start: valueNode.from, end: valueNode.to };
      p.valueText = this.slice(valueNode);
    }
    if (value !== undefined) p.value = value;
    this.found.push(p);
  }

  /** `[VariableName, TypeDef?, AssignOp, value]` exactly: the target and value of a simple assignment. */
  private simpleAssign(s: SyntaxNode): { target: SyntaxNode; type?: SyntaxNode; value: SyntaxNode } | undefined {
    const target = s.firstChild;
    if (target?.name !== 'VariableName') return undefined;
    let next = target.nextSibling;
    const type = next?.name === 'TypeDef' ? next : undefined;
    if (type) next = next!.nextSibling;
    const value = next?.name === 'AssignOp' ? next.nextSibling : null;
    if (!value || value.nextSibling) return undefined;
    return { target, type, value };
  }

  private moduleAssign(s: SyntaxNode): void {
    const a = this.simpleAssign(s);
    if (!a) return;
    const name = this.slice(a.target);
    if (CONFIG_NAME.test(name)) {
      if (!this.clean(s.from, s.to)) return;
      if (a.value.name === 'DictionaryExpression') this.dict(a.value, '', 0);
      else if (a.value.name === 'CallExpression' && a.value.firstChild && this.slice(a.value.firstChild) === 'dict') this.dictCall(a.value);
    } else if (CONSTANT.test(name) && this.clean(s.from, s.to)) {
      const value = literal(a.value, this.text);
      if (value !== undefined) this.add('constant', name, name, { start: a.target.from, end: a.target.to }, a.value, value);
    }
  }

  private dict(node: SyntaxNode, prefix: string, depth: number): void {
    if (depth > MAX_DEPTH) return;
    for (let c = node.firstChild; c; c = c.nextSibling) {
      if (c.name !== ':') continue;
      const keyNode = c.prevSibling, valueNode = c.nextSibling;
      if (keyNode?.name !== 'String' || !valueNode) continue;
      const key = stringLiteral(this.slice(keyNode));
      if (!key) continue;
      const name = prefix + key.value;
      if (valueNode.name === 'DictionaryExpression') { this.dict(valueNode, `${name}.`, depth + 1); continue; }
      const value = literal(valueNode, this.text);
      if (value !== undefined) this.add('dict', name, name, { start: keyNode.from + key.start, end: keyNode.from + key.end }, valueNode, value);
    }
  }

  /** `config = dict(lr=1e-3, ...)`. */
  private dictCall(call: SyntaxNode): void {
    const list = call.getChild('ArgList');
    if (!list) return;
    for (const { name, value } of argumentsOf(list).keywords) {
      const v = literal(value, this.text);
      if (v !== undefined) this.add('dict', this.slice(name), this.slice(name), { start: name.from, end: name.to }, value, v);
    }
  }

  private argparse(call: SyntaxNode): void {
    const callee = call.firstChild;
    const list = callee?.nextSibling;
    if (callee?.name !== 'MemberExpression' || list?.name !== 'ArgList' || callee.lastChild?.name !== 'PropertyName'
      || this.slice(callee.lastChild) !== 'add_argument' || !this.clean(call.from, call.to)) return;
    const args = argumentsOf(list);
    const kw = new Map(args.keywords.map((k) => [this.slice(k.name), k.value]));
    let range: Span | undefined, name: string | undefined;
    const destNode = kw.get('dest');
    const dest = destNode?.name === 'String' ? stringLiteral(this.slice(destNode)) : undefined;
    if (dest) {
      name = dest.value.replace(/-/g, '_');
      range = { start: destNode!.from + dest.start, end: destNode!.from + dest.end };
    } else {
      for (const p of args.positional) {
        const s = p.name === 'String' ? stringLiteral(this.slice(p)) : undefined;
        if (!s?.value.startsWith('--') || s.value.length < 3) continue;
        name = s.value.slice(2).replace(/-/g, '_');
        range = { start: p.from + s.start + 2, end: p.from + s.end };
        break;
      }
    }
    if (!name || !range) return;
    const defaultNode = kw.get('default');
    let value = literal(defaultNode ?? null, this.text);
    if (!defaultNode) {
      const action = kw.get('action');
      const a = action?.name === 'String' ? stringLiteral(this.slice(action))?.value : undefined;
      if (a === 'store_true' || a === 'store_false') value = a === 'store_false';
    }
    this.add('argparse', name, name, range, value === undefined ? undefined : defaultNode, value);
  }

  private dataclass(node: SyntaxNode): void {
    const isDataclass = node.getChildren('Decorator').some((d) => {
      const names = d.getChildren('VariableName');
      return names.length > 0 && this.slice(names[names.length - 1]!) === 'dataclass' && this.clean(d.from, d.to);
    });
    const cls = node.getChild('ClassDefinition');
    const body = cls?.getChild('Body');
    if (!isDataclass || !body || !this.clean(cls!.from, body.from)) return;
    for (let s = body.firstChild; s; s = s.nextSibling) {
      if (s.name !== 'AssignStatement' || !this.clean(s.from, s.to)) continue;
      const a = this.simpleAssign(s);
      if (!a?.type || /\bClassVar\b/.test(this.slice(a.type))) continue;
      let valueNode: SyntaxNode | undefined = a.value;
      if (a.value.name === 'CallExpression' && /^(dataclasses\.)?field$/.test(this.slice(a.value.firstChild!))) {
        const list = a.value.getChild('ArgList');
        valueNode = list ? argumentsOf(list).keywords.find((k) => this.slice(k.name) === 'default')?.value : undefined;
      }
      const value = literal(valueNode ?? null, this.text);
      const name = this.slice(a.target);
      if (value !== undefined) this.add('dataclass', name, name, { start: a.target.from, end: a.target.to }, valueNode, value);
    }
  }

  private entryPoint(def: SyntaxNode): void {
    const nameNode = def.getChild('VariableName');
    const params = def.getChild('ParamList');
    if (!nameNode || !params || !this.entryPoints.has(this.slice(nameNode)) || !this.clean(def.from, params.to)) return;
    for (const { name, value } of argumentsOf(params).keywords) {
      const v = literal(value, this.text);
      if (v !== undefined) this.add('kwarg', this.slice(name), this.slice(name), { start: name.from, end: name.to }, value, v);
    }
  }
}
