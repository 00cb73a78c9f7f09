#!/usr/bin/env node
// Builds every modules/<dir>/<name>.component.wat into the component
// build/modules/<name>.wasm: wabt compiles the core module, jco embeds the
// WIT world of modules/wit/inspector.wit (world "inspector"; passed as text,
// since jco's wasm-tools sees no host filesystem) and wraps it as a component.
import { readdirSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const outDir = join(root, 'build', 'modules');
const witDir = join(root, 'modules', 'wit');
mkdirSync(outDir, { recursive: true });

export async function buildComponents(only = []) {
  const { componentEmbed, componentNew } = await import('@bytecodealliance/jco');
  const wabt = await (await import('wabt')).default();
  for (const dir of readdirSync(join(root, 'modules'))) {
    if (only.length && !only.includes(dir)) continue;
    const full = join(root, 'modules', dir);
    if (!statSync(full).isDirectory()) continue;
    for (const f of readdirSync(full)) {
      if (!f.endsWith('.component.wat')) continue;
      const name = f.slice(0, -'.component.wat'.length);
      const mod = wabt.parseWat(f, readFileSync(join(full, f), 'utf8'), { bulk_memory: true, multi_value: true });
      mod.validate();
      const core = mod.toBinary({}).buffer;
      mod.destroy();
      const embedded = await componentEmbed({ binary: core, witSource: readFileSync(join(witDir, 'inspector.wit'), 'utf8'), world: 'inspector', stringEncoding: 'utf8' });
      const component = await componentNew(embedded);
      writeFileSync(join(outDir, `${name}.wasm`), component);
      console.log(`built build/modules/${name}.wasm (component, world secuxflow:inspector/inspector)`);
    }
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await buildComponents(process.argv.slice(2));
