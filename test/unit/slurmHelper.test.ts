// A Slurm job started outside RunLens (`sbatch train.sh`) with the Python helper inside: the helper's
// inbox file names the job, and the adopted run is followed by SlurmRuns' poller. Real python3.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { test } from 'node:test';
import { Store } from '../../src/core/store/store.ts';
import { type StoreAccess, StoreWrites } from '../../src/core/store/storeWrites.ts';
import { adoptInbox } from '../../src/core/runs/inbox.ts';
import { JOB_TAG, SlurmRuns } from '../../src/core/slurm/slurmRuns.ts';
import { tempDir } from './helpers.ts';

const PYTHONPATH = resolve(import.meta.dirname, '../../media/python');
const SCRIPT = 'import runlens\nrunlens.init(tags={"owner": "ana"})\nrunlens.log({"loss": 0.5}, step=0)\n';

/** Runs the script as a job would (the given Slurm variables), adopts its inbox file; the run's tags. */
async function jobRun(slurmEnv: { [k: string]: string }): Promise<{ tags: { [k: string]: string }; watching: string[] }> {
  const ws = tempDir('runlens-slurm-helper-');
  writeFileSync(join(ws, 'runlens.yaml'), 'experiment: e\n');
  writeFileSync(join(ws, 'train.py'), SCRIPT);
  const env: { [k: string]: string | undefined } = { ...process.env, PYTHONPATH, PYTHONDONTWRITEBYTECODE: '1', ...slurmEnv };
  for (const v of ['RUNLENS_METRICS_FILE', 'RUNLENS_STORE', 'SLURM_JOB_ID', 'SLURM_ARRAY_JOB_ID', 'SLURM_ARRAY_TASK_ID']) if (!(v in slurmEnv)) delete env[v];
  const r = spawnSync('python3', ['train.py'], { cwd: ws, env, encoding: 'utf8', timeout: 60_000 });
  assert.equal(r.status, 0, r.stderr);
  const store = Store.open(join(ws, '.runlens'));
  try {
    const writes = new StoreWrites({ store: () => store, fire: () => {} });
    const access: StoreAccess = { get: () => store, write: (kinds, fn) => writes.write(kinds, fn) };
    const { adopted } = await writes.writeSteps(['runs'], (s) => adoptInbox(s, s.dir));
    assert.equal(adopted.length, 1);
    // the window hears of the adopted run as of any changed run
    const slurm = new SlurmRuns({ store: access, follow: () => {}, poll: { every: () => () => {} } });
    slurm.runsChanged([adopted[0]!.id]);
    const watching = slurm.poller.watching;
    slurm.dispose();
    return { tags: store.runs.tags(adopted[0]!.id), watching };
  } finally {
    store.close();
  }
}

test('the helper in a Slurm job records the job id as a tag, and the adopted run\'s job is followed', async () => {
  const single = await jobRun({ SLURM_JOB_ID: '4242' });
  assert.equal(single.tags[JOB_TAG], '4242');
  assert.equal(single.tags.owner, 'ana', 'the script\'s own tags are kept');
  assert.deepEqual(single.watching, ['4242']);

  const task = await jobRun({ SLURM_JOB_ID: '4250', SLURM_ARRAY_JOB_ID: '4247', SLURM_ARRAY_TASK_ID: '3' });
  assert.equal(task.tags[JOB_TAG], '4247_3', 'an array task as squeue names it');
  assert.deepEqual(task.watching, ['4247_3']);

  const plain = await jobRun({});
  assert.equal(plain.tags[JOB_TAG], undefined, 'not in a job: no tag');
  assert.deepEqual(plain.watching, []);
});
