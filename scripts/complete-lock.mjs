#!/usr/bin/env node
// Completes package-lock.json so that `npm ci` accepts it.
//
// jco pulls in native helpers as optional per-platform packages; the registry
// this project installs from does not serve some of them (win32, linux-arm64
// musl), so `npm install` writes a lock without them, and `npm ci` then
// refuses the lock as out of sync with package.json. Those packages can never
// be installed on our Linux x64 machines anyway: this adds a lock entry for
// each missing optional platform package (version and os/cpu/libc taken from
// its name), which npm ci skips by platform without fetching it.
//
// Run after any `npm install` that rewrites the lock: node scripts/complete-lock.mjs
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { root } from './esbuild-common.mjs';

const path = join(root, 'package-lock.json');
const lock = JSON.parse(readFileSync(path, 'utf8'));
const packages = lock.packages;

/** os/cpu/libc of a platform package from its name's suffix, or null when the name says none. */
function platformOf(name) {
  const m = /-(darwin|linux|win32)-(x64|arm64)(?:-(gnu|musl|msvc))?$/.exec(name);
  if (!m) return null;
  return { os: [m[1]], cpu: [m[2]], ...(m[3] === 'gnu' || m[3] === 'musl' ? { libc: [m[3]] } : {}) };
}

const added = [];
for (const [at, entry] of Object.entries(packages)) {
  for (const [name, version] of Object.entries(entry.optionalDependencies ?? {})) {
    const key = `node_modules/${name}`;
    const nested = at === '' ? key : `${at}/${key}`;
    if (packages[key] || packages[nested]) continue;
    const platform = platformOf(name);
    if (!platform) continue; // not a platform package: npm must resolve it for real
    const sibling = Object.entries(packages).find(([k]) => k.startsWith(key.replace(/-(darwin|linux|win32)-.*$/, '-')) && k !== key);
    packages[key] = {
      version,
      ...platform,
      ...(sibling?.[1].license ? { license: sibling[1].license } : {}),
      optional: true,
      ...(sibling?.[1].engines ? { engines: sibling[1].engines } : {}),
    };
    added.push(`${name}@${version}`);
  }
}

lock.packages = Object.fromEntries(Object.entries(packages).sort(([a], [b]) => (a === '' ? -1 : b === '' ? 1 : a < b ? -1 : a > b ? 1 : 0)));
writeFileSync(path, `${JSON.stringify(lock, null, 2)}\n`);
console.log(added.length ? `added ${added.length} platform entries: ${added.join(', ')}` : 'package-lock.json already complete');
