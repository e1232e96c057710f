/**
 * The run-health rules a run is watched with: the defaults, the project's `alerts:` in runlens.yaml, then
 * those of the run configuration it was started from (its `runlens.config` tag). Plain JSON: they travel to
 * the ingest worker with the run.
 */
import type { ProjectConfig } from '../config/runConfig.ts';
import { type Goal, type HealthRules, resolveRules } from '../health/rules.ts';

/** The runlens.yaml run configuration a launched run was started from. */
export const CONFIG_TAG = 'runlens.config';

/** `guess`: the primary metric when runlens.yaml names none (the one the views guess). */
export function rulesForRun(project: ProjectConfig | undefined, tags: { readonly [k: string]: string }, guess?: { name: string; goal: Goal }): HealthRules {
  const name = tags[CONFIG_TAG];
  const own = name === undefined ? undefined : project?.runs.find((r) => r.name === name)?.alerts;
  return resolveRules(project?.primaryMetric ?? guess, project?.alerts, own);
}
