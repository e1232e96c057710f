// The task worker's entry (bundled as dist/taskWorker.js; loaded from source by the tests): see taskServer.ts.
// Started with workerData { role: 'events' }, it reads event files for an import instead (capture/eventReader.ts);
// each role loads only its own modules.
import { parentPort, workerData } from 'node:worker_threads';

const port = parentPort;
if (port) {
  if ((workerData as { role?: string } | null)?.role === 'events') void import('../capture/eventReader.ts').then((m) => m.serveEventReader(port));
  else void import('./taskServer.ts').then((m) => m.serveTask(port));
}
