// Runs inside the real VS Code extension host (code-server, or @vscode/test-electron).
// Exports run(), the extensionTestsPath contract; results also go to $RUNLENS_TEST_RESULTS as JSON,
// because exit codes do not travel back through the browser.
import { writeFileSync } from 'node:fs';
import Mocha from 'mocha';
import { measured } from './util.ts';
import { registerActivationTests } from './activation.test.ts';
import { registerRunsViewTests } from './runsView.test.ts';
import { registerCommandTests } from './commands.test.ts';
import { registerStartRunTests } from './startRun.test.ts';

interface TestResult { title: string; state: 'passed' | 'failed'; durationMs: number; error?: string }

export function run(): Promise<void> {
  const mocha = new Mocha({ ui: 'bdd', timeout: 30_000, color: false, reporter: 'spec' });
  mocha.suite.emit('pre-require', globalThis, 'runlens-integration', mocha);
  registerActivationTests();
  registerRunsViewTests();
  registerCommandTests();
  registerStartRunTests();

  const results: TestResult[] = [];
  return new Promise((resolve, reject) => {
    const runner = mocha.run((failures) => {
      const passed = results.filter((r) => r.state === 'passed').length;
      const summary = { passed, failed: results.length - passed, measured, tests: results };
      if (process.env.RUNLENS_TEST_RESULTS) writeFileSync(process.env.RUNLENS_TEST_RESULTS, JSON.stringify(summary, null, 2));
      if (failures > 0) reject(new Error(`${failures} integration tests failed`));
      else resolve();
    });
    runner.on('pass', (t) => results.push({ title: t.fullTitle(), state: 'passed', durationMs: t.duration ?? 0 }));
    runner.on('fail', (t, err: Error) => results.push({
      title: t.fullTitle(), state: 'failed', durationMs: t.duration ?? 0, error: `${err.message}\n${err.stack ?? ''}`,
    }));
  });
}
