// Project tool entry (bundled to dist/secuxflow-tools.js): build-time helpers
// that are not part of the user-facing CLI.
import { writeSamples } from '../host/capture/samples.js';
import { describeError } from '../host/errors.js';

const [cmd, ...args] = process.argv.slice(2);
try {
  switch (cmd) {
    case 'make-samples': {
      const dir = args[0];
      if (!dir) {
        process.stderr.write('usage: secuxflow-tools make-samples <dir>\n');
        process.exitCode = 2;
        break;
      }
      const out = writeSamples(dir);
      process.stdout.write(`wrote ${out.frames} frames to ${out.pcap} and ${out.pcapng}\n`);
      break;
    }
    default:
      process.stderr.write(`secuxflow-tools: unknown command '${cmd ?? ''}' (known: make-samples)\n`);
      process.exitCode = 2;
  }
} catch (e) {
  process.stderr.write(`secuxflow-tools ${cmd}: ${describeError(e)}\n`);
  process.exitCode = 1;
}
