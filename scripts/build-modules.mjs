#!/usr/bin/env node
// Builds every inspector: modules/<name>/index.ts with AssemblyScript
// (asconfig.json target, release unless SECUXFLOW_AS_TARGET says otherwise)
// and every modules/<name>/*.wat with wabt, into build/modules/<file>.wasm.
// Usage: node scripts/build-modules.mjs [name...]   (V=1 prints the commands)
import { readdirSync, existsSync, mkdirSync, readFileSync, writeFileSync, renameSync, statSync } from 'node:fs';
import { join, basename } from 'node:path';
import { execFileSync } from 'node:child_process';

const root = new URL('..', import.meta.url).pathname;
const outDir = join(root, 'build', 'modules');
const only = process.argv.slice(2);
const asc = join(root, 'node_modules', '.bin', 'asc');
const target = process.env.SECUXFLOW_AS_TARGET ?? 'release';
const verbose = process.env.V === '1';
// sdk is the library every module imports, not a module itself.
const NOT_MODULES = new Set(['sdk', 'wit']);

mkdirSync(outDir, { recursive: true });
const names = readdirSync(join(root, 'modules')).filter((n) =>
  !NOT_MODULES.has(n) && !n.startsWith('.') && statSync(join(root, 'modules', n)).isDirectory());
const unknown = only.filter((n) => !names.includes(n));
if (unknown.length) {
  console.error(`build-modules: no module named ${unknown.join(', ')} (modules: ${names.join(', ')})`);
  process.exit(2);
}

let wabt = null;
let failed = 0;

function buildAs(name, entry) {
  const out = join(outDir, `${name}.wasm`);
  const tmp = `${out}.${process.pid}.tmp`;
  // A module that needs other limits (http_waf: more memory) has an asconfig.json extending ours.
  const own = join('modules', name, 'asconfig.json');
  const args = [join('modules', name, 'index.ts'), '--config', existsSync(join(root, own)) ? own : 'asconfig.json', '--target', target, '-o', tmp];
  if (verbose) console.log(`asc ${args.join(' ')}`);
  try {
    execFileSync(asc, args, { stdio: ['ignore', 'inherit', 'inherit'], cwd: root });
  } catch {
    console.error(`build-modules: AssemblyScript failed for ${entry} (errors above)`);
    failed++;
    return;
  }
  // rename so a test or a running engine never reads half a file
  renameSync(tmp, out);
  console.log(`built build/modules/${name}.wasm`);
}

async function buildWat(file) {
  wabt ??= await (await import('wabt')).default();
  const out = join(outDir, `${basename(file, '.wat')}.wasm`);
  let mod = null;
  try {
    mod = wabt.parseWat(file, readFileSync(file, 'utf8'), { bulk_memory: true, mutable_globals: true, sign_extension: true, sat_float_to_int: true, multi_value: true });
    mod.resolveNames();
    mod.validate();
    writeFileSync(out, mod.toBinary({ log: false, write_debug_names: true }).buffer);
    console.log(`built build/modules/${basename(out)} (wat)`);
  } catch (e) {
    console.error(`build-modules: ${String(e.message ?? e).trim()}`);
    failed++;
  } finally {
    mod?.destroy();
  }
}

for (const name of names) {
  if (only.length && !only.includes(name)) continue;
  const dir = join(root, 'modules', name);
  const entry = join(dir, 'index.ts');
  if (existsSync(entry)) buildAs(name, entry);
  for (const f of readdirSync(dir)) {
    // *.component.wat are cores of components: scripts/build-components.mjs builds them below.
    if (f.endsWith('.wat') && !f.endsWith('.component.wat')) await buildWat(join(dir, f));
  }
}
if (failed) {
  console.error(`build-modules: ${failed} module(s) failed to build`);
  process.exit(1);
}

await (await import('./build-components.mjs')).buildComponents(only);
