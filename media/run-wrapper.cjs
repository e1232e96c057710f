#!/usr/bin/env node
// Starts a training command for RunLens and records how it ended.
// RunLens starts this wrapper detached, as the leader of a new process group, with stdout and
// stderr going to the run's log file. The wrapper outlives a window reload; when the command ends
// it writes exit.json (atomically) into the run folder, which RunLens reads to finish the run.
//   RUNLENS_LAUNCH='{"command","args","cwd","shell"}' node run-wrapper.cjs <run folder>
// The command comes in the environment: <run folder>/launch.json is its stored copy, secrets redacted.
'use strict';
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const runDir = process.argv[2];
const spec = JSON.parse(process.env.RUNLENS_LAUNCH || 'null');
let signalled = null;

function finish(record) {
  const file = path.join(runDir, 'exit.json');
  const tmp = `${file}.tmp`;
  fs.writeFileSync(tmp, JSON.stringify({ ...record, signalled, endedAt: Date.now() }));
  const fd = fs.openSync(tmp, 'r');
  fs.fsyncSync(fd);
  fs.closeSync(fd);
  fs.renameSync(tmp, file);
  process.exit(0);
}

// The stop signal goes to the whole group: the command gets it too. Remember it, keep waiting.
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(sig, () => { signalled = sig; });

if (!spec) finish({ code: 127, signal: null, error: 'RUNLENS_LAUNCH is not set: RunLens starts this wrapper with the command in it' });

// The environment comes from this process (never written to disk: it may hold secrets).
const env = { ...process.env };
delete env.ELECTRON_RUN_AS_NODE; // set only so VS Code's own binary could run this wrapper
delete env.RUNLENS_LAUNCH;
const child = spawn(spec.command, spec.args, { cwd: spec.cwd, env, stdio: 'inherit', shell: spec.shell });
child.on('error', (err) => finish({ code: 127, signal: null, error: `could not start ${spec.command}: ${err.message}` }));
child.on('exit', (code, signal) => finish({ code, signal }));
