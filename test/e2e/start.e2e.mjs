// End to end: `npm start` as a newcomer sees it. Its output is a few lines with the URL last, the URL
// serves the workbench, and Ctrl-C leaves no temp folder behind.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const repoRoot = join(import.meta.dirname, '..', '..');

export const tests = {
  async 'npm start prints one line per step and the URL last, serves it, and Ctrl-C removes its temp folders'() {
    const tmp = mkdtempSync(join(tmpdir(), 'runlens-start-test-')); // its own TMPDIR: what is left is the start's
    const child = spawn(process.execPath, ['--disable-warning=MODULE_TYPELESS_PACKAGE_JSON', join(repoRoot, '.ci', 'start.mjs')], {
      cwd: repoRoot, env: { ...process.env, TMPDIR: tmp }, stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '', stderr = '';
    child.stdout.on('data', (d) => { stdout += d; });
    child.stderr.on('data', (d) => { stderr += d; });
    const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
    try {
      const deadline = Date.now() + 240_000;
      let url;
      while (!(url = /^\s+(http:\/\/127\.0\.0\.1:\d+\/\S+)\s*$/m.exec(stdout)?.[1])) {
        if (Date.now() > deadline || child.exitCode !== null) throw new Error(`no URL from npm start:\n${stdout}\n${stderr}`);
        await new Promise((r) => setTimeout(r, 250));
      }
      await new Promise((r) => setTimeout(r, 500)); // anything printed after the URL would show now
      const lines = stdout.trimEnd().split('\n');
      assert.equal(lines.at(-1).trim(), url, 'the URL is the last line');
      assert.ok(lines.length <= 16, `a short output (${lines.length} lines):\n${stdout}`);
      assert.equal(lines.filter((l) => l.startsWith('[runlens start]')).length, 4, `one line per step:\n${stdout}`);
      assert.match(stdout, /ssh -L \d+:127\.0\.0\.1:\d+/, 'how to reach it from another machine');
      assert.equal(stderr.trim(), '', 'nothing on stderr');
      const page = await fetch(url);
      assert.equal(page.status, 200);
      assert.match(await page.text(), /workbench/i);
      assert.ok(readdirSync(tmp).length >= 2, `the demo copy and the profile are in TMPDIR: ${readdirSync(tmp)}`);
      child.kill('SIGINT'); // what Ctrl-C sends
      const { code } = await exited;
      assert.equal(code, 0);
      assert.deepEqual(readdirSync(tmp), [], 'no temp folder left behind');
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      rmSync(tmp, { recursive: true, force: true });
    }
  },
};
