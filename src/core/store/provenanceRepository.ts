import { createHash } from 'node:crypto';
import type { Db } from './database.ts';

/** What a run was made from, beyond the columns of `runs`. */
export interface RunProvenance {
  gitRemote: string | null;
  /** sha256 of the stored patch of uncommitted changes (a blob), null when clean or no git. */
  patchSha256: string | null;
  untracked: { path: string; size: number; skipped?: string }[];
  interpreter: string | null;
  interpreterVersion: string | null;
  os: string | null;
  hostname: string | null;
  gpu: string[];
  commandLine: string | null;
  /** The environment, secrets redacted. */
  env: { [name: string]: string };
  /** The variables the launch itself set (runlens.yaml `env`, params copies), secrets redacted; Reproduce sets them again. */
  launchEnv?: { [name: string]: string };
}

export interface StoredDataset {
  path: string;
  kind: 'file' | 'directory';
  digest: string;
  fileCount: number;
  bytes: number;
  files: { path: string; sha256: string; size: number }[];
}

export interface FileStamp { dev: number; ino: number; size: number; mtimeNs: bigint }

/** Provenance records, content-addressed blobs, and the per-file hash cache. */
export class ProvenanceRepository {
  private readonly db: Db;

  constructor(db: Db) {
    this.db = db;
  }

  /** Stores bytes once, by content; returns their sha256. */
  putBlob(data: string | Uint8Array): string {
    const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : Buffer.from(data);
    const sha = createHash('sha256').update(bytes).digest('hex');
    this.db.prepare('INSERT OR IGNORE INTO blobs (sha256, size, data) VALUES (?, ?, ?)').run(sha, bytes.length, bytes);
    return sha;
  }

  blob(sha256: string): Buffer | undefined {
    return this.db.prepare('SELECT data FROM blobs WHERE sha256 = ?').pluck().get(sha256) as Buffer | undefined;
  }

  set(runId: number, p: RunProvenance): void {
    this.db.prepare(`INSERT OR REPLACE INTO run_provenance (run_id, git_remote, patch_sha256, untracked, interpreter,
      interpreter_version, os, hostname, gpu, command_line, env, launch_env) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`).run(
      runId, p.gitRemote, p.patchSha256, JSON.stringify(p.untracked), p.interpreter, p.interpreterVersion, p.os,
      p.hostname, JSON.stringify(p.gpu), p.commandLine, JSON.stringify(p.env), JSON.stringify(p.launchEnv ?? {}));
  }

  get(runId: number): RunProvenance | undefined {
    const r = this.db.prepare('SELECT * FROM run_provenance WHERE run_id = ?').get(runId) as { [k: string]: string | null } | undefined;
    if (!r) return undefined;
    return {
      gitRemote: r.git_remote ?? null, patchSha256: r.patch_sha256 ?? null, untracked: JSON.parse(r.untracked ?? '[]'),
      interpreter: r.interpreter ?? null, interpreterVersion: r.interpreter_version ?? null, os: r.os ?? null,
      hostname: r.hostname ?? null, gpu: JSON.parse(r.gpu ?? '[]'), commandLine: r.command_line ?? null, env: JSON.parse(r.env ?? '{}'),
      launchEnv: JSON.parse(r.launch_env ?? '{}'),
    };
  }

  setDataset(runId: number, d: StoredDataset): void {
    this.db.transaction(() => {
      this.db.prepare('INSERT OR REPLACE INTO run_datasets (run_id, path, kind, digest, file_count, bytes) VALUES (?, ?, ?, ?, ?, ?)')
        .run(runId, d.path, d.kind, d.digest, d.fileCount, d.bytes);
      this.db.prepare('DELETE FROM run_dataset_files WHERE run_id = ? AND dataset = ?').run(runId, d.path);
      const put = this.db.prepare('INSERT INTO run_dataset_files (run_id, dataset, path, sha256, size) VALUES (?, ?, ?, ?, ?)');
      for (const f of d.files) put.run(runId, d.path, f.path, f.sha256, f.size);
    })();
  }

  /** A run's datasets; `files: false` leaves out the per-file lists (tooltips and tables need only digests). */
  datasets(runId: number, options: { files?: boolean } = {}): StoredDataset[] {
    const sets = this.db.prepare('SELECT path, kind, digest, file_count, bytes FROM run_datasets WHERE run_id = ? ORDER BY path').all(runId) as
      { path: string; kind: 'file' | 'directory'; digest: string; file_count: number; bytes: number }[];
    const files = this.db.prepare('SELECT path, sha256, size FROM run_dataset_files WHERE run_id = ? AND dataset = ? ORDER BY path');
    return sets.map((s) => ({
      path: s.path, kind: s.kind, digest: s.digest, fileCount: s.file_count, bytes: s.bytes,
      files: options.files === false ? [] : files.all(runId, s.path) as StoredDataset['files'],
    }));
  }

  /** The per-file hash cache, for dataset hashing (valid while device, inode, size and mtime are unchanged). */
  hashCache(): { get(path: string, stamp: FileStamp): string | undefined; set(path: string, stamp: FileStamp, sha256: string): void } {
    const get = this.db.prepare('SELECT dev, ino, size, mtime_ns, sha256 FROM file_hash_cache WHERE path = ?');
    const put = this.db.prepare('INSERT OR REPLACE INTO file_hash_cache (path, dev, ino, size, mtime_ns, sha256) VALUES (?, ?, ?, ?, ?, ?)');
    return {
      get(path, stamp) {
        const r = get.get(path) as { dev: number; ino: number; size: number; mtime_ns: string; sha256: string } | undefined;
        return r && r.dev === stamp.dev && r.ino === stamp.ino && r.size === stamp.size && r.mtime_ns === String(stamp.mtimeNs) ? r.sha256 : undefined;
      },
      set(path, stamp, sha256) {
        put.run(path, stamp.dev, stamp.ino, stamp.size, String(stamp.mtimeNs), sha256);
      },
    };
  }
}
