#!/usr/bin/env node
// Bundles the CLI into one ESM file so `secuxflow` starts fast and runs the
// same when installed globally; also bundles the project's own tool scripts.
import { build } from 'esbuild';
import { chmodSync } from 'node:fs';

const root = new URL('..', import.meta.url).pathname;
const common = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'esm',
  sourcemap: true,
  absWorkingDir: root,
  // The native addon is loaded at run time from build/Release, never bundled.
  external: ['*.node'],
  // CommonJS dependencies (wabt) expect require and __dirname inside the ESM bundle.
  banner: { js: "import { createRequire as __sfCreateRequire } from 'node:module'; import { fileURLToPath as __sfFileUrl } from 'node:url'; import { dirname as __sfDirname } from 'node:path'; const require = __sfCreateRequire(import.meta.url); const __filename = __sfFileUrl(import.meta.url); const __dirname = __sfDirname(__filename);" },
  logLevel: 'warning',
};

await build({ ...common, entryPoints: ['cli/main.ts'], outfile: 'dist/secuxflow.js', banner: { js: '#!/usr/bin/env node\n' + common.banner.js } });
chmodSync(`${root}dist/secuxflow.js`, 0o755);
await build({ ...common, entryPoints: ['scripts/tools.ts'], outfile: 'dist/secuxflow-tools.js' });
// Module sandbox workers load this file (host/sandbox/worker-script.ts finds it next to the bundle).
await build({ ...common, entryPoints: ['host/sandbox/worker.ts'], outfile: 'dist/sandbox-worker.js' });
console.log('built dist/secuxflow.js');
