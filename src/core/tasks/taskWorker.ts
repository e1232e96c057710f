// The task worker's entry (bundled as dist/taskWorker.js; loaded from source by the tests): see taskServer.ts.
// Started with workerData { role }, it reads event files for an import ('events': capture/eventReader.ts) or
// answers Compare's chart queries ('query': compare/queryWorkers.ts) instead; each role loads only its own modules.
import { parentPort, workerData } from 'node:worker_threads';

const port = parentPort;
const role = (workerData as { role?: string } | null)?.role;
if (port) {
  if (role === 'events') void import('../capture/eventReader.ts').then((m) => m.serveEventReader(port));
  else if (role === 'query') void import('../compare/queryWorkers.ts').then((m) => m.serveQueries(port));
  else void import('./taskServer.ts').then((m) => m.serveTask(port));
}
