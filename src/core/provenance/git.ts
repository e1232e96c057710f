import { existsSync } from 'node:fs';
import { lstat, readFile, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import { simpleGit } from 'simple-git';
import type { SimpleGit } from 'simple-git';
import { REDACTED, isSecretFile, redactUrls } from './redact.ts';

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

export type GitResult = { kind: 'git'; git: GitCapture } | { kind: 'no-git'; reason: string };

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
  let git: SimpleGit;
  try {
    // quotepath=off: unicode names as is; a block timeout so a stuck git cannot hang a launch
    git = simpleGit({ baseDir: cwd, config: ['core.quotepath=off'], timeout: { block: 30_000 } });
    const inside = (await git.raw(['rev-parse', '--is-inside-work-tree'])).trim();
    if (inside !== 'true') return { kind: 'no-git', reason: `${cwd} is not inside a git work tree` };
  } catch (e) {
    return { kind: 'no-git', reason: noGitReason(e, cwd) };
  }
  try {
    const top = (await git.raw(['rev-parse', '--show-toplevel'])).trim();
    // exit 1 with no stderr resolves to '': HEAD does not point at a commit yet
    const commit = (await git.raw(['rev-parse', '--verify', '-q', 'HEAD^{commit}'])).trim();
    if (!commit) return { kind: 'no-git', reason: 'the git repository has no commits yet' };
    git = simpleGit({ baseDir: top, config: ['core.quotepath=off'], timeout: { block: 30_000 } });
    const [branch, patch, others] = await Promise.all([
      git.raw(['symbolic-ref', '-q', '--short', 'HEAD']).then((s) => s.trim() || null),
      git.raw([
        'diff', 'HEAD', '--binary', '--no-color', '--no-ext-diff', '--no-textconv', '--no-relative',
        '--src-prefix=a/', '--dst-prefix=b/',
      ]),
      git.raw(['ls-files', '--others', '--exclude-standard', '-z']),
    ]);
    const remote = await remoteUrl(git, branch);
    const paths = others.split('\0').filter((p) => p !== '');
    const untracked = await readUntracked(top, paths, options);
    return { kind: 'git', git: { commit, branch, remote, dirty: patch !== '' || paths.length > 0, patch, untracked } };
  } catch (e) {
    return { kind: 'no-git', reason: `git failed: ${firstLine(e)}` };
  }
}

function noGitReason(e: unknown, cwd: string): string {
  const msg = String(e instanceof Error ? e.message : e);
  if (/ENOENT/.test(msg)) return 'git is not installed or not on PATH';
  if (/not a git repository/i.test(msg)) return `${cwd} is not in a git repository`;
  return `git failed: ${firstLine(e)}`;
}

function firstLine(e: unknown): string {
  const msg = String(e instanceof Error ? e.message : e).trim();
  return msg.split('\n')[0] ?? msg;
}

/** The upstream remote of `branch`, else origin, else the first remote. */
async function remoteUrl(git: SimpleGit, branch: string | null): Promise<string | null> {
  const names = (await git.raw(['remote'])).split('\n').map((s) => s.trim()).filter(Boolean);
  const upstream = branch ? (await git.raw(['config', '--get', `branch.${branch}.remote`])).trim() : '';
  const name = names.includes(upstream) ? upstream : names.includes('origin') ? 'origin' : names[0];
  if (!name) return null;
  try {
    const url = (await git.raw(['remote', 'get-url', name])).trim();
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

/** A commit as `git show` prints it: message, stat and patch. Throws with git's message when it cannot. */
export async function showCommit(cwd: string, commit: string): Promise<string> {
  if (!/^[0-9a-f]{4,64}$/i.test(commit)) throw new Error(`${commit} is not a commit id`);
  const git = simpleGit({ baseDir: cwd, timeout: { block: 30_000 } });
  return git.raw(['show', '--format=fuller', '--stat', '--patch', commit]);
}
