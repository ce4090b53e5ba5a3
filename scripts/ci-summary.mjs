// Reads vitest's JSON report: fails when the PostgreSQL variant of the system tests did not run
// (CI sets DATABASE_URL precisely so that it does), and prints the closing "N passed, N failed".
import { existsSync, readFileSync } from 'node:fs';

const file = process.argv[2];
if (!file || !existsSync(file)) {
  console.log('0 passed, 1 failed');
  console.error(`no test report at ${file}: the test run did not complete`);
  process.exit(1);
}
const report = JSON.parse(readFileSync(file, 'utf8'));
const results = report.testResults.flatMap((suite) => suite.assertionResults);
const passed = results.filter((r) => r.status === 'passed').length;
const failed = results.filter((r) => r.status === 'failed').length + (report.numFailedTestSuites ?? 0);
const postgresRan = results.filter((r) => r.status === 'passed' && /on postgres database/.test(r.fullName)).length;
let ok = failed === 0 && passed > 0;
if (postgresRan === 0) {
  console.error('The PostgreSQL variant of the system tests did not run (is DATABASE_URL set?)');
  ok = false;
} else {
  console.error(`PostgreSQL variant: ${postgresRan} test(s) passed`);
}
// The agent-binary tests skip themselves when no binaries were built; in CI they were built first.
const skippedBinaryTests = results.filter((r) => r.status !== 'passed' && /binary|install script|Windows/i.test(r.fullName));
if (process.env.CI && skippedBinaryTests.length > 0) {
  console.error(`Agent binary tests did not pass in CI: ${skippedBinaryTests.map((r) => r.fullName).join('; ')}`);
  ok = false;
}
console.log(`${passed} passed, ${ok ? failed : Math.max(failed, 1)} failed`);
process.exit(ok ? 0 : 1);
