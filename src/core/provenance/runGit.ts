// The one place RunLens runs git: a failure becomes a GitError whose kind callers switch on.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';

export type GitErrorKind = 'not-a-repo' | 'no-git' | 'no-commit' | 'conflict' | 'patch-failed' | 'other';

export class GitError extends Error {
  readonly kind: GitErrorKind;
  /** Git's exit code; undefined when it did not run or was killed. */
  readonly exitCode: number | undefined;
  constructor(message: string, options: { kind?: GitErrorKind; exitCode?: number; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'GitError';
    this.kind = options.kind ?? 'other';
    this.exitCode = options.exitCode;
  }
}

export interface RunGitOptions {
  /** `-c name=value` settings for this command only. */
  config?: string[];
  /** Milliseconds without output before git is stopped. Default 30 s. */
  timeout?: number;
  /** Exit codes that are not failures (their stdout is returned). Default [0]. */
  okExits?: number[];
}

/** `git args…` in `cwd`; resolves to its stdout, rejects with a GitError. */
export function runGit(cwd: string, args: string[], options: RunGitOptions = {}): Promise<string> {
  // spawn says ENOENT for a missing cwd too: tell it apart from a missing git here
  if (!existsSync(cwd)) return Promise.reject(new GitError(`folder ${cwd} does not exist`, { kind: 'not-a-repo' }));
  const argv = [...(options.config ?? []).flatMap((c) => ['-c', c]), ...args];
  return new Promise((resolve, reject) => {
    // LC_ALL=C: git's messages in English, for the kinds only its message tells
    const child = spawn('git', argv, { cwd, env: { ...process.env, LC_ALL: 'C' }, windowsHide: true, stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let timer: NodeJS.Timeout | undefined;
    let timedOut = false;
    const idle = () => {
      clearTimeout(timer);
      timer = setTimeout(() => { timedOut = true; child.kill(); }, options.timeout ?? 30_000);
    };
    idle();
    child.stdout.on('data', (d: Buffer) => { out.push(d); idle(); });
    child.stderr.on('data', (d: Buffer) => { err.push(d); idle(); });
    child.on('error', (e: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      if (e.code === 'ENOENT') reject(new GitError('git is not installed or not on PATH', { kind: 'no-git', cause: e }));
      else reject(new GitError(`cannot run git: ${e.message}`, { cause: e }));
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      const stdout = Buffer.concat(out).toString('utf8');
      if (code !== null && (options.okExits ?? [0]).includes(code)) return resolve(stdout);
      if (timedOut) return reject(new GitError(`git ${args[0]} gave no output for ${(options.timeout ?? 30_000) / 1000} s and was stopped`));
      const stderr = Buffer.concat(err).toString('utf8').trim();
      const message = stderr || stdout.trim() || `git ${args[0]} exited with code ${code}`;
      reject(new GitError(message, { kind: failureKind(args, code, `${stderr}\n${stdout}`), exitCode: code ?? undefined }));
    });
  });
}

/** What a failed git command means: from its exit code where git says it, else from its message. */
function failureKind(args: string[], code: number | null, text: string): GitErrorKind {
  // `rev-parse --verify -q` exits 1, silently, when the name is not an object
  if (args[0] === 'rev-parse' && args.includes('--verify') && code === 1) return 'no-commit';
  if (/not a git repository/i.test(text)) return 'not-a-repo';
  if (/conflict/i.test(text)) return 'conflict';
  if (args[0] === 'apply') return 'patch-failed';
  if (/unknown revision|bad object|bad revision|invalid reference|does not have any commits/i.test(text)) return 'no-commit';
  return 'other';
}
