#!/usr/bin/env node
// Builds the kernel half of secuxflow: the XDP object (build/xdp/) and the
// Node-API addon (build/Release/secuxflow_native.node). Runs on `npm install`:
// when libbpf/libxdp or clang are missing it explains how to get them and
// exits 0, so the offline features still install. `--force` (build:native)
// fails loudly instead.
import { existsSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { createRequire } from 'node:module';

const root = new URL('..', import.meta.url).pathname;
const force = process.argv.includes('--force');
const FIX = 'sudo bash scripts/install-system-deps.sh && npm run build:native';

function which(cmd) {
  try {
    execFileSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

const missing = [];
if (!existsSync('/usr/include/bpf/libbpf.h')) missing.push('libbpf-dev (bpf/libbpf.h)');
if (!existsSync('/usr/include/xdp/libxdp.h')) missing.push('libxdp-dev (xdp/libxdp.h)');
if (!which('clang')) missing.push('clang');
if (!which('make')) missing.push('make');

if (missing.length) {
  const msg = `secuxflow: kernel features unavailable: missing ${missing.join(', ')}.\n  fix: ${FIX}\n`;
  process.stderr.write(msg);
  process.exit(force ? 1 : 0);
}

function nodeGyp() {
  if (process.env.npm_config_node_gyp && existsSync(process.env.npm_config_node_gyp)) return process.env.npm_config_node_gyp;
  try {
    return createRequire(import.meta.url).resolve('node-gyp/bin/node-gyp.js');
  } catch {
    // npm ships its own copy next to itself
  }
  const bundled = join(dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js');
  return existsSync(bundled) ? bundled : null;
}

try {
  const gyp = nodeGyp();
  if (!gyp) throw new Error('node-gyp not found (it ships with npm)');
  // Use the headers of the running Node when they are installed, so no download is needed.
  const nodeDir = join(dirname(process.execPath), '..');
  const extra = existsSync(join(nodeDir, 'include', 'node', 'node_api.h')) ? [`--nodedir=${nodeDir}`] : [];
  // configure + build, not rebuild: rebuild wipes build/, which also holds build/modules.
  for (const step of ['configure', 'build']) {
    execFileSync(process.execPath, [gyp, step, '--silent', ...extra], { stdio: 'inherit', cwd: root });
  }
  execFileSync('make', ['-C', join(root, 'xdp'), ...(process.env.V ? ['V=1'] : [])], { stdio: 'inherit' });
  console.log('built build/xdp/secuxflow.bpf.o and build/Release/secuxflow_native.node');
} catch (e) {
  process.stderr.write(`secuxflow: building the kernel parts failed: ${e.message}\n  fix: ${FIX}\n`);
  process.exit(force ? 1 : 0);
}
