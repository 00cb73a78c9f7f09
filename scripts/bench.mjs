#!/usr/bin/env node
// `npm run bench`: runs every benchmark, writes bench/results/<name>.json, and
// refreshes the summary between the bench markers in README.md.
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { common, root } from './esbuild-common.mjs';

const results = join(root, 'bench', 'results');
mkdirSync(results, { recursive: true });
const args = process.argv.slice(2);
// --summary: only rewrite the README tables from the JSON already in bench/results.
const summaryOnly = args.includes('--summary');
const only = args.filter((a) => !a.startsWith('--'));
const want = (name) => !summaryOnly && (only.length === 0 || only.includes(name));

async function bundle(entry, out) {
  await build({ ...common, entryPoints: [entry], outfile: out });
}

function run(name, argv) {
  console.log(`\n== bench: ${name}`);
  execFileSync(process.execPath, argv, { stdio: 'inherit', cwd: root });
}

if (want('engine')) {
  await bundle('bench/engine-bench.ts', 'dist/bench-engine.js');
  run('engine', ['dist/bench-engine.js', join(results, 'engine.json'), process.env.SECUXFLOW_BENCH_PACKETS ?? '200000']);
}
if (want('kernel') && existsSync(join(root, 'bench', 'kernel.mjs'))) {
  run('kernel', ['bench/kernel.mjs', join(results, 'kernel.json')]);
}
for (const f of existsSync(join(root, 'bench')) ? readdirSync(join(root, 'bench')) : []) {
  // Further suites register themselves as bench/<name>-bench.ts exporting nothing but a main.
  const m = /^(.+)-bench\.ts$/.exec(f);
  if (!m || m[1] === 'engine' || m[1] === 'module' || !want(m[1])) continue;
  await bundle(join('bench', f), `dist/bench-${m[1]}.js`);
  run(m[1], [`dist/bench-${m[1]}.js`, join(results, `${m[1]}.json`)]);
}

// README summary: one table per result file, keys as rows.
const sections = [];
for (const f of readdirSync(results).filter((x) => x.endsWith('.json')).sort()) {
  const data = JSON.parse(readFileSync(join(results, f), 'utf8'));
  const rows = Object.entries(flatten(data)).map(([k, v]) => `| ${k} | ${v} |`);
  sections.push(`**${f.replace(/\.json$/, '')}** (\`bench/results/${f}\`)\n\n| measure | value |\n| --- | --- |\n${rows.join('\n')}`);
}
const readmePath = join(root, 'README.md');
const readme = readFileSync(readmePath, 'utf8');
const start = '<!-- bench:start -->';
const end = '<!-- bench:end -->';
const i = readme.indexOf(start);
const j = readme.indexOf(end);
if (i >= 0 && j > i) {
  const stamp = `Last run: ${new Date().toISOString().slice(0, 16)}Z on ${process.platform}/${process.arch}, Node ${process.version}. Ratios compare measures taken in the same run.`;
  writeFileSync(readmePath, readme.slice(0, i + start.length) + `\n${stamp}\n\n${sections.join('\n\n')}\n` + readme.slice(j));
  console.log('\nREADME.md benchmark summary refreshed');
}

function flatten(obj, prefix = '', out = {}) {
  for (const [k, v] of Object.entries(obj)) {
    const key = prefix ? `${prefix}.${k}` : k;
    if (v && typeof v === 'object' && !Array.isArray(v)) flatten(v, key, out);
    // Per-run arrays stay in the JSON; the README keeps the figures a reader compares.
    else if (!Array.isArray(v)) out[key] = v;
    else if (v.length <= 4 && v.every((x) => typeof x !== 'object')) out[key] = JSON.stringify(v);
  }
  return out;
}
