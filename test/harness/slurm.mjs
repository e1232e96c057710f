// A real one-node Slurm cluster for tests (see ../shared/notes/slurm-in-ci.md), in a scratch folder.
// Debian's slurm-wlm and munge are installed with apt-get when missing (root on Debian only);
// elsewhere startSlurm() says why it is skipped. Its own munged (own key and socket), slurmctld
// and slurmd run from $TMPDIR/runlens-slurm; clients find the cluster through SLURM_CONF.
// A cluster left by a crashed earlier run is stopped (by its pid files) and its folder cleaned first.
//
//   const cluster = await startSlurm();
//   if (!cluster.ok) skip(cluster.skipped);   // else: cluster.env = { SLURM_CONF }
//   ...
//   await cluster.stop();                      // cancels every job, stops the daemons it started (pids)
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, readlinkSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';

const DAEMONS = [['slurmd', 'd.pid'], ['slurmctld', 'ctld.pid'], ['munged', 'munged.pid']];
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const has = (cmd) => spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore', env: withSbin() }).status === 0;
/** PATH with the sbin folders, where the daemons are. */
function withSbin(env = process.env) {
  return { ...env, PATH: `${env.PATH ?? ''}:/usr/sbin:/sbin` };
}

/** Why a cluster cannot be started here, or undefined; installs the packages when it may. */
function prerequisites(log) {
  const missing = ['sbatch', 'slurmctld', 'slurmd', 'munged'].filter((c) => !has(c));
  if (!missing.length) return undefined;
  if (process.platform !== 'linux' || !existsSync('/etc/debian_version')) return `Slurm is not installed (${missing.join(', ')} missing) and this is not Debian`;
  if (process.getuid?.() !== 0) return `Slurm is not installed (${missing.join(', ')} missing) and installing it needs root`;
  log('installing slurm-wlm and munge with apt-get');
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  let r = spawnSync('apt-get', ['install', '-y', '-qq', 'slurm-wlm', 'munge'], { env, encoding: 'utf8' });
  if (r.status !== 0) {
    spawnSync('apt-get', ['update', '-qq'], { env, stdio: 'ignore' });
    r = spawnSync('apt-get', ['install', '-y', '-qq', 'slurm-wlm', 'munge'], { env, encoding: 'utf8' });
  }
  if (r.status !== 0) return `apt-get could not install slurm-wlm and munge: ${(r.stderr || r.stdout).trim().split('\n').pop()}`;
  return undefined;
}

/** The pid in `file` when that process is still `name` (a reused pid is left alone). */
function daemonPid(file, name) {
  try {
    const pid = Number(readFileSync(file, 'utf8').trim());
    if (!Number.isSafeInteger(pid) || pid <= 1) return undefined;
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === name ? pid : undefined;
  } catch {
    return undefined;
  }
}

function alive(pid) {
  try {
    process.kill(pid, 0);
    return !readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.startsWith('Z');
  } catch {
    return false;
  }
}

/** slurmstepd processes (one per running job) of the cluster in `dir`: they work in its log folder. */
function stepds(dir) {
  return running('slurmstepd').filter((pid) => {
    try {
      return readlinkSync(`/proc/${pid}/cwd`).startsWith(`${dir}/`);
    } catch {
      return false;
    }
  });
}

/**
 * Stops the cluster in `dir`: cancels every job while slurmctld is up (so no job outlives it), then
 * the daemons by their pid files and any slurmstepd left (SIGTERM, then SIGKILL after 10 s).
 * Returns the daemons' pids.
 */
async function stopCluster(dir) {
  const env = withSbin({ ...process.env, SLURM_CONF: join(dir, 'slurm.conf') });
  if (daemonPid(join(dir, 'ctld.pid'), 'slurmctld')) {
    spawnSync('scancel', ['--full', '--user=root'], { env, stdio: 'ignore', timeout: 10_000 });
    for (let waited = 0; waited < 15_000; waited += 250) {
      const q = spawnSync('squeue', ['-h', '-o', '%i'], { env, encoding: 'utf8', timeout: 10_000 });
      if (q.status !== 0 || !q.stdout.trim()) break;
      await sleep(250);
    }
  }
  const pids = DAEMONS.map(([name, file]) => daemonPid(join(dir, file), name)).filter((p) => p !== undefined);
  pids.push(...stepds(dir));
  for (const pid of pids) try { process.kill(pid, 'SIGTERM'); } catch { /* gone */ }
  for (let waited = 0; pids.some(alive) && waited < 10_000; waited += 100) await sleep(100);
  for (const pid of pids.filter(alive)) try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
  return pids;
}

/** Pids of live processes named `name` on this machine (read only: to tell whether another Slurm runs). Zombies waiting for init do not count. */
function running(name) {
  const r = spawnSync('pgrep', ['-x', name], { encoding: 'utf8' });
  return r.stdout.split('\n').filter(Boolean).map(Number).filter(alive);
}

function slurmConf(s, host, cpus) {
  return `# A one-node test cluster made by test/harness/slurm.mjs
ClusterName=runlens-test
SlurmctldHost=${host}
SlurmUser=root
AuthInfo=socket=${s}/munge.socket
StateSaveLocation=${s}/state
SlurmdSpoolDir=${s}/spool
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/filetxt
JobCompLoc=${s}/jobcomp.txt
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/backfill
SlurmdParameters=config_overrides
MpiDefault=none
ReturnToService=2
KillWait=5
MinJobAge=120
SlurmctldLogFile=${s}/log/ctld.log
SlurmdLogFile=${s}/log/d.log
SlurmctldPidFile=${s}/ctld.pid
SlurmdPidFile=${s}/d.pid
NodeName=${host} CPUs=${cpus} RealMemory=4000 State=UNKNOWN
PartitionName=debug Nodes=${host} Default=YES MaxTime=INFINITE State=UP
`;
}

/**
 * Slurm's ports are the machine's: one test cluster at a time. Two test runs on one machine (two clones)
 * take turns through this lock file, which names the process holding it; a dead holder's lock is stale.
 */
const LOCK = join(tmpdir(), 'runlens-slurm.lock');
const LOCK_WAIT_MS = 40 * 60_000;

async function takeLock(log) {
  const deadline = Date.now() + LOCK_WAIT_MS;
  for (let told = false; ;) {
    try {
      writeFileSync(LOCK, String(process.pid), { flag: 'wx' });
      return true;
    } catch (err) {
      if (err.code !== 'EEXIST') throw err;
    }
    const holder = Number(readFileSync(LOCK, 'utf8').trim());
    if (!holder || holder === process.pid || !alive(holder)) { // stale: its holder is gone
      try { unlinkSync(LOCK); } catch { /* another waiter took it */ }
      continue;
    }
    if (Date.now() > deadline) return false;
    if (!told) log(`waiting for another test run's Slurm cluster (process ${holder}) to stop`);
    told = true;
    await sleep(1000);
  }
}

function releaseLock() {
  try {
    if (Number(readFileSync(LOCK, 'utf8').trim()) === process.pid) unlinkSync(LOCK);
  } catch { /* not held */ }
}

/**
 * Starts the cluster. Resolves { ok: true, dir, env, jobcomp, stop } or { ok: false, skipped }.
 * `cpus`: what the node offers (more than the machine has is fine: jobs here mostly sleep).
 */
export async function startSlurm({ dir = join(tmpdir(), 'runlens-slurm'), cpus = 8, log = () => {} } = {}) {
  const why = prerequisites(log);
  if (why) return { ok: false, skipped: why };
  if (process.getuid?.() !== 0) return { ok: false, skipped: 'a test cluster runs its daemons as root; this is not root' };
  if (!await takeLock(log)) return { ok: false, skipped: `another test run held the Slurm cluster for ${LOCK_WAIT_MS / 60_000} minutes (${LOCK})` };
  const started = await startLocked(dir, cpus, log);
  if (!started.ok) releaseLock();
  return started;
}

async function startLocked(dir, cpus, log) {
  const left = await stopCluster(dir);
  if (left.length) log(`stopped daemons a crashed earlier run left: ${left.join(', ')}`);
  const others = ['slurmctld', 'slurmd'].flatMap((n) => running(n).map((p) => `${n} ${p}`));
  if (others.length) return { ok: false, skipped: `another Slurm is running on this machine (${others.join(', ')}); its ports are taken` };
  rmSync(dir, { recursive: true, force: true });
  for (const sub of ['state', 'spool', 'log']) mkdirSync(join(dir, sub), { recursive: true });
  chmodSync(dir, 0o755);
  const host = hostname().split('.')[0];
  const env = withSbin({ ...process.env, SLURM_CONF: join(dir, 'slurm.conf') });
  writeFileSync(env.SLURM_CONF, slurmConf(dir, host, cpus));
  writeFileSync(join(dir, 'munge.key'), randomBytes(1024), { mode: 0o400 });
  const run = (cmd, args, input) => execFileSync(cmd, args, { env, input, encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'] });
  const stop = () => stopCluster(dir).finally(releaseLock);
  try {
    run('munged', ['--force', `--socket=${dir}/munge.socket`, `--key-file=${dir}/munge.key`, `--pid-file=${dir}/munged.pid`,
      `--log-file=${dir}/log/munged.log`, `--seed-file=${dir}/munged.seed`]);
    const cred = run('munge', ['-n', `--socket=${dir}/munge.socket`]);
    if (!/STATUS:\s+Success/.test(run('unmunge', [`--socket=${dir}/munge.socket`], cred))) throw new Error('munge does not decode its own credential');
    run('slurmctld', []);
    run('slurmd', []);
    for (let waited = 0; ; waited += 250) {
      const state = spawnSync('sinfo', ['-h', '-o', '%T'], { env, encoding: 'utf8' }).stdout.trim();
      if (state === 'idle') break;
      if (waited > 20_000) throw new Error(`the node did not become idle (sinfo: ${state || 'nothing'})`);
      await sleep(250);
    }
  } catch (err) {
    await stop();
    const tail = ['ctld.log', 'd.log', 'munged.log'].map((f) => join(dir, 'log', f)).filter(existsSync)
      .map((f) => `${f}:\n${readFileSync(f, 'utf8').split('\n').slice(-5).join('\n')}`).join('\n');
    return { ok: false, skipped: `the cluster did not start: ${err.stderr?.trim() || err.message}\n${tail}` };
  }
  log(`Slurm cluster up in ${dir} (node ${host}, ${cpus} CPUs)`);
  return { ok: true, dir, env: { SLURM_CONF: env.SLURM_CONF }, jobcomp: join(dir, 'jobcomp.txt'), host, stop };
}

/** Pids of any Slurm or munge daemon still running on this machine (what a test checks after stop()). */
export function slurmDaemons() {
  return ['slurmctld', 'slurmd', 'slurmstepd', 'munged'].flatMap((n) => running(n).map((p) => `${n} ${p}`));
}
