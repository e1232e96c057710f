import type { Store } from '../store/store.ts';
import type { Run } from '../types.ts';

/**
 * How a command names a run: a view node (anything with a `kind`; only `run` nodes name a run),
 * a run id, or a run uid (a string of digits may also be an id).
 */
export type RunRef = number | string | { kind: string; run?: { id: number; uid: string } } | null | undefined;

/** True when the command was given no run at all (then it asks, or uses the checked runs). */
export function namesNoRun(ref: RunRef): ref is '' | null | undefined {
  return ref === undefined || ref === null || ref === '';
}

/**
 * The runs the refs name, each once, in order. Other view nodes and empty refs are skipped; a run
 * that is not in the store is an error.
 */
export function resolveRuns(store: Store, refs: RunRef | readonly RunRef[]): Run[] {
  const runs: Run[] = [];
  const seen = new Set<number>();
  for (const ref of (Array.isArray(refs) ? refs : [refs]) as readonly RunRef[]) {
    if (namesNoRun(ref)) continue;
    let run: Run | undefined;
    let name = String(ref);
    if (typeof ref === 'object') {
      if (ref.kind !== 'run' || !ref.run) continue;
      run = store.runs.get(ref.run.id);
      name = ref.run.uid;
    } else if (typeof ref === 'number') {
      run = store.runs.get(ref);
    } else if (typeof ref === 'string') {
      run = store.runs.getByUid(ref) ?? (/^\d+$/.test(ref) ? store.runs.get(Number(ref)) : undefined);
    } else continue;
    if (!run) throw new Error(`Run ${name} does not exist; it may have been deleted in another window.`);
    if (!seen.has(run.id)) runs.push(run);
    seen.add(run.id);
  }
  return runs;
}
