#!/usr/bin/env node
// Builds every inspector in modules/<name>/index.ts to build/modules/<name>.wasm
// (release target of asconfig.json), and every modules/<name>/*.wat with wabt.
import { readdirSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, basename } from 'node:path';
import { execFileSync } from 'node:child_process';

const root = new URL('..', import.meta.url).pathname;
const outDir = join(root, 'build', 'modules');
mkdirSync(outDir, { recursive: true });
const only = process.argv.slice(2);
const asc = join(root, 'node_modules', '.bin', 'asc');

for (const name of readdirSync(join(root, 'modules'))) {
  const dir = join(root, 'modules', name);
  if (name === 'sdk' || name === 'wit' || name.startsWith('.')) continue;
  if (only.length && !only.includes(name)) continue;
  const entry = join(dir, 'index.ts');
  if (existsSync(entry)) {
    const target = process.env.SECUXFLOW_AS_TARGET ?? 'release';
    execFileSync(asc, [entry, '--config', join(root, 'asconfig.json'), '--target', target, '-o', join(outDir, `${name}.wasm`)], { stdio: 'inherit', cwd: root });
    console.log(`built build/modules/${name}.wasm`);
  }
  for (const f of existsSync(dir) ? readdirSync(dir) : []) {
    if (!f.endsWith('.wat')) continue;
    const wabt = await (await import('wabt')).default();
    const mod = wabt.parseWat(f, readFileSync(join(dir, f), 'utf8'));
    const { buffer } = mod.toBinary({});
    const out = join(outDir, `${basename(f, '.wat')}.wasm`);
    writeFileSync(out, buffer);
    mod.destroy();
    console.log(`built build/modules/${basename(out)} (wat)`);
  }
}
