import { execFile } from 'node:child_process';

/** What running a Slurm command gives: its exit code and output. `code` is null when it could not start. */
export interface ExecResult {
  code: number | null;
  stdout: string;
  stderr: string;
  /** Set when the program could not be started (ENOENT: not installed). */
  error?: NodeJS.ErrnoException;
}

/** Runs a Slurm command (squeue, sbatch…) without a shell. Tests pass their own to record or fake calls. */
export type Exec = (command: string, args: string[], options?: { env?: { [k: string]: string | undefined }; cwd?: string }) => Promise<ExecResult>;

/** The real one: execFile, 30 s at most, output as text. */
export const execSlurm: Exec = (command, args, options = {}) => new Promise((resolve) => {
  execFile(command, args, { env: options.env ?? process.env, cwd: options.cwd, timeout: 30_000, maxBuffer: 32 << 20, encoding: 'utf8' },
    (err, stdout, stderr) => {
      const e = err as (NodeJS.ErrnoException & { code?: number | string }) | null;
      if (e && typeof e.code === 'string') resolve({ code: null, stdout, stderr, error: e });
      else resolve({ code: e ? (typeof e.code === 'number' ? e.code : 1) : 0, stdout, stderr });
    });
});

/** A Slurm command failed; the message says why in the user's terms, with Slurm's own words as they are. */
export class SlurmError extends Error {
  /** `missing`: the command is not installed; `refused`: it ran and said no (its stderr is in the message). */
  readonly kind: 'missing' | 'refused';

  constructor(kind: 'missing' | 'refused', message: string) {
    super(message);
    this.name = 'SlurmError';
    this.kind = kind;
  }
}

/** The result, or a SlurmError: not installed, or its own message. */
export function checked(command: string, r: ExecResult): ExecResult {
  if (r.error?.code === 'ENOENT') {
    throw new SlurmError('missing', `Slurm's ${command} was not found on this machine's PATH: RunLens submits runs to Slurm from a machine where sbatch, squeue and scancel work (a cluster's login node).`);
  }
  if (r.error) throw new SlurmError('refused', `${command} could not run: ${r.error.message}`);
  if (r.code !== 0) throw new SlurmError('refused', `${command} refused: ${(r.stderr || r.stdout).trim() || `exit code ${r.code}`}`);
  return r;
}

/**
 * Submits a job script with `sbatch --parsable`; resolves with the job id. sbatch's own message is
 * in the error when it refuses (a partition that does not exist, a time over the limit…).
 */
export async function submit(exec: Exec, script: string, options: { env?: { [k: string]: string | undefined }; cwd?: string } = {}): Promise<string> {
  const r = checked('sbatch', await exec('sbatch', ['--parsable', script], options));
  // --parsable prints "jobid" or "jobid;cluster"
  const id = r.stdout.trim().split('\n').pop()!.split(';')[0]!.trim();
  if (!/^\d+$/.test(id)) throw new SlurmError('refused', `sbatch did not give a job id: ${r.stdout.trim() || r.stderr.trim()}`);
  return id;
}

export interface CancelOptions {
  /** How long the job has after SIGINT before a plain scancel (default 10 s). */
  graceMs?: number;
  /** Whether it is still pending (then it is cancelled at once: a pending job takes no signal). */
  pending?: boolean;
  /** Told once the job is over, to end the grace period early (checked every second). */
  gone?: () => boolean;
  sleep?: (ms: number) => Promise<void>;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
/** scancel's word for a job that already ended: nothing left to cancel. */
const ENDED = /already completing or completed|Invalid job id/i;

/**
 * Cancels a job, a whole array (its id) or one array task (`<array>_<task>`): pending tasks at once,
 * then SIGINT to the running ones (`scancel --signal=INT --full`: the batch script and the command, so
 * training can save and stop), then a plain scancel after the grace period.
 */
export async function cancel(exec: Exec, job: string, options: CancelOptions = {}): Promise<void> {
  const run = async (args: string[]) => {
    const r = await exec('scancel', [...args, job]);
    if (r.code !== 0 && !r.error && ENDED.test(r.stderr)) return false;
    checked('scancel', r);
    return true;
  };
  if (!options.pending) {
    if (!job.includes('_')) await run(['--state=PENDING']); // an array's waiting tasks never start
    let signalled = false;
    try {
      signalled = await run(['--signal=INT', '--full']);
    } catch (err) {
      if ((err as SlurmError).kind === 'missing') throw err; // else: not running yet, say; cancel it plainly
    }
    const wait = options.sleep ?? sleep;
    const grace = options.graceMs ?? 10_000;
    for (let waited = 0; signalled && waited < grace && !options.gone?.(); waited += 1000) await wait(Math.min(1000, grace - waited));
  }
  await run([]);
}
