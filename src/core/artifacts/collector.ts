import type { Store } from '../store/store.ts';
import type { ArtifactRequest } from '../store/artifactRepository.ts';
import type { ModelVersion } from '../store/modelRepository.ts';
import type { ObjectStore } from './objectStore.ts';
import { collectArtifact, type CollectedArtifact } from './collect.ts';
import { shortSha } from '../format.ts';

const SOURCE = { artifact: 'log_artifact', model: 'log_model', output: 'outputs' } as const;
const WHAT = { artifact: 'artifact path', model: 'model path', output: 'declared output' } as const;

export interface Collected { runId: number; artifactId: number; version?: ModelVersion }

/**
 * Copies what runs asked to keep into the object store and records it: `log_artifact` and
 * `log_model` records as they are read, declared outputs once the run has ended. A request that
 * cannot be collected keeps its reason; nothing is retried in a loop and nothing is dropped.
 */
export class ArtifactCollector {
  readonly store: Store;
  private readonly objects: ObjectStore;
  private readonly log: (message: string) => void;
  private running: Promise<Collected[]> | undefined;
  private again = false;

  constructor(store: Store, objects: ObjectStore, log: (message: string) => void = () => {}) {
    this.store = store;
    this.objects = objects;
    this.log = log;
  }

  /** Collects every ready request. One pass at a time; a call during a pass runs one more pass after it. */
  drain(): Promise<Collected[]> {
    if (this.running) {
      this.again = true;
      return this.running;
    }
    const pass = this.pass();
    this.running = pass;
    const clear = () => { if (this.running === pass) this.running = undefined; };
    pass.then(clear, clear);
    return pass;
  }

  private async pass(): Promise<Collected[]> {
    const done: Collected[] = [];
    const seen = new Set<number>();
    do {
      this.again = false;
      for (;;) {
        const batch = this.store.artifacts.pending().filter((r) => !seen.has(r.id));
        if (!batch.length) break;
        for (const req of batch) {
          seen.add(req.id);
          const c = await this.collect(req);
          if (c) done.push(c);
        }
      }
    } while (this.again);
    return done;
  }

  /** True while a run still has requests that are waiting (not failed). */
  waiting(runId: number): boolean {
    return this.store.artifacts.requests(runId).some((r) => r.error === null);
  }

  /** "Register Model Version…": collects `path` of a run now and makes it the model's next version. */
  async register(runId: number, path: string, model: string, options: { metadata?: unknown; description?: string } = {}): Promise<ModelVersion> {
    const run = this.store.runs.get(runId);
    if (!run?.cwd) throw new Error('This run has no working directory to take the model from.');
    const c = await collectArtifact(this.objects, run.cwd, path, { what: WHAT.model });
    return this.store.transaction(() => {
      const artifactId = this.store.artifacts.add(runId, c, 'register');
      return this.store.models.register({ ...this.snapshot(runId), model, runId, artifactId, path: c.path, kind: c.kind, digest: c.digest,
        size: c.size, fileCount: c.fileCount, metadata: options.metadata, description: options.description });
    });
  }

  private async collect(req: ArtifactRequest): Promise<Collected | undefined> {
    const run = this.store.runs.get(req.runId);
    try {
      if (!run?.cwd) throw new Error('the run has no working directory');
      const c = await collectArtifact(this.objects, run.cwd, req.path, { what: WHAT[req.kind] });
      const changed = checkUnchanged(req, c);
      const result = this.store.transaction(() => {
        if (!this.store.artifacts.take(req.id)) return undefined; // another window recorded it
        const artifactId = this.store.artifacts.add(req.runId, c, SOURCE[req.kind]);
        // A reproduction checks a model, it does not make a new version: its report compares the bytes.
        if (req.kind !== 'model' || run.reproduces !== null) return { runId: req.runId, artifactId };
        const version = this.store.models.register({
          ...this.snapshot(req.runId), model: req.model ?? 'model', runId: req.runId, artifactId, path: c.path, kind: c.kind,
          digest: c.digest, size: c.size, fileCount: c.fileCount, metadata: req.metadata,
        });
        return { runId: req.runId, artifactId, version };
      });
      if (result) this.log(`run ${run.name}: kept ${c.path} (${c.fileCount} file${c.fileCount === 1 ? '' : 's'}, ${c.size} bytes)${result.version ? `; registered ${result.version.model} v${result.version.version}` : ''}${changed ? `; ${changed}` : ''}`);
      return result;
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      this.store.artifacts.fail(req.id, message);
      this.log(`run ${run?.name ?? req.runId}: could not keep ${JSON.stringify(req.path)}: ${message}`);
      return undefined;
    }
  }

  private snapshot(runId: number) {
    return { params: this.store.runs.params(runId), metrics: this.store.metrics.summaries(runId) };
  }
}

/**
 * A request that carries the digest taken at log time: a model version must be those bytes, not what another
 * process wrote since (it throws); an artifact (a log that grows, say) is kept as it is now, and this says so.
 */
function checkUnchanged(req: ArtifactRequest, c: CollectedArtifact): string | undefined {
  if (req.sha256 === null || req.sha256 === c.digest) return undefined;
  const changed = `${c.path} changed after ${SOURCE[req.kind]} was called (sha256 ${shortSha(req.sha256)}… then, ${shortSha(c.digest)}… now)`;
  if (req.kind === 'model') throw new Error(`${changed}: another process wrote it before RunLens kept it. Give each run its own output path.`);
  return `${changed}: kept as it is now`;
}
