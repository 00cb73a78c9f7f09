// Every error a user can see carries a stable machine-readable code, so scripts
// can branch on it, and a human message that says what to do next.

export type ErrorCode =
  | 'E_USAGE'            // a CLI argument is missing, unknown or malformed
  | 'E_RULE_INVALID'     // a rule field failed validation
  | 'E_RULE_DUPLICATE'   // a rule id is already taken
  | 'E_RULE_NOT_FOUND'   // no rule has that id
  | 'E_RULEFILE'         // a rule file cannot be read or parsed
  | 'E_CAPTURE'          // a pcap/pcapng file is corrupt or unsupported
  | 'E_IO'               // a file cannot be read or written
  | 'E_STATE'            // the state directory is unusable or locked
  | 'E_MODULE_NOT_FOUND' // a named module is not shipped or loaded
  | 'E_MODULE_INVALID'   // a module failed validation (bad wasm, missing export)
  | 'E_MODULE_ABI'       // a module's ABI marker is missing or of another version
  | 'E_MODULE_IMPORT'    // a module imports something the sandbox forbids
  | 'E_MODULE_TRAP'      // a module trapped while running
  | 'E_MODULE_CONFIG'    // a module refused its configuration
  | 'E_MODULE_LIMIT'     // a module went past its sandbox CPU budget or memory ceiling
  | 'E_MODULE_QUARANTINED' // a module failed too often and is no longer called
  | 'E_MODULE_CHANGED'   // a registered module's file no longer matches its pinned sha256
  | 'E_MODULE_IN_USE'    // a module cannot be removed while a rule still uses it
  | 'E_KERNEL'           // a generic kernel/bpf failure
  | 'E_NO_ROOT'          // the operation needs root (CAP_BPF/CAP_NET_ADMIN)
  | 'E_NO_BPFFS'         // /sys/fs/bpf is not mounted
  | 'E_BPFFS_READONLY'   // the bpffs holding the pins is mounted read-only
  | 'E_NO_IFACE'         // the interface does not exist
  | 'E_XDP_BUSY'         // another XDP program is attached
  | 'E_NOT_ATTACHED'     // secuxflow is not attached to that interface
  | 'E_MAP_FULL'         // a kernel map has no room left
  | 'E_NOT_BLOCKED'      // that source is not in the penalty box
  | 'E_NO_FLOW'          // no flow in the kernel fast path matches
  | 'E_NATIVE_MISSING'   // the native addon was not built
  | 'E_XSK'              // an AF_XDP socket or its delivery device cannot be set up as asked
  | 'E_DAEMON'           // the control socket request failed
  | 'E_INTERNAL';        // a bug: please report it

export class SecuxflowError extends Error {
  readonly code: ErrorCode;
  /** Optional hint that tells the user how to fix the problem. */
  readonly hint: string | undefined;

  constructor(code: ErrorCode, message: string, hint?: string) {
    super(message);
    this.name = 'SecuxflowError';
    this.code = code;
    this.hint = hint;
  }

  toJSON(): { code: ErrorCode; message: string; hint?: string } {
    return this.hint === undefined
      ? { code: this.code, message: this.message }
      : { code: this.code, message: this.message, hint: this.hint };
  }
}

export function isSecuxflowError(e: unknown): e is SecuxflowError {
  return e instanceof SecuxflowError;
}

/** "E_CODE: message" for a SecuxflowError, the message of another error: a cause quoted inside another message or a warning. */
export function codedMessage(e: unknown): string {
  if (e instanceof SecuxflowError) return `${e.code}: ${e.message}`;
  return e instanceof Error ? e.message : String(e);
}

/** The message a user sees: "message (hint)". */
export function describeError(e: unknown): string {
  if (e instanceof SecuxflowError) return e.hint ? `${e.message}\n  hint: ${e.hint}` : e.message;
  if (e instanceof Error) return e.message;
  return String(e);
}
