import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, writeFileSync } from 'node:fs';
import { arch, hostname, platform, release } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { captureEnvironment, commandLine, isSecretName, redactEnv, redactUrls, which } from '../../src/core/provenance/environment.ts';
import { redactArgs, restoreRedacted } from '../../src/core/provenance/redact.ts';
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
    CACHE_URL: 'redis://:p@ss@cache:6379',
  });
  assert.deepEqual(out, {
    CACHE_URL: `redis://:${R}@cache:6379`,
    DATABASE_URL: `postgres://admin:${R}@db.internal:5432/runs`,
    PIP_EXTRA_INDEX_URL: `https://__token__:${R}@pypi.example.com/simple https://mirror.example.com/simple`,
    REPO: `https://${R}@github.com/team/x.git`,
    SSH_REPO: 'ssh://git@github.com/team/x.git',
  });
});

test('isSecretName: secret words as name parts, split on _ - . and camelCase', () => {
  const secret = [
    'DB_PASS', 'SMTP_PASS', 'GH_PAT', 'CI_JOB_JWT', 'CI_JOB_JWT_V2', 'BEARER', 'PASSPHRASE', 'MY_API_KEY', 'dbPassword', 'apiKey',
    'OAuthToken', 'GITHUBTOKEN', 'CLIENTSECRET', 'OPENAIAPIKEY', 'npm_config__authToken', 'X-Amz-Signature', 'S3KEY', 'SSH_KEYS',
    'AUTHORIZATION', 'SESSION_COOKIE', 'access_token', 'sig', 'DB_CONN_STR', 'CONNSTR',
  ];
  const kept = [
    'PATH', 'PATHEXT', 'PWD', 'OLDPWD', 'COMPASS', 'KEYBOARD_LAYOUT', 'GIT_AUTHOR_NAME', 'TOKENIZERS_PARALLELISM', 'SSH_AUTH_SOCK',
    'XDG_SESSION_TYPE', 'BYPASS_CACHE', 'PATIENCE', 'MONKEY_PATCH', 'GIT_ASKPASS', 'SIGNAL', 'HOME', 'version', 'lr',
  ];
  assert.deepEqual(secret.filter((n) => !isSecretName(n)), [], 'secret');
  assert.deepEqual(kept.filter(isSecretName), [], 'not secret');
});

test('redactUrls: the userinfo runs to the last @ before the host, any characters; token query values', () => {
  const table: [string, string][] = [
    ['postgres://u:pa/ss@host/db', `postgres://u:${R}@host/db`],
    ['postgres://u:pa#ss@host/db', `postgres://u:${R}@host/db`],
    ['postgres://u:p?a:s@s@host:5432/db', `postgres://u:${R}@host:5432/db`],
    ['https://me@x.com:pw@host/x', `https://me@x.com:${R}@host/x`],
    ['https://h/f?token=abc&x=1', `https://h/f?token=${R}&x=1`],
    ['https://h/f?X-Amz-Signature=abc&X-Amz-Credential=c%2Fd#x', `https://h/f?X-Amz-Signature=${R}&X-Amz-Credential=${R}#x`],
    ['a https://u:p@h/x and https://h/?key=z end', `a https://u:${R}@h/x and https://h/?key=${R} end`],
    ['https://example.com/data.csv?version=2&split=train', 'https://example.com/data.csv?version=2&split=train'],
    ['https://h/f?keyboard=1&monkey=2', 'https://h/f?keyboard=1&monkey=2'],
    ['https://host/a@b', 'https://host/a@b'],
    ['ssh://git@github.com/x.git', 'ssh://git@github.com/x.git'],
    ['git@github.com:team/x.git', 'git@github.com:team/x.git'],
  ];
  for (const p of ['access_token', 'api_key', 'sig', 'signature', 'password', 'secret', 'auth']) table.push([`https://h/?${p}=v&n=1`, `https://h/?${p}=${R}&n=1`]);
  for (const [input, want] of table) assert.equal(redactUrls(input), want, input);
});

test('redactArgs: secret flag values in both forms, key=value, headers, URL credentials; the rest kept', () => {
  const argv = [
    'python', 'train.py', '--api-key', 'k1', '--api-key=k2', '--token', 't', '--password', 'p', '--db-password=d', '--pass', 'x',
    '-api-key=y', 'postgres://u:pw@host/db', 'wandb.api_key=z', 'Authorization: Bearer q', '--token', '$HF_TOKEN', '--key=${K}',
    '--use-auth-token', '--lr', '0.1', '-p', '8080', '--data', 'https://example.com/d.csv', '--token',
  ];
  assert.deepEqual(redactArgs(argv), [
    'python', 'train.py', '--api-key', R, `--api-key=${R}`, '--token', R, '--password', R, `--db-password=${R}`, '--pass', R,
    `-api-key=${R}`, `postgres://u:${R}@host/db`, `wandb.api_key=${R}`, `Authorization: ${R}`, '--token', '$HF_TOKEN', '--key=${K}',
    '--use-auth-token', '--lr', '0.1', '-p', '8080', '--data', 'https://example.com/d.csv', '--token',
  ]);
  const line = `API_KEY=k1 python train.py --token 't 2' --api-key="k3" --lr 0.1 | tee log && curl -H 'Authorization: Bearer k4' "https://u:k5@h/x?sig=k6&n=1" --pass=$PW`;
  assert.equal(redactArgs(line),
    `'API_KEY=${R}' python train.py --token '${R}' '--api-key=${R}' --lr 0.1 | tee log && curl -H 'Authorization: ${R}' 'https://u:${R}@h/x?sig=${R}&n=1' --pass=$PW`);
  assert.equal(redactArgs('python train.py --lr 0.1 | tee "a b.log"'), 'python train.py --lr 0.1 | tee "a b.log"');
});

test('restoreRedacted: the real values from a run configuration whose command redacts the same; else it refuses', () => {
  const config = ['python', 'train.py', '--api-key', 'k1'];
  const stored = ['/usr/bin/python3', ...redactArgs(config).slice(1), '--lr', '0.1'];
  assert.deepEqual(restoreRedacted(stored, [['python', 'other.py', '--api-key', 'k9'], config]), ['/usr/bin/python3', 'train.py', '--api-key', 'k1', '--lr', '0.1']);
  const shell = 'python train.py --token k2 | tee log';
  assert.equal(restoreRedacted(redactArgs(shell), [config, shell]), shell);
  assert.deepEqual(restoreRedacted(['python', 'x.py', '--lr', '0.1'], []), ['python', 'x.py', '--lr', '0.1']);
  assert.throws(() => restoreRedacted(stored, [['python', 'other.py', '--api-key', 'k9']]), /does not keep/);
  assert.throws(() => restoreRedacted([...stored, '--token', R], [config]), /does not keep/, 'a redacted override has no source');
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
  const none = tempDir(); // a PATH without nvidia-smi, whatever this machine has
  assert.deepEqual((await captureEnvironment({ command: [], env: { PATH: none } })).gpu, []);
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
  const secret = await captureEnvironment({ command: ['python', 'train.py', '--token', 'k1', '--lr', '0.1'] });
  assert.equal(secret.commandLine, `python train.py --token '${R}' --lr 0.1`);
  assert.equal((await captureEnvironment({ command: 'python train.py --token=k1' })).commandLine, `python train.py '--token=${R}'`);
});
