import { basename } from 'node:path';
import type { Store } from '../store/store.ts';
import type { GitState } from '../types.ts';
import type { RunProvenance } from '../store/provenanceRepository.ts';
import type { LaunchSpec } from './runProcess.ts';
import { applyablePatch, captureGit } from '../provenance/git.ts';
import { captureEnvironment } from '../provenance/environment.ts';

/**
 * What a run is made of, taken before its process starts: the commit and the full patch of
 * uncommitted changes (stored once, as a blob), the interpreter, machine and redacted environment.
 * A folder without git still runs; `noGit` says why.
 */
export async function captureProvenance(store: Store, spec: LaunchSpec): Promise<{ git: GitState | null; noGit?: string; provenance: RunProvenance }> {
  const command = spec.shell ? spec.command : [spec.command, ...spec.args];
  const interpreter = !spec.shell && /^python(\d+(\.\d+)?)?(\.exe)?$/.test(basename(spec.command)) ? spec.command : undefined;
  const [git, env] = await Promise.all([
    captureGit(spec.cwd),
    captureEnvironment({ interpreter, command, env: spec.env }),
  ]);
  const provenance: RunProvenance = {
    gitRemote: null, patchSha256: null, untracked: [],
    interpreter: env.interpreter?.path ?? null, interpreterVersion: env.interpreter?.version ?? null,
    os: env.os, hostname: env.hostname, gpu: env.gpu, commandLine: env.commandLine, env: env.env,
  };
  if (git.kind === 'no-git') return { git: null, noGit: git.reason, provenance };
  const g = git.git;
  provenance.gitRemote = g.remote;
  provenance.untracked = g.untracked.map((u) => ({ path: u.path, size: u.size, ...(u.skipped ? { skipped: u.skipped } : {}) }));
  const patch = applyablePatch(g);
  if (patch) provenance.patchSha256 = store.provenance.putBlob(patch);
  return { git: { commit: g.commit, branch: g.branch, dirty: g.dirty }, provenance };
}
