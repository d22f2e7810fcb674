"""A test HTTP server on the controller side: serves a directory (with Last-Modified / 304 as Python's
http.server does), requires Basic auth under /private/, and logs each request's method, path and headers
(one JSON line) so tests can count downloads and check what was sent.
Usage: http-server.py DIR ADDRESS PORTFILE LOGFILE USER:PASSWORD [CERT KEY] (https with a cert and key)"""
import base64, functools, http.server, json, ssl, sys

root, address, portfile, logfile, creds = sys.argv[1:6]


class Handler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def record(self):
        with open(logfile, 'a') as f:
            f.write(json.dumps({'method': self.command, 'path': self.path, 'headers': dict(self.headers)}) + '\n')

    def authorized(self):
        if not self.path.startswith('/private/'):
            return True
        if self.headers.get('Authorization') == 'Basic ' + base64.b64encode(creds.encode()).decode():
            return True
        self.send_response(401)
        self.send_header('WWW-Authenticate', 'Basic realm="test"')
        self.send_header('Content-Length', '0')
        self.end_headers()
        return False

    def do_GET(self):
        self.record()
        if self.authorized():
            super().do_GET()

    def do_HEAD(self):
        self.record()
        if self.authorized():
            super().do_HEAD()


server = http.server.ThreadingHTTPServer((address, 0), functools.partial(Handler, directory=root))
if len(sys.argv) > 7:
    tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    tls.load_cert_chain(sys.argv[6], sys.argv[7])
    server.socket = tls.wrap_socket(server.socket, server_side=True)
with open(portfile, 'w') as f:
    f.write(str(server.server_address[1]))
server.serve_forever()
