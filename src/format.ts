import type { Run, RunStatus } from './core/types.ts';

/** Short human text for durations, times and values shown in views. */
export function duration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '';
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${String(s % 60).padStart(2, '0')}s`;
  const h = Math.floor(m / 60);
  return `${h}h ${String(m % 60).padStart(2, '0')}m`;
}

export function runDuration(run: Run, now = Date.now()): number | undefined {
  if (run.startedAt === null) return undefined;
  return (run.endedAt ?? now) - run.startedAt;
}

export function ago(time: number, now = Date.now()): string {
  const s = Math.round((now - time) / 1000);
  if (s < 45) return 'just now';
  if (s < 3600) return `${Math.round(s / 60)} min ago`;
  if (s < 86400) return `${Math.round(s / 3600)} h ago`;
  if (s < 86400 * 30) return `${Math.round(s / 86400)} d ago`;
  return new Date(time).toISOString().slice(0, 10);
}

export { metricValue } from './core/format.ts';

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
