#!/usr/bin/env node
// Bundles the CLI into one ESM file so `secuxflow` starts fast and runs the
// same when installed globally; also bundles the project's own tool scripts.
import { build } from 'esbuild';
import { chmodSync } from 'node:fs';

import { common, root } from './esbuild-common.mjs';

await build({ ...common, entryPoints: ['cli/main.ts'], outfile: 'dist/secuxflow.js', banner: { js: '#!/usr/bin/env node\n' + common.banner.js } });
chmodSync(`${root}dist/secuxflow.js`, 0o755);
await build({ ...common, entryPoints: ['scripts/tools.ts'], outfile: 'dist/secuxflow-tools.js' });
// Module sandbox workers load this file (host/sandbox/worker-script.ts finds it next to the bundle).
await build({ ...common, entryPoints: ['host/sandbox/worker.ts'], outfile: 'dist/sandbox-worker.js' });
// `npm run demo` (scripts/demo.ts): the namespace lab, the clients and the live event view.
await build({ ...common, entryPoints: ['scripts/demo.ts'], outfile: 'dist/secuxflow-demo.js' });
console.log('built dist/secuxflow.js');
