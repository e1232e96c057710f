// The integration suite for a trusted workspace (extensionTestsPath: dist/test/integration.js).
import { runSuites } from './mochaRunner.ts';
import { registerActivationTests } from './activation.test.ts';
import { registerRunsViewTests } from './runsView.test.ts';
import { registerCommandTests } from './commands.test.ts';
import { registerStartRunTests } from './startRun.test.ts';
import { registerCompareTests } from './compare.test.ts';
import { registerRunsFilterTests } from './runsFilter.test.ts';
import { registerScaleTests } from './scale.test.ts';
import { registerCaptureTests } from './capture.test.ts';
import { registerImportExportTests } from './importExport.test.ts';
import { registerModelTests } from './models.test.ts';
import { registerSweepTests } from './sweeps.test.ts';
import { registerHparamTests } from './hparams.test.ts';
import { registerFaultTests } from './faults.test.ts';
import { registerAnywhereTests } from './anywhere.test.ts';
import { registerMigratedStoreTests } from './migratedStore.test.ts';
import { registerResponsivenessTests } from './responsiveness.test.ts';
import { registerHealthTests } from './health.test.ts';
import { registerEvaluationTests } from './evaluations.test.ts';

export function run(): Promise<void> {
  return runSuites(() => {
    registerActivationTests();
    registerRunsViewTests();
    registerCommandTests();
    registerStartRunTests();
    registerAnywhereTests();
    registerFaultTests();
    registerRunsFilterTests();
    registerCompareTests();
    registerHparamTests();
    registerCaptureTests();
    registerImportExportTests();
    registerSweepTests();
    registerModelTests();
    registerHealthTests();
    registerEvaluationTests();
    registerMigratedStoreTests();
    registerResponsivenessTests();
    registerScaleTests();
  });
}
