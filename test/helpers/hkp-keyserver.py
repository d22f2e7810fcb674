# A keyserver for apt_key tests (HKP on 127.0.0.1:11371 inside a lab host): every lookup answers the local
# repository's public key (test/helpers/local-apt-repo.sh).
import http.server
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        d = open('/srv/orch-repo/key.asc', 'rb').read()
        self.send_response(200)
        self.send_header('Content-Type', 'application/pgp-keys')
        self.send_header('Content-Length', str(len(d)))
        self.end_headers()
        self.wfile.write(d)
http.server.HTTPServer(('127.0.0.1', 11371), H).serve_forever()
