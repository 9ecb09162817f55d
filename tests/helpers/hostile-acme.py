#!/usr/bin/env python3
"""A hostile ACME CA on loopback, for tests/cli/hostile.bats.

It speaks just enough RFC 8555 for certctl to get a certificate (no JWS
checking, orders with no authorizations to answer), and misbehaves in the
way the file STATE/mode names, read afresh for every request so that one
server serves a whole test. Mode "good" is the control: a certificate
signed by the test PKI for the key in the CSR.

For tests/cli/orders.bats it also stands in for what Pebble lacks: the
directory carries meta.profiles when STATE/profiles holds them (JSON), and
the payload of every newOrder is appended to STATE/orders (one JSON per
line). Modes "order-503" and "order-ratelimited" refuse orders (with the
Retry-After in STATE/retry-after, if any).

usage: hostile-acme.py PORT TLS-CERT TLS-KEY PKI-DIR STATE
"""
import base64
import http.server
import json
import os
import secrets
import ssl
import subprocess
import sys
import time

PORT, TLS_CERT, TLS_KEY, PKI, STATE = sys.argv[1:6]
BASE = f"https://127.0.0.1:{PORT}"
HELPERS = os.path.dirname(os.path.abspath(__file__))


def mode():
    try:
        with open(os.path.join(STATE, "mode"), encoding="ascii") as f:
            return f.read().strip()
    except FileNotFoundError:
        return "good"


def b64url_decode(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def sign_csr(body, other_name=None):
    """The CSR of a finalize request, signed by the test PKI's intermediate
    (with OTHER_NAME as its only SAN instead of the CSR's, if given)."""
    payload = json.loads(b64url_decode(json.loads(body)["payload"]))
    der = os.path.join(STATE, "csr.der")
    pem = os.path.join(STATE, "csr.pem")
    out = os.path.join(STATE, "issued.pem")
    with open(der, "wb") as f:
        f.write(b64url_decode(payload["csr"]))
    subprocess.run(["openssl", "req", "-inform", "DER", "-in", der, "-out", pem],
                   check=True, capture_output=True)
    if other_name is None:
        subprocess.run(["bash", "-c", 'source "$1"; shift; pki_csr_sign "$@"', "_",
                        os.path.join(HELPERS, "pki.bash"), PKI, pem, out],
                       check=True, capture_output=True)
    else:
        ext = os.path.join(STATE, "other.ext")
        with open(ext, "w", encoding="ascii") as f:
            f.write("basicConstraints = CA:FALSE\nkeyUsage = digitalSignature\n"
                    f"extendedKeyUsage = serverAuth\nsubjectAltName = DNS:{other_name}\n")
        subprocess.run(["openssl", "x509", "-req", "-in", pem, "-out", out, "-days", "30",
                        "-CA", os.path.join(PKI, "inter.pem"),
                        "-CAkey", os.path.join(PKI, "inter.key"), "-set_serial",
                        str(secrets.randbits(63)), "-extfile", ext],
                       check=True, capture_output=True)
    with open(out, "rb") as f, open(os.path.join(PKI, "inter.pem"), "rb") as chain:
        return f.read() + chain.read()


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def send(self, status, body, ctype="application/json", headers=()):
        if isinstance(body, (dict, list)):
            body = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Replay-Nonce", secrets.token_urlsafe(16))
        for name, value in headers:
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def endless(self, ctype):
        """A body that never ends (chunked), until the client hangs up."""
        self.send_response(200)
        self.send_header("Content-Type", ctype)
        self.send_header("Transfer-Encoding", "chunked")
        self.send_header("Replay-Nonce", secrets.token_urlsafe(16))
        self.end_headers()
        chunk = b"A" * 65536
        try:
            while True:
                self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
        except OSError:
            pass

    def drip(self, body):
        """Headers at once, then one byte a second."""
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        try:
            for byte in body:
                self.wfile.write(bytes([byte]))
                self.wfile.flush()
                time.sleep(1)
        except OSError:
            pass

    def directory(self):
        d = {"newNonce": BASE + "/nonce", "newAccount": BASE + "/account",
             "newOrder": BASE + "/order", "revokeCert": BASE + "/revoke",
             "keyChange": BASE + "/key-change"}
        profiles = self.setting("profiles", None)
        if profiles is not None:
            d["meta"] = {"profiles": json.loads(profiles)}
        return d

    def refuse_order(self, m):
        """An outage (503) or a rate limit (429 rateLimited)."""
        retry = self.setting("retry-after", None)
        headers = [("Retry-After", retry.strip())] if retry is not None else []
        if m == "order-503":
            self.send(503, b"<html>down for maintenance</html>", "text/html", headers)
        else:
            self.send(429, {"type": "urn:ietf:params:acme:error:rateLimited",
                            "detail": "too many certificates"}, "application/problem+json",
                      headers)

    def order(self, status, **more):
        return dict({"status": status, "expires": "2099-01-01T00:00:00Z",
                     "identifiers": [{"type": "dns", "value": "www.example.com"}],
                     "authorizations": [], "finalize": BASE + "/finalize/1"}, **more)

    def do_HEAD(self):
        self.do_GET()

    def do_GET(self):
        m = mode()
        if self.path == "/dir":
            if m == "dir-garbage":
                self.send(200, b'{"newNonce": "htt')
            elif m == "dir-html":
                self.send(200, b"<html><body>maintenance</body></html>", "text/html")
            elif m == "dir-endless":
                self.endless("application/json")
            elif m == "dir-drip":
                self.drip(json.dumps(self.directory()).encode())
            elif m == "dir-redirect-loop":
                self.send(302, b"", headers=[("Location", BASE + "/dir")])
            elif m == "dir-not-object":
                self.send(200, [BASE + "/order"])
            else:
                self.send(200, self.directory())
        elif self.path == "/nonce":
            if m == "nonce-none":
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()
            else:
                self.send(200, b"")
        else:
            self.send(404, b"")

    def do_POST(self):
        m = mode()
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        if self.path == "/account":
            if m == "account-problem":
                self.send(403, {"type": "urn:ietf:params:acme:error:unauthorized",
                                "detail": "go away\nsecond line\x1b[31m"},
                          "application/problem+json")
            elif m == "account-no-location":
                self.send(201, {"status": "valid"})
            else:
                self.send(201, {"status": "valid"},
                          headers=[("Location", BASE + "/acct/1")])
        elif self.path == "/order":
            with open(os.path.join(STATE, "orders"), "a", encoding="utf-8") as f:
                f.write(json.dumps(json.loads(b64url_decode(
                    json.loads(body)["payload"]))) + "\n")
            if m in ("order-503", "order-ratelimited"):
                self.refuse_order(m)
            elif m == "order-badnonce-forever":
                self.send(400, {"type": "urn:ietf:params:acme:error:badNonce",
                                "detail": "try again"}, "application/problem+json")
            elif m == "order-text":
                self.send(201, b"order accepted", "text/plain",
                          headers=[("Location", BASE + "/order/1")])
            elif m == "order-truncated":
                self.send(201, json.dumps(self.order("ready")).encode()[:40],
                          headers=[("Location", BASE + "/order/1")])
            elif m == "order-many-authz":
                self.send(201, self.order("pending", authorizations=[
                    f"{BASE}/authz/{i}" for i in range(1000)]),
                          headers=[("Location", BASE + "/order/1")])
            elif m == "order-authz-not-string":
                self.send(201, self.order("pending", authorizations=[1, None]),
                          headers=[("Location", BASE + "/order/1")])
            elif m.startswith("authz-"):
                self.send(201, self.order("pending", authorizations=[BASE + "/authz/1"]),
                          headers=[("Location", BASE + "/order/1")])
            elif m == "order-no-finalize":
                o = self.order("ready")
                del o["finalize"]
                self.send(201, o, headers=[("Location", BASE + "/order/1")])
            else:
                self.send(201, self.order("ready"), headers=[("Location", BASE + "/order/1")])
        elif self.path == "/finalize/1":
            if m in ("good", "cert-other-name", "cert-other-key", "cert-truncated",
                     "cert-html", "cert-endless", "cert-empty", "authz-http", "authz-ident"):
                with open(os.path.join(STATE, "finalize"), "wb") as f:
                    f.write(body)
            self.send(200, self.order("processing"), headers=[("Retry-After", "1")])
        elif self.path == "/order/1":
            if m == "order-processing-forever":
                self.send(200, self.order("processing"), headers=[("Retry-After", "1")])
            elif m == "order-invalid":
                self.send(200, self.order("invalid", error={
                    "type": "urn:ietf:params:acme:error:badCSR", "detail": "no"}))
            elif m == "order-no-certificate":
                self.send(200, self.order("valid"))
            else:
                self.send(200, self.order("valid", certificate=BASE + "/cert/1"))
        elif self.path == "/cert/1":
            self.certificate(m)
        elif self.path == "/authz/1":
            self.authz(m)
        elif self.path == "/chall/1":
            with open(os.path.join(STATE, "answered"), "w", encoding="ascii") as f:
                f.write("yes")
            if m == "authz-http":
                self.fetch_token()
            self.send(200, {"type": "dns-01", "status": "processing"})
        else:
            self.send(404, b"")

    @staticmethod
    def setting(name, default):
        """STATE/NAME's text (as it is, newlines and all), or DEFAULT."""
        try:
            with open(os.path.join(STATE, name), encoding="utf-8") as f:
                return f.read()
        except FileNotFoundError:
            return default

    def fetch_token(self):
        """What a validating CA would get: the token file under the
        webroot in STATE/webroot, copied to STATE/served."""
        path = os.path.join(self.setting("webroot", "/nonexistent"),
                            ".well-known/acme-challenge", self.setting("token", "tok3n"))
        try:
            with open(path, "rb") as f, open(os.path.join(STATE, "served"), "wb") as out:
                out.write(f.read())
        except OSError:
            pass

    def authz(self, m):
        ident = {"type": "dns", "value": "www.example.com"}
        chall = {"type": "dns-01", "url": BASE + "/chall/1", "token": "tok3n", "status": "pending"}
        answered = os.path.exists(os.path.join(STATE, "answered"))
        if m in ("authz-http", "authz-ident"):
            # http-01 with the token in STATE/token, or dns-01 for the
            # identifier in STATE/ident; valid once answered.
            if m == "authz-http":
                chall = dict(chall, type="http-01", token=self.setting("token", "tok3n"))
            else:
                ident = dict(ident, value=self.setting("ident", "www.example.com"))
            self.send(200, {"status": "valid" if answered else "pending", "identifier": ident,
                            "challenges": [chall]}, headers=[("Retry-After", "1")])
        elif m == "authz-garbage":
            self.send(200, b"nonsense", "text/plain")
        elif m == "authz-no-status":
            self.send(200, {"identifier": ident})
        elif m == "authz-no-challenge":
            self.send(200, {"status": "pending", "identifier": ident, "challenges": [
                dict(chall, type="tls-alpn-01")]})
        elif m == "authz-evil-token":
            self.send(200, {"status": "pending", "identifier": ident, "challenges": [
                dict(chall, token="../../../etc/passwd")]})
        elif m == "authz-invalid":
            self.send(200, {"status": "invalid", "identifier": ident, "challenges": [chall]})
        elif m == "authz-fails" and answered:
            self.send(200, {"status": "invalid", "identifier": ident, "challenges": [
                dict(chall, status="invalid", error={
                    "type": "urn:ietf:params:acme:error:dns",
                    "detail": "no TXT record\nfound\x07"})]})
        else:  # authz-pending-forever, and authz-fails before the answer
            self.send(200, {"status": "pending", "identifier": ident, "challenges": [chall]},
                      headers=[("Retry-After", "1")])

    def certificate(self, m):
        ctype = "application/pem-certificate-chain"
        with open(os.path.join(STATE, "finalize"), "rb") as f:
            finalize = f.read()
        if m == "cert-endless":
            self.endless(ctype)
        elif m == "cert-html":
            self.send(200, b"<html>your certificate is ready</html>", "text/html")
        elif m == "cert-empty":
            self.send(200, b"", ctype)
        elif m == "cert-other-key":
            with open(os.path.join(PKI, "other.full.pem"), "rb") as f:
                self.send(200, f.read(), ctype)
        elif m == "cert-other-name":
            self.send(200, sign_csr(finalize, "evil.example.net"), ctype)
        elif m == "cert-truncated":
            pem = sign_csr(finalize)
            self.send(200, pem[: len(pem) // 3], ctype)
        else:
            self.send(200, sign_csr(finalize), ctype)

    def log_message(self, fmt, *args):
        pass


server = http.server.ThreadingHTTPServer(("127.0.0.1", int(PORT)), Handler)
server.daemon_threads = True
tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
tls.load_cert_chain(TLS_CERT, TLS_KEY)
server.socket = tls.wrap_socket(server.socket, server_side=True)
server.serve_forever()
