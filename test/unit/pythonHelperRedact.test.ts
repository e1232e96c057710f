// The Python helper redacts as the extension does: both read media/redaction.json, and here both
// judge the same names, files, command lines and environment values.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { test } from 'node:test';
import { isSecretFile, isSecretName, redactArgs, redactEnv, redactUrls } from '../../src/core/provenance/redact.ts';

const PYTHONPATH = resolve(import.meta.dirname, '../../media/python');

/** Runs `script` in python3 with the JSON of `input` on stdin; its stdout parsed as JSON. */
function python(script: string, input: unknown): any {
  const r = spawnSync('python3', ['-c', script], {
    input: JSON.stringify(input), encoding: 'utf8', env: { ...process.env, PYTHONPATH, PYTHONDONTWRITEBYTECODE: '1' },
  });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout);
}

const NAMES = [
  'PATH', 'path', 'PWD', 'OLDPWD', 'SSH_AUTH_SOCK', 'XDG_SESSION_ID', 'DBUS_SESSION_BUS_ADDRESS', 'PATHEXT', 'KEYBOARD_LAYOUT',
  'COMPASS', 'GIT_AUTHOR_NAME', 'TOKENIZERS_PARALLELISM', 'GH_PAT', 'DB_PASS', 'MY_API_KEY', 'dbPassword', 'sshKeyFile',
  'GITHUBTOKEN', 'AWS_SECRET_ACCESS_KEY', 'HF_TOKEN', 'CREDENTIALS', 'api-key', '--api-key', '-p', 'password', 'Authorization',
  'X-Api-Key', 'access_token', 'sig', 'signature', 'SESSIONS', 'WANDB_API_KEY', 'key2', 'v2Key', 'HTTPServerToken', 'ABCDef',
  'OPENAI_APIKEYS', 'passphrase', 'PASSWORDS', 'MONKEY', 'KEYS', 'TURKEY_COUNT', 'DSN', 'SENTRY_DSN', 'secretsManager',
  'CUDA_VISIBLE_DEVICES', 'LC_ALL', '', '_', '__', 'ı', 'ß_TOKEN', 'café_key', 'Kelvin\u212a', 'x\nTOKEN', 'a.b.password',
  'cookie_jar', 'JWT_SECRETS', 'CONNSTR', 'ConnectionString', 'private_key_path', 'bearerAuth',
];

const FILES = [
  '.env', '.env.local', 'sub/.env.production', '.ENV', '.envrc', '.netrc', '_netrc', '.pgpass', '.npmrc', '.pypirc',
  '.git-credentials', 'id_rsa', 'id_rsa.pub', 'keys/id_ed25519', 'id_ecdsa.PUB', 'id_dsa_old', 'server.pem', 'a.KEY',
  'cert.p12', 'x.pfx', 'store.jks', 'my.keystore', 'putty.ppk', 'credentials.json', 'client_secret.json', 'hf_token.txt',
  'special_tokens_map.json', 'tokenizer.json', 'passwords.txt', 'apiKeys.yaml', 'api_key.txt', 'creds', 'README.md',
  'train.py', 'keyboard.py', 'monkey.py', '.env\nx', 'id_rsa\n.pub', 'a.pem\n', 'id_rsa\rx', '.env.\u2028x', 'secret', 'notes/secrets.md', 'dir.with.dots/file',
];

const ARGS: string[][] = [
  ['python3', 'train.py', '--lr', '0.1'],
  ['python3', 'train.py', '--api-key', 'abc', '--token=xyz', '--password', '--verbose'],
  ['python3', 'train.py', '--token', '$HF_TOKEN', '--secret=${S}', '--secret=', '-api-key=k'],
  ['python3', 'train.py', 'API_KEY=x', 'db.password=y', 'model.depth=3', '+trainer.token=t', '~auth=z', 'A=$B'],
  ['curl', '-H', 'Authorization: Bearer abc', 'X-Api-Key:k', 'Accept: json'],
  ['git', 'clone', 'https://user:pa/ss@github.com/x/y.git', 'https://ghp_token@github.com/x', 'ssh://git@host/r'],
  ['python3', 'dl.py', 'https://host/x?token=abc&name=v;sig=s#frag', 's3://bucket/k?X-Amz-Signature=zz&p=1'],
  ['python3', 'x.py', '--key'],
  ['python3', 'x.py', 'see https://a:b@c and http://d@e.f/g, ok'],
  ['python3', 'x.py', 'https://u@/path', 'http://a@b@c.com', 'http://user:p@ss@host.com/', 'http://x@[::1]:80/'],
  ['python3', 'x.py', 'https://h/p?access_token=a\u2028b', 'ftp://u:\u00a0p@h', 'HTTPS://U:P@H'],
  ['python3', 'x.py', '--Password', 'hunter2', '--pass-word', 'x', '--KEY=\nv'],
];

const VALUES = [
  'plain', 'https://user:secret@host/path', 'postgres://u:p@db:5432/x?sslmode=require&password=p', '/usr/bin:/bin',
  'redis://:pw@localhost:6379', 'https://token@github.com', 'text https://a.b/c?key=1 more', '',
];

test('secret names, secret files, command lines and environments are judged alike in Python and TypeScript', () => {
  const py = python(`
import json, sys
from runlens import _redact as r
data = json.load(sys.stdin)
print(json.dumps({
    "names": [r.is_secret_name(n) for n in data["names"]],
    "files": [r.is_secret_file(f) for f in data["files"]],
    "args": [r.redact_args(a) for a in data["args"]],
    "urls": [r.redact_urls(v) for v in data["values"]],
    "env": r.redact_env(data["env"]),
}))
`, { names: NAMES, files: FILES, args: ARGS, values: VALUES, env: Object.fromEntries(NAMES.filter(Boolean).map((n, i) => [n, VALUES[i % VALUES.length]!])) });
  const env = Object.fromEntries(NAMES.filter(Boolean).map((n, i) => [n, VALUES[i % VALUES.length]!]));
  NAMES.forEach((n, i) => assert.equal(py.names[i], isSecretName(n), `isSecretName(${JSON.stringify(n)})`));
  FILES.forEach((f, i) => assert.equal(py.files[i], isSecretFile(f), `isSecretFile(${JSON.stringify(f)})`));
  ARGS.forEach((a, i) => assert.deepEqual(py.args[i], redactArgs(a), `redactArgs(${JSON.stringify(a)})`));
  VALUES.forEach((v, i) => assert.equal(py.urls[i], redactUrls(v), `redactUrls(${JSON.stringify(v)})`));
  assert.deepEqual(py.env, redactEnv(env));
  // and the lists mean something: both kinds of answer occur
  assert.ok(py.names.includes(true) && py.names.includes(false));
  assert.ok(py.files.includes(true) && py.files.includes(false));
  assert.ok(py.args.flat().some((a: string) => a.includes('<redacted>')));
});

test('without redaction.json the helper keeps no value: every environment value and argument is redacted', () => {
  const py = python(`
import json, sys
from runlens import _redact as r
r.RULES_FILES = ("/nonexistent/redaction.json",)
print(json.dumps({"env": r.redact_env({"HOME": "/root", "GH_PAT": "x"}), "args": r.redact_args(["python3", "t.py", "--lr", "1"])}))
`, {});
  assert.deepEqual(py.env, { GH_PAT: '<redacted>', HOME: '<redacted>' });
  assert.deepEqual(py.args, ['python3', '<redacted>', '<redacted>', '<redacted>']);
});
