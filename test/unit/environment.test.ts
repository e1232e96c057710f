import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, writeFileSync } from 'node:fs';
import { arch, hostname, platform, release } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { captureEnvironment, commandLine, redactEnv, which } from '../../src/core/provenance/environment.ts';
import { tempDir } from './helpers.ts';

const R = '<redacted>';

/** An executable shell script in a fresh folder; returns the folder. */
function script(name: string, body: string): string {
  const dir = tempDir();
  writeFileSync(join(dir, name), `#!/bin/sh\n${body}\n`);
  chmodSync(join(dir, name), 0o755);
  return dir;
}

test('redactEnv: secret names are redacted, case-insensitively', () => {
  const secret = [
    'AWS_SECRET_ACCESS_KEY', 'WANDB_API_KEY', 'OPENAI_API_KEY', 'HF_TOKEN', 'github_token', 'MY_SECRET',
    'DB_PASSWORD', 'SMTP_PASSWD', 'MYSQL_PWD', 'GOOGLE_APPLICATION_CREDENTIALS', 'AUTH_HEADER', 'PRIVATE_DATA',
    'SESSION_ID', 'COOKIE_JAR', 'SOME_API', 'SENTRY_DSN', 'DB_CONN_STR', 'AZURE_CONNECTION_STRING', 'sshKeyFile',
  ];
  const env: Record<string, string> = {};
  for (const name of secret) env[name] = 'value-of-' + name;
  const out = redactEnv(env);
  for (const name of secret) assert.equal(out[name], R, name);
});

test('redactEnv: ordinary variables, PWD and OLDPWD are kept; undefined dropped', () => {
  const env = {
    PATH: '/usr/bin:/bin', HOME: '/home/me', PWD: '/home/me/proj', OLDPWD: '/home/me', pwd: '/x',
    CUDA_VISIBLE_DEVICES: '0,1', LANG: 'C.UTF-8', DATA_URL: 'https://example.com/data.csv', GONE: undefined,
  };
  assert.deepEqual(redactEnv(env), {
    CUDA_VISIBLE_DEVICES: '0,1', DATA_URL: 'https://example.com/data.csv', HOME: '/home/me', LANG: 'C.UTF-8',
    OLDPWD: '/home/me', PATH: '/usr/bin:/bin', PWD: '/home/me/proj', pwd: '/x',
  });
});

test('redactEnv: credentials inside URLs are redacted whatever the name', () => {
  const out = redactEnv({
    DATABASE_URL: 'postgres://admin:hunter2@db.internal:5432/runs',
    PIP_EXTRA_INDEX_URL: 'https://__token__:pypi-AgEI@pypi.example.com/simple https://mirror.example.com/simple',
    REPO: 'https://ghp_abc123@github.com/team/x.git',
    SSH_REPO: 'ssh://git@github.com/team/x.git',
    AT_PASS: 'redis://:p@ss@cache:6379',
  });
  assert.deepEqual(out, {
    AT_PASS: `redis://:${R}@cache:6379`,
    DATABASE_URL: `postgres://admin:${R}@db.internal:5432/runs`,
    PIP_EXTRA_INDEX_URL: `https://__token__:${R}@pypi.example.com/simple https://mirror.example.com/simple`,
    REPO: `https://${R}@github.com/team/x.git`,
    SSH_REPO: 'ssh://git@github.com/team/x.git',
  });
});

test('captureEnvironment: the env defaults to process.env, redacted', async () => {
  process.env.RUNLENS_TEST_TOKEN = 'shh';
  try {
    const c = await captureEnvironment({ command: 'x' });
    assert.equal(c.env.RUNLENS_TEST_TOKEN, R);
    assert.equal(c.env.PATH, process.env.PATH);
  } finally {
    delete process.env.RUNLENS_TEST_TOKEN;
  }
});

test('interpreter: a bare name resolves to its absolute path on PATH, with its version', async () => {
  const expected = execFileSync('sh', ['-c', 'command -v python3'], { encoding: 'utf8' }).trim();
  const c = await captureEnvironment({ interpreter: 'python3', command: ['python3', 'train.py'] });
  assert.equal(c.interpreter?.path, expected);
  assert.ok(c.interpreter.path.startsWith('/'));
  const real = execFileSync('python3', ['--version'], { encoding: 'utf8' }).trim();
  assert.equal(c.interpreter.version, real);
  assert.match(real, /^Python 3\.\d+\.\d+/);
});

test('interpreter: the PATH of the given env is searched, and a version on stderr is read', async () => {
  const dir = script('mypy2', 'echo "Python 2.7.18" >&2');
  assert.equal(which('mypy2', '/nonexistent'), null);
  const c = await captureEnvironment({ interpreter: 'mypy2', command: [], env: { PATH: dir } });
  assert.deepEqual(c.interpreter, { path: join(dir, 'mypy2'), version: 'Python 2.7.18' });
});

test('interpreter: missing gives version null, fast, without throwing', async () => {
  const t0 = Date.now();
  const bare = await captureEnvironment({ interpreter: 'no-such-python-xyz', command: [] });
  assert.deepEqual(bare.interpreter, { path: 'no-such-python-xyz', version: null });
  const abs = await captureEnvironment({ interpreter: '/nonexistent/bin/python', command: [] });
  assert.deepEqual(abs.interpreter, { path: '/nonexistent/bin/python', version: null });
  assert.ok(Date.now() - t0 < 1000, `took ${Date.now() - t0} ms`);
  assert.equal((await captureEnvironment({ command: [] })).interpreter, null);
});

test('interpreter: a hanging --version times out to null', async () => {
  const dir = script('slowpy', 'sleep 10');
  const t0 = Date.now();
  const c = await captureEnvironment({ interpreter: join(dir, 'slowpy'), command: [], timeoutMs: 300 });
  assert.equal(c.interpreter?.version, null);
  assert.ok(Date.now() - t0 < 3000, `took ${Date.now() - t0} ms`);
});

test('gpu: [] without nvidia-smi; names from nvidia-smi when present', async () => {
  assert.equal(which('nvidia-smi'), null, 'this machine has no nvidia-smi');
  assert.deepEqual((await captureEnvironment({ command: [] })).gpu, []);
  const dir = script('nvidia-smi', '[ "$1" = "--query-gpu=name" ] && [ "$2" = "--format=csv,noheader" ] || exit 2\nprintf "NVIDIA A100-SXM4-80GB\\nNVIDIA A100-SXM4-80GB\\n"');
  const c = await captureEnvironment({ command: [], env: { PATH: dir } });
  assert.deepEqual(c.gpu, ['NVIDIA A100-SXM4-80GB', 'NVIDIA A100-SXM4-80GB']);
  const broken = script('nvidia-smi', 'echo "NVIDIA-SMI has failed"; exit 9');
  assert.deepEqual((await captureEnvironment({ command: [], env: { PATH: broken } })).gpu, []);
});

test('os and hostname', async () => {
  const c = await captureEnvironment({ command: [] });
  assert.equal(c.os, `${platform()} ${release()} ${arch()}`);
  assert.equal(c.hostname, hostname());
});

test('commandLine: shell-style quoting of argv; a string as is', async () => {
  assert.equal(commandLine(['python', 'train.py', '--lr=0.1', 'data/x.csv']), 'python train.py --lr=0.1 data/x.csv');
  assert.equal(commandLine(['python', 'my script.py', '', "it's", 'a$b', 'x;y', '*.txt']),
    `python 'my script.py' '' 'it'\\''s' 'a$b' 'x;y' '*.txt'`);
  assert.equal(commandLine('python train.py  --lr 0.1 | tee log'), 'python train.py  --lr 0.1 | tee log');
  const argv = ['echo', 'a b', "c'd", '$HOME', '"q"'];
  const c = await captureEnvironment({ command: argv });
  // the shell reads the line back to the same argv
  const back = execFileSync('sh', ['-c', `printf '%s\\n' ${c.commandLine.slice('echo '.length)}`], { encoding: 'utf8' });
  assert.deepEqual(back.split('\n').slice(0, -1), argv.slice(1));
});
