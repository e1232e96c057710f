/**
 * Compare's packages, shaped on the host: each distinct set of the runs once, with only the packages
 * that differ between the sets (the full lists stay on the host). The webview's side: packageRows.ts.
 */
import { type Packages, diffPackages, normalizeName } from '../provenance/packages.ts';
import type { PackagesTable } from './protocol.ts';

/** `runs`: each run's set by its hash (null: none recorded); `sets`: the sets by hash. */
export function packagesTable(runs: readonly (string | null)[], sets: ReadonlyMap<string, Packages>): PackagesTable {
  const order = [...new Set(runs.filter((h) => h !== null))];
  const index = new Map(order.map((h, i) => [h, i]));
  const lists = order.map((h) => {
    const p = sets.get(h);
    if (!p) throw new RangeError(`package set ${h} was not loaded`);
    return p;
  });
  // every set against the first: a package differs when some set's version is not the first's
  const found = new Map<string, { name: string; first: string | null; at: Map<number, string | null> }>();
  lists.forEach((p, j) => {
    if (j === 0) return;
    const d = diffPackages(lists[0]!, p);
    for (const c of [...d.added, ...d.removed, ...d.changed]) {
      const key = normalizeName(c.name);
      let e = found.get(key);
      if (!e) found.set(key, (e = { name: c.name, first: c.from, at: new Map() }));
      e.at.set(j, c.to);
    }
  });
  const keys = [...found.keys()].sort();
  return {
    runs: runs.map((h) => (h === null ? null : index.get(h)!)),
    sets: lists.map((p, j) => ({
      count: p.list.length, conda: p.conda,
      versions: keys.map((k) => {
        const e = found.get(k)!;
        return e.at.has(j) ? e.at.get(j)! : e.first;
      }),
    })),
    names: keys.map((k) => found.get(k)!.name),
  };
}
