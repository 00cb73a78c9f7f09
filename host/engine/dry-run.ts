// Builds one real packet from command-line facts and runs it through the same
// engine as a capture, keeping the full decision path for display.
import { buildPacket } from '../packet/build.js';
import { decodePacket } from '../packet/decode.js';
import { parseIp } from '../packet/addr.js';
import { LinkType, TcpFlag, type DecodedPacket } from '../packet/types.js';
import { SecuxflowError } from '../errors.js';
import { printable } from '../text.js';
import { MAX_VLAN } from '../rules/fields.js';
import type { RuleSet } from '../rules/types.js';
import { Engine, type EngineModule } from './engine.js';
import type { FlowOutput, PacketDecision } from './types.js';

export interface DryRunPacketArgs {
  ip: string;
  src?: string;
  port?: string;
  sport?: string;
  proto: string;
  payload?: string;
  payloadHex?: string;
  vlan?: string;
}

/** A flag's value as typed, safe to print: no terminal escapes, no forged lines, cut when long. */
function shown(text: string): string {
  return `"${printable(text.length > 60 ? `${text.slice(0, 60)}...` : text)}"`;
}

function usage(flag: string, message: string, hint?: string): SecuxflowError {
  return new SecuxflowError('E_USAGE', `${flag}: ${message}`, hint);
}

function parsePort(flag: string, text: string): number {
  if (!/^\d{1,5}$/.test(text) || Number(text) > 65535) throw usage(flag, `${shown(text)} is not a port number (0-65535)`, `give a decimal number, e.g. ${flag} 443`);
  return Number(text);
}

function parseAddress(flag: string, text: string): Uint8Array {
  try {
    return parseIp(text);
  } catch {
    throw usage(flag, `${shown(text)} is not an IPv4 or IPv6 address`, 'use dotted IPv4 like 198.18.0.1 or IPv6 like 2001:db8::1 (no zone id, no leading zeros)');
  }
}

export function parsePayloadHex(text: string): Uint8Array {
  const clean = text.replace(/^0x/i, '').replace(/[\s:]/g, '');
  if (clean.length % 2 !== 0 || /[^0-9a-f]/i.test(clean)) {
    throw usage('--payload-hex', `${shown(text)} is not an even-length hex string`,
      'two hex digits per byte, optionally separated by spaces or colons, e.g. --payload-hex "47 45 54"');
  }
  return Uint8Array.from(Buffer.from(clean, 'hex'));
}

/** Validates the dry-run flags and builds the frame they describe. */
export function buildDryRunPacket(a: DryRunPacketArgs): DecodedPacket {
  const proto = a.proto.toLowerCase();
  if (proto !== 'tcp' && proto !== 'udp' && proto !== 'icmp') throw usage('--proto', `${shown(a.proto)} is not one of tcp, udp, icmp`, 'use --proto tcp, --proto udp or --proto icmp');
  const dst = parseAddress('--ip', a.ip);
  const srcText = a.src ?? (dst.length === 4 ? '198.18.0.1' : '2001:db8::1');
  const src = parseAddress('--src', srcText);
  if (src.length !== dst.length) {
    throw usage('--src', `${shown(srcText)} and --ip ${shown(a.ip)} are of different IP versions`, `give --src an IPv${dst.length === 4 ? 4 : 6} address too, or leave it out`);
  }
  if (a.payload !== undefined && a.payloadHex !== undefined) throw usage('--payload', 'give either --payload or --payload-hex, not both', 'text goes in --payload, raw bytes in --payload-hex');
  const payload = a.payloadHex !== undefined ? parsePayloadHex(a.payloadHex) : a.payload !== undefined ? new TextEncoder().encode(a.payload) : new Uint8Array(0);

  // Checked here, not left to buildPacket, so the message names the flag and the limit.
  const maxPayload = 65535 - (dst.length === 4 ? 20 : 0) - (proto === 'tcp' ? 20 : 8);
  if (payload.length > maxPayload) {
    throw usage(a.payloadHex !== undefined ? '--payload-hex' : '--payload',
      `${payload.length} bytes do not fit one ${proto.toUpperCase()}/IPv${dst.length === 4 ? 4 : 6} packet (at most ${maxPayload})`,
      'an IP packet holds at most 65535 bytes; a real packet on a 1500-byte MTU carries about 1400');
  }

  let dstPort = 0;
  let srcPort = 0;
  if (proto === 'icmp') {
    if (a.port !== undefined) throw usage('--port', 'ICMP has no ports; drop --port or use --proto tcp|udp');
    if (a.sport !== undefined) throw usage('--sport', 'ICMP has no ports; drop --sport or use --proto tcp|udp');
  } else {
    if (a.port === undefined) {
      throw usage('--port', `a ${proto.toUpperCase()} packet needs a destination port`,
        `give it with --port, e.g. secuxflow inspect --ip ${a.ip} --proto ${proto} --port ${proto === 'tcp' ? 80 : 53}`);
    }
    dstPort = parsePort('--port', a.port);
    srcPort = a.sport !== undefined ? parsePort('--sport', a.sport) : 40000;
  }
  let vlans: number[] = [];
  if (a.vlan !== undefined) {
    // The range rules take (0: priority-tagged, 4095: reserved), so any rule's --vlan can be tried.
    if (!/^\d{1,4}$/.test(a.vlan) || Number(a.vlan) > MAX_VLAN) throw usage('--vlan', `${shown(a.vlan)} is not a VLAN id (0-${MAX_VLAN})`, 'give a decimal id, e.g. --vlan 100');
    vlans = [Number(a.vlan)];
  }

  const frame = buildPacket({
    src: srcText,
    dst: a.ip,
    proto: proto as 'tcp' | 'udp' | 'icmp',
    srcPort,
    dstPort,
    payload,
    vlans,
    ...(proto === 'tcp' ? { tcpFlags: payload.length > 0 ? TcpFlag.ACK | TcpFlag.PSH : TcpFlag.SYN, seq: 1000, ack: payload.length > 0 ? 1 : 0 } : {}),
    ...(proto === 'icmp' ? { icmpType: dst.length === 4 ? 8 : 128, icmpCode: 0 } : {}),
  });
  const now = Date.now();
  return decodePacket(frame, LinkType.ETHERNET, Math.floor(now / 1000), (now % 1000) * 1e6);
}

export interface DryRunResult {
  decision: PacketDecision;
  /** What modules raised when the packet's flow ended, as it does after the one packet (an unanswered HTTP request, say). */
  flowEnd: FlowOutput[];
  /** Modules that wrote a verdict outside 0..5 for the packet (the host took it as CONTINUE), with how many. */
  verdictErrors: { module: string; count: number }[];
}

export function runDryRun(pkt: DecodedPacket, rules: RuleSet, modules: EngineModule[]): DryRunResult {
  let decision: PacketDecision | null = null;
  const flowEnd: FlowOutput[] = [];
  const errorsBefore = modules.map((m) => m.instance.verdictErrors?.() ?? 0);
  const engine = new Engine({ rules, modules, onDecision: (d) => { decision = d; }, onFlowOutput: (o) => { flowEnd.push(o); } });
  engine.pushDecoded(pkt);
  engine.flush();
  if (decision === null) throw new SecuxflowError('E_INTERNAL', 'the engine produced no decision for the dry-run packet');
  // Also delivers the flow ends of sandboxed modules (their outputDrops() sends what is queued).
  engine.finish();
  // A capture's summary counts these; one packet shows the CONTINUE the host put in their place, which an author debugging it would take at face value.
  const verdictErrors = modules.map((m, i) => ({ module: m.name, count: (m.instance.verdictErrors?.() ?? 0) - errorsBefore[i]! })).filter((e) => e.count > 0);
  return { decision, flowEnd, verdictErrors };
}
