#!/usr/bin/env node
// Prints "N passed, N failed, N skipped" from vitest's JSON report, so CI logs
// carry a test count in a form any log reader understands.
import { readFileSync } from 'node:fs';

const file = process.argv[2] ?? '.vitest-results.json';
let report;
try {
  report = JSON.parse(readFileSync(file, 'utf8'));
} catch (e) {
  console.log(`no vitest JSON report at ${file}: ${e.message}`);
  process.exit(1);
}
const passed = report.numPassedTests ?? 0;
const failed = report.numFailedTests ?? 0;
const skipped = (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0);
console.log(`${passed} passed, ${failed} failed, ${skipped} skipped`);
if (failed > 0 || (report.numFailedTestSuites ?? 0) > 0) process.exitCode = 1;
