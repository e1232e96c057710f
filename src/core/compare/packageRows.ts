/**
 * Compare's packages rows, on the webview's side (no Node imports): the packages that differ among
 * the runs shown, and the check of a packages table the host sent (packagesTable.ts shapes it).
 */
import { type PackagesTable, ProtocolError } from './protocol.ts';

export const NO_PACKAGES: PackagesTable = { runs: [], sets: [], names: [] };

/**
 * The packages whose version differs among the runs at `shown` (indexes into the model's runs), with
 * each shown run's version (null: not installed, or the run recorded no packages). Runs that recorded
 * none make no difference.
 */
export function differingPackages(t: PackagesTable, shown: readonly number[]): { name: string; versions: (string | null)[] }[] {
  const setOf = shown.map((i) => t.runs[i] ?? null);
  const sets = [...new Set(setOf.filter((s) => s !== null))];
  if (sets.length < 2) return [];
  const out: { name: string; versions: (string | null)[] }[] = [];
  t.names.forEach((name, k) => {
    if (new Set(sets.map((s) => t.sets[s]!.versions[k])).size < 2) return;
    out.push({ name, versions: setOf.map((s) => (s === null ? null : t.sets[s]!.versions[k] ?? null)) });
  });
  return out;
}

const MAX_TEXT = 1000;

/** Checks a packages table against a model of `runCount` runs; throws ProtocolError saying what is wrong. */
export function checkPackagesTable(v: unknown, runCount: number): PackagesTable {
  const fail = (what: string): never => { throw new ProtocolError(`packages: ${what}`); };
  if (typeof v !== 'object' || v === null) return fail('must be an object');
  const t = v as Partial<PackagesTable>;
  if (!Array.isArray(t.runs) || !Array.isArray(t.sets) || !Array.isArray(t.names)) return fail('needs runs, sets and names lists');
  if (t.runs.length !== runCount) fail(`${t.runs.length} runs for a model of ${runCount}`);
  if (!t.names.every((n) => typeof n === 'string' && n.length > 0 && n.length <= MAX_TEXT)) fail('names must be package names');
  for (const s of t.runs) if (s !== null && !(Number.isSafeInteger(s) && s >= 0 && s < t.sets.length)) fail(`no set ${String(s)}`);
  for (const s of t.sets) {
    if (typeof s !== 'object' || s === null || !Number.isSafeInteger(s.count) || s.count < 0) fail('a set needs a count');
    if (s.conda !== null && typeof s.conda !== 'string') fail('conda must be a name or null');
    if (!Array.isArray(s.versions) || s.versions.length !== t.names.length) fail('a set needs one version per name');
    if (!s.versions.every((x) => x === null || (typeof x === 'string' && x.length <= MAX_TEXT))) fail('versions must be text or null');
  }
  return t as PackagesTable;
}
