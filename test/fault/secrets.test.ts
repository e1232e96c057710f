// Secrets must not reach the store: a run with secrets in its environment, command line, git remote
// and untracked files is recorded the way the extension records one, then every byte under the
// store folder (runs.db, its -wal, run folders) is searched for the secrets.
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { test } from 'node:test';
import { Store } from '../../src/core/store/store.ts';
import { launch, runEnvironment } from '../../src/core/runs/launch.ts';
import { captureProvenance } from '../../src/core/runs/captureProvenance.ts';
import { RunMonitor } from '../../src/core/runs/runMonitor.ts';
import { REDACTED, redactEnv } from '../../src/core/provenance/environment.ts';
import { followUntilEnded, git, gitRepo, tempDir } from '../unit/helpers.ts';

const root = join(import.meta.dirname, '..', '..');
const wrapper = join(root, 'media', 'run-wrapper.cjs');

/** Unique secret values; each appears once in the corpus. */
const markers: string[] = [];
const secret = () => { const m = `qz${markers.length}Sk7vw`; markers.push(m); return m; };

/** Exits 0 only when its arguments after the first are those in the JSON file named by the first. */
const CHECK = 'import json, sys\nsys.exit(0 if sys.argv[2:] == json.load(open(sys.argv[1])) else 3)\n';

/** Variables the launch sets (runlens.yaml `env`): secret by name, or a URL holding a secret. */
function launchVars(): Record<string, string> {
  const vars: Record<string, string> = { SEED: '7', DATA_URL: 'https://example.com/data.csv?version=2' };
  for (const name of ['DB_PASS', 'SMTP_PASS', 'GH_PAT', 'CI_JOB_JWT', 'BEARER', 'PASSPHRASE', 'MY_API_KEY', 'HF_TOKEN',
    'AWS_SECRET_ACCESS_KEY', 'dbPassword', 'npm_config__authToken', 'SESSION_COOKIE', 'GOOGLE_APPLICATION_CREDENTIALS']) vars[name] = secret();
  vars.DATABASE_URL = `postgres://admin:pa/ss#${secret()}@db.internal:5432/runs`;
  vars.CACHE_URL = `redis://:p@ss?${secret()}:x@cache:6379/0`;
  vars.INDEX_URL = `https://__token__:${secret()}@pypi.example.com/simple`;
  vars.REPO_URL = `https://${secret()}@github.com/team/x.git`;
  ['token', 'access_token', 'api_key', 'key', 'sig', 'signature', 'password', 'secret', 'auth', 'X-Amz-Credential'].forEach((p, i) => {
    vars[`LINK_${i}`] = `https://h.example.com/f?a=1&${p}=${secret()}&b=2#frag`;
  });
  return vars;
}

/** A command line with secrets as flag values, `--flag=value`, hydra `key=value` and URL credentials. */
function argvCorpus(): string[] {
  return [
    '--api-key', secret(), `--api-key=${secret()}`, '--token', secret(), '--password', secret(), `--db-password=${secret()}`,
    '--hub_token', secret(), '--client-secret', secret(), '--db-pass', secret(), `--authToken=${secret()}`,
    `postgres://u:${secret()}@host/db`, `--db=mysql://root:a/b#c?${secret()}@h:3306/x`, `https://h/f?sig=${secret()}`,
    `wandb.api_key=${secret()}`, '--lr', '0.1', '--data', 'https://example.com/data.csv',
  ];
}

/** The shell form of an argv list: each argument single-quoted. */
const shellLine = (argv: string[]) => argv.map((a) => `'${a}'`).join(' ');

/** Every file under dir: path → bytes. */
function files(dir: string, out = new Map<string, Buffer>()): Map<string, Buffer> {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) files(p, out);
    else if (e.isFile()) out.set(p, readFileSync(p));
  }
  return out;
}

/** Occurrences of each marker in the files, summed. Leaks are listed. */
function leaks(snapshot: Map<string, Buffer>, found: Map<string, string[]>): number {
  let n = 0;
  for (const [path, bytes] of snapshot) {
    for (const m of markers) {
      for (let at = bytes.indexOf(m); at >= 0; at = bytes.indexOf(m, at + 1)) {
        n++;
        found.set(m, [...(found.get(m) ?? []), path.split(/[\\/]/).slice(-2).join('/')]);
      }
    }
  }
  return n;
}

test('no secret reaches the store: env, command line (argv and shell), git remote, untracked files', async () => {
  const dir = tempDir();
  const repo = gitRepo(join(dir, 'repo'), { 'check.py': CHECK, '.gitignore': 'ignored.txt\n' });
  git(repo, 'remote', 'add', 'origin', `https://user:to/k#en${secret()}@github.com/team/proj.git`);
  const untrackedSecrets = ['.env', 'config/.env.local', 'id_rsa', 'server.pem', 'creds.key', 'credentials.json', '.netrc'];
  mkdirSync(join(repo, 'config'));
  for (const name of untrackedSecrets) writeFileSync(join(repo, name), `KEY=${secret()}\n`);
  writeFileSync(join(repo, 'notes.txt'), 'keep me\n');
  writeFileSync(join(repo, 'ignored.txt'), `${secret()}\n`);

  const storeDir = join(dir, 'store');
  const store = Store.open(storeDir);
  const vars = launchVars();
  const runs: number[] = [];
  const start = async (name: string, args: string[], shell: boolean) => {
    const expect = join(dir, `${name}.json`); // outside the store: what the process must receive
    writeFileSync(expect, JSON.stringify(args));
    const argv = ['check.py', expect, ...args];
    const env = runEnvironment({ ...process.env, ...vars }, join(root, 'media', 'python'), delimiter);
    const spec = shell
      ? { command: `python3 ${shellLine(argv)}`, args: [], shell: true, cwd: repo, env }
      : { command: 'python3', args: argv, shell: false, cwd: repo, env };
    // as RunController.start does
    const captured = await captureProvenance(store, spec);
    captured.provenance.launchEnv = redactEnv(vars);
    const run = launch(store, storeDir, wrapper, { name, spec, git: captured.git, provenance: captured.provenance });
    runs.push(run.id);
  };
  await start('argv', argvCorpus(), false);
  await start('shell', argvCorpus(), true);
  const monitor = new RunMonitor(store, storeDir, { parse: () => undefined });
  for (const id of runs) monitor.track(store.runs.get(id)!);
  for (const id of runs) await followUntilEnded(monitor, id);

  const [argvRun, shellRun] = runs.map((id) => store.runs.get(id)!);
  const prov = store.provenance.get(argvRun!.id)!;
  const patch = store.provenance.blob(prov.patchSha256!)!.toString('utf8');
  const open = files(storeDir);
  store.close();
  const found = new Map<string, string[]>();
  const count = leaks(open, found) + leaks(files(storeDir), found);
  console.log(`secrets corpus: ${found.size} of ${markers.length} secrets leaked, ${count} occurrence(s) in the store`);
  for (const [m, where] of found) console.log(`  leaked ${m}: ${where.join(', ')}`);
  assert.equal(count, 0);

  // the processes got the real arguments
  assert.equal(argvRun!.exitCode, 0, 'argv run received its real arguments');
  assert.equal(shellRun!.exitCode, 0, 'shell run received its real arguments');
  // what is not a secret is kept
  const cmd = argvRun!.command as string[];
  assert.deepEqual(cmd.slice(-4), ['--lr', '0.1', '--data', 'https://example.com/data.csv']);
  assert.match(shellRun!.command as string, / '--lr' '0\.1' '--data' 'https:\/\/example\.com\/data\.csv'$/);
  assert.match(prov.commandLine!, / --lr 0\.1 --data https:\/\/example\.com\/data\.csv$/);
  assert.equal(prov.env.PATH, process.env.PATH);
  assert.equal(prov.env.DATA_URL, 'https://example.com/data.csv?version=2');
  assert.equal(prov.launchEnv?.SEED, '7');
  assert.equal(prov.gitRemote, 'https://github.com/team/proj.git');
  assert.match(patch, /^\+keep me$/m);
  const skipped = prov.untracked.filter((u) => u.skipped === 'secret').map((u) => u.path).sort();
  assert.deepEqual(skipped, [...untrackedSecrets].sort());
});

test('a command holding a redacted value is refused, and no run is recorded', () => {
  const dir = tempDir();
  const store = Store.open(join(dir, 'store'));
  const spec = { command: 'python3', args: ['train.py', '--token', REDACTED], shell: false, cwd: dir, env: process.env };
  assert.throws(() => launch(store, join(dir, 'store'), wrapper, { spec }), /does not keep secrets/);
  assert.throws(() => launch(store, join(dir, 'store'), wrapper, { spec: { ...spec, command: `python3 train.py --token ${REDACTED}`, args: [], shell: true } }));
  assert.equal(store.runs.count({}), 0);
  store.close();
});
