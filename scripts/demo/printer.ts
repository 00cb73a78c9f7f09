// One line per event: "+12.345s  KIND     text". Colour only on a TTY (or with
// FORCE_COLOR), never with NO_COLOR, so logs and the test read plain text.
export type Kind = 'step' | 'ok' | 'blocked' | 'fail' | 'server' | 'inspect' | 'verdict' | 'alert' | 'kernel' | 'daemon' | 'info' | 'warn';

const LABEL: Record<Kind, string> = {
  step: 'STEP', ok: 'CLIENT', blocked: 'CLIENT', fail: 'CLIENT', server: 'SERVER', inspect: 'INSPECT',
  verdict: 'VERDICT', alert: 'ALERT', kernel: 'KERNEL', daemon: 'DAEMON', info: 'DEMO', warn: 'WARN',
};

// ANSI SGR codes per kind
const COLOUR: Record<Kind, string> = {
  step: '1;36', ok: '32', blocked: '33', fail: '1;31', server: '2', inspect: '34',
  verdict: '35', alert: '1;31', kernel: '1;35', daemon: '2', info: '1', warn: '1;33',
};

export class Printer {
  readonly colour: boolean;
  private readonly t0 = Date.now();
  readonly lines: string[] = [];

  constructor(private readonly out: NodeJS.WriteStream = process.stdout) {
    const env = process.env;
    this.colour = env.NO_COLOR === undefined && (env.FORCE_COLOR !== undefined ? env.FORCE_COLOR !== '0' : out.isTTY === true);
  }

  paint(code: string, text: string): string {
    return this.colour ? `\x1b[${code}m${text}\x1b[0m` : text;
  }

  event(kind: Kind, text: string): void {
    const t = `+${((Date.now() - this.t0) / 1000).toFixed(3).padStart(7)}s`;
    const label = LABEL[kind].padEnd(8);
    this.raw(`${this.paint('2', t)}  ${this.paint(COLOUR[kind], label)} ${kind === 'step' ? this.paint(COLOUR.step, text) : text}`);
  }

  /** A heading or summary line, printed as is. */
  raw(text: string): void {
    this.lines.push(text);
    this.out.write(text + '\n');
  }

  bold(text: string): string {
    return this.paint('1', text);
  }
}

/** "198.18.64.2:41234 → 198.18.64.1:80/tcp" from an EVE record's endpoint fields. */
export function endpoints(rec: { src_ip?: unknown; src_port?: unknown; dest_ip?: unknown; dest_port?: unknown; proto?: unknown }): string {
  const side = (ip: unknown, port: unknown): string => {
    const a = String(ip ?? '?');
    const host = a.includes(':') ? `[${a}]` : a;
    return port === undefined ? host : `${host}:${String(port)}`;
  };
  return `${side(rec.src_ip, rec.src_port)} → ${side(rec.dest_ip, rec.dest_port)}/${String(rec.proto ?? '?').toLowerCase()}`;
}
