import { LeaseLost } from './leaseRepository.ts';

/** A read position moved under a reader: another window or process read the same lines. */
export class OffsetConflict extends Error {
  constructor(source: string, expected: number, stored: number) {
    super(`${source}: expected to continue at byte ${expected}, but the store is at ${stored}`);
    this.name = 'OffsetConflict';
  }
}

/**
 * What kept a write from committing, when it is the store's condition rather than the input's:
 * busy (another connection holds the write lock), full (no disk space), readonly (disk or file),
 * io (another disk error), conflict (another reader moved the position, or took the run's lease).
 * The ingest rolls back, waits, and tries again; the user is told while it lasts.
 */
export type FaultKind = 'busy' | 'full' | 'readonly' | 'io' | 'conflict';

/** The fault kind of an error, or undefined when the error is not a store fault. */
export function faultKind(err: unknown): FaultKind | undefined {
  if (err instanceof OffsetConflict || err instanceof LeaseLost) return 'conflict';
  for (let e: unknown = err, depth = 0; e && depth < 4; e = (e as { cause?: unknown }).cause, depth++) {
    const code = String((e as { code?: unknown }).code ?? '');
    if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')) return 'busy';
    if (code === 'SQLITE_FULL' || code === 'ENOSPC' || code === 'EDQUOT') return 'full';
    if (code.startsWith('SQLITE_READONLY') || code === 'EROFS') return 'readonly';
    if (code.startsWith('SQLITE_IOERR') || code === 'EIO') return 'io';
  }
  return undefined;
}

/** Words for the user: what happened and what RunLens does about it. */
export function describeFault(kind: FaultKind, file: string): string {
  switch (kind) {
    case 'busy': return `the store ${file} stays busy (another window or process holds its write lock); RunLens keeps trying`;
    case 'full': return `the disk holding ${file} is full; RunLens keeps the run's lines in its files and resumes when there is space`;
    case 'readonly': return `the store ${file} cannot be written (read-only); RunLens resumes when it can write again`;
    case 'io': return `a disk error stopped writes to ${file}; RunLens keeps trying`;
    case 'conflict': return 'another window took over this run; it records the run now';
  }
}
