import type { Db } from './database.ts';
import { type Packages, type PackagesDiff, canonicalPackages, diffPackages, packagesHash } from '../provenance/packages.ts';

/** The installed packages of runs: each distinct set stored once, each run linked to its set. */
export class PackageRepository {
  private readonly db: Db;

  constructor(db: Db) {
    this.db = db;
  }

  /** Records a run's packages (replacing what it had); returns the set's hash. */
  set(runId: number, packages: Packages): string {
    const c = canonicalPackages(packages);
    const sha = packagesHash(c);
    this.db.transaction(() => {
      this.db.prepare('INSERT OR IGNORE INTO package_sets (sha256, conda, count, list) VALUES (?, ?, ?, ?)')
        .run(sha, c.conda, c.list.length, JSON.stringify(c.list));
      this.db.prepare('INSERT OR REPLACE INTO run_packages (run_id, set_id) SELECT ?, id FROM package_sets WHERE sha256 = ?').run(runId, sha);
    })();
    return sha;
  }

  get(runId: number): Packages | undefined {
    const r = this.db.prepare(`SELECT s.conda, s.list FROM run_packages p JOIN package_sets s ON s.id = p.set_id
      WHERE p.run_id = ?`).get(runId) as { conda: string | null; list: string } | undefined;
    return r && { conda: r.conda, list: JSON.parse(r.list) as [string, string][] };
  }

  /** The hash of a run's set, without reading the list (equal hashes: equal packages). */
  hash(runId: number): string | undefined {
    return this.db.prepare('SELECT s.sha256 FROM run_packages p JOIN package_sets s ON s.id = p.set_id WHERE p.run_id = ?')
      .pluck().get(runId) as string | undefined;
  }

  /** What changed from run a's packages to run b's; undefined when either has none recorded. */
  diff(runA: number, runB: number): PackagesDiff | undefined {
    const a = this.get(runA), b = this.get(runB);
    return a && b ? diffPackages(a, b) : undefined;
  }
}
