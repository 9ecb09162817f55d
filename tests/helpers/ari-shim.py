#!/usr/bin/env python3
"""An ACME directory with renewalInfo (RFC 9773) in front of Pebble.

Debian's Pebble (2.4) has no renewalInfo. This serves Pebble's own
directory with a renewalInfo URL added that points here; every other URL
in it is Pebble's, so orders go to Pebble unchanged. Answers to
renewalInfo come from files the test writes in STATE:

  STATE/window.json   the body (absent: 404)
  STATE/retry-after   the Retry-After header (optional)
  STATE/requests      each certificate ID asked for, one per line

usage: ari-shim.py PORT CERT KEY CAFILE UPSTREAM-DIRECTORY STATE
"""
import http.server
import json
import os
import ssl
import sys
import urllib.request

PORT, CERT, KEY, CAFILE, UPSTREAM, STATE = sys.argv[1:7]
PORT = int(PORT)


class Handler(http.server.BaseHTTPRequestHandler):
    def reply(self, status, body, ctype="application/json", headers=()):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for name, value in headers:
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        if self.path == "/dir":
            ctx = ssl.create_default_context(cafile=CAFILE)
            with urllib.request.urlopen(UPSTREAM, context=ctx) as up:
                directory = json.load(up)
            directory["renewalInfo"] = f"https://127.0.0.1:{PORT}/renewal-info/"
            self.reply(200, json.dumps(directory).encode())
            return
        prefix = "/renewal-info/"
        if not self.path.startswith(prefix):
            self.reply(404, b"{}")
            return
        with open(os.path.join(STATE, "requests"), "a", encoding="ascii") as log:
            log.write(self.path[len(prefix):] + "\n")
        try:
            with open(os.path.join(STATE, "window.json"), "rb") as f:
                body = f.read()
        except FileNotFoundError:
            self.reply(404, b"{}")
            return
        headers = []
        try:
            with open(os.path.join(STATE, "retry-after"), encoding="ascii") as f:
                headers.append(("Retry-After", f.read().strip()))
        except FileNotFoundError:
            pass
        self.reply(200, body, headers=headers)

    def log_message(self, fmt, *args):
        pass


server = http.server.ThreadingHTTPServer(("127.0.0.1", PORT), Handler)
tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
tls.load_cert_chain(CERT, KEY)
server.socket = tls.wrap_socket(server.socket, server_side=True)
server.serve_forever()
