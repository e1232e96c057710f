#!/usr/bin/env node
// The `runlens` command (bundled as dist/cli.js): see commands.ts.
import { main } from './commands.ts';

main(process.argv.slice(2), {
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
  cwd: process.cwd(),
  env: process.env,
}).then((code) => { process.exitCode = code; }, (err: unknown) => {
  process.stderr.write(`runlens: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exitCode = 2;
});
