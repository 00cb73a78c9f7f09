// The TypeScript codecs must describe xdp/secuxflow.h byte for byte. A C
// program compiled from the header at test time prints every size, offset and
// constant; no root needed.
import { NET6_PREFIX } from '../../host/kernel/penalty-entry.js';
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  LAYOUT, MapName, SF, SfConfig, SfFlowOrigin, SfFlowVerdict, SfLpmHas, SfOutcome, SfPortDir, SfRuleFlag, SfStage, SfStat, PROG_NAME,
  SF_STAGES, SF_STAT_CELLS, statCell, SfActive, cidr4PoolStart, cidrRootIndex, cidr6PoolStart,
} from '../../host/kernel/codec.js';
import { RULE_ACTION_CODE } from '../../host/verdict.js';
import { packageRoot } from '../../host/kernel/native.js';

const root = packageRoot();
let dir = '';
let fromC: { structs: Record<string, { size: number; fields: Record<string, number> }>; consts: Record<string, number | string> };

// Macro name in the header -> the value TypeScript uses.
const CONSTS: Record<string, number | string> = {
  SF_MAX_RULES: SF.MAX_RULES, SF_GENERATIONS: SF.GENERATIONS, SF_MAX_FLOWS: SF.MAX_FLOWS, SF_MAX_PENALTY: SF.MAX_PENALTY, SF_PENALTY_NET6_PREFIX: NET6_PREFIX,
  SF_MAX_QUEUES: SF.MAX_QUEUES, SF_MAX_RULE_SLOTS: SF.MAX_RULE_SLOTS, SF_MAX_EXACT: SF.MAX_EXACT,
  SF_XSK_FRAME_SIZE: SF.XSK_FRAME_SIZE, SF_PUNT_MAX_FRAME: SF.PUNT_MAX_FRAME,
  SF_ACTION_PASS: RULE_ACTION_CODE.pass, SF_ACTION_DROP: RULE_ACTION_CODE.drop, SF_ACTION_INSPECT: RULE_ACTION_CODE.inspect,
  SF_FLOW_ALLOW: SfFlowVerdict.ALLOW, SF_FLOW_BLOCK: SfFlowVerdict.BLOCK, SF_ORIGIN_DAEMON: SfFlowOrigin.DAEMON, SF_ORIGIN_RULE_CHANGE: SfFlowOrigin.RULE_CHANGE,
  SF_STAGE_NONE: SfStage.NONE, SF_STAGE_NON_IP: SfStage.NON_IP, SF_STAGE_PASS_ALL: SfStage.PASS_ALL, SF_STAGE_PENALTY: SfStage.PENALTY,
  SF_STAGE_FLOW: SfStage.FLOW, SF_STAGE_LPM: SfStage.LPM, SF_STAGE_SCAN: SfStage.SCAN, SF_STAGE_DEFAULT: SfStage.DEFAULT, SF_STAGE_PORT: SfStage.PORT, SF_STAGE_INVALID: SfStage.INVALID,
  SF_CFG_ACTIVE_GEN: SfConfig.ACTIVE_GEN, SF_CFG_PASS_ALL: SfConfig.PASS_ALL, SF_CFG_PUNT_FALLBACK: SfConfig.PUNT_FALLBACK,
  SF_CFG_RECORD_LAST: SfConfig.RECORD_LAST, SF_CFG_FLOWS_ACTIVE: SfConfig.FLOWS_ACTIVE,
  SF_CFG_PENALTY_ACTIVE: SfConfig.PENALTY_ACTIVE, SF_CFG_MAX: SfConfig.MAX,
  SF_CFG_VERDICTS_ACTIVE: SfConfig.VERDICTS_ACTIVE, SF_CFG_RULES_STAMP: SfConfig.RULES_STAMP, SF_ACTIVE_FLOWS: SfActive.FLOWS, SF_ACTIVE_PENALTY: SfActive.PENALTY,
  SF_STAT_RX: SfStat.RX, SF_STAT_PASS: SfStat.PASS, SF_STAT_DROP: SfStat.DROP, SF_STAT_PUNT: SfStat.PUNT,
  SF_STAT_PUNT_FALLBACK: SfStat.PUNT_FALLBACK, SF_STAT_STAGE_BASE: SfStat.STAGE_BASE, SF_STAT_MAX: SfStat.MAX,
  SF_OUT_PASS: SfOutcome.PASS, SF_OUT_DROP: SfOutcome.DROP, SF_OUT_PUNT: SfOutcome.PUNT,
  SF_OUT_FALLBACK_PASS: SfOutcome.FALLBACK_PASS, SF_OUT_FALLBACK_DROP: SfOutcome.FALLBACK_DROP, SF_OUTCOMES: SfOutcome.COUNT,
  SF_STAGES, SF_STAT_CELLS, 'SF_STAT_CELL(SF_STAGE_INVALID, SF_OUT_FALLBACK_DROP)': statCell(SfStage.INVALID, SfOutcome.FALLBACK_DROP),
  SF_LPM_HAS_SRC_V4: SfLpmHas.SRC_V4, SF_LPM_HAS_DST_V4: SfLpmHas.DST_V4, SF_LPM_HAS_SRC_V6: SfLpmHas.SRC_V6, SF_LPM_HAS_DST_V6: SfLpmHas.DST_V6,
  SF_PORTS_HAS_DST: SfLpmHas.PORTS_DST, SF_PORTS_HAS_SRC: SfLpmHas.PORTS_SRC, SF_PORT_DIR_DST: SfPortDir.DST, SF_PORT_DIR_SRC: SfPortDir.SRC,
  SF_EXACT_HAS_SRC_V4: SfLpmHas.EXACT_SRC_V4, SF_EXACT_HAS_DST_V4: SfLpmHas.EXACT_DST_V4,
  SF_EXACT_HAS_SRC_V6: SfLpmHas.EXACT_SRC_V6, SF_EXACT_HAS_DST_V6: SfLpmHas.EXACT_DST_V6,
  SF_RULE_SRC: SfRuleFlag.SRC, SF_RULE_DST: SfRuleFlag.DST, SF_RULE_SPORT: SfRuleFlag.SPORT, SF_RULE_DPORT: SfRuleFlag.DPORT,
  SF_RULE_VLAN: SfRuleFlag.VLAN, SF_RULE_PROTO: SfRuleFlag.PROTO,
  SF_MAP_CONFIG: MapName.CONFIG, SF_MAP_RULES_V4: MapName.RULES_V4, SF_MAP_RULES_V6: MapName.RULES_V6,
  SF_MAP_CIDR4: MapName.CIDR4, SF_MAP_CIDR4_META: MapName.CIDR4_META, SF_MAP_LPM_SRC_V6: MapName.LPM_SRC_V6,
  SF_MAP_CIDR6: MapName.CIDR6, SF_MAP_CIDR6_META: MapName.CIDR6_META,
  SF_CIDR_ROOT_CELLS: SF.CIDR_ROOT_CELLS, SF_CIDR_BLOCK_CELLS: SF.CIDR_BLOCK_CELLS, SF_CIDR_CHILD: SF.CIDR_CHILD,
  SF_CIDR4_BLOCKS: SF.CIDR4_BLOCKS, SF_CIDR4_CELLS: SF.CIDR4_CELLS, SF_CIDR4_METAS: SF.CIDR4_METAS,
  SF_CIDR6_BLOCKS: SF.CIDR6_BLOCKS, SF_CIDR6_CELLS: SF.CIDR6_CELLS, SF_CIDR6_METAS: SF.CIDR6_METAS,
  SF_TABLE_HAS_SRC_V6: SfLpmHas.TABLE_SRC_V6, SF_TABLE_HAS_DST_V6: SfLpmHas.TABLE_DST_V6,
  'SF_CIDR_ROOT_INDEX(1, 1, 0xabcd)': cidrRootIndex(1, 1, 0xabcd), 'SF_CIDR4_POOL_START(1)': cidr4PoolStart(1), 'SF_CIDR6_POOL_START(1)': cidr6PoolStart(1),
  SF_MAP_LPM_DST_V6: MapName.LPM_DST_V6, SF_MAP_PORTS: MapName.PORTS, SF_MAP_DPORTS: MapName.DPORTS, SF_DPORT_ENTRIES: SF.DPORT_ENTRIES, SF_MAP_RULE_HITS: MapName.RULE_HITS,
  SF_MAP_EXACT_V4: MapName.EXACT_V4, SF_MAP_EXACT_V6: MapName.EXACT_V6, SF_MAP_RULE_SLOTS: MapName.RULE_SLOTS,
  SF_MAP_RULE_COUNTERS: MapName.RULE_COUNTERS, SF_MAP_FLOWS: MapName.FLOWS,
  SF_MAP_PENALTY: MapName.PENALTY, SF_MAP_STATS: MapName.STATS, SF_MAP_XSKS: MapName.XSKS, SF_MAP_LAST: MapName.LAST,
  SF_PROG_NAME: PROG_NAME,
  // Global data the addon lists as the map named after the section without the prefix.
  SF_DATA_SECTION_PREFIX: '.data.', SF_CONFIG_SECTION: `.data.${MapName.CONFIG}`,
};

function program(): string {
  const lines: string[] = ['#include <stdio.h>', '#include <stddef.h>', '#include "secuxflow.h"', 'int main(void) {', 'printf("{\\"structs\\":{");'];
  Object.entries(LAYOUT).forEach(([struct, { fields }], si) => {
    lines.push(`printf("%s\\"${struct}\\":{\\"size\\":%zu,\\"fields\\":{", ${si ? '","' : '""'}, sizeof(struct ${struct}));`);
    Object.keys(fields).forEach((f, fi) => {
      lines.push(`printf("%s\\"${f}\\":%zu", ${fi ? '","' : '""'}, offsetof(struct ${struct}, ${f}));`);
    });
    lines.push('printf("}}");');
  });
  lines.push('printf("},\\"consts\\":{");');
  Object.entries(CONSTS).forEach(([name, v], i) => {
    const sep = i ? '","' : '""';
    lines.push(typeof v === 'string' ? `printf("%s\\"${name}\\":\\"%s\\"", ${sep}, ${name});` : `printf("%s\\"${name}\\":%lld", ${sep}, (long long)(${name}));`);
  });
  lines.push('printf("}}\\n");', 'return 0;', '}');
  return lines.join('\n');
}

describe('codec layout matches xdp/secuxflow.h', () => {
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'sf-layout-'));
    writeFileSync(join(dir, 'layout.c'), program());
    execFileSync('gcc', ['-std=c11', '-Wall', '-Werror', '-I', join(root, 'xdp'), join(dir, 'layout.c'), '-o', join(dir, 'layout')]);
    fromC = JSON.parse(execFileSync(join(dir, 'layout')).toString());
  });
  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it.each(Object.keys(LAYOUT))('struct %s: size and every field offset', (name) => {
    const ts = LAYOUT[name as keyof typeof LAYOUT];
    expect(fromC.structs[name]).toEqual({ size: ts.size, fields: ts.fields });
  });

  it('every constant and map name', () => {
    expect(fromC.consts).toEqual(CONSTS);
  });

  it('the XDP program defines a map for every SF_MAP_* name', () => {
    const src = readFileSync(join(root, 'xdp', 'secuxflow.bpf.c'), 'utf8');
    const maps = [...src.matchAll(/\} (\w+) SEC\("\.maps"\)/g)].map((m) => m[1]!);
    // Global data in a section of its own (`struct T NAME SEC(SF_NAME_SECTION);`): a map to user space.
    const data = [...src.matchAll(/^struct \w+ (\w+) SEC\((SF_\w+_SECTION)\);$/gm)];
    for (const [, name, section] of data) expect(fromC.consts[section!]).toBe(`.data.${name}`);
    expect([...maps, ...data.map((m) => m[1]!)].sort()).toEqual(Object.values(MapName).sort());
  });
});
