import { appendFileSync } from 'node:fs';
import type { Store } from '../store/store.ts';
import type { GitState, ParamValue, Run } from '../types.ts';
import type { RunProvenance, StoredDataset } from '../store/provenanceRepository.ts';
import { type LaunchSpec, runFolder, startProcess } from './runProcess.ts';
import { REDACTED, hasRedacted, redactArgs } from '../provenance/redact.ts';

export interface LaunchRequest {
  name?: string;
  experiment?: string;
  spec: LaunchSpec;
  params?: { [key: string]: ParamValue };
  tags?: { [key: string]: string };
  git?: GitState | null;
  /** Captured before the process starts; stored with the run. */
  provenance?: RunProvenance;
  /** Content hashes of the declared datasets, taken before the process starts. */
  datasets?: StoredDataset[];
  /** Declared outputs (runlens.yaml `outputs`), kept as artifacts once the run ends. */
  outputs?: string[];
  /** The run this one reproduces. */
  reproduces?: number;
  /** A queued run (a sweep's trial) to start in place instead of recording a new one. */
  queued?: number;
}

/**
 * Records a new run as running (or starts a queued one) and starts its process. A process that cannot
 * start leaves a failed run. The run keeps its command with secret values redacted (redactArgs);
 * the process gets the real ones. A command holding a redacted value is refused.
 */
export function launch(store: Store, storeDir: string, wrapper: string, req: LaunchRequest, nodePath?: string): Run {
  const { spec } = req;
  if (hasRedacted([spec.command, ...spec.args])) {
    throw new Error(`The command holds ${REDACTED} where a secret value was; RunLens does not keep secrets, so it cannot start this command as recorded.`);
  }
  const started = {
    startedAt: Date.now(), command: redactArgs(spec.shell ? spec.command : [spec.command, ...spec.args]), cwd: spec.cwd,
    params: req.params, tags: req.tags, git: req.git,
  };
  const run = req.queued === undefined
    ? store.runs.create({ name: req.name, experiment: req.experiment, status: 'running', reproduces: req.reproduces, ...started })
    : store.runs.begin(req.queued, started);
  if (req.provenance) store.provenance.set(run.id, req.provenance);
  for (const d of req.datasets ?? []) store.provenance.setDataset(run.id, d);
  for (const path of req.outputs ?? []) store.artifacts.request(run.id, { kind: 'output', path, afterEnd: true });
  try {
    startProcess(storeDir, run.uid, spec, wrapper, nodePath);
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    try { appendFileSync(runFolder(storeDir, run.uid).log, `RunLens could not start the run: ${message}\n`); } catch { /* folder missing */ }
    store.runs.update(run.id, { status: 'failed', endedAt: Date.now() });
    throw err;
  }
  return store.runs.get(run.id)!;
}

/** The environment for a run: the helper package on PYTHONPATH, unbuffered Python output. */
export function runEnvironment(base: { [k: string]: string | undefined }, helperDir: string, delimiter: string): { [k: string]: string | undefined } {
  const pythonPath = base.PYTHONPATH ? `${helperDir}${delimiter}${base.PYTHONPATH}` : helperDir;
  return { ...base, PYTHONPATH: pythonPath, PYTHONUNBUFFERED: '1' };
}
