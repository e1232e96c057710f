import { existsSync } from 'node:fs';
import { lstat, readFile, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import { REDACTED, isSecretFile, redactUrls } from './redact.ts';
import { GitError, type GitErrorKind, runGit } from './runGit.ts';

export interface UntrackedFile {
  path: string;
  size: number;
  /** The text, for text files within the limits. */
  content?: string;
  /** Why there is no content; 'secret': a secret-looking name (isSecretFile), never read. */
  skipped?: 'binary' | 'too-large' | 'secret';
  /** Git file mode when not a plain file: '100755' executable, '120000' symlink (content is the target). */
  mode?: '100755' | '120000';
}

export interface GitCapture {
  commit: string;
  /** null when HEAD is detached. */
  branch: string | null;
  /** URL of the branch's upstream remote, else 'origin', else the first remote; no credentials. */
  remote: string | null;
  dirty: boolean;
  /** `git diff HEAD --binary` of tracked files (staged + unstaged), '' when clean. */
  patch: string;
  untracked: UntrackedFile[];
}

/** `why`: the GitError kind that stopped the capture, when git ran. */
export type GitResult = { kind: 'git'; git: GitCapture } | { kind: 'no-git'; reason: string; why?: GitErrorKind };

export interface GitCaptureOptions {
  /** Bytes; larger untracked files are listed without content. Default 256 KiB. */
  untrackedFileLimit?: number;
  /** Bytes of untracked content in total. Default 8 MiB. */
  untrackedTotalLimit?: number;
}

const BINARY_SNIFF = 8192;

/** Commit, branch, remote and uncommitted changes of the repository containing `cwd`. */
export async function captureGit(cwd: string, options: GitCaptureOptions = {}): Promise<GitResult> {
  if (!existsSync(cwd)) return { kind: 'no-git', reason: `folder ${cwd} does not exist` };
  // quotepath=off: unicode names as is
  const git = (dir: string, args: string[], okExits?: number[]) => runGit(dir, args, { config: ['core.quotepath=off'], okExits });
  try {
    const inside = (await git(cwd, ['rev-parse', '--is-inside-work-tree'])).trim();
    if (inside !== 'true') return { kind: 'no-git', reason: `${cwd} is not inside a git work tree` };
    const top = (await git(cwd, ['rev-parse', '--show-toplevel'])).trim();
    const commit = (await git(top, ['rev-parse', '--verify', '-q', 'HEAD^{commit}'])).trim();
    const [branch, patch, others] = await Promise.all([
      git(top, ['symbolic-ref', '-q', '--short', 'HEAD'], [0, 1]).then((s) => s.trim() || null), // 1: detached
      git(top, [
        'diff', 'HEAD', '--binary', '--no-color', '--no-ext-diff', '--no-textconv', '--no-relative',
        '--src-prefix=a/', '--dst-prefix=b/',
      ]),
      git(top, ['ls-files', '--others', '--exclude-standard', '-z']),
    ]);
    const remote = await remoteUrl(top, branch);
    const paths = others.split('\0').filter((p) => p !== '');
    const untracked = await readUntracked(top, paths, options);
    return { kind: 'git', git: { commit, branch, remote, dirty: patch !== '' || paths.length > 0, patch, untracked } };
  } catch (e) {
    const err = e instanceof GitError ? e : new GitError(String(e instanceof Error ? e.message : e), { cause: e });
    return { kind: 'no-git', reason: noGitReason(err, cwd), why: err.kind };
  }
}

function noGitReason(e: GitError, cwd: string): string {
  switch (e.kind) {
    case 'no-git': return 'git is not installed or not on PATH';
    case 'not-a-repo': return `${cwd} is not in a git repository`;
    case 'no-commit': return 'the git repository has no commits yet';
    default: return `git failed: ${e.message.split('\n')[0]}`;
  }
}

/** The upstream remote of `branch`, else origin, else the first remote. */
async function remoteUrl(top: string, branch: string | null): Promise<string | null> {
  const git = (args: string[], okExits?: number[]) => runGit(top, args, { okExits });
  const names = (await git(['remote'])).split('\n').map((s) => s.trim()).filter(Boolean);
  const upstream = branch ? (await git(['config', '--get', `branch.${branch}.remote`], [0, 1])).trim() : ''; // 1: unset
  const name = names.includes(upstream) ? upstream : names.includes('origin') ? 'origin' : names[0];
  if (!name) return null;
  try {
    const url = (await git(['remote', 'get-url', name])).trim();
    return url ? stripUrlCredentials(url) : null;
  } catch {
    return null;
  }
}

/** Drops user and password from http(s) URLs, and the password from other `scheme://user:pass@` URLs (as redactUrls finds them). */
export function stripUrlCredentials(url: string): string {
  const redacted = redactUrls(url);
  const scheme = /^[a-z][a-z\d+.-]*:\/\//i.exec(redacted)?.[0];
  const end = redacted.indexOf(`${REDACTED}@`);
  if (!scheme || end < 0) return redacted;
  if (/^https?:/i.test(scheme)) return scheme + redacted.slice(end + REDACTED.length + 1);
  return redacted.replace(`:${REDACTED}@`, '@');
}

async function readUntracked(top: string, paths: string[], options: GitCaptureOptions): Promise<UntrackedFile[]> {
  const fileLimit = options.untrackedFileLimit ?? 256 * 1024;
  const totalLimit = options.untrackedTotalLimit ?? 8 * 1024 * 1024;
  const out: UntrackedFile[] = [];
  let used = 0;
  let full = false;
  for (const path of paths) {
    if (path.endsWith('/')) continue; // a nested repository: counts as dirty, has no file content
    const abs = join(top, path);
    try {
      const st = await lstat(abs);
      if (isSecretFile(path)) { out.push({ path, size: st.size, skipped: 'secret' }); continue; }
      if (st.isSymbolicLink()) {
        const target = await readlink(abs);
        out.push({ path, size: Buffer.byteLength(target), content: target, mode: '120000' });
        continue;
      }
      if (!st.isFile()) continue;
      const entry: UntrackedFile = { path, size: st.size };
      if (st.mode & 0o100) entry.mode = '100755';
      out.push(entry);
      if (st.size > fileLimit) { entry.skipped = 'too-large'; continue; }
      const text = decodeText(await readFile(abs));
      if (text === undefined) { entry.skipped = 'binary'; continue; }
      if (full || used + st.size > totalLimit) { entry.skipped = 'too-large'; full = true; continue; }
      used += st.size;
      entry.content = text;
    } catch {
      // removed or unreadable since ls-files: leave it out
    }
  }
  return out;
}

/** The text of a file, or undefined when binary (a NUL in the first 8 KB, or not UTF-8). */
function decodeText(data: Buffer): string | undefined {
  if (data.subarray(0, BINARY_SNIFF).includes(0)) return undefined;
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(data);
  } catch {
    return undefined;
  }
}

/**
 * The tracked patch plus untracked text files as "new file" diffs: `git apply` on a clean
 * checkout of `commit` reproduces the working tree, except skipped (binary, too large, secret) files.
 */
export function applyablePatch(capture: GitCapture): string {
  let out = capture.patch;
  if (out && !out.endsWith('\n')) out += '\n';
  for (const f of capture.untracked) {
    if (f.content !== undefined) out += newFileDiff(f.path, f.content, f.mode ?? '100644');
  }
  return out;
}

function newFileDiff(path: string, content: string, mode: string): string {
  const a = quotePath(`a/${path}`), b = quotePath(`b/${path}`);
  // like git, a tab ends a +++ name that contains a space
  const tab = path.includes(' ') ? '\t' : '';
  let out = `diff --git ${a} ${b}\nnew file mode ${mode}\n`;
  if (content === '') return out;
  const endsWithNewline = content.endsWith('\n');
  const lines = (endsWithNewline ? content.slice(0, -1) : content).split('\n');
  out += `--- /dev/null\n+++ ${b}${tab}\n`;
  out += `@@ -0,0 +${lines.length === 1 ? '1' : `1,${lines.length}`} @@\n`;
  for (const line of lines) out += `+${line}\n`;
  if (!endsWithNewline) out += '\\ No newline at end of file\n';
  return out;
}

const C_ESCAPES: Record<string, string> = {
  '\x07': '\\a', '\b': '\\b', '\t': '\\t', '\n': '\\n', '\v': '\\v', '\f': '\\f', '\r': '\\r', '"': '\\"', '\\': '\\\\',
};

/** Git's C-style quoting of a path, needed only for control characters, quotes and backslashes. */
function quotePath(p: string): string {
  if (!/[\x00-\x1f"\\\x7f]/.test(p)) return p;
  const body = p.replace(/[\x00-\x1f"\\\x7f]/g, (c) => C_ESCAPES[c] ?? `\\${c.charCodeAt(0).toString(8).padStart(3, '0')}`);
  return `"${body}"`;
}

/** A commit as `git show` prints it: message, stat and patch. Throws a GitError when it cannot. */
export async function showCommit(cwd: string, commit: string): Promise<string> {
  if (!/^[0-9a-f]{4,64}$/i.test(commit)) throw new Error(`${commit} is not a commit id`);
  try {
    return await runGit(cwd, ['show', '--format=fuller', '--stat', '--patch', commit]);
  } catch (e) {
    if (e instanceof GitError && e.kind === 'no-commit') throw new GitError(`commit ${commit.slice(0, 10)} is not in this repository`, { kind: e.kind, cause: e });
    if (e instanceof GitError && e.kind === 'not-a-repo') throw new GitError(`${cwd} is not in a git repository`, { kind: e.kind, cause: e });
    throw e;
  }
}
