// DLP-5 on a real mail: Python's smtplib sends a multipart message built by
// the email package, a text part and a CSV attached as base64 (what any mail
// client does with a document), to a tiny SMTP sink in a namespace. The
// tcpdump capture goes through the engine with dlp: the card and the SSN in
// the attachment are reported once each, to_server, redacted.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { alertsOf, compiledModule, engineRun } from './support.js';
import { capture, makePair, readFrames, type Pair } from '../scan_flood/lab.js';
import { moduleLabSkip } from '../lab/gate.js';

const skip = moduleLabSkip(['python3']);
let pair: Pair;

// just enough SMTP for smtplib: greeting, EHLO, MAIL, RCPT, DATA up to ".", QUIT
const SINK = `
import os, socketserver, sys, threading
threading.Timer(120, lambda: os._exit(0)).start()
class Sink(socketserver.StreamRequestHandler):
    def handle(self):
        self.wfile.write(b'220 sink ESMTP\\r\\n')
        in_data = False
        for line in self.rfile:
            if in_data:
                if line in (b'.\\r\\n', b'.\\n'):
                    in_data = False
                    self.wfile.write(b'250 queued\\r\\n')
                continue
            verb = line[:4].upper()
            if verb in (b'EHLO', b'HELO'):
                self.wfile.write(b'250 sink\\r\\n')
            elif verb == b'DATA':
                in_data = True
                self.wfile.write(b'354 go ahead\\r\\n')
            elif verb == b'QUIT':
                self.wfile.write(b'221 bye\\r\\n')
                return
            else:
                self.wfile.write(b'250 ok\\r\\n')
socketserver.ThreadingTCPServer.allow_reuse_address = True
server = socketserver.ThreadingTCPServer((sys.argv[1], 2525), Sink)
print('ready', flush=True)
server.serve_forever()
`;

const CLIENT = `
import smtplib, sys
from email.message import EmailMessage
m = EmailMessage()
m['From'] = 'a@client.example'
m['To'] = 'b@server.example'
m['Subject'] = 'quarterly export'
m.set_content('Please find the export attached.')
rows = ''.join('customer %d,no card on file\\r\\n' % i for i in range(200))
rows += 'Alice Example,4111111111111111,219-09-9999\\r\\n'
m.add_attachment(rows.encode(), maintype='text', subtype='csv', filename='export.csv', cte='base64')
with smtplib.SMTP(sys.argv[1], 2525, timeout=5) as s:
    s.send_message(m)
`;

beforeAll(async () => {
  await compiledModule('dlp');
  if (skip) return;
  pair = await makePair('dlb', 68);
  await pair.lab.spawn(pair.serverNs, ['python3', '-c', SINK, pair.server.addr], 'ready', 20_000);
}, 300_000);

afterAll(() => { pair?.lab.cleanupSync(); });

describe.skipIf(skip)('dlp on a real mail with a base64 attachment', () => {
  it('smtplib sends a CSV attached as base64: its card and SSN are reported once each, to_server', async () => {
    const pcap = await capture(pair, 'smtp', async () => {
      await pair.lab.exec(pair.clientNs, ['python3', '-c', CLIENT, pair.server.addr], { timeoutMs: 15_000 });
    });
    const frames = readFrames(pcap);
    const wire = Buffer.concat(frames.map((f) => Buffer.from(f.data))).toString('latin1');
    // the capture really holds the attachment as base64, and neither value in clear
    expect(wire).toMatch(/Content-Transfer-Encoding: base64\r\nContent-Disposition: attachment; filename="export.csv"/);
    expect(wire).not.toContain('4111111111111111');
    expect(wire).not.toContain('219-09-9999');
    expect(wire).toContain('250 queued');
    const { decisions } = await engineRun(frames, [{ name: 'dlp' }]);
    const seen = alertsOf(decisions, 'dlp').map((a) => `${a.sigId} ${a.metadata!.direction} ${a.metadata!.redacted}`);
    expect(seen).toEqual(['1005001 to_server ************1111', '1005002 to_server ***-**-9999']);
  }, 60_000);
});
