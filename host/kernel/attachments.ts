// attachments.json in the state directory: which interfaces secuxflow is
// attached to, so `rule` commands and a restarted daemon know which pinned
// maps the kernel is using. The kernel stays the authority on whether the
// program is still there (see listAttachments in attach.ts).
import { recoverHint, type StateStore } from '../state/store.js';
import { SecuxflowError } from '../errors.js';
import type { AttachedMode, XdpMode } from './native.js';

export const ATTACHMENTS_FILE = 'attachments.json';

export type PolicyName = 'allow' | 'deny';
export type FailMode = 'open' | 'closed';

export interface AttachmentRecord {
  iface: string;
  ifindex: number;
  /** nsfs inode of the network namespace the interface lives in. */
  netns: number;
  /** Mode the kernel gave us. */
  mode: AttachedMode;
  /** Mode the user asked for ('auto' may have become 'skb'). */
  requestedMode: XdpMode;
  policy: PolicyName;
  fail: FailMode;
  /** bpffs directory holding this interface's maps and program pin. */
  pinDir: string;
  /** Kernel id of the attached program when it was attached. */
  progId: number;
  /** ISO time of the last attach. */
  time: string;
  /** objectDigest() of the XDP object attached; absent in records written before it was kept. */
  objectDigest?: string;
}

interface AttachmentsDoc {
  attachments: AttachmentRecord[];
}

export function readAttachments(store: StateStore): AttachmentRecord[] {
  const doc = store.readJson<Partial<AttachmentsDoc>>(ATTACHMENTS_FILE, { attachments: [] });
  const path = store.path(ATTACHMENTS_FILE);
  // A record dropped quietly would make an attached interface look detached,
  // and the next write would lose it for good: refuse the file instead.
  if (!Array.isArray(doc.attachments)) {
    throw new SecuxflowError('E_STATE', `state file ${path} is corrupt: "attachments" is not a list`, recoverHint(path));
  }
  const bad = doc.attachments.findIndex((r) => !isRecord(r));
  if (bad >= 0) {
    throw new SecuxflowError('E_STATE', `state file ${path} is corrupt: attachment #${bad + 1} lacks a text "iface", a text "pinDir" or a number "ifindex"`, recoverHint(path));
  }
  return doc.attachments as AttachmentRecord[];
}

export function writeAttachments(store: StateStore, records: AttachmentRecord[]): void {
  readAttachments(store); // a file with a record that does not read back is refused, never overwritten
  const sorted = [...records].sort((a, b) => (a.iface < b.iface ? -1 : a.iface > b.iface ? 1 : a.netns - b.netns));
  store.writeJson(ATTACHMENTS_FILE, { attachments: sorted });
}

function isRecord(v: unknown): v is AttachmentRecord {
  if (typeof v !== 'object' || v === null) return false;
  const r = v as Record<string, unknown>;
  return typeof r.iface === 'string' && typeof r.pinDir === 'string' && typeof r.ifindex === 'number';
}
