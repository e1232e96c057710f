// The installed packages of a run's interpreter: the canonical form (stored once per distinct set),
// its hash, checking what the Python helper wrote, and the differences between two sets.
import { createHash } from 'node:crypto';

/** What the Python helper records: every distribution importlib.metadata lists, and the conda environment. */
export interface Packages {
  /** The conda environment's name; null outside conda. */
  conda: string | null;
  /** [name, version] pairs, sorted by lower-case name. */
  list: [string, string][];
}

/** One package that differs: `from` is null when added, `to` when removed. */
export interface PackageChange {
  name: string;
  from: string | null;
  to: string | null;
}

export interface PackagesDiff {
  added: PackageChange[];
  removed: PackageChange[];
  changed: PackageChange[];
  /** Set when the conda environment's name differs. */
  conda?: { from: string | null; to: string | null };
}

const MAX_PACKAGES = 100_000;
const MAX_TEXT = 1000;

/** PEP 503: case and runs of `-`, `_`, `.` do not tell distributions apart (PyYAML = pyyaml, typing_extensions = typing-extensions). */
export function normalizeName(name: string): string {
  return name.toLowerCase().replace(/[-_.]+/g, '-');
}

/** The stored form: sorted by lower-case name (then name, version) as the helper sorts, exact duplicates dropped. */
export function canonicalPackages(p: Packages): Packages {
  const byKey = new Map<string, [string, string]>();
  for (const [name, version] of p.list) byKey.set(`${name}\0${version}`, [name, version]);
  const list = [...byKey.values()].sort(([a, va], [b, vb]) => cmp(a.toLowerCase(), b.toLowerCase()) || cmp(a, b) || cmp(va, vb));
  return { conda: p.conda, list };
}

const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** sha256 of the canonical form: equal sets get the same hash. */
export function packagesHash(p: Packages): string {
  const c = canonicalPackages(p);
  return createHash('sha256').update(JSON.stringify({ conda: c.conda, list: c.list })).digest('hex');
}

/** Checks a `packages` value as the helper writes it; throws with what is wrong, naming `where`. */
export function parsePackages(v: unknown, where = 'packages'): Packages {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new TypeError(`${where} must be an object with "conda" and "list"`);
  const { conda = null, list } = v as { conda?: unknown; list?: unknown };
  if (conda !== null && !shortText(conda)) throw new TypeError(`${where}.conda must be a name or null`);
  if (!Array.isArray(list)) throw new TypeError(`${where}.list must be a list of [name, version] pairs`);
  if (list.length > MAX_PACKAGES) throw new TypeError(`${where}.list has ${list.length} entries, more than ${MAX_PACKAGES}`);
  list.forEach((e: unknown, i) => {
    if (!Array.isArray(e) || e.length !== 2 || !shortText(e[0]) || typeof e[1] !== 'string' || e[1].length > MAX_TEXT) {
      throw new TypeError(`${where}.list[${i}] must be a [name, version] pair of strings, not ${JSON.stringify(e)?.slice(0, 80)}`);
    }
  });
  return { conda: conda as string | null, list: list as [string, string][] };
}

const shortText = (s: unknown): s is string => typeof s === 'string' && s.length > 0 && s.length <= MAX_TEXT;

/** Versions by normalized name; a name listed twice (two site folders) keeps both versions. */
function versions(p: Packages): Map<string, { name: string; version: string }> {
  const out = new Map<string, { name: string; version: string }>();
  for (const [name, version] of canonicalPackages(p).list) {
    const key = normalizeName(name);
    const had = out.get(key);
    out.set(key, had ? { name: had.name, version: `${had.version}, ${version}` } : { name, version });
  }
  return out;
}

/** What changed from `a` to `b`, each list sorted by normalized name. */
export function diffPackages(a: Packages, b: Packages): PackagesDiff {
  const before = versions(a), after = versions(b);
  const out: PackagesDiff = { added: [], removed: [], changed: [] };
  for (const key of [...new Set([...before.keys(), ...after.keys()])].sort()) {
    const x = before.get(key), y = after.get(key);
    if (!x) out.added.push({ name: y!.name, from: null, to: y!.version });
    else if (!y) out.removed.push({ name: x.name, from: x.version, to: null });
    else if (x.version !== y.version) out.changed.push({ name: y.name, from: x.version, to: y.version });
  }
  if (a.conda !== b.conda) out.conda = { from: a.conda, to: b.conda };
  return out;
}

/** True when two sets hold the same packages in the same conda environment. */
export function samePackages(d: PackagesDiff): boolean {
  return !d.added.length && !d.removed.length && !d.changed.length && !d.conda;
}
