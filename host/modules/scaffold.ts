// `module new`: a self-contained AssemblyScript inspector project from
// templates/module, with the SDK copied in (so the project builds without
// secuxflow's sources) and the compiler/test versions this secuxflow was
// built and tested with.
import { cpSync, existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { SecuxflowError } from '../errors.js';
import { makeDirs, type MakeDirsOptions } from '../fs/make-dirs.js';
import { packageRoot } from '../paths.js';

export interface ScaffoldResult {
  dir: string;
  files: string[];
}

/** Template files whose names npm would mangle or act on carry a .tmpl suffix. */
const RENAMES: Record<string, string> = { 'package.json.tmpl': 'package.json', 'gitignore.tmpl': '.gitignore' };

function className(name: string): string {
  return name.split(/[-_]/).filter(Boolean).map((p) => p[0]!.toUpperCase() + p.slice(1)).join('') + 'Inspector';
}

function toolVersions(root: string): { asc: string; vitest: string } {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { devDependencies?: Record<string, string> };
  const dev = pkg.devDependencies ?? {};
  return { asc: dev.assemblyscript ?? '^0.28.0', vitest: dev.vitest ?? '^4.0.0' };
}

function walk(dir: string, out: string[] = []): string[] {
  for (const f of readdirSync(dir)) {
    const p = join(dir, f);
    if (statSync(p).isDirectory()) walk(p, out);
    else out.push(p);
  }
  return out;
}

export function scaffoldModule(name: string, dir?: string): ScaffoldResult {
  const root = packageRoot();
  const templates = join(root, 'templates', 'module');
  const sdk = join(root, 'modules', 'sdk');
  if (!existsSync(templates) || !existsSync(sdk)) {
    throw new SecuxflowError('E_INTERNAL', `the module template (${templates}) or the SDK (${sdk}) is missing from this installation`, 'reinstall secuxflow');
  }
  // resolve('') is the current directory, which would then be blamed for being in the way.
  if (dir !== undefined && dir.trim() === '') throw new SecuxflowError('E_USAGE', '--dir is empty', `give a directory, or leave --dir out to create ./${name}`);
  const target = resolve(dir ?? name);
  if (existsSync(target) && !statSync(target).isDirectory()) {
    throw new SecuxflowError('E_USAGE', `${target} is a file, not a directory`, 'choose another --dir');
  }
  if (existsSync(target) && readdirSync(target).length > 0) {
    throw new SecuxflowError('E_USAGE', `${target} already exists and is not an empty directory`, 'choose another --dir, or remove it');
  }
  const dirs: MakeDirsOptions = { what: 'the project directory', instead: 'choose another --dir' };
  makeDirs(target, dirs);
  const versions = toolVersions(root);
  const fill = (text: string): string => text
    .replaceAll('__NAME__', name).replaceAll('__CLASS__', className(name))
    .replaceAll('__ASC_VERSION__', versions.asc).replaceAll('__VITEST_VERSION__', versions.vitest);
  const files: string[] = [];
  try {
    for (const src of walk(templates)) {
      const rel = relative(templates, src);
      const base = rel.split('/').pop()!;
      const out = join(target, dirname(rel), RENAMES[base] ?? base);
      makeDirs(dirname(out), dirs);
      writeFileSync(out, fill(readFileSync(src, 'utf8')));
      files.push(relative(target, out));
    }
    cpSync(sdk, join(target, 'sdk'), { recursive: true });
    for (const f of walk(join(target, 'sdk'))) files.push(relative(target, f));
  } catch (e) {
    if (e instanceof SecuxflowError) throw e;
    throw new SecuxflowError('E_IO', `cannot write the project into ${target}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
  }
  return { dir: target, files: files.sort() };
}
