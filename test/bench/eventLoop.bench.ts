// The editor's responsiveness while a run streams: a launched Python run logs N points through the
// helper (runlens.log) while a RunMonitor follows it the way RunController does (a 250 ms timer, a
// tick on every worker notice, each tick through StoreWrites). The event-loop delay of this thread
// (perf_hooks.monitorEventLoopDelay) with ingest on this thread (today) and in the worker, in the
// same run, and the same stream with nothing ingesting (what the machine itself allows). Every point
// must arrive exactly once in both.
import { delimiter, join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Store } from '../../src/core/store/store.ts';
import { launch, runEnvironment } from '../../src/core/runs/launch.ts';
import { readExit } from '../../src/core/runs/runProcess.ts';
import { RunMonitor } from '../../src/core/runs/runMonitor.ts';
import { ALL_KINDS, type ChangeKind, StoreWrites } from '../../src/core/store/storeWrites.ts';
import { type Report, tempDir } from './util.ts';
import { INGEST_WORKER } from '../fault/fixtures/writerRun.ts';

const scale = Number(process.env.BENCH_SCALE ?? 1);
const POINTS = Math.round(10_000_000 * scale / 2) * 2;
const root = join(import.meta.dirname, '..', '..');

/** Logs POINTS / 2 steps of loss and acc (the helper bench's values) and finishes. */
const script = (steps: number) => `
import runlens
log = runlens.log
for i in range(${steps}):
    log({"loss": 1.0 / (i + 1) + 0.25, "acc": (i % 1000) / 1001.0}, step=i)
runlens.finish()
`;

interface Measured { p99: number; max: number; pointsPerSecond: number; stallShare: number; notices: number }

/** `none`: the run streams and nothing ingests it (what the writer alone costs this thread: the floor). */
type Mode = 'none' | 'inline' | 'worker';

async function stream(mode: Mode): Promise<Measured> {
  const dir = tempDir();
  const storeDir = join(dir, '.runlens');
  const store = Store.open(storeDir);
  const env = runEnvironment(process.env, join(root, 'media', 'python'), delimiter);
  let monitor: RunMonitor | undefined;
  const writes = new StoreWrites({ store: () => store, fire: () => {}, watched: () => monitor?.watching ?? false });
  writes.check(store);
  let notices = 0;
  const tick = () => {
    const before = monitor!.runningIds;
    writes.writeSteps((ids: number[]): readonly ChangeKind[] => (monitor!.othersCommitted ? ALL_KINDS
      : !ids.length ? [] : before.some((id) => !monitor!.runningIds.includes(id)) ? ['runs', 'metrics'] : ['metrics']), () => monitor!.tick());
  };
  if (mode !== 'none') {
    monitor = new RunMonitor(store, storeDir, {
      parse: () => undefined, log: (m) => console.warn(`  [${mode}] ${m}`),
      ...(mode === 'worker' ? { worker: { script: INGEST_WORKER, onNotice: () => { notices++; tick(); } } } : {}),
    });
    await monitor.started; // a window starts its worker once, when it first follows runs
    if (mode === 'worker' && !monitor.inWorker) throw new Error('the worker did not start');
  }
  const run = launch(store, storeDir, join(root, 'media', 'run-wrapper.cjs'), {
    name: `stream-${mode}`, spec: { command: 'python3', args: ['-c', script(POINTS / 2)], shell: false, cwd: dir, env },
  });
  monitor?.track(run);
  const h = monitorEventLoopDelay({ resolution: 10 });
  // Stalls: how much of the wall time this thread spent in gaps over 50 ms between timer turns.
  let last = performance.now(), stalled = 0;
  const probe = setInterval(() => { const now = performance.now(); if (now - last > 50) stalled += now - last; last = now; }, 10);
  h.enable();
  const t0 = performance.now();
  const timer = monitor ? setInterval(tick, 250) : undefined;
  const going = () => (monitor ? monitor.runningIds.length > 0 : !readExit(storeDir, run.uid));
  while (going()) await new Promise((r) => setTimeout(r, 50));
  const seconds = (performance.now() - t0) / 1000;
  h.disable();
  clearInterval(timer);
  clearInterval(probe);
  if (mode === 'worker' && !monitor!.inWorker) throw new Error('the worker fell back to this thread');
  monitor?.dispose();
  if (monitor) check(store, run.id, POINTS / 2);
  store.close();
  return { p99: h.percentile(99) / 1e6, max: h.max / 1e6, pointsPerSecond: POINTS / seconds, stallShare: stalled / 1000 / seconds, notices };
}

/** Every step 0..steps-1 of loss and acc exactly once, in order, with the logged value. */
function check(store: Store, runId: number, steps: number): void {
  if (store.runs.get(runId)?.status !== 'finished') throw new Error(`the run is ${store.runs.get(runId)?.status}, not finished`);
  for (const [key, f] of [['loss', (i: number) => 1 / (i + 1) + 0.25], ['acc', (i: number) => (i % 1000) / 1001]] as const) {
    const p = store.metrics.points(runId, key);
    if (p.values.length !== steps) throw new Error(`${key}: ${p.values.length} points stored, ${steps} logged`);
    for (let i = 0; i < steps; i++) {
      if (p.steps[i] !== i || p.values[i] !== f(i)) throw new Error(`${key}: point ${i} is step ${p.steps[i]} = ${p.values[i]}, logged step ${i} = ${f(i)}`);
    }
  }
}

export async function benchEventLoop(report: Report): Promise<void> {
  const none = await stream('none');
  const inline = await stream('inline');
  const worker = await stream('worker');
  const n = POINTS.toLocaleString('en');
  const pct = (m: Measured) => `${(100 * m.stallShare).toFixed(0)}%`;
  console.log(`\n(event loop while ${n} points stream: stalls over 50 ms take ${pct(inline)} of the wall time with ingest on this thread, `
    + `${pct(worker)} with the worker, ${pct(none)} with no ingest; ${worker.notices} worker notices; every point stored once in both)`);
  report(`event-loop delay p99 while a run streams ${n} points, ingest in a worker`, worker.p99, 'ms', [
    ['ingest on the extension host thread (today)', inline.p99], ['the same stream, nothing ingesting (the machine\'s floor)', none.p99],
  ], { higherIsBetter: false, target: '< 20 ms' });
  report(`event-loop delay max while a run streams ${n} points, ingest in a worker`, worker.max, 'ms', [
    ['ingest on the extension host thread (today)', inline.max], ['nothing ingesting', none.max],
  ], { higherIsBetter: false });
  report(`stream of ${n} points through the helper, launched to stored and finished, ingest in a worker`, worker.pointsPerSecond, 'points/s', [
    ['ingest on the extension host thread (today)', inline.pointsPerSecond], ['the writer alone (launched to exited, nothing stored)', none.pointsPerSecond],
  ], { higherIsBetter: true });
}
