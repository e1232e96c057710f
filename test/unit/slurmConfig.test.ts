import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { parseRunConfig } from '../../src/core/config/runConfig.ts';
import { parseExecutor } from '../../src/core/slurm/executorConfig.ts';
import { arrayScript, jobScript } from '../../src/core/slurm/jobScript.ts';
import { isAlive } from '../../src/core/runs/runProcess.ts';
import { tempDir } from './helpers.ts';

const SLURM = { type: 'slurm' as const, sbatch: [], setup: [] };

test('an executor block: every setting checked, each mistake at its key', () => {
  assert.deepEqual(parseExecutor('local').executor, { type: 'local' });
  assert.deepEqual(parseExecutor({ type: 'slurm', partition: 'gpu', time: '2:00:00', gpus: 'a100:2', cpus: 8, mem: '32G', account: 'lab', qos: 'normal',
    sbatch: ['--constraint=v100'], setup: ['module load cuda'] }).executor, {
    type: 'slurm', partition: 'gpu', time: '2:00:00', gpus: 'a100:2', cpus: 8, mem: '32G', account: 'lab', qos: 'normal',
    sbatch: ['--constraint=v100'], setup: ['module load cuda'],
  });
  assert.deepEqual(parseExecutor({ type: 'slurm', time: 30, gpus: 1, mem: 4000 }).executor, { ...SLURM, time: '30', gpus: '1', mem: '4000' });
  for (const t of ['1-12:00', '0:01', '45', 'UNLIMITED', '2-0']) assert.ok(parseExecutor({ type: 'slurm', time: t }).executor, t);
  const bad = parseExecutor({ type: 'slurm', partition: 'a b', time: 'soon', gpus: 'many', cpus: 0, mem: 'lots', sbatch: ['--output=x.log', 'nodash', '--array=0-3'], colour: 1 });
  assert.equal(bad.executor, undefined);
  assert.deepEqual(bad.problems.map((p) => p.path.join('.')).sort(), ['colour', 'cpus', 'gpus', 'mem', 'partition', 'sbatch.0', 'sbatch.1', 'sbatch.2', 'time']);
  assert.match(bad.problems.find((p) => p.path[0] === 'sbatch')!.message, /RunLens sets `--output` itself/);
  assert.match(parseExecutor({ type: 'pbs' }).problems[0]!.message, /`type` must be `local` or `slurm`/);
  assert.match(parseExecutor({ type: 'local', partition: 'x' }).problems[0]!.message, /Slurm setting/);
  assert.match(parseExecutor(7).problems[0]!.message, /must be `local`, `slurm`, or a mapping/);
});

test('runlens.yaml: a workspace default executor, run configurations that take it, narrow it or stay local', () => {
  const text = [
    'executor: { type: slurm, partition: gpu, time: "1:00:00", setup: [module load cuda] }',
    'runs:',
    '  train: { command: [python3, train.py] }',
    '  long:',
    '    command: [python3, train.py]',
    '    executor: { type: slurm, time: "2-00:00:00", gpus: 2 }',
    '  plot: { command: [python3, plot.py], executor: local }',
    '  broken:',
    '    command: [python3, x.py]',
    '    executor:',
    '      type: slurm',
    '      sbatch: [--wrap=hostname]',
    '',
  ].join('\n');
  const { config, problems } = parseRunConfig(text);
  const by = Object.fromEntries(config.runs.map((r) => [r.name, r.executor]));
  assert.deepEqual(config.executor, { ...SLURM, partition: 'gpu', time: '1:00:00', setup: ['module load cuda'] });
  assert.deepEqual(by.train, config.executor);
  assert.deepEqual(by.long, { ...SLURM, partition: 'gpu', time: '2-00:00:00', gpus: '2', setup: ['module load cuda'] });
  assert.deepEqual(by.plot, { type: 'local' });
  assert.deepEqual(by.broken, config.executor, 'a run executor with a mistake is reported and the default applies');
  assert.equal(problems.length, 1);
  assert.match(problems[0]!.message, /^run "broken": executor: RunLens sets `--wrap`/);
  assert.equal(problems[0]!.line, 11, 'at the flag');
  assert.equal(parseRunConfig('runs:\n  t: { command: [x] }\n').config.runs[0]!.executor, undefined, 'no executor anywhere: local');
});

test('the runlens.yaml schema offers executor at the top and per run configuration', () => {
  const schema = JSON.parse(readFileSync(join(import.meta.dirname, '..', '..', 'media', 'runlens.schema.json'), 'utf8'));
  assert.deepEqual(schema.properties.executor, { $ref: '#/definitions/executor' });
  assert.deepEqual(schema.properties.runs.additionalProperties.properties.executor, { $ref: '#/definitions/executor' });
  const block = schema.definitions.executor.oneOf[1];
  assert.deepEqual(Object.keys(block.properties).sort(), ['account', 'cpus', 'gpus', 'mem', 'partition', 'qos', 'sbatch', 'setup', 'time', 'type']);
});

test('a job script: #SBATCH lines from the executor, what RunLens adds to the environment, secrets left out', () => {
  const script = jobScript({
    name: 'lr=0.1', uid: 'u1', runDir: '/ws/.runlens/runs/u1', cwd: '/ws/my project', command: ['python3', 'train.py', '--note', "it's"],
    env: { PYTHONPATH: '/ext/media/python', RUNLENS_PARAMS_FILE: '/ws/p.yaml', WANDB_API_KEY: 'k', DB: 'postgres://u:pw@h/db' },
  }, { ...SLURM, partition: 'gpu', time: '1:00:00', gpus: '2', cpus: 4, mem: '16G', account: 'lab', qos: 'high', sbatch: ['--constraint=v100'], setup: ['module load cuda'] });
  const lines = script.split('\n');
  assert.deepEqual(lines.filter((l) => l.startsWith('#SBATCH')), [
    '#SBATCH --job-name=runlens-lr_0.1', '#SBATCH --output=/ws/.runlens/runs/u1/output.log', '#SBATCH --open-mode=append',
    "#SBATCH --chdir='/ws/my project'", '#SBATCH --partition=gpu', '#SBATCH --time=1:00:00', '#SBATCH --gpus=2',
    '#SBATCH --cpus-per-task=4', '#SBATCH --mem=16G', '#SBATCH --account=lab', '#SBATCH --qos=high', '#SBATCH --constraint=v100',
  ]);
  assert.ok(lines.includes('export PYTHONPATH=/ext/media/python'));
  assert.ok(lines.includes('export RUNLENS_PARAMS_FILE=/ws/p.yaml'));
  assert.ok(!script.includes('WANDB_API_KEY=') && !script.includes('pw@'), 'secret values are not written');
  assert.match(script, /# Not written here \(secret\): DB, WANDB_API_KEY;/);
  assert.ok(lines.indexOf('module load cuda') < lines.indexOf("python3 train.py --note 'it'\\''s'"), 'setup before the command');
  const array = arrayScript({ name: 'lr sweep', dir: '/ws/.runlens/slurm/x', tasks: 4, concurrency: 2, cwd: '/ws' }, SLURM);
  assert.match(array, /^#SBATCH --array=0-3%2$/m);
  assert.match(array, /^#SBATCH --output=\/ws\/.runlens\/slurm\/x\/task-%a.log$/m);
  assert.match(array, /^exec \/bin\/bash \/ws\/.runlens\/slurm\/x\/task-"\$SLURM_ARRAY_TASK_ID".sh$/m);
});

/** Runs a job script with bash as Slurm would (its env); `interrupt` sends SIGINT to all its processes (scancel --full). */
function runScript(script: string, dir: string, env: { [k: string]: string }) {
  const file = join(dir, 'job.sh');
  writeFileSync(file, script);
  const child = spawn('bash', [file], { env: { ...process.env, ...env }, stdio: 'ignore', detached: true });
  return {
    ended: new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code))),
    interrupt: () => process.kill(-child.pid!, 'SIGINT'),
  };
}

const until = async (file: string) => { while (!existsSync(file)) await new Promise((r) => setTimeout(r, 20)); };

test('the job script records the job for RunLens: process.json with host and Slurm job, heartbeat, exit.json with the code', async () => {
  const dir = tempDir();
  const script = jobScript({ name: 'x', uid: 'u', runDir: dir, cwd: dir,
    command: `echo "metrics=$RUNLENS_METRICS_FILE extra=$EXTRA"; test -f "${dir}/process.json" && test -f "${dir}/heartbeat"; exit 3`, env: { EXTRA: 'yes' } }, SLURM);
  const code = await runScript(script, dir, { SLURM_JOB_ID: '77' }).ended;
  assert.equal(code, 3, 'the script exits with the command\'s code (the job\'s ExitCode)');
  const info = JSON.parse(readFileSync(join(dir, 'process.json'), 'utf8'));
  assert.equal(info.host, hostname());
  assert.equal(info.slurmJob, '77');
  assert.ok(Number.isInteger(info.pid) && Number.isInteger(info.startTicks));
  assert.ok(existsSync(join(dir, 'heartbeat')));
  const exit = JSON.parse(readFileSync(join(dir, 'exit.json'), 'utf8'));
  assert.equal(exit.code, 3);
  assert.equal(exit.signalled, null);
  assert.ok(Math.abs(exit.endedAt - Date.now()) < 10_000);
  assert.ok(statSync(join(dir, 'exit.json')).isFile() && !existsSync(join(dir, 'exit.json.tmp')));
});

test('the job script, interrupted (a cancel\'s SIGINT): the command gets it, exit.json says SIGINT; the recorded process is the script\'s', async () => {
  const dir = tempDir();
  const marker = join(dir, 'marker'), ready = join(dir, 'ready');
  const command = ['python3', '-c', `import time\ntry:\n    open(${JSON.stringify(ready)}, "w")\n    time.sleep(30)\nexcept KeyboardInterrupt:\n    open(${JSON.stringify(marker)}, "w").write("int")\n    raise SystemExit(5)`];
  const job = runScript(jobScript({ name: 'x', uid: 'u', runDir: dir, cwd: dir, command, env: {} }, SLURM), dir, { SLURM_ARRAY_JOB_ID: '9', SLURM_ARRAY_TASK_ID: '2', SLURM_JOB_ID: '12' });
  await until(ready);
  const info = JSON.parse(readFileSync(join(dir, 'process.json'), 'utf8'));
  assert.ok(isAlive({ pid: info.pid, startTicks: info.startTicks }), 'the recorded pid and start ticks are the running script');
  assert.equal(info.slurmJob, '9_2', 'an array task is recorded as <array>_<task>');
  job.interrupt();
  assert.equal(await job.ended, 5);
  assert.equal(readFileSync(marker, 'utf8'), 'int');
  const exit = JSON.parse(readFileSync(join(dir, 'exit.json'), 'utf8'));
  assert.deepEqual([exit.code, exit.signalled], [5, 'SIGINT']);
  assert.ok(!isAlive({ pid: info.pid, startTicks: info.startTicks }));
});
