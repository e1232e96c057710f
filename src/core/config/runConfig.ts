import { LineCounter, isMap, isSeq, parseDocument, type Node } from 'yaml';
import { type HparamsConfig, parseHparamsConfig } from '../hparams/hparamsConfig.ts';
import { type SweepConfig, parseSweepConfig } from '../hparams/sweepConfig.ts';
import { type AlertSettings, parseAlerts } from '../health/rules.ts';
import { type GateConfig, parseGates } from '../gate/gatesConfig.ts';
import { type ExecutorConfig, parseExecutor, resolveExecutor } from '../slurm/executorConfig.ts';

/** One named run configuration from runlens.yaml. */
export interface RunConfig {
  name: string;
  /** argv (no shell), or one string run through the shell. */
  command: string[] | string;
  cwd?: string;
  env: { [name: string]: string };
  params: string[];
  overrideStyle: 'argparse' | 'hydra' | 'file';
  datasets: string[];
  outputs: string[];
  /** Other tools' log files or folders to follow while the run goes, besides its folder. */
  capture: string[];
  experiment?: string;
  /** Run-health rule settings over the project's `alerts:`. */
  alerts?: AlertSettings;
  /** Where it runs: its own `executor`, else the top-level one (absent: a local process). */
  executor?: ExecutorConfig;
}

export interface ProjectConfig {
  experiment?: string;
  primaryMetric?: { name: string; goal: 'max' | 'min' };
  runs: RunConfig[];
  /** User regexes for metrics in output lines (named groups). */
  metricPatterns: string[];
  /** Where hyperparameters are found for CodeLens: name mapping, entry points, extra config files. */
  hparams: HparamsConfig;
  sweeps: SweepConfig[];
  /** Run-health rule settings (health/rules.ts). */
  alerts: AlertSettings;
  /** CI gates: a candidate against a model's alias (gate/gatesConfig.ts). */
  gates: GateConfig[];
  /** The top-level `executor:`, the default of every run configuration (absent: local). */
  executor?: ExecutorConfig;
}

/** A mistake in runlens.yaml, with where it is (0-based line and column). */
export interface ConfigProblem {
  message: string;
  line: number;
  column: number;
  endLine: number;
  endColumn: number;
}

const RUN_KEYS = ['command', 'cwd', 'env', 'params', 'override_style', 'datasets', 'outputs', 'capture', 'experiment', 'alerts', 'executor'];
const TOP_KEYS = ['experiment', 'primary_metric', 'runs', 'metric_patterns', 'hparams', 'sweeps', 'alerts', 'gates', 'executor'];

/** Parses runlens.yaml text. Problems are returned, never thrown; what is valid is still used. */
export function parseRunConfig(text: string): { config: ProjectConfig; problems: ConfigProblem[] } {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false });
  const problems: ConfigProblem[] = [];
  const at = (node: Node | null | undefined, message: string, range?: [number, number]) => {
    const [from, to] = range ?? (node?.range ? [node.range[0], node.range[1]] : [0, 0]);
    const a = lines.linePos(from), b = lines.linePos(to);
    problems.push({ message, line: a.line - 1, column: a.col - 1, endLine: b.line - 1, endColumn: b.col - 1 });
  };
  for (const e of doc.errors) at(null, e.message.split('\n')[0]!, [e.pos[0], e.pos[1]]);
  const config: ProjectConfig = { runs: [], metricPatterns: [], hparams: { map: {}, entryPoints: [], files: [] }, sweeps: [], alerts: {}, gates: [] };
  if (doc.errors.length) return { config, problems };
  const root = doc.contents;
  if (root === null) return { config, problems };
  if (!isMap(root)) {
    at(root as Node, 'runlens.yaml must be a mapping with a `runs:` section');
    return { config, problems };
  }
  // A problem at a path inside a section: at the deepest node that exists along it.
  const atPath = (section: string, path: string[], message: string) => {
    for (let n = path.length; n >= 0; n--) {
      const node = doc.getIn([section, ...path.slice(0, n)], true) as Node | undefined;
      if (node) { at(node, message); return; }
    }
  };
  let sweeps: unknown;
  for (const pair of root.items) {
    const key = String((pair.key as { value?: unknown })?.value ?? '');
    const value = pair.value as Node | null;
    const plain = (value as { value?: unknown } | null)?.value;
    switch (key) {
      case 'experiment':
        if (typeof plain === 'string' && plain.trim()) config.experiment = plain.trim();
        else at(value, '`experiment` must be a name');
        break;
      case 'primary_metric': {
        const pm = value?.toJSON() as { name?: unknown; goal?: unknown } | undefined;
        if (pm && typeof pm.name === 'string' && (pm.goal === 'max' || pm.goal === 'min')) config.primaryMetric = { name: pm.name, goal: pm.goal };
        else at(value, '`primary_metric` needs `name` and `goal: max` or `goal: min`');
        break;
      }
      case 'metric_patterns': {
        const list = value?.toJSON();
        if (Array.isArray(list) && list.every((p) => typeof p === 'string')) {
          for (const p of list as string[]) {
            try { new RegExp(p); config.metricPatterns.push(p); } catch (err) { at(value, `metric pattern ${p}: ${(err as Error).message}`); }
          }
        } else at(value, '`metric_patterns` must be a list of regular expressions');
        break;
      }
      case 'runs':
        if (!isMap(value)) { at(value ?? (pair.key as Node), '`runs` must map names to run configurations'); break; }
        for (const item of value.items) {
          const name = String((item.key as { value?: unknown })?.value ?? '');
          const run = readRun(name, item.value as Node | null, (n, m) => at(n, `run "${name}": ${m}`));
          if (run) config.runs.push(run);
        }
        break;
      case 'hparams': {
        const read = parseHparamsConfig(value?.toJSON());
        config.hparams = read.config;
        for (const p of read.problems) atPath('hparams', p.path, `hparams: ${p.message}`);
        break;
      }
      case 'sweeps':
        sweeps = value?.toJSON();
        break;
      case 'alerts': {
        const read = parseAlerts(value?.toJSON() ?? null);
        config.alerts = read.alerts;
        for (const p of read.problems) atPath('alerts', p.path, `alerts: ${p.message}`);
        break;
      }
      case 'executor': {
        const read = parseExecutor(value?.toJSON());
        config.executor = read.executor;
        for (const p of read.problems) atPath('executor', p.path, p.message);
        break;
      }
      case 'gates': {
        const read = parseGates(value?.toJSON() ?? null);
        config.gates = read.gates;
        for (const p of read.problems) atPath('gates', p.path, `gates: ${p.message}`);
        break;
      }
      default:
        at(pair.key as Node, `unknown key \`${key}\`; expected one of ${TOP_KEYS.join(', ')}`);
    }
  }
  for (const run of config.runs) if (run.executor || config.executor) run.executor = resolveExecutor(run.executor, config.executor);
  if (sweeps !== undefined) {
    const read = parseSweepConfig(sweeps, config.runs.map((r) => r.name));
    config.sweeps = read.sweeps;
    for (const p of read.problems) atPath('sweeps', p.path, `sweeps: ${p.message}`);
  }
  return { config, problems };
}

function readRun(name: string, node: Node | null, problem: (node: Node | null, message: string) => void): RunConfig | undefined {
  if (!isMap(node)) { problem(node, 'must be a mapping with at least `command`'); return undefined; }
  const get = (key: string) => node.items.find((p) => (p.key as { value?: unknown })?.value === key)?.value as Node | null | undefined;
  for (const p of node.items) {
    const k = String((p.key as { value?: unknown })?.value ?? '');
    if (!RUN_KEYS.includes(k)) problem(p.key as Node, `unknown key \`${k}\`; expected one of ${RUN_KEYS.join(', ')}`);
  }
  const commandNode = get('command');
  const command = commandNode?.toJSON() as unknown;
  let ok = true;
  if (!(typeof command === 'string' && command.trim()) && !(Array.isArray(command) && command.length > 0 && command.every((a) => typeof a === 'string' || typeof a === 'number'))) {
    problem(commandNode ?? node, '`command` must be a list of arguments or a shell command string');
    ok = false;
  }
  const strings = (key: string): string[] => {
    const n = get(key);
    if (n === undefined || n === null) return [];
    const v = n.toJSON() as unknown;
    if (typeof v === 'string') return [v];
    if (isSeq(n) && Array.isArray(v) && v.every((x) => typeof x === 'string')) return v as string[];
    problem(n, `\`${key}\` must be a path or a list of paths`);
    return [];
  };
  const style = (get('override_style')?.toJSON() ?? 'argparse') as unknown;
  if (style !== 'argparse' && style !== 'hydra' && style !== 'file') {
    problem(get('override_style') ?? node, '`override_style` must be argparse, hydra or file');
    ok = false;
  }
  const envNode = get('env');
  const env = (envNode?.toJSON() ?? {}) as unknown;
  if (env === null || typeof env !== 'object' || Array.isArray(env)) { problem(envNode ?? node, '`env` must map names to values'); ok = false; }
  const cwd = get('cwd')?.toJSON() as unknown;
  if (cwd !== undefined && typeof cwd !== 'string') { problem(get('cwd') ?? node, '`cwd` must be a path'); ok = false; }
  const experiment = get('experiment')?.toJSON() as unknown;
  const alertsNode = get('alerts');
  const alerts = alertsNode === undefined ? undefined : parseAlerts(alertsNode?.toJSON() ?? null);
  for (const p of alerts?.problems ?? []) {
    const at = isMap(alertsNode) ? alertsNode.getIn(p.path.slice(0, 1), true) as Node | undefined : undefined;
    problem(at ?? alertsNode ?? node, `alerts: ${p.message}`);
  }
  const executorNode = get('executor');
  const executor = executorNode === undefined ? undefined : parseExecutor(executorNode?.toJSON());
  for (const p of executor?.problems ?? []) {
    const at = isMap(executorNode) || isSeq(executorNode) ? executorNode.getIn(p.path, true) as Node | undefined : undefined;
    problem(at ?? executorNode ?? node, p.message);
  }
  if (!ok) return undefined;
  return {
    name,
    command: Array.isArray(command) ? command.map(String) : String(command),
    cwd: cwd as string | undefined,
    env: Object.fromEntries(Object.entries(env as object).map(([k, v]) => [k, String(v)])),
    params: strings('params'),
    overrideStyle: style as RunConfig['overrideStyle'],
    datasets: strings('datasets'),
    outputs: strings('outputs'),
    capture: strings('capture'),
    experiment: typeof experiment === 'string' ? experiment : undefined,
    ...(alerts && { alerts: alerts.alerts }),
    ...(executor?.executor && { executor: executor.executor }),
  };
}
