/**
 * The one rule for finding the recorded key a typed name means (filter, sort, hyperparameter
 * lenses, CI gate): the exact key; else the keys equal to it ignoring case and `_ - .`
 * (`val-acc` = `val_acc` = `VAL_ACC`); else the keys it is a dotted suffix of (`lr` → `train.lr`).
 * The first step that finds anything decides: one key is the answer, several are ambiguous.
 */

export type NameMatch =
  | { kind: 'found'; key: string; by: 'exact' | 'loose' | 'suffix' }
  | { kind: 'ambiguous'; candidates: string[] }
  | { kind: 'none' };

/** `suffix: false` stops after the case- and separator-insensitive step. */
export type Resolver = (name: string, options?: { suffix?: boolean }) => NameMatch;

const NONE: NameMatch = { kind: 'none' };
const loose = (s: string) => s.toLowerCase().replace(/[-_.]/g, '');

/** A resolver over `keys`, indexed once for many names. */
export function nameResolver(keys: Iterable<string>): Resolver {
  const exact = new Set(keys);
  const byLoose = new Map<string, string[]>();
  const bySuffix = new Map<string, string[]>();
  const add = (m: Map<string, string[]>, k: string, key: string) => {
    const list = m.get(k);
    if (!list) m.set(k, [key]);
    else if (!list.includes(key)) list.push(key);
  };
  for (const key of exact) {
    add(byLoose, loose(key), key);
    for (let dot = key.indexOf('.'); dot >= 0; dot = key.indexOf('.', dot + 1)) add(bySuffix, loose(key.slice(dot + 1)), key);
  }
  const pick = (found: string[] | undefined, by: 'loose' | 'suffix'): NameMatch | undefined => {
    if (!found) return undefined;
    return found.length === 1 ? { kind: 'found', key: found[0]!, by } : { kind: 'ambiguous', candidates: [...found].sort() };
  };
  return (name, { suffix = true } = {}) => {
    if (exact.has(name)) return { kind: 'found', key: name, by: 'exact' };
    const n = loose(name);
    if (!n) return NONE;
    return pick(byLoose.get(n), 'loose') ?? (suffix ? pick(bySuffix.get(n), 'suffix') : undefined) ?? NONE;
  };
}

/** One-off form of nameResolver. */
export function resolveName(name: string, keys: Iterable<string>): NameMatch {
  return nameResolver(keys)(name);
}

/** `"lr" could be optim.lr or train.lr`, naming the first few. */
export function ambiguityMessage(name: string, candidates: readonly string[]): string {
  const shown = candidates.length > 6 ? [...candidates.slice(0, 5), `${candidates.length - 5} more`] : candidates;
  return `"${name}" could be ${shown.slice(0, -1).join(', ')} or ${shown.at(-1)}`;
}

/** Why `name` found no key: the candidates, or `No param named "x". Did you mean "y"?`. */
export function unresolvedMessage(name: string, match: NameMatch, keys: readonly string[], what: string): string {
  if (match.kind === 'ambiguous') return ambiguityMessage(name, match.candidates);
  const guess = closest(name, keys);
  return `No ${what} named "${name}".${guess ? ` Did you mean "${guess}"?` : ''}`;
}

/** The key `name` means among `keys` (`what` names them: "param", "metric"); else throws why not. */
export function requireKey(name: string, keys: readonly string[], what: string): string {
  const match = resolveName(name, keys);
  if (match.kind === 'found') return match.key;
  throw new Error(unresolvedMessage(name, match, keys, what));
}

/** Optimal-string-alignment edit distance, case-insensitive. */
export function editDistance(a: string, b: string): number {
  a = a.toLowerCase();
  b = b.toLowerCase();
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i, ...new Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, d[i - 2]![j - 2]! + 1);
      d[i]![j] = v;
    }
  }
  return d[a.length]![b.length]!;
}

/** The closest candidate to a mistyped name, if one is close enough to be a likely typo. */
export function closest(word: string, candidates: Iterable<string>): string | undefined {
  const limit = word.length <= 4 ? 1 : word.length <= 8 ? 2 : 3;
  let best: string | undefined;
  let bestScore = Infinity;
  for (const c of new Set(candidates)) {
    let score = editDistance(word, c);
    if (score > limit && word.length >= 3 && c.toLowerCase().startsWith(word.toLowerCase())) score = limit; // val_acc -> val_accuracy
    if (score <= limit && (score < bestScore || (score === bestScore && c.length < best!.length))) {
      best = c;
      bestScore = score;
    }
  }
  return best;
}
