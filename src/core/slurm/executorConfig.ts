/** Where a run configuration runs: here (a local process, the default) or as a Slurm job. */
export type ExecutorConfig = { type: 'local' } | SlurmExecutor;

/** runlens.yaml `executor: { type: slurm, ... }`: what the job asks Slurm for. */
export interface SlurmExecutor {
  type: 'slurm';
  partition?: string;
  /** Slurm's time format: minutes, `H:MM:SS`, `D-HH:MM`… */
  time?: string;
  /** A count, or `type:count` (`a100:2`). */
  gpus?: string;
  cpus?: number;
  /** Memory per node: `16G`, `500M`, or megabytes. */
  mem?: string;
  account?: string;
  qos?: string;
  /** More sbatch flags, as written (`--constraint=v100`). */
  sbatch: string[];
  /** Shell lines run in the job before the command (`module load cuda`). */
  setup: string[];
}

/** A mistake, with the path to it under `executor:` (e.g. ['time']). */
export interface ExecutorProblem {
  path: string[];
  message: string;
}

const KEYS = ['type', 'partition', 'time', 'gpus', 'cpus', 'mem', 'account', 'qos', 'sbatch', 'setup'];
/** Flags RunLens sets itself: a job script that changed them would lose its output or its tasks. */
const OWN_FLAGS = ['--output', '-o', '--error', '-e', '--open-mode', '--array', '-a', '--parsable', '--wrap', '--chdir', '-D'];
// minutes | minutes:seconds | hours:minutes:seconds | days-hours[:minutes[:seconds]] | UNLIMITED/INFINITE
const TIME = /^(\d+(:\d{1,2}){0,2}|\d+-\d+(:\d{1,2}){0,2}|unlimited|infinite)$/i;
const MEM = /^\d+(\.\d+)?[KMGT]?B?$/i;
const GPUS = /^([\w.-]+:)?\d+$/;
const NAME = /^[\w.@+-]+$/;

const isObject = (v: unknown): v is { [k: string]: unknown } => v !== null && typeof v === 'object' && !Array.isArray(v);

/**
 * Reads an (already YAML-parsed) `executor:` value: `local`, `slurm`, or a mapping with `type`.
 * Problems are returned, never thrown; with a problem no executor is returned.
 */
export function parseExecutor(value: unknown): { executor?: ExecutorConfig; problems: ExecutorProblem[] } {
  const problems: ExecutorProblem[] = [];
  const problem = (path: string[], message: string) => problems.push({ path, message: `executor: ${message}` });
  if (value === 'local' || value === 'slurm') return { executor: value === 'local' ? { type: 'local' } : { type: 'slurm', sbatch: [], setup: [] }, problems };
  if (!isObject(value)) {
    problem([], 'must be `local`, `slurm`, or a mapping with `type: slurm` and its settings');
    return { problems };
  }
  for (const k of Object.keys(value)) if (!KEYS.includes(k)) problem([k], `unknown key \`${k}\`; expected one of ${KEYS.join(', ')}`);
  if (value.type === 'local') {
    const extra = Object.keys(value).filter((k) => k !== 'type' && KEYS.includes(k));
    if (extra.length) problem([extra[0]!], `\`${extra[0]}\` is a Slurm setting; a local executor takes none`);
    return problems.length ? { problems } : { executor: { type: 'local' }, problems };
  }
  if (value.type !== 'slurm') problem(value.type === undefined ? [] : ['type'], '`type` must be `local` or `slurm`');
  const out: SlurmExecutor = { type: 'slurm', sbatch: [], setup: [] };
  const text = (key: 'partition' | 'account' | 'qos') => {
    const v = value[key];
    if (v === undefined) return;
    if (typeof v === 'string' && NAME.test(v)) out[key] = v;
    else problem([key], `\`${key}\` must be a name (letters, digits, . _ - @ +)`);
  };
  text('partition');
  text('account');
  text('qos');
  const { time, gpus, cpus, mem, sbatch, setup } = value;
  if (time !== undefined) {
    if ((typeof time === 'number' && Number.isInteger(time) && time > 0) || (typeof time === 'string' && TIME.test(time.trim()))) out.time = String(time).trim();
    else problem(['time'], '`time` must be a Slurm time limit: minutes, `H:MM:SS`, `D-HH:MM:SS` or UNLIMITED');
  }
  if (gpus !== undefined) {
    if ((typeof gpus === 'number' && Number.isInteger(gpus) && gpus >= 0) || (typeof gpus === 'string' && GPUS.test(gpus.trim()))) out.gpus = String(gpus).trim();
    else problem(['gpus'], '`gpus` must be a count, or `type:count` such as `a100:2`');
  }
  if (cpus !== undefined) {
    if (typeof cpus === 'number' && Number.isInteger(cpus) && cpus >= 1) out.cpus = cpus;
    else problem(['cpus'], '`cpus` must be a whole number of CPUs per task, at least 1');
  }
  if (mem !== undefined) {
    if ((typeof mem === 'number' && Number.isInteger(mem) && mem > 0) || (typeof mem === 'string' && MEM.test(mem.trim()))) out.mem = String(mem).trim();
    else problem(['mem'], '`mem` must be a size such as `16G` or `500M` (a plain number is megabytes)');
  }
  const lines = (key: 'sbatch' | 'setup', v: unknown): string[] => {
    if (v === undefined) return [];
    const list = typeof v === 'string' ? [v] : v;
    if (Array.isArray(list) && list.every((x) => typeof x === 'string')) return list as string[];
    problem([key], key === 'sbatch' ? '`sbatch` must be a list of sbatch flags' : '`setup` must be a list of shell lines');
    return [];
  };
  out.setup = lines('setup', setup);
  for (const [i, flag] of lines('sbatch', sbatch).entries()) {
    const name = flag.trim().split(/[=\s]/)[0]!;
    if (!flag.trim().startsWith('-')) problem(['sbatch', String(i)], `\`${flag}\` is not an sbatch flag (flags start with -)`);
    else if (OWN_FLAGS.includes(name)) problem(['sbatch', String(i)], `RunLens sets \`${name}\` itself (the run's log, its folder, sweep arrays); leave it out`);
    else if (/[\n\r]/.test(flag)) problem(['sbatch', String(i)], 'a flag must be on one line');
    else out.sbatch.push(flag.trim());
  }
  return problems.length ? { problems } : { executor: out, problems };
}

/**
 * A run configuration's executor: its own, else the workspace default, else local. A Slurm run
 * executor takes the settings it leaves out from a Slurm default (lists too, when it has none).
 */
export function resolveExecutor(own: ExecutorConfig | undefined, fallback: ExecutorConfig | undefined): ExecutorConfig {
  if (!own) return fallback ?? { type: 'local' };
  if (own.type !== 'slurm' || fallback?.type !== 'slurm') return own;
  const merged: SlurmExecutor = { ...fallback, ...Object.fromEntries(Object.entries(own).filter(([, v]) => v !== undefined)) } as SlurmExecutor;
  merged.sbatch = own.sbatch.length ? own.sbatch : fallback.sbatch;
  merged.setup = own.setup.length ? own.setup : fallback.setup;
  return merged;
}
