# A form server whose multipart parsing is Python's email package, as
# applications built on the standard library's MIME parser have it: each
# part's Content-Transfer-Encoding (quoted-printable, base64) is undone by
# Message.get_payload(decode=True), leniently. It answers every POST with
# the fields as the application reads them (JSON, bytes as latin-1), so a
# test can compare that with what http_waf inspected.
# Prints "port N" once it listens on 127.0.0.1.
import json
import sys
from email import policy
from email.parser import BytesParser
from http.server import BaseHTTPRequestHandler, HTTPServer


class FormHandler(BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get('Content-Length', '0')))
        head = b'Content-Type: ' + self.headers.get('Content-Type', '').encode('latin-1') + b'\r\n\r\n'
        message = BytesParser(policy=policy.HTTP).parsebytes(head + body)
        fields = {}
        for part in message.iter_parts():
            name = part.get_param('name', header='content-disposition') or ''
            fields[name] = (part.get_payload(decode=True) or b'').decode('latin-1')
        answer = json.dumps(fields).encode()
        self.send_response(200)
        self.send_header('Content-Type', 'application/json')
        self.send_header('Content-Length', str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, *args):
        pass


server = HTTPServer(('127.0.0.1', 0), FormHandler)
sys.stdout.write(f'port {server.server_address[1]}\n')
sys.stdout.flush()
try:
    server.serve_forever()
except KeyboardInterrupt:
    pass
sys.exit(0)
