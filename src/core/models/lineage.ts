import type { Store } from '../store/store.ts';
import type { AliasChange, ModelVersion } from '../store/modelRepository.ts';
import type { Artifact, ArtifactFile } from '../store/artifactRepository.ts';
import type { StoredDataset } from '../store/provenanceRepository.ts';
import type { StoredAlert } from '../store/alertRepository.ts';
import type { ParamValue, Run } from '../types.ts';
import { type PackageChange, type Packages, type PackagesDiff, diffPackages, normalizeName } from '../provenance/packages.ts';
import { NOTEBOOK_TAG } from '../runs/inboxFormat.ts';
import { type ProfileLookup, contentDrift } from '../drift/fileDrift.ts';
import type { ColumnDrift } from '../drift/scores.ts';
import { tabularDelimiter } from '../drift/profile.ts';

/** Everything a model version came from: version → run → commit (+ patch) → datasets → params → metrics. */
export interface Lineage {
  version: ModelVersion;
  aliasHistory: AliasChange[];
  run: Run;
  code: {
    commit: string;
    branch: string | null;
    dirty: boolean;
    remote: string | null;
    patchSha256: string | null;
    patchBytes: number;
    untracked: { path: string; size: number; skipped?: string }[];
  } | null;
  datasets: StoredDataset[];
  params: { [key: string]: ParamValue };
  environment: { interpreter: string | null; interpreterVersion: string | null; os: string | null; hostname: string | null; gpu: string[]; commandLine: string | null };
  artifactFiles: ArtifactFile[];
  /** The interpreter's installed packages when the run recorded them. */
  packages: Packages | null;
  /** From the recorded packages to `current` (lineage's option), when both are known. */
  packagesDiff: PackagesDiff | null;
  /** The notebook the run came from, and the snapshot of it kept as an artifact (null when it could not be kept). */
  notebook: { path: string; snapshot: Artifact | null } | null;
  /** The run this version's run reproduces, and the runs that reproduce it (with their verdict tag). */
  reproduces: Run | null;
  reproductions: { run: Run; verdict: string | null }[];
  /** The run-health alerts of the version's run (NaN, divergence, stall…), oldest first. */
  alerts: StoredAlert[];
}

/** `current`: the packages of the interpreter Reproduce would use, to say what differs from the recorded ones. */
export function lineage(store: Store, versionId: number, options: { current?: Packages } = {}): Lineage {
  const version = store.models.version(versionId);
  if (!version) throw new RangeError(`model version ${versionId} does not exist`);
  const run = store.runs.get(version.runId);
  if (!run) throw new RangeError(`the run of ${version.model} v${version.version} is missing from the store`);
  const prov = store.provenance.get(run.id);
  const patch = prov?.patchSha256 ? store.provenance.blob(prov.patchSha256) : undefined;
  const packages = store.packages.get(run.id) ?? null;
  const notebookPath = store.runs.tags(run.id)[NOTEBOOK_TAG];
  return {
    version,
    aliasHistory: store.models.aliasHistory(version.modelId),
    run,
    code: run.git && {
      commit: run.git.commit, branch: run.git.branch, dirty: run.git.dirty, remote: prov?.gitRemote ?? null,
      patchSha256: prov?.patchSha256 ?? null, patchBytes: patch?.length ?? 0, untracked: prov?.untracked ?? [],
    },
    datasets: store.provenance.datasets(run.id),
    params: version.params,
    environment: {
      interpreter: prov?.interpreter ?? null, interpreterVersion: prov?.interpreterVersion ?? null, os: prov?.os ?? null,
      hostname: prov?.hostname ?? null, gpu: prov?.gpu ?? [], commandLine: prov?.commandLine ?? null,
    },
    artifactFiles: version.artifactId === null ? [] : store.artifacts.files(version.artifactId),
    packages,
    packagesDiff: packages && options.current ? diffPackages(packages, options.current) : null,
    notebook: notebookPath === undefined ? null
      : { path: notebookPath, snapshot: store.artifacts.list(run.id).find((a) => a.source === 'notebook') ?? null },
    reproduces: run.reproduces === null ? null : store.runs.get(run.reproduces) ?? null,
    reproductions: store.runs.reproductionsOf(run.id).map((r) => ({ run: r, verdict: store.runs.tags(r.id)['runlens.reproduced'] ?? null })),
    alerts: store.alerts.list(run.id),
  };
}

/** The packages people look for first, in this order, when a set has them. */
const NOTABLE = ['torch', 'tensorflow', 'jax', 'keras', 'transformers', 'lightning', 'pytorch-lightning', 'scikit-learn',
  'xgboost', 'lightgbm', 'numpy', 'pandas', 'scipy'];

/** The notable packages of a set (torch, numpy, scikit-learn…) as [name, version], in NOTABLE's order. */
export function notablePackages(p: Packages): [string, string][] {
  const byName = new Map(p.list.map(([name, version]) => [normalizeName(name), [name, version] as [string, string]]));
  return NOTABLE.flatMap((n) => (byName.has(n) ? [byName.get(n)!] : []));
}

/** Every package that differs, by name: changed, added and removed together. */
export function packageChanges(d: PackagesDiff): PackageChange[] {
  return [...d.changed, ...d.added, ...d.removed].sort((a, b) => normalizeName(a.name).localeCompare(normalizeName(b.name)));
}

/** How one dataset differs between two runs, file by file (by the stored per-file hashes). */
export interface DatasetDiff {
  path: string;
  kind: 'file' | 'directory';
  a: string | null;
  b: string | null;
  added: string[];
  removed: string[];
  changed: string[];
  /** With profiles: per changed file, its two contents and, for a CSV or TSV file with both profiled, its column drift. */
  drift?: { file: string; a: string; b: string; columns: ColumnDrift[] | null }[];
}

/**
 * Per-dataset differences from `a` to `b`; datasets with equal digests are listed with no files.
 * Given the stored profiles, changed files get their drift (drift/fileDrift.ts).
 */
export function datasetDiff(a: StoredDataset[], b: StoredDataset[], profiles?: ProfileLookup): DatasetDiff[] {
  const paths = [...new Set([...a.map((d) => d.path), ...b.map((d) => d.path)])].sort();
  return paths.map((path) => {
    const da = a.find((d) => d.path === path);
    const db = b.find((d) => d.path === path);
    const before = new Map((da?.files ?? []).map((f) => [f.path, f.sha256]));
    const after = new Map((db?.files ?? []).map((f) => [f.path, f.sha256]));
    const same = da?.digest === db?.digest;
    const diff: DatasetDiff = {
      path, kind: db?.kind ?? da?.kind ?? 'directory', a: da?.digest ?? null, b: db?.digest ?? null,
      added: same ? [] : [...after.keys()].filter((f) => !before.has(f)),
      removed: same ? [] : [...before.keys()].filter((f) => !after.has(f)),
      changed: same ? [] : [...after].filter(([f, h]) => before.has(f) && before.get(f) !== h).map(([f]) => f),
    };
    if (profiles) {
      diff.drift = diff.changed.map((file) => {
        const x = before.get(file)!, y = after.get(file)!;
        return { file, a: x, b: y, columns: tabularDelimiter(file) ? contentDrift(profiles, x, y) : null };
      });
    }
    return diff;
  });
}

/** Dataset files that differ between two runs, as "<dataset>/<file>" paths (a file dataset: its own path). */
export function changedDataFiles(diff: DatasetDiff[]): string[] {
  return diff.flatMap((d) => [...d.changed, ...d.added, ...d.removed].map((f) => dataFileName(d, f))).sort();
}

/** A dataset's file as "<dataset>/<file>" (a file dataset: its own path). */
export function dataFileName(d: Pick<DatasetDiff, 'path' | 'kind'>, file: string): string {
  return d.kind === 'file' ? d.path : `${d.path.replace(/\/$/, '')}/${file}`;
}
