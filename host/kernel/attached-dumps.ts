// One map of every attached interface, dumped through its pin: what the
// commands that list kernel state (`block list`, `flow list`) read. An
// interface whose pin cannot be read is reported, not fatal, so the others
// still show.
import { join } from 'node:path';
import { listAttachments } from './attach.js';
import { closeFd, mapDump, objGetReadOnly, type MapDump } from './native.js';
import { codedMessage } from '../errors.js';

export interface AttachedDumps {
  dumps: { iface: string; dump: MapDump }[];
  unreadable: { iface: string; error: string }[];
}

export function dumpAttachedMaps(stateDir: string, mapName: string): AttachedDumps {
  const out: AttachedDumps = { dumps: [], unreadable: [] };
  for (const { iface, pinDir } of listAttachments(stateDir)) {
    try {
      const fd = objGetReadOnly(join(pinDir, mapName));
      try {
        out.dumps.push({ iface, dump: mapDump(fd) });
      } finally {
        closeFd(fd);
      }
    } catch (e) {
      out.unreadable.push({ iface, error: codedMessage(e) });
    }
  }
  return out;
}
