import type { Db } from '../store/database.ts';
import type { ProfileSink } from '../provenance/datasetHash.ts';
import { PROFILE_FORMAT, type TableProfile } from './profile.ts';

/** Profiles of tabular data files, stored once per file content (its sha256). */
export class ProfileRepository {
  private readonly db: Db;
  private readonly now: () => number;

  constructor(db: Db, now: () => number) {
    this.db = db;
    this.now = now;
  }

  put(sha256: string, profile: TableProfile): void {
    this.db.prepare('INSERT OR REPLACE INTO profiles (sha256, rows, bytes, profile, created_at) VALUES (?, ?, ?, ?, ?)')
      .run(sha256, profile.rows, profile.bytes, JSON.stringify(profile), this.now());
  }

  /** The profile of the file with this content; undefined when none, or one of another format. */
  get(sha256: string): TableProfile | undefined {
    const text = this.db.prepare('SELECT profile FROM profiles WHERE sha256 = ?').pluck().get(sha256) as string | undefined;
    const p = text === undefined ? undefined : JSON.parse(text) as TableProfile;
    return p?.format === PROFILE_FORMAT ? p : undefined;
  }

  /** For hashDataset: keeps the profile of each content that has none yet. */
  sink(skipped?: (path: string, reason: string) => void): ProfileSink {
    return { wanted: (sha256) => !this.has([sha256]).size, put: (sha256, profile) => this.put(sha256, profile), skipped };
  }

  /** Which of these contents have a profile. */
  has(sha256s: readonly string[]): Set<string> {
    if (!sha256s.length) return new Set();
    return new Set(this.db.prepare('SELECT sha256 FROM profiles WHERE sha256 IN (SELECT value FROM json_each(?))').pluck()
      .all(JSON.stringify(sha256s)) as string[]);
  }
}
