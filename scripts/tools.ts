// Project tool entry (bundled to dist/secuxflow-tools.js): build-time helpers
// that are not part of the user-facing CLI.
const [cmd] = process.argv.slice(2);
switch (cmd) {
  default:
    process.stderr.write(`secuxflow-tools: unknown command '${cmd ?? ''}'\n`);
    process.exitCode = 2;
}
