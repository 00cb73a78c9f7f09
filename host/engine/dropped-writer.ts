// Writes dropped frames for --write-dropped. A classic pcap holds one link
// type, so a capture mixing link types (pcapng with several interfaces) needs
// a .pcapng output; frames that cannot go into a .pcap are counted, not lost
// silently.
import { PcapWriter, PcapngWriter } from '../capture/writer.js';
import type { DecodedPacket, LinkType } from '../packet/types.js';

export class DroppedWriter {
  written = 0;
  /** Frames whose link type differs from the .pcap's. */
  skipped = 0;
  private pcap: PcapWriter | null = null;
  private pcapLink: LinkType | null = null;
  private ng: PcapngWriter | null = null;
  private readonly ngIfaces = new Map<number, number>();
  private readonly asPcapng: boolean;

  constructor(private readonly path: string) {
    this.asPcapng = /\.pcapng$/i.test(path);
  }

  write(p: DecodedPacket): void {
    const frame = { data: p.data, tsSec: p.tsSec, tsNsec: p.tsNsec, wireLen: p.wireLen };
    if (this.asPcapng) {
      this.ng ??= new PcapngWriter({ path: this.path, interfaces: [] });
      let iface = this.ngIfaces.get(p.linkType);
      if (iface === undefined) {
        iface = this.ng.addInterface({ linkType: p.linkType, tsresol: 9 });
        this.ngIfaces.set(p.linkType, iface);
      }
      this.ng.write({ ...frame, iface });
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
    this.pcap?.close();
    this.ng?.close();
  }
}
