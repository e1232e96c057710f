import type { Span } from './found.ts';

/** A `key = value` line of a TOML file: its full path (table included) and where its last key part and value are. */
export interface TomlKey {
  path: string[];
  range: Span;
  valueRange: Span;
}

/**
 * Finds the keys of a TOML document, up to offset `end`, with their positions: `[table]` headers,
 * dotted keys, quoted keys. Keys inside `[[array.tables]]` and inline tables are skipped.
 * The caller takes the values from a real TOML parser; this only says where things are.
 */
export function tomlKeys(text: string, end = text.length): TomlKey[] {
  const out: TomlKey[] = [];
  let i = 0;
  let table: string[] | null = [];
  const skipSpace = () => { while (i < end && (text[i] === ' ' || text[i] === '\t')) i++; };
  const skipLine = () => { while (i < end && text[i] !== '\n') i++; };
  /** A dotted key; its parts and the range of the last part's text. */
  const readKey = (): { parts: string[]; range: Span } | undefined => {
    const parts: string[] = [];
    let range: Span = { start: i, end: i };
    for (;;) {
      skipSpace();
      const c = text[i];
      if (c === '"' || c === "'") {
        const close = stringEnd(text, i, end);
        if (close < 0 || text.slice(i, i + 3) === c.repeat(3)) return undefined;
        const raw = text.slice(i, close);
        parts.push(c === "'" ? raw.slice(1, -1) : basic(raw));
        range = { start: i + 1, end: close - 1 };
        i = close;
      } else {
        const m = /^[A-Za-z0-9_-]+/.exec(text.slice(i, Math.min(end, i + 256)));
        if (!m) return undefined;
        parts.push(m[0]);
        range = { start: i, end: i + m[0].length };
        i += m[0].length;
      }
      skipSpace();
      if (text[i] !== '.') return { parts, range };
      i++;
    }
  };

  while (i < end) {
    const c = text[i];
    if (c === ' ' || c === '\t' || c === '\r' || c === '\n') { i++; continue; }
    if (c === '#') { skipLine(); continue; }
    if (c === '[') {
      const array = text[i + 1] === '[';
      i += array ? 2 : 1;
      const key = readKey();
      table = array || !key || text[i] !== ']' ? null : key.parts;
      skipLine();
      continue;
    }
    const key = readKey();
    skipSpace();
    if (!key || text[i] !== '=') { skipLine(); continue; }
    i++;
    skipSpace();
    const start = i;
    i = valueEnd(text, i, end);
    let stop = i;
    while (stop > start && /\s/.test(text[stop - 1]!)) stop--;
    if (table && stop > start) out.push({ path: [...table, ...key.parts], range: key.range, valueRange: { start, end: stop } });
    skipLine();
  }
  return out;
}

/** A basic string's value; JSON's escapes are TOML's, except \U and \e. */
function basic(raw: string): string {
  try { return JSON.parse(raw) as string; } catch { return raw.slice(1, -1); }
}

/** The offset just past the string starting at `i` (single-line or multi-line), or -1 when it is not closed. */
function stringEnd(text: string, i: number, end: number): number {
  const q = text[i]!;
  const long = text.slice(i, i + 3) === q.repeat(3);
  let j = i + (long ? 3 : 1);
  while (j < end) {
    const c = text[j];
    if (c === '\\' && q === '"') { j += 2; continue; }
    if (!long && c === '\n') return -1;
    if (c === q && (!long || text.slice(j, j + 3) === q.repeat(3))) {
      if (!long) return j + 1;
      j += 3;
      for (let extra = 0; extra < 2 && j < end && text[j] === q; extra++) j++; // up to two quotes may end the content
      return j;
    }
    j++;
  }
  return -1;
}

/** The offset just past the value starting at `i`: a string, an array or inline table (nested), or up to a comment or the line's end. */
function valueEnd(text: string, i: number, end: number): number {
  let depth = 0;
  while (i < end) {
    const c = text[i]!;
    if (c === '"' || c === "'") {
      const close = stringEnd(text, i, end);
      if (close < 0) return end;
      i = close;
      if (!depth) return i;
      continue;
    }
    if (c === '[' || c === '{') depth++;
    else if (c === ']' || c === '}') { depth--; if (depth <= 0) return i + 1; }
    else if (c === '#') { if (!depth) return i; while (i < end && text[i] !== '\n') i++; continue; }
    else if (c === '\n' && !depth) return i;
    i++;
  }
  return end;
}
