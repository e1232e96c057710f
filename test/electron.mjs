// npm run test:electron: the same integration suite in desktop VS Code via @vscode/test-electron.
// It downloads VS Code, so it needs internet; CI here runs the suite in code-server instead (npm test).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { runTests } from '@vscode/test-electron';
import { prepareDemoWorkspace } from './harness/demoWorkspace.mjs';

const root = join(import.meta.dirname, '..');
const resultsFile = join(tmpdir(), `runlens-electron-${process.pid}.json`);
const workspace = prepareDemoWorkspace();
try {
  await runTests({
    extensionDevelopmentPath: root,
    extensionTestsPath: join(root, 'dist', 'test', 'integration.js'),
    launchArgs: [workspace, '--disable-extensions', '--disable-workspace-trust'],
    extensionTestsEnv: { RUNLENS_TEST_RESULTS: resultsFile },
  });
} finally {
  try {
    const r = JSON.parse(readFileSync(resultsFile, 'utf8'));
    console.log(`${r.passed} passed, ${r.failed} failed`);
  } catch {
    console.log('0 passed, 1 failed (no results were written)');
    process.exitCode = 1;
  }
}
