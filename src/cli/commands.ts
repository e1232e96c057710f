/**
 * The `runlens` command line (Node only, on the same store as the extension):
 *   runlens check   a candidate against a model's alias; exit 0 pass, 1 regression, 2 usage or error
 *   runlens ls      runs (or models) as a table or JSON
 *   runlens export  runs as CSV or JSON
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { Store, DB_FILE } from '../core/store/store.ts';
import { type ProjectConfig, parseRunConfig } from '../core/config/runConfig.ts';
import { GateError, check } from '../core/gate/check.ts';
import { type DriftLimits, type GateConfig, type GateMetric, parseGateMetric, parseTolerance } from '../core/gate/gatesConfig.ts';
import { markdownReport, textSummary } from '../core/gate/report.ts';
import { resolveRuns } from '../core/runs/runRefs.ts';
import { exportRunsCsv } from '../core/export/csv.ts';
import { exportRunsJson } from '../core/export/json.ts';
import { primaryMetric } from '../core/compare/compareData.ts';
import { RUN_STATUSES, type Run, type RunStatus } from '../core/types.ts';
import { duration, metricValue } from '../core/format.ts';

export interface Io {
  out: (text: string) => void;
  err: (text: string) => void;
  cwd: string;
  env: { [name: string]: string | undefined };
}

/** A mistake in how the command was called: exit code 2 with the message and the usage. */
class UsageError extends Error {}

export const USAGE = `Usage:
  runlens check --model NAME [--candidate RUN|vN|latest] [--against ALIAS] [--metric KEY:max|min[:TOLERANCE]]...
                [--gate NAME] [--drift-psi X] [--drift-ks X] [--report FILE.md] [--json]
  runlens ls [--experiment NAME] [--status STATUS] [--limit N] [--json]
  runlens ls models [--json]
  runlens export [RUN...] [--experiment NAME] [--format csv|json] [--out FILE]

Common options:
  --store DIR     the store folder (default: $RUNLENS_STORE, else .runlens in the nearest folder at or above this one)
  --config FILE   runlens.yaml (default: the one beside the store folder)

check compares the candidate (a run id or uid, a version vN of the model, or latest: its newest version)
with the version the alias points at (default production). A tolerance is how much worse the candidate may
be: a number (0.01) or a share of the baseline (5%). Without --metric, the gate from runlens.yaml
(--gate NAME, or the only one for the model) is used, else the primary metric with tolerance 0.
Exit codes: 0 pass, 1 regression, 2 usage or error.
`;

const COMMON = { store: { type: 'string' }, config: { type: 'string' }, help: { type: 'boolean', short: 'h' } } as const;

export async function main(argv: string[], io: Io): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case 'check': return checkCommand(rest, io);
      case 'ls': return lsCommand(rest, io);
      case 'export': return exportCommand(rest, io);
      case undefined: case 'help': case '--help': case '-h':
        io.out(USAGE);
        return command === undefined ? 2 : 0;
      default:
        throw new UsageError(`Unknown command "${command}"`);
    }
  } catch (err) {
    if (err instanceof UsageError || (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      io.err(`runlens: ${(err as Error).message}\n\n${USAGE}`);
    } else io.err(`runlens: ${err instanceof GateError ? err.message : err instanceof Error ? err.message : String(err)}\n`);
    return 2;
  }
}

/** The store folder: --store, $RUNLENS_STORE, else .runlens in the nearest folder at or above cwd that has one. */
export function findStore(given: string | undefined, io: Io): string {
  if (given) return resolve(io.cwd, given);
  if (io.env.RUNLENS_STORE) return resolve(io.cwd, io.env.RUNLENS_STORE);
  for (let d = resolve(io.cwd); ; d = dirname(d)) {
    if (existsSync(join(d, '.runlens', DB_FILE))) return join(d, '.runlens');
    if (dirname(d) === d) throw new Error(`No RunLens store found at or above ${io.cwd}; give --store DIR or set RUNLENS_STORE`);
  }
}

function openStore(dir: string): Store {
  if (!existsSync(join(dir, DB_FILE))) throw new Error(`No RunLens store in ${dir} (no ${DB_FILE})`);
  return Store.open(dir, { readonly: true });
}

/** runlens.yaml: --config, else beside the store folder; undefined when there is none. */
function readConfig(given: string | undefined, storeDir: string, io: Io): ProjectConfig | undefined {
  const file = given ? resolve(io.cwd, given) : join(dirname(storeDir), 'runlens.yaml');
  if (!existsSync(file)) {
    if (given) throw new UsageError(`No such file: ${file}`);
    return undefined;
  }
  const { config, problems } = parseRunConfig(readFileSync(file, 'utf8'));
  for (const p of problems) io.err(`${file}:${p.line + 1}:${p.column + 1}: ${p.message}\n`);
  return config;
}

function checkCommand(args: string[], io: Io): number {
  const { values } = parseArgs({
    args, allowPositionals: false, options: {
      ...COMMON, model: { type: 'string' }, candidate: { type: 'string' }, against: { type: 'string' },
      metric: { type: 'string', multiple: true }, gate: { type: 'string' }, 'drift-psi': { type: 'string' },
      'drift-ks': { type: 'string' }, report: { type: 'string' }, json: { type: 'boolean' },
    },
  });
  if (values.help) { io.out(USAGE); return 0; }
  const storeDir = findStore(values.store, io);
  const config = readConfig(values.config, storeDir, io);
  const gate = pickGate(config?.gates ?? [], values.gate, values.model, (values.metric ?? []).length > 0);
  const model = values.model ?? gate?.model;
  if (!model) throw new UsageError('Name the model: --model NAME (or a gate in runlens.yaml)');
  let metrics: GateMetric[] = (values.metric ?? []).map(parseMetricFlag);
  if (!metrics.length && gate) metrics = gate.metrics;
  if (!metrics.length && config?.primaryMetric) metrics = [{ key: config.primaryMetric.name, direction: config.primaryMetric.goal, tolerance: 0, relative: false }];
  if (!metrics.length) throw new UsageError('Name the metrics: --metric KEY:max|min[:TOLERANCE] (or a gate or primary_metric in runlens.yaml)');
  const drift: DriftLimits = { ...gate?.drift };
  if (values['drift-psi'] !== undefined) drift.psi = positive('--drift-psi', values['drift-psi']);
  if (values['drift-ks'] !== undefined) drift.ks = positive('--drift-ks', values['drift-ks']);
  const store = openStore(storeDir);
  try {
    const result = check({
      store, model, candidate: values.candidate ?? gate?.candidate ?? 'latest', against: values.against ?? gate?.against ?? 'production',
      metrics, driftLimits: Object.keys(drift).length ? drift : undefined,
    });
    if (values.report) writeFileSync(resolve(io.cwd, values.report), markdownReport(store, result));
    if (values.json) io.out(`${JSON.stringify({ pass: result.pass, failures: result.failures, metrics: result.metrics, params: result.params, dataFiles: result.dataFiles, drift: result.drift }, null, 2)}\n`);
    else io.out(textSummary(result));
    return result.pass ? 0 : 1;
  } finally {
    store.close();
  }
}

/** --gate NAME; else, without --metric, the only gate (for the model, when named). */
function pickGate(gates: GateConfig[], name: string | undefined, model: string | undefined, hasMetrics: boolean): GateConfig | undefined {
  if (name !== undefined) {
    const g = gates.find((x) => x.name === name);
    if (!g) throw new UsageError(`No gate "${name}" in runlens.yaml${gates.length ? ` (there: ${gates.map((x) => x.name).join(', ')})` : ''}`);
    return g;
  }
  if (hasMetrics) return undefined;
  const fits = gates.filter((g) => model === undefined || g.model === model);
  return fits.length === 1 ? fits[0] : undefined;
}

/** KEY:max|min[:TOLERANCE]; the key may itself hold colons (the last one or two parts are read from the end). */
export function parseMetricFlag(flag: string): GateMetric {
  const parts = flag.split(':');
  let tolerance: string | undefined;
  if (parts.length >= 3 && parseTolerance(parts.at(-1)) && (parts.at(-2) === 'max' || parts.at(-2) === 'min')) tolerance = parts.pop();
  const direction = parts.pop();
  const key = parts.join(':');
  if (!key) throw new UsageError(`--metric ${flag}: expected KEY:max|min[:TOLERANCE]`);
  const m = parseGateMetric(key, { direction, ...(tolerance !== undefined && { tolerance: tolerance.endsWith('%') ? tolerance : Number(tolerance) }) });
  if (typeof m === 'string') throw new UsageError(`--metric ${flag}: ${m}`);
  return m;
}

function positive(flag: string, v: string): number {
  const n = Number(v);
  if (!(n > 0) || !Number.isFinite(n)) throw new UsageError(`${flag} must be a number above 0`);
  return n;
}

function lsCommand(args: string[], io: Io): number {
  const { values, positionals } = parseArgs({
    args, allowPositionals: true, options: {
      ...COMMON, experiment: { type: 'string' }, status: { type: 'string' }, limit: { type: 'string' }, json: { type: 'boolean' },
    },
  });
  if (values.help) { io.out(USAGE); return 0; }
  if (positionals.length > 1 || (positionals.length === 1 && positionals[0] !== 'models')) throw new UsageError(`ls takes no arguments but "models"`);
  const storeDir = findStore(values.store, io);
  const config = readConfig(values.config, storeDir, io);
  const store = openStore(storeDir);
  try {
    if (positionals[0] === 'models') {
      const models = store.models.models().map((m) => ({
        name: m.name, versions: store.models.versions(m.id).map((v) => ({ version: v.version, run: store.runs.get(v.runId)?.uid ?? null, aliases: v.aliases, createdAt: v.createdAt })),
      }));
      if (values.json) io.out(`${JSON.stringify(models, null, 2)}\n`);
      else for (const m of models) for (const v of m.versions) io.out(`${m.name}\tv${v.version}\t${v.aliases.join(',')}\t${v.run ?? ''}\n`);
      return 0;
    }
    const runs = listRuns(store, values.experiment, values.status, values.limit);
    const rows = runs.map((r) => {
      const summaries = store.metrics.summaries(r.id);
      const pm = primaryMetric(summaries.map((s) => s.key), config?.primaryMetric);
      const value = pm ? summaries.find((s) => s.key === pm.key)?.last : undefined;
      return { uid: r.uid, name: r.name, experiment: r.experiment, status: r.status, createdAt: r.createdAt,
        duration: r.startedAt !== null && r.endedAt !== null ? (r.endedAt - r.startedAt) / 1000 : null,
        metric: pm ? { key: pm.key, value: value ?? null } : null };
    });
    if (values.json) io.out(`${JSON.stringify(rows, null, 2)}\n`);
    else {
      for (const r of rows) {
        const metric = r.metric && r.metric.value !== null ? `${r.metric.key}=${metricValue(r.metric.value)}` : '';
        io.out(`${r.uid}\t${r.name}\t${r.experiment}\t${r.status}\t${duration(r.duration === null ? null : r.duration * 1000)}\t${metric}\n`);
      }
    }
    return 0;
  } finally {
    store.close();
  }
}

function listRuns(store: Store, experiment: string | undefined, status: string | undefined, limit: string | undefined): Run[] {
  let experimentId: number | undefined;
  if (experiment !== undefined) {
    experimentId = store.runs.experiments().find((e) => e.name === experiment)?.id;
    if (experimentId === undefined) throw new UsageError(`No experiment named "${experiment}"`);
  }
  const statuses = status?.split(',').map((s) => s.trim());
  for (const s of statuses ?? []) if (!(RUN_STATUSES as readonly string[]).includes(s)) throw new UsageError(`--status ${s}: expected one of ${RUN_STATUSES.join(', ')}`);
  const n = limit === undefined ? 10_000 : Number(limit);
  if (!Number.isInteger(n) || n < 1) throw new UsageError('--limit must be a whole number above 0');
  return store.runs.list({ experimentId, status: statuses as RunStatus[] | undefined, limit: n });
}

function exportCommand(args: string[], io: Io): number {
  const { values, positionals } = parseArgs({
    args, allowPositionals: true, options: {
      ...COMMON, experiment: { type: 'string' }, status: { type: 'string' }, format: { type: 'string' }, out: { type: 'string' },
    },
  });
  if (values.help) { io.out(USAGE); return 0; }
  const format = values.format ?? (values.out?.toLowerCase().endsWith('.json') ? 'json' : 'csv');
  if (format !== 'csv' && format !== 'json') throw new UsageError('--format must be csv or json');
  const storeDir = findStore(values.store, io);
  const store = openStore(storeDir);
  try {
    const runs = positionals.length ? resolveRuns(store, positionals) : listRuns(store, values.experiment, values.status, undefined);
    const ids = runs.map((r) => r.id);
    const text = format === 'csv' ? exportRunsCsv(store, ids) : `${JSON.stringify(exportRunsJson(store, ids), null, 2)}\n`;
    if (values.out) writeFileSync(resolve(io.cwd, values.out), text);
    else io.out(text);
    return 0;
  } finally {
    store.close();
  }
}
