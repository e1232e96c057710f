// The ingest worker's entry (bundled as dist/ingestWorker.js; loaded from source by the tests): see ingestServer.ts.
import { parentPort } from 'node:worker_threads';
import { serveIngest } from './ingestServer.ts';

if (parentPort) serveIngest(parentPort);
