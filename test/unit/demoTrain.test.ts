// The demo's train.py, as sweep trials run it: several processes at once in one folder.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const demo = resolve(import.meta.dirname, '../../demo');

test('two trials writing outputs/model.json at the same moment both succeed, and leave no temp file', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'runlens-demo-write-'));
  try {
    // write_json as train.py has it, 300 times from each of two processes (the old shared "model.json.tmp" failed here)
    const script = [
      'import sys', `sys.path.insert(0, ${JSON.stringify(demo)})`, 'import train',
      'for i in range(300): train.write_json(sys.argv[1], {"i": i, "w": list(range(200))})',
    ].join('\n');
    const target = join(dir, 'model.json');
    const one = () => new Promise<{ code: number | null; err: string }>((done) => {
      const p = spawn('python3', ['-B', '-c', script, target], { stdio: ['ignore', 'ignore', 'pipe'] });
      let err = '';
      p.stderr.on('data', (d) => { err += d; });
      p.on('exit', (code) => done({ code, err }));
    });
    const results = await Promise.all([one(), one()]);
    for (const r of results) assert.equal(r.code, 0, r.err);
    assert.equal(JSON.parse(readFileSync(target, 'utf8')).i, 299);
    assert.deepEqual(readdirSync(dir), ['model.json']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
