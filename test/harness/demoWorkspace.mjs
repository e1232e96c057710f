// Copies demo/ to a temp folder and makes it a git repository with one commit,
// so provenance has a real commit to record.
import { cpSync, mkdtempSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';

const repoRoot = join(import.meta.dirname, '..', '..');
const SKIP = new Set(['outputs', '.runlens', '__pycache__', '.vscode']);

export function prepareDemoWorkspace(parent = mkdtempSync(join(tmpdir(), 'runlens-demo-'))) {
  const dir = join(parent, 'demo');
  cpSync(join(repoRoot, 'demo'), dir, { recursive: true, filter: (src) => !SKIP.has(basename(src)) });
  const git = (...args) => execFileSync('git', args, { cwd: dir, stdio: 'pipe' });
  git('init', '-q', '-b', 'main');
  git('config', 'user.email', 'demo@runlens.local');
  git('config', 'user.name', 'RunLens Demo');
  git('add', '-A');
  git('commit', '-q', '-m', 'RunLens demo project');
  return dir;
}
