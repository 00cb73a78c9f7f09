// The two networks most kernel tests set up in beforeAll on top of a CLI lab
// (CLI bundle, state directory, private bpffs): one namespace with a veth
// pair to attach to, or a client and a server namespace joined by one. All of
// it is registered with the NetLab, so lab.cleanup() removes it even when a
// case fails. With { daemon: true } the CLI copy has the sandbox worker beside
// it, for `secuxflow run`.
import { closeFd, objGet } from '../../../host/kernel/native.js';
import { setUpCliLab, type CliLab } from '../lab/cli-lab.js';
import type { NetLab, VethEnd } from '../lab/netns.js';
import { prepareDaemonLab } from '../daemon-support.js';

export interface LabOptions {
  /** The lab will start `secuxflow run`: its CLI copy needs the sandbox worker. */
  daemon?: boolean;
}

/** A CLI lab with one namespace and a veth pair in it on 198.18.<subnet>.0/24. */
export interface VethCliLab extends CliLab {
  /** The namespace ("n") both ends are in. */
  ns: string;
  /** End a (.1), the one a test attaches to. */
  end: VethEnd;
  /** End b (.2). */
  peer: VethEnd;
}

/** A CLI lab with a client namespace ("c") and a server namespace ("s") joined by a veth pair. */
export interface ClientServerLab extends CliLab {
  /** The client's end (.1). */
  client: VethEnd;
  /** The server's end (.2), the one a test attaches to. */
  server: VethEnd;
}

function cliLab(lab: NetLab, opts: LabOptions): Promise<CliLab> {
  return opts.daemon ? prepareDaemonLab(lab) : setUpCliLab(lab);
}

export async function setUpVethCliLab(lab: NetLab, subnet: number, opts: LabOptions = {}): Promise<VethCliLab> {
  const base = await cliLab(lab, opts);
  const ns = await lab.addNamespace('n');
  const [end, peer] = await lab.vethPair({ ns, role: 'a' }, { ns, role: 'b' }, subnet);
  return { ...base, ns, end, peer };
}

export async function setUpClientServerLab(lab: NetLab, subnet: number, opts: LabOptions = {}): Promise<ClientServerLab> {
  const base = await cliLab(lab, opts);
  const cns = await lab.addNamespace('c');
  const sns = await lab.addNamespace('s');
  const [client, server] = await lab.vethPair({ ns: cns, role: 'cv' }, { ns: sns, role: 'sv' }, subnet);
  return { ...base, client, server };
}

/** fn on an fd of the pinned object at `path`; the fd is closed afterwards, also when fn throws. */
export function withPinned<T>(path: string, fn: (fd: number) => T): T {
  const fd = objGet(path);
  try {
    return fn(fd);
  } finally {
    closeFd(fd);
  }
}
