import { readlinkSync } from 'node:fs';
import { setPriority } from 'node:os';

/**
 * Background work: on Linux, where the nice value is per thread, this thread takes nice 10, so the
 * editor's thread (and the run itself) win the CPU when it is short. Elsewhere nothing changes.
 */
export function yieldCpu(): void {
  try {
    setPriority(Number(readlinkSync('/proc/thread-self').split('/').pop()), 10);
  } catch {
    // not Linux, or not allowed: the default priority
  }
}
