// Runs as its own process during a rule swap: runs the pinned, attached XDP
// program on one packet over and over (BPF_PROG_TEST_RUN) and records which
// rule decided each run and which generation was active, so the test can
// prove packets only ever saw the old or the new rule set, switching once.
// Program runs over thousands of rules are slow, so between them it also
// samples the maps the way a packet reads them (active gen -> header -> the
// last live rule slot) many times, which catches a short torn window.
// Usage: node gen-observer.mjs <pinDir> <packetHex> <maxMs>; stops on stdin end.
import { join } from 'node:path';
import { mapLookup, objGet, progTestRun } from '../../../host/kernel/native.js';
import { MapName, PROG_NAME, u32Key, SfConfig } from '../../../host/kernel/codec.js';
import { readConfigValue, readRulesetMeta } from '../../../host/kernel/config.js';

interface Run {
  key: string;
  count: number;
}

const [pinDir, hex, maxMsText] = process.argv.slice(2);
if (!pinDir || !hex) throw new Error('usage: gen-observer <pinDir> <packetHex> <maxMs>');
const packet = Uint8Array.from(Buffer.from(hex, 'hex'));
const progFd = objGet(join(pinDir, PROG_NAME));
const configFd = objGet(join(pinDir, MapName.CONFIG));
const lastFd = objGet(join(pinDir, MapName.LAST));
const rulesV4Fd = objGet(join(pinDir, MapName.RULES_V4));
const slotKey = new Uint8Array(4);
const state = { samples: 0, torn: 0, discarded: 0 };

/** One packet's view of the rule set: a header saying N rules must come with a live rule in slot N-1. */
function sample(): void {
  const gen = readConfigValue(configFd, SfConfig.ACTIVE_GEN) & 1;
  const count = readRulesetMeta(configFd, gen).v4Count;
  let live = true;
  if (count > 0) {
    new DataView(slotKey.buffer).setUint32(0, gen * 4096 + count - 1, true);
    const slot = mapLookup(rulesV4Fd, slotKey, 88);
    live = slot !== null && new DataView(slot.buffer).getUint32(0, true) !== 0;
  }
  const g2 = readConfigValue(configFd, SfConfig.ACTIVE_GEN);
  // A flip in the middle of a sample is a reader that straddled it; the
  // retire grace period covers those, so such a sample says nothing.
  if ((g2 & 1) !== gen) state.discarded++;
  else if (!live) state.torn++;
  state.samples++;
}
const zero = u32Key(0);
const deadline = Date.now() + Number(maxMsText ?? 20_000);

const decisions: Run[] = [];
const generations: Run[] = [];
let total = 0;
let stopping = false;

function note(runs: Run[], key: string): void {
  const last = runs.at(-1);
  if (last && last.key === key) last.count++;
  else runs.push({ key, count: 1 });
}

function finish(): void {
  process.stdout.write(`${JSON.stringify({ total, decisions, generations, ...state })}\n`);
  process.exit(0);
}

function batch(): void {
  for (let i = 0; i < 10; i++) {
    const r = progTestRun(progFd, packet, 1);
    const last = mapLookup(lastFd, zero, 16);
    const ruleId = last ? new DataView(last.buffer).getUint32(0, true) : -1;
    note(decisions, `${ruleId}:${r.retval}`);
    note(generations, String(readConfigValue(configFd, SfConfig.ACTIVE_GEN) & 1));
    total++;
    for (let j = 0; j < 100; j++) sample();
  }
  if (total === 10) process.stdout.write('ready\n');
  if (stopping || Date.now() > deadline) finish();
  else setImmediate(batch);
}

process.stdin.on('end', () => (stopping = true));
process.stdin.resume();
batch();
