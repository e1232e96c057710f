/** Byte-level reading of delimited text for the profiler: plain numbers, special words, quoted cells, line feeds. */

const QUOTE = 0x22, LF = 0x0a;
export const POW10 = Array.from({ length: 23 }, (_, i) => 10 ** i);

/**
 * A number written plainly (sign, digits, one point, an exponent), exactly as Number() reads it; NaN for
 * anything else (cellNumber then reads the special forms: nan, inf, NA, surrounding spaces).
 */
export function fastNumber(b: Buffer, i: number, j: number): number {
  let k = i, neg = false;
  if (k < j && (b[k] === 0x2d || b[k] === 0x2b)) { neg = b[k] === 0x2d; k++; }
  let x = 0, digits = 0, frac = -1;
  for (; k < j; k++) {
    const d = b[k]! - 48;
    if (d >= 0 && d <= 9) { x = x * 10 + d; digits++; if (frac >= 0) frac++; } else if (d === -2 && frac < 0) frac = 0; else break;
  }
  if (digits === 0) return NaN;
  if (k < j) { // an exponent, else not a number
    if ((b[k] | 0x20) !== 0x65) return NaN;
    let e = k + 1;
    if (e < j && (b[e] === 0x2d || b[e] === 0x2b)) e++;
    if (e >= j) return NaN;
    for (; e < j; e++) if (b[e]! < 48 || b[e]! > 57) return NaN;
    return Number(b.toString('latin1', i, j));
  }
  if (digits > 15) return Number(b.toString('latin1', i, j));
  const v = frac > 0 ? x / POW10[frac]! : x; // both exact below 2^53 and 1e22: the division rounds once, as Number() does
  return neg ? -v : v;
}

/** Text that cellNumber may read as a number or as missing: nan, inf, infinity, NA (signed or not), or spaces around. */
export function maybeSpecial(b: Buffer, i: number, j: number): boolean {
  const first = b[i]!, last = b[j - 1]!;
  if (first === 0x20 || first === 0x09 || last === 0x20 || last === 0x09) return true;
  const k = first === 0x2b || first === 0x2d ? i + 1 : i;
  return lowerIs(b, k, j, 'nan') || lowerIs(b, k, j, 'inf') || lowerIs(b, k, j, 'infinity') || (j - i === 2 && first === 0x4e && last === 0x41);
}

/** Whether b[i..j) is `word` (lower case ASCII) in any case. */
export function lowerIs(b: Buffer, i: number, j: number, word: string): boolean {
  if (j - i !== word.length) return false;
  for (let k = 0; k < word.length; k++) if ((b[i + k]! | 0x20) !== word.charCodeAt(k)) return false;
  return true;
}

/** A quoted cell starting at i: its text and the index of the separator (or e) after it. */
export function quoted(b: Buffer, i: number, e: number, sep: number): { text: string; to: number } {
  let text = '', k = i + 1;
  for (;;) {
    const q = b.indexOf(QUOTE, k);
    if (q < 0 || q >= e) { text += b.toString('utf8', k, e); return { text, to: e }; }
    text += b.toString('utf8', k, q);
    if (q + 1 < e && b[q + 1] === QUOTE) { text += '"'; k = q + 2; continue; }
    let j = q + 1;
    while (j < e && b[j] !== sep) j++;
    return { text: text + b.toString('utf8', q + 1, j), to: j };
  }
}

/** The cells of a row, for the header: text of quoted cells, ranges of the others. */
export function cells(b: Buffer, a: number, e: number, sep: number): { text?: string; from: number; to: number }[] {
  const out: { text?: string; from: number; to: number }[] = [];
  let i = a;
  for (;;) {
    if (b[i] === QUOTE && i < e) {
      const c = quoted(b, i, e, sep);
      out.push({ text: c.text, from: i, to: c.to });
      i = c.to;
    } else {
      let j = i;
      while (j < e && b[j] !== sep) j++;
      out.push({ from: i, to: j });
      i = j;
    }
    if (i >= e) return out;
    i++;
  }
}

/**
 * Line feeds in b[i..end): four bytes at a time over the aligned middle. Each word's line feeds become
 * one bit per byte lane, summed in the lanes for up to 255 words, then the lanes are added.
 */
export function countLf(b: Buffer, i: number, end: number): number {
  let n = 0;
  const off = b.byteOffset;
  let k = i;
  while (k < end && ((off + k) & 3) !== 0) if (b[k++] === LF) n++;
  const words = (end - k) >> 2;
  if (words > 0) {
    const w = new Int32Array(b.buffer, off + k, words);
    for (let x = 0; x < words;) {
      const stop = Math.min(words, x + 255);
      let lanes = 0;
      for (; x < stop; x++) {
        const v = w[x]! ^ 0x0a0a0a0a; // a zero byte where there was a line feed
        lanes += ~((((v & 0x7f7f7f7f) + 0x7f7f7f7f) | v) | 0x7f7f7f7f) >>> 7; // 1 in each lane whose byte was zero
      }
      n += (lanes & 0xff) + ((lanes >>> 8) & 0xff) + ((lanes >>> 16) & 0xff) + (lanes >>> 24);
    }
    k += words << 2;
  }
  while (k < end) if (b[k++] === LF) n++;
  return n;
}
