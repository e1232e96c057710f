/** Drift of a data file between two contents, by their stored profiles (the gate, Compare and the lineage page). */
import type { TableProfile } from './profile.ts';
import { type ColumnDrift, tableDrift } from './scores.ts';

/** Stored profiles by content (store.profiles). */
export interface ProfileLookup {
  get(sha256: string): TableProfile | undefined;
}

/** PSI from which a column counts as drifted, and as a moderate shift. */
export const DRIFTED_PSI = 0.25;
export const MODERATE_PSI = 0.1;

/** Per column, from content `a` (the reference) to `b`, the most drifted first; null when either has no profile. */
export function contentDrift(profiles: ProfileLookup, a: string, b: string): ColumnDrift[] | null {
  const pa = profiles.get(a);
  const pb = pa && profiles.get(b);
  return pa && pb ? tableDrift(pa, pb) : null;
}

/** "drifted", "moderate" or "stable" by PSI; a column in one profile only, or of another type, counts as drifted. */
export function driftLevel(d: ColumnDrift): 'drifted' | 'moderate' | 'stable' {
  if (d.psi === null || d.note === 'type changed') return 'drifted';
  return d.psi >= DRIFTED_PSI ? 'drifted' : d.psi >= MODERATE_PSI ? 'moderate' : 'stable';
}

/** A lookup that reads each profile once (one page or model builds many comparisons with the same reference). */
export function memoProfiles(profiles: ProfileLookup): ProfileLookup {
  const seen = new Map<string, TableProfile | undefined>();
  return {
    get(sha256) {
      if (!seen.has(sha256)) seen.set(sha256, profiles.get(sha256));
      return seen.get(sha256);
    },
  };
}
