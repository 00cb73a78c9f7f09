// Writes dropped frames for --write-dropped. A classic pcap holds one link
// type, so a capture mixing link types (pcapng with several interfaces) needs
// a .pcapng output; frames that cannot go into a .pcap are counted, not lost
// silently.
import { closeSync, openSync } from 'node:fs';
import { PcapWriter, PcapngWriter } from '../capture/writer.js';
import { SecuxflowError } from '../errors.js';
import { printable } from '../text.js';
import { LinkType, type DecodedPacket } from '../packet/types.js';

export class DroppedWriter {
  written = 0;
  /** Frames whose link type differs from the .pcap's. */
  skipped = 0;
  private pcap: PcapWriter | null = null;
  private pcapLink: LinkType | null = null;
  private ng: PcapngWriter | null = null;
  private readonly ngIfaces = new Map<number, number>();
  private readonly asPcapng: boolean;

  /**
   * Opens the output at once, so a path that cannot be written fails before
   * the run rather than at its first drop. A run with no drop leaves a valid,
   * empty capture (of `emptyLinkType` for a .pcap).
   */
  constructor(private readonly path: string, private readonly emptyLinkType: LinkType = LinkType.ETHERNET) {
    this.asPcapng = /\.pcapng$/i.test(path);
    if (this.asPcapng) this.ng = new PcapngWriter({ path, interfaces: [] });
    else if (path !== '-') closeSync(openOutput(path)); // '-': a classic pcap on standard output, as tcpdump -w -
  }

  write(p: DecodedPacket): void {
    const frame = { data: p.data, tsSec: p.tsSec, tsNsec: p.tsNsec, wireLen: p.wireLen };
    if (this.asPcapng) {
      let iface = this.ngIfaces.get(p.linkType);
      if (iface === undefined) {
        iface = this.ng!.addInterface({ linkType: p.linkType, tsresol: 9 });
        this.ngIfaces.set(p.linkType, iface);
      }
      this.ng!.write({ ...frame, iface });
    } else {
      if (this.pcap === null) {
        this.pcap = new PcapWriter({ path: this.path, linkType: p.linkType, nanosecond: true });
        this.pcapLink = p.linkType;
      }
      if (p.linkType !== this.pcapLink) {
        this.skipped++;
        return;
      }
      this.pcap.write(frame);
    }
    this.written++;
  }

  close(): void {
    if (!this.asPcapng && this.pcap === null) this.pcap = new PcapWriter({ path: this.path, linkType: this.emptyLinkType, nanosecond: true });
    this.pcap?.close();
    this.ng?.close();
  }
}

function openOutput(path: string): number {
  try {
    return openSync(path, 'w');
  } catch (e) {
    throw new SecuxflowError('E_IO', printable(`--write-dropped: cannot create capture file '${path}': ${(e as Error).message}`),
      'check that the directory exists and is writable');
  }
}
