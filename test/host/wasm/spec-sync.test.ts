// docs/abi/v1.md is the authority for ABI v1; this test reads its tables and
// fails when host/wasm/abi.ts or host/verdict.ts says something else.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  ABI_MARKER_EXPORT, ABI_VERSION, DEFAULT_LIMITS, EventKind, HOSTCALLS, HOSTCALL_NAMESPACE, LogLevel, META, MetaFlag,
  REQUIRED_EXPORTS, Status,
} from '../../../host/wasm/abi.js';
import { VERDICT_NAMES, VERDICT_RANK, Verdict } from '../../../host/verdict.js';
import { repoRoot } from './helpers.js';

const spec = readFileSync(join(repoRoot, 'docs', 'abi', 'v1.md'), 'utf8');
const lines = spec.split('\n');

function cells(line: string): string[] {
  return line.trim().replace(/^\|/, '').replace(/\|$/, '').split('|').map((c) => c.trim());
}

/** Rows of the first table whose header row is exactly `header`. */
function table(header: string[]): string[][] {
  const start = lines.findIndex((l) => l.trim().startsWith('|') && JSON.stringify(cells(l)) === JSON.stringify(header));
  if (start < 0) throw new Error(`docs/abi/v1.md has no table with header ${header.join(' | ')}`);
  const rows: string[][] = [];
  for (let i = start + 2; i < lines.length && lines[i]!.trim().startsWith('|'); i++) rows.push(cells(lines[i]!));
  return rows;
}

const TYPE_SIZE: Record<string, number> = { u8: 1, u16: 2, u32: 4, u64: 8 };

describe('docs/abi/v1.md and the code agree', () => {
  it('is final, version 1, and names the marker and import module', () => {
    expect(spec).toMatch(/^Status: \*\*final\*\*\. Version: \*\*1\*\*\.$/m);
    expect(ABI_VERSION).toBe(1);
    expect(spec).toContain(`\`${ABI_MARKER_EXPORT}\``);
    expect(spec).toContain(`Import module: \`${HOSTCALL_NAMESPACE}\``);
  });

  it('meta record table equals META: same names, offsets, sizes, no gaps or overlaps', () => {
    const rows = table(['Offset', 'Type', 'Name', 'Meaning']);
    const documented = Object.fromEntries(rows.map((r) => [r[2]!, Number(r[0])]));
    const { SIZE, ...fields } = META;
    expect(documented).toEqual(fields);
    let next = 0;
    for (const [offset, type, name] of rows) {
      expect(Number(offset), `${name} starts where the previous field ends`).toBe(next);
      const size = TYPE_SIZE[type!];
      expect(size, `${name} has a known type`).toBeDefined();
      expect(Number(offset) % size!, `${name} is naturally aligned`).toBe(0);
      next = Number(offset) + size!;
    }
    expect(next).toBe(SIZE);
    expect(spec).toContain(`${SIZE} bytes per packet`);
  });

  it('meta flag table equals MetaFlag', () => {
    const rows = table(['Bit', 'Name', 'Meaning']);
    expect(Object.fromEntries(rows.map((r) => [r[1]!, Number(r[0])]))).toEqual(MetaFlag);
  });

  it('verdict table equals Verdict, VERDICT_NAMES and VERDICT_RANK', () => {
    const rows = table(['Value', 'Name', 'Rank', 'Meaning']);
    expect(Object.fromEntries(rows.map((r) => [r[1]!, Number(r[0])]))).toEqual(Verdict);
    expect(rows.map((r) => r[1])).toEqual(VERDICT_NAMES);
    expect(rows.map((r) => Number(r[2]))).toEqual(VERDICT_RANK);
    expect(spec).toContain(`0 = the host's default, ${DEFAULT_LIMITS.BLOCK_SRC_TTL_DEFAULT} unless configured`);
  });

  it('status, event kind and log level tables equal abi.ts', () => {
    expect(Object.fromEntries(table(['Value', 'Name', 'Meaning']).map((r) => [r[1]!, Number(r[0])]))).toEqual(Status);
    expect(Object.fromEntries(table(['Value', 'Name', 'EVE event_type']).map((r) => [r[1]!, Number(r[0])]))).toEqual(EventKind);
    expect(Object.fromEntries(table(['Value', 'Name']).map((r) => [r[1]!, Number(r[0])]))).toEqual(LogLevel);
  });

  it('export table matches REQUIRED_EXPORTS signatures', () => {
    const rows = table(['Export', 'Wasm type']);
    const funcs = Object.fromEntries(rows.filter((r) => r[1]!.startsWith('func')).map((r) => [r[0]!.replace(/`/g, ''), r[1]!]));
    const expected = Object.fromEntries(Object.entries(REQUIRED_EXPORTS).map(([n, s]) => [n, `func (${s.params.join(', ')}) -> ${s.results.length ? s.results.join(', ') : '()'}`]));
    expect(funcs).toEqual(expected);
    expect(rows.some((r) => r[0] === `\`${ABI_MARKER_EXPORT}\`` && r[1]!.includes(`= ${ABI_VERSION}`))).toBe(true);
  });

  it('every hostcall heading has the signature HOSTCALLS declares, and no others are documented', () => {
    const headings = [...spec.matchAll(/^### `(\w+)\(([^)]*)\)(?: -> (\w+))?`$/gm)]
      .filter((m) => !(m[1]! in REQUIRED_EXPORTS));
    const documented = Object.fromEntries(headings.map((m) => [m[1]!, {
      params: m[2]!.trim() === '' ? [] : m[2]!.split(',').map((p) => p.split(':')[1]!.trim()),
      results: m[3] ? [m[3]] : [],
    }]));
    expect(documented).toEqual(HOSTCALLS);
  });

  it('limit defaults equal DEFAULT_LIMITS', () => {
    const rows = table(['Limit', 'Default', 'Past it']);
    const value = (prefix: string): string => rows.find((r) => r[0]!.startsWith(prefix))![1]!;
    expect(value('alerts per')).toBe(String(DEFAULT_LIMITS.ALERTS_PER_BATCH));
    expect(value('events per')).toBe(String(DEFAULT_LIMITS.EVENTS_PER_BATCH));
    expect(value('log lines')).toBe(String(DEFAULT_LIMITS.LOGS_PER_CALL));
    expect(value('alert metadata')).toBe(`${DEFAULT_LIMITS.MAX_JSON_BYTES / 1024} KiB`);
    expect(value('alert message')).toBe(`${DEFAULT_LIMITS.MAX_MESSAGE_BYTES} bytes`);
    expect(value('meta records')).toBe(String(DEFAULT_LIMITS.BATCH_CAPACITY));
    expect(value('data region')).toBe(`${DEFAULT_LIMITS.DATA_CAPACITY / (1024 * 1024)} MiB`);
    expect(value('linear memory')).toBe(`${DEFAULT_LIMITS.MAX_MEMORY_BYTES / (1024 * 1024)} MiB`);
  });
});
