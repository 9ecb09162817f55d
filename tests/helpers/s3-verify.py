#!/usr/bin/env python3
"""A front for s3rver that checks AWS Signature V4 the way S3 does.

s3rver serves the REST semantics (PUT, GET, ETag, 304) but accepts any
signature, so this proxy checks each request first with botocore's own
SigV4 code (S3SigV4Auth recomputes the signature over the request as
received; nothing here signs anything) and answers 403 with S3's error
codes on a mismatch; a good request goes on to s3rver, without its
credentials.

usage: s3-verify.py LISTEN_PORT UPSTREAM_PORT REGION KEYS_FILE CONTROL_DIR

KEYS_FILE holds "ACCESS_KEY_ID SECRET [ro]" lines: "ro" keys may only
GET/HEAD. CONTROL_DIR/fault, when present, makes every request fail:
"500" answers 500 InternalError, "slow" holds the request without an
answer (until the client gives up). S3VERIFY_CLOCK_OFFSET (seconds, may
be negative) shifts this verifier's notion of now: a client whose
X-Amz-Date is more than 15 minutes away from it is refused with
RequestTimeTooSkewed, as S3 does. Each request is logged to stderr as
"METHOD PATH STATUS [CODE]".
"""
import datetime
import hashlib
import hmac
import http.client
import http.server
import os
import re
import sys
import time

from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

LISTEN, UPSTREAM = int(sys.argv[1]), int(sys.argv[2])
REGION, KEYS_FILE, CONTROL = sys.argv[3], sys.argv[4], sys.argv[5]
SKEW_MAX = 15 * 60
AUTH_RE = re.compile(r"AWS4-HMAC-SHA256 Credential=([^/]+)/(\d{8})/([^/]+)/([^/]+)/"
                     r"aws4_request, ?SignedHeaders=([a-z0-9;-]+), ?Signature=([0-9a-f]{64})$")
HOP = {"connection", "keep-alive", "transfer-encoding", "authorization",
       "x-amz-content-sha256", "x-amz-date", "x-amz-security-token", "expect"}


def keys():
    out = {}
    with open(KEYS_FILE) as f:
        for line in f:
            part = line.split()
            if len(part) >= 2:
                out[part[0]] = (part[1], "ro" in part[2:])
    return out


def now():
    offset = float(os.environ.get("S3VERIFY_CLOCK_OFFSET", "0"))
    return datetime.datetime.now(datetime.timezone.utc).timestamp() + offset


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def error(self, status, code, message):
        body = ("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>%s</Code>"
                "<Message>%s</Message></Error>" % (code, message)).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/xml")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)
        sys.stderr.write("%s %s %d %s\n" % (self.command, self.path, status, code))
        sys.stderr.flush()

    def fault(self):
        try:
            with open(os.path.join(CONTROL, "fault")) as f:
                return f.read().strip()
        except FileNotFoundError:
            return ""

    def verify(self, body):
        """None when the signature is good, else (status, code, message)."""
        auth = self.headers.get("Authorization")
        if auth is None:
            return 403, "AccessDenied", "Anonymous access is not allowed"
        m = AUTH_RE.match(auth)
        if m is None:
            return 400, "AuthorizationHeaderMalformed", "Not a SigV4 Authorization header"
        key_id, day, region, service, signed, signature = m.groups()
        known = keys()
        if key_id not in known:
            return 403, "InvalidAccessKeyId", "The access key ID is not known"
        secret, read_only = known[key_id]
        amz_date = self.headers.get("X-Amz-Date", "")
        try:
            when = datetime.datetime.strptime(amz_date, "%Y%m%dT%H%M%SZ").replace(
                tzinfo=datetime.timezone.utc).timestamp()
        except ValueError:
            return 403, "AccessDenied", "X-Amz-Date is missing or malformed"
        if abs(when - now()) > SKEW_MAX:
            return 403, "RequestTimeTooSkewed", "The difference between the request " \
                "time and the server's time is too large"
        if day != amz_date[:8] or region != REGION or service != "s3":
            return 403, "SignatureDoesNotMatch", "Wrong credential scope"
        # S3 wants the payload's hash on every SigV4 request.
        content_sha = self.headers.get("X-Amz-Content-SHA256")
        if content_sha is None:
            return 400, "InvalidRequest", "Missing required header for this request: " \
                "x-amz-content-sha256"
        if content_sha != "UNSIGNED-PAYLOAD" and \
                content_sha != hashlib.sha256(body).hexdigest():
            return 400, "XAmzContentSHA256Mismatch", "The payload hash does not match"
        names = signed.split(";")
        headers = {}
        for name in names:
            if name not in self.headers:
                return 403, "SignatureDoesNotMatch", "A signed header is missing"
            headers[name] = ",".join(self.headers.get_all(name))
        request = AWSRequest(method=self.command, url="http://%s%s" % (
            self.headers.get("Host", ""), self.path), headers=headers, data=body)
        request.context["timestamp"] = amz_date
        signer = S3SigV4Auth(Credentials(key_id, secret), service, region)
        canonical = signer.canonical_request(request)
        expected = signer.signature(signer.string_to_sign(request, canonical), request)
        if not hmac.compare_digest(expected, signature):
            return 403, "SignatureDoesNotMatch", "The request signature we calculated " \
                "does not match the signature you provided"
        if read_only and self.command not in ("GET", "HEAD"):
            return 403, "AccessDenied", "This key may only read"
        return None

    def proxy(self, body):
        upstream = http.client.HTTPConnection("127.0.0.1", UPSTREAM, timeout=30)
        headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP}
        upstream.request(self.command, self.path, body=body if body else None,
                         headers=headers)
        resp = upstream.getresponse()
        data = resp.read()
        self.send_response(resp.status)
        for k, v in resp.getheaders():
            if k.lower() not in ("connection", "transfer-encoding", "content-length",
                                 "keep-alive"):
                self.send_header(k, v)
        if resp.status != 304:
            self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD" and resp.status != 304:
            self.wfile.write(data)
        upstream.close()
        sys.stderr.write("%s %s %d\n" % (self.command, self.path, resp.status))
        sys.stderr.flush()

    def handle_any(self):
        length = int(self.headers.get("Content-Length", "0") or 0)
        body = self.rfile.read(length) if length else b""
        fault = self.fault()
        if fault == "slow":
            sys.stderr.write("%s %s held (slow)\n" % (self.command, self.path))
            sys.stderr.flush()
            time.sleep(120)
            self.close_connection = True
            return
        if fault == "500":
            self.error(500, "InternalError", "We encountered an internal error")
            return
        bad = self.verify(body)
        if bad is not None:
            self.error(*bad)
            return
        self.proxy(body)

    do_GET = do_HEAD = do_PUT = do_POST = do_DELETE = handle_any


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True


if __name__ == "__main__":
    Server(("127.0.0.1", LISTEN), Handler).serve_forever()
