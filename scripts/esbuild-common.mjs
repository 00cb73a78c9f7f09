// esbuild settings shared by every bundle the project builds (CLI, tools,
// sandbox worker, benchmarks), so they all run the same way under Node 20 ESM.
export const root = new URL('..', import.meta.url).pathname;

export const common = {
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
