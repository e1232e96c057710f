// The task worker's entry (bundled as dist/taskWorker.js; loaded from source by the tests): see taskServer.ts.
import { parentPort } from 'node:worker_threads';
import { serveTask } from './taskServer.ts';

if (parentPort) serveTask(parentPort);
