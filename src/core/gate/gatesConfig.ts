/**
 * The `gates:` section of runlens.yaml: named checks of a candidate against a model's alias.
 *
 *   gates:
 *     production:
 *       model: demo-classifier
 *       against: production            # an alias (default production)
 *       metrics:
 *         val_acc: { direction: max, tolerance: 0.01 }
 *         val_loss: { direction: min, tolerance: 5% }   # relative to the baseline
 *         f1: max                                        # tolerance 0
 *       drift: { psi: 0.25, ks: 0.2 }  # optional: the most any column may drift
 */

export interface GateMetric {
  key: string;
  direction: 'max' | 'min';
  /** How much worse the candidate may be: absolute, or a fraction of the baseline when `relative`. */
  tolerance: number;
  relative: boolean;
}

export interface DriftLimits {
  psi?: number;
  ks?: number;
}

export interface GateConfig {
  name: string;
  model: string;
  against: string;
  candidate?: string;
  metrics: GateMetric[];
  drift?: DriftLimits;
}

export interface GateProblem {
  path: string[];
  message: string;
}

const KEYS = ['model', 'against', 'candidate', 'metrics', 'drift'];
const isObject = (v: unknown): v is { [k: string]: unknown } => v !== null && typeof v === 'object' && !Array.isArray(v);

/** A tolerance: a number (0.01) or a percentage of the baseline ("5%"). */
export function parseTolerance(v: unknown): { tolerance: number; relative: boolean } | undefined {
  if (typeof v === 'number' && Number.isFinite(v) && v >= 0) return { tolerance: v, relative: false };
  if (typeof v === 'string') {
    const m = /^\s*(\d+(?:\.\d*)?|\.\d+)\s*%\s*$/.exec(v);
    if (m) return { tolerance: Number(m[1]) / 100, relative: true };
    const n = v.trim() === '' ? NaN : Number(v);
    if (Number.isFinite(n) && n >= 0) return { tolerance: n, relative: false };
  }
  return undefined;
}

/** One metric: `max`/`min`, or `{ direction, tolerance }`. */
export function parseGateMetric(key: string, v: unknown): GateMetric | string {
  const body = typeof v === 'string' ? { direction: v } : v;
  if (!isObject(body)) return `metric "${key}" must be max, min, or { direction, tolerance }`;
  for (const k of Object.keys(body)) if (k !== 'direction' && k !== 'tolerance') return `metric "${key}": unknown key \`${k}\`; expected direction, tolerance`;
  if (body.direction !== 'max' && body.direction !== 'min') return `metric "${key}": \`direction\` must be max or min`;
  const tol = body.tolerance === undefined ? { tolerance: 0, relative: false } : parseTolerance(body.tolerance);
  if (!tol) return `metric "${key}": \`tolerance\` must be a number, 0 or more, or a percentage such as 5%`;
  return { key, direction: body.direction, ...tol };
}

/** Drift limits: `{ psi, ks }`, each a number above 0. */
export function parseDriftLimits(v: unknown): DriftLimits | string {
  if (!isObject(v)) return '`drift` must be a mapping with `psi` and/or `ks`';
  const out: DriftLimits = {};
  for (const [k, x] of Object.entries(v)) {
    if (k !== 'psi' && k !== 'ks') return `drift: unknown key \`${k}\`; expected psi, ks`;
    if (typeof x !== 'number' || !(x > 0)) return `drift: \`${k}\` must be a number above 0`;
    out[k] = x;
  }
  return out;
}

/** Reads the (already YAML-parsed) `gates:` section. Problems are returned, never thrown; a gate with one is left out. */
export function parseGates(section: unknown): { gates: GateConfig[]; problems: GateProblem[] } {
  const gates: GateConfig[] = [];
  const problems: GateProblem[] = [];
  if (section === null || section === undefined) return { gates, problems };
  if (!isObject(section)) {
    problems.push({ path: [], message: '`gates` must map gate names to gates' });
    return { gates, problems };
  }
  for (const [name, body] of Object.entries(section)) {
    const before = problems.length;
    const problem = (path: string[], message: string) => problems.push({ path: [name, ...path], message: `gate "${name}": ${message}` });
    if (!isObject(body)) { problem([], 'must be a mapping with `model` and `metrics`'); continue; }
    for (const k of Object.keys(body)) if (!KEYS.includes(k)) problem([k], `unknown key \`${k}\`; expected one of ${KEYS.join(', ')}`);
    const { model, against = 'production', candidate, metrics, drift } = body;
    if (typeof model !== 'string' || !model) problem(['model'], '`model` must name a model');
    if (typeof against !== 'string' || !against) problem(['against'], '`against` must name an alias, such as production');
    if (candidate !== undefined && (typeof candidate !== 'string' || !candidate)) problem(['candidate'], '`candidate` must be a run id, uid, vN or latest');
    const list: GateMetric[] = [];
    if (!isObject(metrics) || !Object.keys(metrics).length) problem(['metrics'], '`metrics` must map metric names to max, min or { direction, tolerance }');
    else {
      for (const [key, v] of Object.entries(metrics)) {
        const m = parseGateMetric(key, v);
        if (typeof m === 'string') problem(['metrics', key], m);
        else list.push(m);
      }
    }
    let limits: DriftLimits | undefined;
    if (drift !== undefined) {
      const d = parseDriftLimits(drift);
      if (typeof d === 'string') problem(['drift'], d);
      else limits = d;
    }
    if (problems.length === before) {
      gates.push({ name, model: model as string, against: against as string, candidate: candidate as string | undefined, metrics: list, drift: limits });
    }
  }
  return { gates, problems };
}
