import { join } from 'node:path';
import { BUSY_TIMEOUT_MS, type Db, type OpenOptions, explain, openDatabase } from './database.ts';
import { MetricRepository } from './metricRepository.ts';
import { RunRepository } from './runRepository.ts';
import { ProvenanceRepository } from './provenanceRepository.ts';
import { ArtifactRepository } from './artifactRepository.ts';
import { ModelRepository } from './modelRepository.ts';
import { LeaseRepository } from './leaseRepository.ts';
import { PackageRepository } from './packageRepository.ts';
import { InboxRepository } from './inboxRepository.ts';
import { AlertRepository } from './alertRepository.ts';
import { EvaluationRepository } from './evaluationRepository.ts';
import { ProfileRepository } from '../drift/profileRepository.ts';
import { OffsetConflict } from './faults.ts';
import { ObjectStore } from '../artifacts/objectStore.ts';

export const DB_FILE = 'runs.db';

/** The workspace's run store: one SQLite database in `<storeDir>/runs.db`, artifact bytes in `<storeDir>/objects`. */
export class Store {
  readonly dir: string;
  readonly file: string;
  readonly runs: RunRepository;
  readonly metrics: MetricRepository;
  readonly provenance: ProvenanceRepository;
  readonly artifacts: ArtifactRepository;
  readonly models: ModelRepository;
  readonly leases: LeaseRepository;
  /** Installed packages, one row per distinct set. */
  readonly packages: PackageRepository;
  /** Runs the Python helper started by itself, recorded under their own uid. */
  readonly inbox: InboxRepository;
  /** Run-health alerts and rule state; profiles of tabular data files by sha256. */
  readonly alerts: AlertRepository;
  readonly profiles: ProfileRepository;
  /** Evaluation runs linked to model versions (models/evaluations.ts). */
  readonly evaluations: EvaluationRepository;
  /** Artifact bytes by sha256, in `<storeDir>/objects`. */
  readonly objects: ObjectStore;
  private readonly db: Db;
  private readonly versionStmt;

  private constructor(dir: string, file: string, db: Db, now: () => number) {
    this.dir = dir;
    this.file = file;
    this.db = db;
    this.runs = new RunRepository(db, now);
    this.metrics = new MetricRepository(db);
    this.provenance = new ProvenanceRepository(db);
    this.artifacts = new ArtifactRepository(db, now);
    this.models = new ModelRepository(db, now);
    this.leases = new LeaseRepository(db, now);
    this.packages = new PackageRepository(db);
    this.inbox = new InboxRepository(db, this.runs);
    this.alerts = new AlertRepository(db);
    this.profiles = new ProfileRepository(db, now);
    this.evaluations = new EvaluationRepository(db);
    this.objects = new ObjectStore(join(dir, 'objects'));
    this.versionStmt = db.prepare('PRAGMA data_version').pluck();
  }

  /** Opens or creates the store in `dir`, migrating it to the current schema. */
  static open(dir: string, options: OpenOptions & { now?: () => number } = {}): Store {
    const file = join(dir, DB_FILE);
    return new Store(dir, file, openDatabase(file, options), options.now ?? Date.now);
  }

  /** Changes whenever another connection (another window or process) commits. Cheap to poll. */
  dataVersion(): number {
    try {
      return this.versionStmt.get() as number;
    } catch (err) {
      throw explain(err, this.file);
    }
  }

  /** Rows this connection has inserted, updated or deleted since it opened (SQLite's total_changes()). */
  changeCount(): number {
    return this.db.prepare('SELECT total_changes()').pluck().get() as number;
  }

  /** How many bytes of a run's file (`source`) are already in the store. */
  offset(runId: number, source: string): number {
    const row = this.db.prepare('SELECT offset FROM ingest_offsets WHERE run_id = ? AND source = ?').get(runId, source) as
      { offset: number } | undefined;
    return row?.offset ?? 0;
  }

  /** Records a read position; call inside the transaction that stored what was read. */
  setOffset(runId: number, source: string, offset: number): void {
    this.db.prepare('INSERT OR REPLACE INTO ingest_offsets (run_id, source, offset) VALUES (?, ?, ?)').run(runId, source, offset);
  }

  /**
   * Moves a read position from `from` to `to`, inside the transaction that stored what was read.
   * Throws OffsetConflict when the stored position is not `from` (another reader got there first),
   * so the transaction rolls back and nothing is stored twice.
   */
  moveOffset(runId: number, source: string, from: number, to: number): void {
    const stored = this.offset(runId, source);
    if (stored !== from) throw new OffsetConflict(source, from, stored);
    this.setOffset(runId, source, to);
  }

  /** Runs fn with SQLite's busy wait set to `ms` (the ingest waits briefly, then tries again later). */
  withBusyTimeout<T>(ms: number, fn: () => T): T {
    this.db.pragma(`busy_timeout = ${Math.max(0, Math.round(ms))}`);
    try {
      return fn();
    } finally {
      if (this.db.open) this.db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
    }
  }

  /** Runs fn in one write transaction (all or nothing). */
  transaction<T>(fn: () => T): T {
    return this.db.transaction(fn).immediate();
  }

  get isOpen(): boolean {
    return this.db.open;
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}
