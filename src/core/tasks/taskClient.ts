import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { Store } from '../store/store.ts';
import { type JobOptions, runJob } from './jobs.ts';
import type { FromTask, Job, JobResult, TaskError, ToTask } from './taskProtocol.ts';

/** How long a cancelled job may take to stop by itself before its worker is ended. */
const CANCEL_GRACE_MS = 10_000;

export interface TaskOptions extends JobOptions {
  /** Told why the job runs on this thread after all (the worker could not start). Default console.warn. */
  log?: (message: string) => void;
}

/** The bundled worker script beside the extension (esbuild.mjs): dist/taskWorker.js. */
export const taskScript = (extensionPath: string) => join(extensionPath, 'dist', 'taskWorker.js');

/**
 * Runs a job in a worker thread with its own connection to `store`'s file, so this thread only waits
 * for the result. Progress, warnings and errors arrive as if it ran here; `signal` cancels it (the
 * worker is ended when the job has not stopped CANCEL_GRACE_MS later). When the worker cannot start
 * or open the store, or there is no `script`, the job runs on this thread with `store`.
 */
export function runTask<J extends Job>(script: string | URL | undefined, store: Store, job: J, options: TaskOptions = {}): Promise<JobResult<J>> {
  const { signal, onProgress, warn, log = console.warn } = options;
  const here = () => runJob(store, job, { signal, onProgress, warn });
  if (!script) return here();
  return new Promise<JobResult<J>>((resolve, reject) => {
    let worker: Worker;
    try {
      worker = new Worker(script, { name: 'runlens-task' });
    } catch (err) {
      log(`RunLens: the task worker could not start (${message(err)}); running the ${job.kind} here`);
      resolve(here());
      return;
    }
    let started = false, settled = false;
    let kill: NodeJS.Timeout | undefined;
    const cancel = () => {
      send({ type: 'cancel' });
      kill ??= setTimeout(() => end(() => reject(abortError())), CANCEL_GRACE_MS);
    };
    const send = (m: ToTask) => { if (!settled) worker.postMessage(m); };
    const end = (then: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(kill);
      signal?.removeEventListener('abort', cancel);
      void worker.terminate();
      then();
    };
    const stopped = (why: string) => {
      if (started) end(() => reject(new Error(`the task worker stopped: ${why}`)));
      else end(() => { log(`RunLens: the task worker could not start (${why}); running the ${job.kind} here`); resolve(here()); });
    };
    worker.on('message', (m: FromTask) => {
      switch (m.type) {
        case 'started': started = true; return;
        case 'failed': stopped(m.message); return;
        case 'progress': onProgress?.(m.done, m.total); return;
        case 'warn': warn?.(m.message); return;
        case 'done': end(() => resolve(m.result as JobResult<J>)); return;
        case 'error': end(() => reject(fromTask(m.error)));
      }
    });
    worker.on('error', (err) => stopped(message(err)));
    worker.on('exit', (code) => stopped(`it exited with code ${code}`));
    send({ type: 'run', storeDir: store.dir, job, script: script instanceof URL ? fileURLToPath(script) : script });
    signal?.addEventListener('abort', cancel, { once: true });
    if (signal?.aborted) cancel();
  });
}

const message = (err: unknown) => (err instanceof Error ? err.message : String(err));

/** What the job threw, as it would have been thrown here (its cause stays in the worker). */
function fromTask(e: TaskError): Error {
  const err = Object.assign(new Error(e.message), { name: e.name }, e.code !== undefined && { code: e.code });
  if (e.stack !== undefined) err.stack = e.stack;
  return err;
}

function abortError(): Error {
  return Object.assign(new Error('cancelled'), { name: 'AbortError' });
}
