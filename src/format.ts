/** Run text for the host's views and pickers; the formatters themselves live in core/format.ts. */
import type { Run, RunStatus } from './core/types.ts';
import { ago } from './core/format.ts';

export { ago, duration, metricValue } from './core/format.ts';

export function runDuration(run: Run, now = Date.now()): number | undefined {
  if (run.startedAt === null) return undefined;
  return (run.endedAt ?? now) - run.startedAt;
}

export const STATUS_LABEL: Record<RunStatus, string> = {
  queued: 'Queued', running: 'Running', finished: 'Finished', failed: 'Failed', stopped: 'Stopped', crashed: 'Crashed',
};

/** A run as a quick-pick row: star, name, then experiment, status and age. */
export function runPickItem(run: Run): { label: string; description: string; run: Run } {
  return {
    label: `${run.starred ? '$(star-full) ' : ''}${run.name}`,
    description: `${run.experiment} · ${STATUS_LABEL[run.status].toLowerCase()} · ${ago(run.startedAt ?? run.createdAt)}`,
    run,
  };
}
