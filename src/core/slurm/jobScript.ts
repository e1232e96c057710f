import { isSecretName, redactUrls, shellQuote } from '../provenance/redact.ts';
import type { SlurmExecutor } from './executorConfig.ts';

/** What one run's job script runs. */
export interface JobSpec {
  /** The run's name and uid, for the script's first comment and the job name. */
  name: string;
  uid: string;
  /** The run's folder: output.log, metrics.jsonl, process.json, heartbeat and exit.json go there. */
  runDir: string;
  /** argv, or one string run through /bin/sh -c (as a local run's `shell`). */
  command: string[] | string;
  cwd: string;
  /**
   * Variables RunLens or runlens.yaml add to the environment sbatch is called with (PYTHONPATH for the
   * helper, env:, RUNLENS_PARAMS_FILE). They are written as `export` lines, except secret ones: those
   * reach the job only through sbatch's environment.
   */
  env: { [name: string]: string };
}

/** The environment variable that names the run's metrics file (as for a local run). */
export const METRICS_ENV = 'RUNLENS_METRICS_FILE';

const q = shellQuote;
const HEARTBEAT_S = 10;

/** The `#SBATCH` lines of an executor, in a fixed order. */
export function sbatchLines(executor: SlurmExecutor): string[] {
  const flags: string[] = [];
  if (executor.partition) flags.push(`--partition=${executor.partition}`);
  if (executor.time) flags.push(`--time=${executor.time}`);
  if (executor.gpus) flags.push(`--gpus=${executor.gpus}`);
  if (executor.cpus) flags.push(`--cpus-per-task=${executor.cpus}`);
  if (executor.mem) flags.push(`--mem=${executor.mem}`);
  if (executor.account) flags.push(`--account=${executor.account}`);
  if (executor.qos) flags.push(`--qos=${executor.qos}`);
  return [...flags, ...executor.sbatch].map((f) => `#SBATCH ${f}`);
}

/** A Slurm job name: letters, digits and - _ . only. */
export function jobName(name: string): string {
  return `runlens-${name.replace(/[^\w.-]+/g, '_').slice(0, 60)}`;
}

/**
 * A readable bash job script for one run: the executor's #SBATCH lines (output appended to the run's
 * output.log), then what a local launch gets (the metrics file, the helper on PYTHONPATH, the run
 * configuration's env), the executor's setup lines and the command. It writes process.json (host,
 * pid, start ticks, Slurm job) when it starts, touches `heartbeat` every 10 s, and writes exit.json
 * when the command ends: its exit code, and `signalled: "SIGINT"` when RunLens's cancel (scancel
 * --signal=INT) reached it. A time limit or a plain scancel (SIGTERM) ends the command; the script
 * still records the exit.
 */
export function jobScript(spec: JobSpec, executor: SlurmExecutor): string {
  const run = spec.runDir;
  const command = typeof spec.command === 'string' ? `/bin/sh -c ${q(spec.command)}` : spec.command.map(q).join(' ');
  const exports: string[] = [], secret: string[] = [];
  for (const name of Object.keys(spec.env).sort()) {
    if (!/^[A-Za-z_]\w*$/.test(name) || name === METRICS_ENV) continue;
    const value = spec.env[name]!;
    if (isSecretName(name) || redactUrls(value) !== value) secret.push(name);
    else exports.push(`export ${name}=${q(value)}`);
  }
  return [
    '#!/bin/bash',
    `# RunLens run ${spec.name} (${spec.uid}). RunLens submitted this script with sbatch --parsable;`,
    '# it can be submitted again as it is.',
    `#SBATCH --job-name=${jobName(spec.name)}`,
    `#SBATCH --output=${q(`${run}/output.log`)}`,
    '#SBATCH --open-mode=append',
    `#SBATCH --chdir=${q(spec.cwd)}`,
    ...sbatchLines(executor),
    '',
    `run_dir=${q(run)}`,
    `export ${METRICS_ENV}="$run_dir/metrics.jsonl"`,
    ...exports,
    ...(secret.length ? [`# Not written here (secret): ${secret.join(', ')}; they come in the environment sbatch was called with.`] : []),
    '',
    '# Where the job runs, for RunLens: host, pid and start time (field 22 of /proc/<pid>/stat).',
    'job=$SLURM_JOB_ID',
    '[ -n "$SLURM_ARRAY_JOB_ID" ] && job=${SLURM_ARRAY_JOB_ID}_$SLURM_ARRAY_TASK_ID',
    'stat=$(cat /proc/$$/stat 2>/dev/null); set -- ${stat##*) }; ticks=${20:-null}',
    'printf \'{"pid":%d,"startTicks":%s,"host":"%s","slurmJob":"%s"}\\n\' $$ "$ticks" "$(hostname)" "$job" > "$run_dir/process.json.tmp"',
    'mv -f "$run_dir/process.json.tmp" "$run_dir/process.json"',
    'touch "$run_dir/heartbeat"',
    `( while sleep ${HEARTBEAT_S}; do touch "$run_dir/heartbeat"; done ) &`,
    'beat=$!',
    '',
    '# exit.json when the script ends: the exit code, and SIGINT when a cancel asked the command to stop.',
    'signalled=null stopping=',
    'finish() {',
    '  code=$1 signal=null',
    '  kill "$beat" 2>/dev/null',
    '  [ "$code" -gt 128 ] && [ "$code" -lt 160 ] && signal="\\"SIG$(kill -l $((code - 128)))\\""',
    '  printf \'{"code":%d,"signal":%s,"signalled":%s,"endedAt":%s}\\n\' "$code" "$signal" "$signalled" "$(date +%s%3N)" > "$run_dir/exit.json.tmp"',
    '  mv -f "$run_dir/exit.json.tmp" "$run_dir/exit.json"',
    '}',
    'trap \'finish $?\' EXIT',
    'trap \'signalled=\\"SIGINT\\" stopping=1\' INT',
    'trap \'stopping=1\' TERM',
    '',
    ...(executor.setup.length ? ['# Setup (runlens.yaml executor.setup)', ...executor.setup, '[ -n "$stopping" ] && exit 143', ''] : []),
    `cd ${q(spec.cwd)} || exit 1`,
    command,
    '',
  ].join('\n');
}

/**
 * The script of a sweep's job array: task i runs trial i's own job script (`task-<i>.sh`, a link to
 * it), with its output going to `task-<i>.log` (a link to the trial's output.log).
 */
export function arrayScript(opts: { name: string; dir: string; tasks: number; concurrency: number; cwd: string }, executor: SlurmExecutor): string {
  const dir = opts.dir;
  return [
    '#!/bin/bash',
    `# RunLens sweep ${opts.name}: ${opts.tasks} trial(s), ${opts.concurrency} at a time. Task i runs task-i.sh,`,
    '# the job script in trial i\'s run folder (its params as overrides).',
    `#SBATCH --job-name=${jobName(opts.name)}`,
    `#SBATCH --array=0-${opts.tasks - 1}%${opts.concurrency}`,
    `#SBATCH --output=${q(`${dir}/task-%a.log`)}`,
    '#SBATCH --open-mode=append',
    `#SBATCH --chdir=${q(opts.cwd)}`,
    ...sbatchLines(executor),
    '',
    `exec /bin/bash ${q(dir)}/task-"$SLURM_ARRAY_TASK_ID".sh`,
    '',
  ].join('\n');
}
