import type { Db } from './database.ts';
import type { RunRepository } from './runRepository.ts';
import type { NewRun, Run } from '../types.ts';

/** Runs the Python helper started by itself (runs/inbox.ts): recorded under the helper's uid, at most once. */
export class InboxRepository {
  private readonly db: Db;
  private readonly runs: RunRepository;

  constructor(db: Db, runs: RunRepository) {
    this.db = db;
    this.runs = runs;
  }

  /**
   * Creates the run as RunRepository.create does, with the given uid and creation time. Undefined when
   * a run with that uid exists: under the write lock, so two windows adopting one run record it once.
   */
  create(uid: string, createdAt: number, input: NewRun): Run | undefined {
    return this.db.transaction(() => {
      if (this.runs.getByUid(uid)) return undefined;
      const run = this.runs.create(input);
      this.db.prepare('UPDATE runs SET uid = ?, created_at = ? WHERE id = ?').run(uid, createdAt, run.id);
      return this.runs.get(run.id)!;
    }).immediate();
  }
}
