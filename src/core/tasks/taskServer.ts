import type { MessagePort } from 'node:worker_threads';
import { Store } from '../store/store.ts';
import { runJob } from './jobs.ts';
import { yieldCpu } from './yieldCpu.ts';
import type { FromTask, TaskError, ToTask } from './taskProtocol.ts';

/**
 * The worker's side: runs the one job it is sent on its own connection to the store (the window has
 * the file open), posting progress and warnings, and stops it on 'cancel'. Its commits reach the
 * window's connection through the WAL; the window announces them (its write path wraps the task).
 */
export function serveTask(port: MessagePort): void {
  yieldCpu();
  const abort = new AbortController();
  const post = (m: FromTask) => port.postMessage(m);
  port.on('message', (m: ToTask) => {
    if (m.type === 'cancel') abort.abort();
    else void run(m.storeDir, m.job, m.script);
  });

  async function run(storeDir: string, job: Extract<ToTask, { type: 'run' }>['job'], script: string): Promise<void> {
    let store: Store;
    try {
      store = Store.open(storeDir, { alreadyOpen: true });
    } catch (err) {
      post({ type: 'failed', message: `the task worker could not open the store: ${err instanceof Error ? err.message : String(err)}` });
      port.close();
      return;
    }
    post({ type: 'started' });
    let answer: FromTask;
    try {
      const result = await runJob(store, job, {
        signal: abort.signal,
        script,
        onProgress: (done, total) => post({ type: 'progress', done, total }),
        warn: (message) => post({ type: 'warn', message }),
      });
      answer = { type: 'done', result };
    } catch (err) {
      answer = { type: 'error', error: taskError(err) };
    }
    store.close(); // before answering: the window ends the worker once it has the answer
    post(answer);
    port.close();
  }
}

function taskError(err: unknown): TaskError {
  if (!(err instanceof Error)) return { name: 'Error', message: String(err) };
  const code = (err as NodeJS.ErrnoException).code;
  return { name: err.name, message: err.message, ...(code !== undefined && { code: String(code) }), ...(err.stack !== undefined && { stack: err.stack }) };
}
