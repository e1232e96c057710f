import { appendFileSync, existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';

/** The repository root and the git directory that holds info/exclude, or undefined outside git. */
export function findGitRepo(start: string): { root: string; commonDir: string } | undefined {
  for (let dir = resolve(start); ; dir = dirname(dir)) {
    const dotGit = join(dir, '.git');
    if (existsSync(dotGit)) {
      let gitDir = dotGit;
      if (statSync(dotGit).isFile()) {
        // a worktree or submodule: ".git" is a file saying "gitdir: <path>"
        const m = /^gitdir:\s*(.+?)\s*$/m.exec(readFileSync(dotGit, 'utf8'));
        if (!m) return undefined;
        gitDir = resolve(dir, m[1]!);
      }
      const commonFile = join(gitDir, 'commondir');
      const commonDir = existsSync(commonFile) ? resolve(gitDir, readFileSync(commonFile, 'utf8').trim()) : gitDir;
      return { root: dir, commonDir };
    }
    if (dirname(dir) === dir) return undefined;
  }
}

/**
 * Adds `storeDir` to the repository's .git/info/exclude so runs never show as changes.
 * Returns the pattern it ensured, or undefined when there is no repo or the store lies outside it.
 */
export function excludeFromGit(storeDir: string): string | undefined {
  const repo = findGitRepo(dirname(resolve(storeDir)));
  if (!repo) return undefined;
  const rel = relative(repo.root, resolve(storeDir));
  if (!rel || rel.startsWith('..') || isAbsolute(rel)) return undefined;
  const pattern = `/${rel.split(sep).join('/')}/`;
  const file = join(repo.commonDir, 'info', 'exclude');
  const existing = existsSync(file) ? readFileSync(file, 'utf8') : '';
  if (existing.split(/\r?\n/).some((line) => line.trim() === pattern)) return pattern;
  mkdirSync(dirname(file), { recursive: true });
  const prefix = existing && !existing.endsWith('\n') ? '\n' : '';
  appendFileSync(file, `${prefix}# RunLens run store\n${pattern}\n`);
  return pattern;
}
