// Which packets the stream reassembler and the TCP state may believe.
//
// A receiving host drops a segment whose TCP checksum (or IPv4 header
// checksum) is wrong. An IDS that takes such a segment as data can be fed
// bytes the host never sees: with first-copy-wins reassembly, a benign
// decoy with a bad checksum sent ahead of the real attack hides the attack
// (Ptacek and Newsham's insertion). Suricata validates checksums for the
// same reason (stream.checksum-validation), and for capture files it
// decides automatically (pcap-file checksum-checks: auto): a capture taken
// on a sending host with checksum offload shows its outgoing packets with
// wrong checksums, and refusing all of them would blind it. So in `auto`
// the first AUTO_SAMPLE checked packets are validated, and if more than one
// in AUTO_BAD_RATIO of them are bad, validation stops for the rest of the
// run and the counters say so.
import { finishChecksum, pseudoHeaderSumAt, sumWords } from '../packet/checksum.js';
import { IpProto, dstAddrOffset, srcAddrOffset, type DecodedPacket } from '../packet/types.js';

export type ChecksumMode = 'validate' | 'auto' | 'ignore';

export const AUTO_SAMPLE = 1000;
export const AUTO_BAD_RATIO = 10;

export interface ChecksumCounters {
  /** Packets whose checksums were checked. */
  checked: number;
  /** IPv4 headers with a wrong checksum. */
  ipv4Bad: number;
  /** TCP segments with a wrong checksum (over a correct IPv4 header). */
  tcpBad: number;
  /** `auto` saw too many bad checksums in its sample (offload) and stopped validating. */
  autoDisabled: boolean;
}

export class ChecksumGuard {
  readonly counters: ChecksumCounters = { checked: 0, ipv4Bad: 0, tcpBad: 0, autoDisabled: false };
  private mode: ChecksumMode;

  constructor(mode: ChecksumMode) {
    this.mode = mode;
  }

  /**
   * False when the host receiving `pkt` would drop it for a bad IPv4 header
   * or TCP checksum. True when it is right, when the capture cut it short
   * (the bytes needed are not there), and when validation is off.
   */
  accepts(pkt: DecodedPacket): boolean {
    if (this.mode === 'ignore') return true;
    const c = this.counters;
    let ok = true;
    const data = pkt.data;
    const l3 = pkt.l3Offset;
    let ipEnd = -1;
    if (pkt.ipVersion === 4) {
      const ihl = (data[l3]! & 0x0f) << 2;
      if (l3 + ihl <= data.length && finishChecksum(sumWords(data, l3, l3 + ihl)) !== 0) {
        ok = false;
        c.ipv4Bad++;
      }
      ipEnd = l3 + ((data[l3 + 2]! << 8) | data[l3 + 3]!);
    } else if (pkt.ipVersion === 6) {
      ipEnd = l3 + 40 + ((data[l3 + 4]! << 8) | data[l3 + 5]!);
    }
    const l4 = pkt.l4Offset;
    if (ok && pkt.proto === IpProto.TCP && l4 >= 0 && pkt.fragment === null && ipEnd > l4 && ipEnd <= data.length) {
      const len = ipEnd - l4;
      const sum = sumWords(data, l4, ipEnd, pseudoHeaderSumAt(data, srcAddrOffset(pkt), data, dstAddrOffset(pkt), pkt.ipVersion === 4 ? 4 : 16, IpProto.TCP, len));
      if (finishChecksum(sum) !== 0) {
        ok = false;
        c.tcpBad++;
      }
    }
    c.checked++;
    if (this.mode === 'auto' && c.checked === AUTO_SAMPLE) {
      this.mode = (c.ipv4Bad + c.tcpBad) * AUTO_BAD_RATIO > AUTO_SAMPLE ? 'ignore' : 'validate';
      c.autoDisabled = this.mode === 'ignore';
    }
    return ok;
  }
}
