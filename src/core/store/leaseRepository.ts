import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import type { Db } from './database.ts';

/** Who ingests a run: one window or process at a time. */
export interface LeaseOwner {
  id: string;
  host: string;
  pid: number;
}

/** Thrown inside an ingest transaction when this owner no longer holds the run's lease: it rolls back. */
export class LeaseLost extends Error {
  constructor(runId: number) {
    super(`run ${runId} is ingested by another window now`);
    this.name = 'LeaseLost';
  }
}

export function newOwner(): LeaseOwner {
  return { id: randomUUID(), host: hostname(), pid: process.pid };
}

/** True unless `pid` is certainly gone (EPERM means it exists under another user). */
function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

interface LeaseRow { owner: string; host: string; pid: number; heartbeat: number }

/**
 * Run leases: a row per running run naming the owner that ingests it. An owner takes a lease that is
 * free, its own, stale (no heartbeat for `ttlMs`), or held by a process of this host that is gone.
 * Every ingest transaction renews the lease and fails (LeaseLost) when another owner took it.
 */
export class LeaseRepository {
  private readonly db: Db;
  private readonly now: () => number;
  private readonly q;

  constructor(db: Db, now: () => number) {
    this.db = db;
    this.now = now;
    this.q = {
      get: db.prepare<[number], LeaseRow>('SELECT owner, host, pid, heartbeat FROM run_leases WHERE run_id = ?'),
      put: db.prepare('INSERT OR REPLACE INTO run_leases (run_id, owner, host, pid, heartbeat) VALUES (?, ?, ?, ?, ?)'),
      renew: db.prepare('UPDATE run_leases SET heartbeat = ? WHERE run_id = ? AND owner = ?'),
      release: db.prepare('DELETE FROM run_leases WHERE run_id = ? AND owner = ?'),
      releaseAll: db.prepare('DELETE FROM run_leases WHERE owner = ?'),
    };
  }

  /** Takes or renews the lease when it is free for `owner`; returns whether `owner` holds it. */
  acquire(runId: number, owner: LeaseOwner, ttlMs: number): boolean {
    return this.db.transaction(() => {
      const free = this.isFree(runId, owner, ttlMs);
      if (free) this.q.put.run(runId, owner.id, owner.host, owner.pid, this.now());
      return free;
    }).immediate();
  }

  /** Whether `owner` may take the run's lease now (a read: takes no lock). */
  isFree(runId: number, owner: LeaseOwner, ttlMs: number): boolean {
    const row = this.q.get.get(runId);
    return !row || row.owner === owner.id || this.now() - row.heartbeat > ttlMs
      || (row.host === owner.host && row.pid !== owner.pid && !pidAlive(row.pid));
  }

  /** Inside a write transaction: renews the lease, or throws LeaseLost when another owner holds it. */
  renew(runId: number, owner: LeaseOwner): void {
    if (this.q.renew.run(this.now(), runId, owner.id).changes !== 1) throw new LeaseLost(runId);
  }

  /** The current holder, if any. */
  holder(runId: number): LeaseRow | undefined {
    return this.q.get.get(runId);
  }

  release(runId: number, owner: LeaseOwner): void {
    this.q.release.run(runId, owner.id);
  }

  releaseAll(owner: LeaseOwner): void {
    this.q.releaseAll.run(owner.id);
  }
}
