// Classic pcap files built field by field, for records no writer would make
// (a timestamp fraction of a second or more).
import { buildPacket } from '../../../host/packet/build.js';

export interface RawRecord {
  sec: number;
  /** Written as is: microseconds or nanoseconds by the file's magic, however large. */
  frac: number;
}

/** An Ethernet pcap whose records carry one small UDP packet each, with the given timestamp fields. */
export function rawPcap(records: readonly RawRecord[], opts: { nano?: boolean; bigEndian?: boolean } = {}): Buffer {
  const le = opts.bigEndian !== true;
  const u32 = (v: number): Buffer => { const b = Buffer.alloc(4); if (le) b.writeUInt32LE(v >>> 0); else b.writeUInt32BE(v >>> 0); return b; };
  const u16 = (v: number): Buffer => { const b = Buffer.alloc(2); if (le) b.writeUInt16LE(v); else b.writeUInt16BE(v); return b; };
  const parts = [u32(opts.nano ? 0xa1b23c4d : 0xa1b2c3d4), u16(2), u16(4), u32(0), u32(0), u32(65535), u32(1)];
  records.forEach((r, i) => {
    const data = buildPacket({ src: '198.18.0.1', dst: '198.18.0.2', proto: 'udp', srcPort: 1000 + i, dstPort: 53, payload: 'ts' });
    parts.push(u32(r.sec), u32(r.frac), u32(data.length), u32(data.length), Buffer.from(data));
  });
  return Buffer.concat(parts);
}
