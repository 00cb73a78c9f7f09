// Whether a SYN was a connection or a probe: a client completes the
// handshake (its ACK after the server's SYN-ACK), a SYN scanner never does
// (nmap -sS and masscan answer the SYN-ACK with a RST), and a host that is
// not there or a closed port never sends the SYN-ACK. Only an ACK that
// follows a SYN-ACK of its own flow counts, so a scanner sending its ACK
// blind, without the answer, gets nothing for it.
import { U64Map } from "../sdk/lib";

/** Handshakes between SYN-ACK and ACK at most; the table is emptied when full (those connections then stay counted, erring toward detection). */
const IN_FLIGHT: i32 = 4096;

export class Handshakes {
  private answered: U64Map = new U64Map(IN_FLIGHT);

  /** The server's SYN-ACK of flowId. */
  synAck(flowId: u64): void {
    if (this.answered.size >= IN_FLIGHT) this.answered.clear();
    this.answered.set(flowId, 1);
  }

  /** A client ACK of flowId: true once, when it completes a handshake whose SYN-ACK was seen. */
  completes(flowId: u64): bool {
    return this.answered.size > 0 && this.answered.delete(flowId);
  }

  /** The flow ended without the client's ACK (or the module never saw it). */
  forget(flowId: u64): void {
    if (this.answered.size > 0) this.answered.delete(flowId);
  }
}
