// A source of raw frames: a pcap/pcapng file, a dry-run packet, or AF_XDP.
// Every source feeds the same engine so offline and live runs behave alike.
import type { LinkType } from '../packet/types.js';

export interface RawFrame {
  data: Uint8Array;
  linkType: LinkType;
  wireLen: number;
  tsSec: number;
  tsNsec: number;
  /** pcapng interface index, 0 elsewhere. */
  iface: number;
  /** See DecodedPacket.srcSeq / srcOffset; absent when the frame owns its bytes. */
  seq?: number;
  offset?: number;
}

export interface FrameSource {
  /** Yields frames in capture order. Throws CaptureError (with a byte offset) on corruption, after yielding everything valid before it. */
  frames(): Iterable<RawFrame>;
}
