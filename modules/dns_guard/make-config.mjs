#!/usr/bin/env node
// Turns domain list files into a dns_guard (or tls_inspect) config:
//   node modules/dns_guard/make-config.mjs [--base cfg.json] [--key blocklist_text] list.txt... > dns_guard.json
// The lists go in as an array of text chunks of at most 256 KiB, cut at line
// ends: the module's JSON reader then never holds one multi-megabyte string,
// which keeps a 100k-domain list inside the module's 16 MiB memory.
import { readFileSync } from 'node:fs';

const CHUNK = 256 * 1024;
const args = process.argv.slice(2);
let base = {};
let key = 'blocklist_text';
const files = [];
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--base') base = JSON.parse(readFileSync(args[++i], 'utf8'));
  else if (args[i] === '--key') key = args[++i];
  else files.push(args[i]);
}
if (files.length === 0) {
  console.error('usage: make-config.mjs [--base cfg.json] [--key blocklist_text|sni_blocklist_text] list.txt...');
  process.exit(2);
}
const chunks = [];
for (const f of files) {
  const text = readFileSync(f, 'utf8');
  for (let start = 0; start < text.length;) {
    let end = Math.min(text.length, start + CHUNK);
    if (end < text.length) {
      const nl = text.lastIndexOf('\n', end - 1);
      if (nl > start) end = nl + 1;
    }
    chunks.push(text.slice(start, end));
    start = end;
  }
}
process.stdout.write(JSON.stringify({ ...base, [key]: chunks }) + '\n');
