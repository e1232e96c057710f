import type { Db } from './database.ts';

/** A file or folder kept with a run; its bytes are objects in `<storeDir>/objects`. */
export interface Artifact {
  id: number;
  runId: number;
  /** Relative to the run's working directory, '/' separators. */
  path: string;
  kind: 'file' | 'directory';
  /** sha256 of the file, or of the folder's "<sha256>  <path>" lines (the dataset digest rule). */
  digest: string;
  size: number;
  fileCount: number;
  /** log_artifact, log_model, outputs (runlens.yaml) or register (the command). */
  source: string;
  createdAt: number;
}

export interface ArtifactFile { path: string; sha256: string; size: number }

/** What collecting produced: the artifact and its files, all already in the object store. */
export interface CollectedFiles {
  path: string;
  kind: 'file' | 'directory';
  digest: string;
  size: number;
  fileCount: number;
  files: ArtifactFile[];
}

export type RequestKind = 'artifact' | 'model' | 'output';

/** A file or folder a run asked to keep, not collected yet (or that failed, with the reason). */
export interface ArtifactRequest {
  id: number;
  runId: number;
  kind: RequestKind;
  path: string;
  model: string | null;
  metadata: unknown;
  /** Collected once the run has ended (declared outputs). */
  afterEnd: boolean;
  /** The digest taken when the run logged the path; the collector keeps only these bytes. */
  sha256: string | null;
  createdAt: number;
  error: string | null;
}

interface ArtifactRow {
  id: number; run_id: number; path: string; kind: 'file' | 'directory'; digest: string; size: number; file_count: number;
  source: string; created_at: number;
}

const toArtifact = (r: ArtifactRow): Artifact => ({
  id: r.id, runId: r.run_id, path: r.path, kind: r.kind, digest: r.digest, size: r.size, fileCount: r.file_count,
  source: r.source, createdAt: r.created_at,
});

/** Artifacts, their files, and the queue of requests to collect them. */
export class ArtifactRepository {
  private readonly db: Db;
  private readonly now: () => number;

  constructor(db: Db, now: () => number) {
    this.db = db;
    this.now = now;
  }

  /** Queues a file or folder to collect; call inside the transaction that read the record asking for it. */
  request(runId: number, r: { kind: RequestKind; path: string; model?: string; metadata?: unknown; afterEnd?: boolean; sha256?: string }): number {
    return Number(this.db.prepare(`INSERT INTO artifact_requests (run_id, kind, path, model, metadata, after_end, sha256, created_at)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?)`).run(runId, r.kind, r.path, r.model ?? null,
      r.metadata === undefined ? null : JSON.stringify(r.metadata), r.afterEnd ? 1 : 0, r.sha256 ?? null, this.now()).lastInsertRowid);
  }

  /** Requests ready to collect: not failed, and for after-end ones, their run no longer running. */
  pending(limit = 100): ArtifactRequest[] {
    return (this.db.prepare(`SELECT q.* FROM artifact_requests q JOIN runs r ON r.id = q.run_id
      WHERE q.error IS NULL AND (q.after_end = 0 OR r.status NOT IN ('running', 'queued')) ORDER BY q.id LIMIT ?`)
      .all(limit) as RequestRow[]).map(toRequest);
  }

  /** Every request of a run still waiting or failed. */
  requests(runId: number): ArtifactRequest[] {
    return (this.db.prepare('SELECT * FROM artifact_requests WHERE run_id = ? ORDER BY id').all(runId) as RequestRow[]).map(toRequest);
  }

  fail(requestId: number, message: string): void {
    this.db.prepare('UPDATE artifact_requests SET error = ? WHERE id = ?').run(message, requestId);
  }

  /** Removes a request; false when another window already did (then it must not be recorded twice). */
  take(requestId: number): boolean {
    return this.db.prepare('DELETE FROM artifact_requests WHERE id = ?').run(requestId).changes > 0;
  }

  /** Records collected files; returns the artifact id. Call inside a transaction. */
  add(runId: number, c: CollectedFiles, source: string): number {
    const id = Number(this.db.prepare(`INSERT INTO artifacts (run_id, path, kind, digest, size, file_count, source, created_at)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?)`).run(runId, c.path, c.kind, c.digest, c.size, c.fileCount, source, this.now()).lastInsertRowid);
    const put = this.db.prepare('INSERT OR REPLACE INTO artifact_files (artifact_id, path, sha256, size) VALUES (?, ?, ?, ?)');
    for (const f of c.files) put.run(id, f.path, f.sha256, f.size);
    return id;
  }

  get(id: number): Artifact | undefined {
    const r = this.db.prepare('SELECT * FROM artifacts WHERE id = ?').get(id) as ArtifactRow | undefined;
    return r && toArtifact(r);
  }

  list(runId: number): Artifact[] {
    return (this.db.prepare('SELECT * FROM artifacts WHERE run_id = ? ORDER BY path, id').all(runId) as ArtifactRow[]).map(toArtifact);
  }

  files(artifactId: number): ArtifactFile[] {
    return this.db.prepare('SELECT path, sha256, size FROM artifact_files WHERE artifact_id = ? ORDER BY path').all(artifactId) as ArtifactFile[];
  }

  /** Every object the store refers to, with its size and the first artifact file that uses it. */
  objects(): { sha256: string; size: number; runId: number; artifact: string; file: string }[] {
    return (this.db.prepare(`SELECT f.sha256, f.size, a.run_id, a.path AS artifact, f.path AS file
      FROM artifact_files f JOIN artifacts a ON a.id = f.artifact_id GROUP BY f.sha256 ORDER BY f.sha256`).all() as
      { sha256: string; size: number; run_id: number; artifact: string; file: string }[])
      .map((r) => ({ sha256: r.sha256, size: r.size, runId: r.run_id, artifact: r.artifact, file: r.file }));
  }
}

interface RequestRow {
  id: number; run_id: number; kind: RequestKind; path: string; model: string | null; metadata: string | null;
  after_end: number; sha256: string | null; created_at: number; error: string | null;
}

const toRequest = (r: RequestRow): ArtifactRequest => ({
  id: r.id, runId: r.run_id, kind: r.kind, path: r.path, model: r.model,
  metadata: r.metadata === null ? null : JSON.parse(r.metadata), afterEnd: r.after_end === 1, sha256: r.sha256, createdAt: r.created_at, error: r.error,
});
