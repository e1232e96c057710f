/** Comma- or tab-separated text with RFC 4180 quoting, read a complete line at a time. */

const QUOTE = 0x22, LF = 0x0a, CR = 0x0d;

export interface Rows {
  rows: string[][];
  /** Characters read: the end of the last complete row (after its line break). */
  end: number;
}

/**
 * The complete rows of `text`. Quoted cells may hold separators, `""` and line breaks.
 * Rows end at \n, \r\n or a lone \r; a row without its line break yet is left out.
 */
export function parseRows(text: string, sep = ','): Rows {
  const rows: string[][] = [];
  const sepCode = sep.charCodeAt(0);
  const n = text.length;
  let i = 0, end = 0;
  rows: while (i < n) {
    const row: string[] = [];
    for (;;) {
      let cell = '';
      if (text.charCodeAt(i) === QUOTE) {
        let j = i + 1;
        for (;;) {
          const q = text.indexOf('"', j);
          if (q < 0) break rows; // the quoted cell goes on past the text
          cell += text.slice(j, q);
          if (text.charCodeAt(q + 1) === QUOTE) { cell += '"'; j = q + 2; continue; }
          if (q + 1 >= n) break rows; // a doubled quote may follow
          i = q + 1;
          break;
        }
      }
      let j = i;
      while (j < n) {
        const c = text.charCodeAt(j);
        if (c === sepCode || c === LF || c === CR) break;
        j++;
      }
      cell += text.slice(i, j); // text after a closing quote is kept, leniently
      row.push(cell);
      if (j >= n) break rows;
      const c = text.charCodeAt(j);
      if (c === sepCode) { i = j + 1; continue; }
      if (c === CR) {
        if (j + 1 >= n) break rows; // \n may follow
        i = text.charCodeAt(j + 1) === LF ? j + 2 : j + 1;
      } else i = j + 1;
      rows.push(row);
      end = i;
      continue rows;
    }
  }
  return { rows, end };
}

const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;
const SPECIAL: { [k: string]: number } = {
  nan: NaN, '+nan': NaN, '-nan': NaN, inf: Infinity, '+inf': Infinity, infinity: Infinity, '+infinity': Infinity, '-inf': -Infinity, '-infinity': -Infinity,
};

/** A cell as a number: undefined when empty (or "NA"), null when it is not a number. */
export function cellNumber(cell: string): number | undefined | null {
  const s = cell.trim();
  if (s === '' || s === 'NA') return undefined;
  if (NUMBER.test(s)) return Number(s);
  const special = SPECIAL[s.toLowerCase()];
  return special === undefined ? null : special;
}

/** UTF-8 length of text's first `chars` characters. */
export function byteLength(text: string, chars = text.length): number {
  return Buffer.byteLength(chars === text.length ? text : text.slice(0, chars), 'utf8');
}
