/**
 * Run-health rules: their settings, defaults, and the `alerts:` section of runlens.yaml (top level, and
 * per run configuration over it). Each rule is `false` (off), `true` (defaults) or a mapping of settings.
 */

export type Goal = 'max' | 'min';

export interface HealthRules {
  /** The run's primary metric: plateau watches it, and divergence too when its goal is min. */
  primary: { name: string; goal: Goal } | null;
  /** A metric becomes NaN or ±Inf. */
  nan: { enabled: boolean };
  /**
   * A loss rises above `factor` × its best (smoothed) value so far, from step `warmup` on. `metrics`:
   * the keys to watch; null: every loss by name (isLossName) and a primary metric whose goal is min.
   */
  divergence: { enabled: boolean; factor: number; warmup: number; smoothing: number; metrics: string[] | null };
  /** The primary metric has not improved by more than `epsilon` over the last `steps` steps (and `points` points). */
  plateau: { enabled: boolean; steps: number; points: number; epsilon: number; metric: string | null; goal: Goal | null };
  /** Nothing new for longer than `factor` × the run's usual interval, and at least `floor` seconds. */
  stall: { enabled: boolean; factor: number; floor: number };
  /** Time per step above `factor` × the median of the experiment's other runs (at least `runs` of them). */
  slow: { enabled: boolean; factor: number; runs: number; warmup: number };
}

export type RuleName = Exclude<keyof HealthRules, 'primary'>;
export const RULE_NAMES: readonly RuleName[] = ['nan', 'divergence', 'plateau', 'stall', 'slow'];

export const DEFAULT_RULES: HealthRules = {
  primary: null,
  nan: { enabled: true },
  divergence: { enabled: true, factor: 3, warmup: 10, smoothing: 0.6, metrics: null },
  plateau: { enabled: true, steps: 2000, points: 5, epsilon: 0, metric: null, goal: null },
  stall: { enabled: true, factor: 10, floor: 300 },
  slow: { enabled: true, factor: 3, runs: 3, warmup: 10 },
};

/** What runlens.yaml wrote: per rule, on/off and the settings it gave. */
export type AlertSettings = { [R in RuleName]?: Partial<HealthRules[R]> };

/** A mistake, with the path to it under `alerts:`. */
export interface AlertProblem {
  path: string[];
  message: string;
}

type Kind = 'number' | 'whole' | 'fraction' | 'names' | 'name' | 'goal';
const SETTINGS: { [R in RuleName]: { [k: string]: Kind } } = {
  nan: {},
  divergence: { factor: 'number', warmup: 'whole', smoothing: 'fraction', metrics: 'names' },
  plateau: { steps: 'whole', points: 'whole', epsilon: 'number', metric: 'name', goal: 'goal' },
  stall: { factor: 'number', floor: 'number' },
  slow: { factor: 'number', runs: 'whole', warmup: 'whole' },
};

const isObject = (v: unknown): v is { [k: string]: unknown } => v !== null && typeof v === 'object' && !Array.isArray(v);

function check(kind: Kind, v: unknown): string | undefined {
  switch (kind) {
    case 'number': return typeof v === 'number' && Number.isFinite(v) && v >= 0 ? undefined : 'must be a number, 0 or more';
    case 'whole': return typeof v === 'number' && Number.isInteger(v) && v >= 0 ? undefined : 'must be a whole number, 0 or more';
    case 'fraction': return typeof v === 'number' && v >= 0 && v < 1 ? undefined : 'must be a number from 0 up to (not including) 1';
    case 'names': return (typeof v === 'string' && v) || (Array.isArray(v) && v.length && v.every((x) => typeof x === 'string' && x))
      ? undefined : 'must be a metric name or a list of them';
    case 'name': return typeof v === 'string' && v ? undefined : 'must be a metric name';
    case 'goal': return v === 'max' || v === 'min' ? undefined : 'must be max or min';
  }
}

/** Reads the (already YAML-parsed) `alerts:` section. Problems are returned, never thrown; a bad setting is left out. */
export function parseAlerts(section: unknown): { alerts: AlertSettings; problems: AlertProblem[] } {
  const alerts: AlertSettings = {};
  const problems: AlertProblem[] = [];
  if (section === null || section === undefined) return { alerts, problems };
  if (section === false) {
    for (const r of RULE_NAMES) alerts[r] = { enabled: false };
    return { alerts, problems };
  }
  if (!isObject(section)) {
    problems.push({ path: [], message: `\`alerts\` must map rules (${RULE_NAMES.join(', ')}) to true, false or their settings` });
    return { alerts, problems };
  }
  for (const [name, body] of Object.entries(section)) {
    if (!(RULE_NAMES as string[]).includes(name)) {
      problems.push({ path: [name], message: `unknown rule \`${name}\`; expected one of ${RULE_NAMES.join(', ')}` });
      continue;
    }
    const rule = name as RuleName;
    const kinds = SETTINGS[rule];
    if (typeof body === 'boolean') { alerts[rule] = { enabled: body }; continue; }
    if (!isObject(body)) {
      problems.push({ path: [name], message: `\`${name}\` must be true, false${Object.keys(kinds).length ? ' or a mapping of its settings' : ''}` });
      continue;
    }
    const out: { [k: string]: unknown } = { enabled: true };
    for (const [k, v] of Object.entries(body)) {
      if (k === 'enabled') {
        if (typeof v === 'boolean') out.enabled = v;
        else problems.push({ path: [name, k], message: `${name}: \`enabled\` must be true or false` });
        continue;
      }
      const kind = kinds[k];
      if (!kind) {
        const known = ['enabled', ...Object.keys(kinds)].join(', ');
        problems.push({ path: [name, k], message: `${name}: unknown setting \`${k}\`; expected one of ${known}` });
        continue;
      }
      const problem = check(kind, v);
      if (problem) problems.push({ path: [name, k], message: `${name}: \`${k}\` ${problem}` });
      else out[k] = kind === 'names' && typeof v === 'string' ? [v] : v;
    }
    if (rule === 'divergence' && out.factor !== undefined && (out.factor as number) <= 1) {
      problems.push({ path: [name, 'factor'], message: 'divergence: `factor` must be above 1' });
      delete out.factor;
    }
    alerts[rule] = out as AlertSettings[typeof rule];
  }
  return { alerts, problems };
}

/**
 * The rules for one run: defaults, then the project's `alerts:`, then the run configuration's. `primary`:
 * runlens.yaml's primary metric, or the guess the views use.
 */
export function resolveRules(primary: { name: string; goal: Goal } | undefined, ...layers: (AlertSettings | undefined)[]): HealthRules {
  const rules = structuredClone(DEFAULT_RULES);
  for (const layer of layers) {
    if (!layer) continue;
    for (const r of RULE_NAMES) if (layer[r]) Object.assign(rules[r], layer[r]);
  }
  rules.primary = primary ?? null;
  const p = rules.plateau;
  p.metric ??= primary?.name ?? null;
  if (p.metric) p.goal ??= p.metric === primary?.name ? primary.goal : isLossName(p.metric) ? 'min' : 'max';
  return rules;
}

/** A loss by name: `loss`, `train_loss`, `val/loss`, `train.loss`… (divergence watches these unless `metrics` names others). */
export function isLossName(key: string): boolean {
  return /(^|[/_.\-\s])loss$/i.test(key);
}
