// Runs mocha suites inside the extension host and writes the results to $RUNLENS_TEST_RESULTS as JSON,
// because exit codes do not travel back through the browser.
import { writeFileSync } from 'node:fs';
import Mocha from 'mocha';
import { measured } from './util.ts';

interface TestResult { title: string; state: 'passed' | 'failed'; durationMs: number; error?: string }

export function runSuites(register: () => void): Promise<void> {
  // RUNLENS_TEST_GREP runs only the tests whose full title contains it (for a developer's run of one file)
  const mocha = new Mocha({ ui: 'bdd', timeout: 30_000, color: false, reporter: 'spec', grep: process.env.RUNLENS_TEST_GREP });
  mocha.suite.emit('pre-require', globalThis, 'runlens-integration', mocha);
  register();
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
