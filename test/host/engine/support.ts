// Builders shared by the engine tests: real frames, real modules.
import { join } from 'node:path';
import { buildPacket, type PacketSpec } from '../../../host/packet/build.js';
import { decodePacket } from '../../../host/packet/decode.js';
import { LinkType, type DecodedPacket } from '../../../host/packet/types.js';
import { loadInspectorFile } from '../../../host/wasm/loader.js';
import { InspectorInstance } from '../../../host/wasm/instance.js';
import type { EngineModule, FailurePolicy } from '../../../host/engine/engine.js';

export const FIXTURES = join(import.meta.dirname, '..', '..', 'fixtures', 'engine');

export const T0 = 1_767_225_600; // 2026-01-01T00:00:00Z

export function packet(spec: Partial<PacketSpec> & { t?: number }, t = spec.t ?? 0): DecodedPacket {
  const frame = buildPacket({ src: '198.18.0.1', dst: '198.18.1.1', proto: 'tcp', srcPort: 40000, dstPort: 80, ...spec } as PacketSpec);
  return decodePacket(frame, LinkType.ETHERNET, T0 + Math.floor(t), Math.round((t % 1) * 1e9));
}

/** The port_verdict fixture: dst port 9000+V answers verdict V (see the .wat). */
export async function portVerdictModule(name = 'port_verdict', policy: FailurePolicy = 'fail-closed'): Promise<EngineModule> {
  const compiled = await loadInspectorFile(join(FIXTURES, 'port_verdict.wat'), name);
  const instance = await InspectorInstance.create(compiled, { clock: 'packet', logger: () => {} });
  return { name, instance, policy };
}
