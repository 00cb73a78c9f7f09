#!/usr/bin/env node
// Kernel benchmark entry for `npm run bench`: bundles bench/kernel/run.ts
// (it reuses the real rule compiler and codecs) and runs it.
// Usage: node bench/kernel.mjs [out.json]   (default bench/results/kernel.json)
import { build } from 'esbuild';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const root = new URL('..', import.meta.url).pathname;
const out = join(root, 'dist', 'bench-kernel.js');
await build({
  entryPoints: [join(root, 'bench', 'kernel', 'run.ts')], outfile: out, bundle: true, platform: 'node', target: 'node20',
  format: 'esm', absWorkingDir: root, external: ['*.node'], logLevel: 'warning',
  banner: { js: "import { createRequire as __r } from 'node:module'; const require = __r(import.meta.url);" },
});
const { main } = await import(pathToFileURL(out).href);
await main(process.argv[2] ?? join(root, 'bench', 'results', 'kernel.json'));
