# shellcheck shell=bash
#
# tests/helpers/httpd.bash - HTTP servers on loopback for certctl's tests.
#
#   httpd_nginx_start DOCROOT [PORT]   nginx (Debian's /usr/sbin/nginx) serving
#                                      DOCROOT; /loop redirects to itself
#   httpd_py_start MODE [PORT]         a python3 server that misbehaves:
#                                        hang   accepts, reads, never answers
#                                        zeros  200, then zeros without end
#                                               (no Content-Length)
#                                        huge   200 with Content-Length
#                                               100 MiB, then zeros
#   httpd_stop                         stop every server started here
#
# Each start sets HTTPD_PORT (a free_port unless PORT is given) and appends
# its pid to HTTPD_PIDS; it returns only once the port accepts (wait_port).
# nginx also sets HTTPD_ACCESS_LOG. Everything listens on 127.0.0.1 only and
# lives in $BATS_TEST_TMPDIR (else $TMPDIR or /tmp); nothing is ever written to disk in bulk (the
# endless bodies are generated on the fly). Needs free_port and wait_port
# from common.bash.

HTTPD_PIDS=()

# _httpd_nginx SERVER-BLOCK: write an nginx.conf around SERVER-BLOCK (which
# listens on $HTTPD_PORT) in a new directory, start nginx, wait for it.
_httpd_nginx() {
    local dir
    dir=$(mktemp -d "${BATS_TEST_TMPDIR:-${TMPDIR:-/tmp}}/nginx.XXXXXX") || return 1
    mkdir -p "$dir/tmp" || return 1
    # master_process off: one process, no user switching (so no worker
    # running as nobody that cannot read the test's private tmp dir).
    cat >"$dir/nginx.conf" <<EOF || return 1
daemon off;
master_process off;
worker_processes 1;
pid $dir/nginx.pid;
error_log $dir/error.log;
events { worker_connections 256; }
http {
    access_log $dir/access.log;
    keepalive_requests 1000000;
    client_body_temp_path $dir/tmp/body;
    proxy_temp_path $dir/tmp/proxy;
    fastcgi_temp_path $dir/tmp/fastcgi;
    uwsgi_temp_path $dir/tmp/uwsgi;
    scgi_temp_path $dir/tmp/scgi;
    types {
        application/pkix-cert der;
        application/pkcs7-mime p7c;
        application/x-pem-file pem;
        text/html html;
    }
    default_type application/octet-stream;
    $1
}
EOF
    # shellcheck disable=SC2034 # read by the test files
    HTTPD_ACCESS_LOG=$dir/access.log
    /usr/sbin/nginx -e "$dir/error.log" -p "$dir" -c "$dir/nginx.conf" \
        </dev/null >"$dir/stdout.log" 2>&1 &
    HTTPD_PIDS+=("$!")
    if ! wait_port "$HTTPD_PORT"; then
        cat "$dir/error.log" "$dir/stdout.log" >&2 2>/dev/null
        return 1
    fi
}

# httpd_nginx_start DOCROOT [PORT]
httpd_nginx_start() {
    HTTPD_PORT=${2:-$(free_port)} || return 1
    _httpd_nginx "server {
        listen 127.0.0.1:$HTTPD_PORT;
        root $1;
        location = /loop { return 302 http://127.0.0.1:$HTTPD_PORT/loop; }
    }"
}

_HTTPD_PY='
import socket, sys, threading, time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

mode, port = sys.argv[1], int(sys.argv[2])

if mode == "hang":
    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", port))
    srv.listen(16)
    held = []
    while True:
        conn, _ = srv.accept()
        held.append(conn)          # never answered, never closed

class Zeros(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"
    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Type", "application/pkix-cert")
        if mode == "huge":
            self.send_header("Content-Length", str(100 * 1024 * 1024))
        self.end_headers()
        block = bytes(65536)
        try:
            while True:
                self.wfile.write(block)
        except OSError:
            pass
    def log_message(self, *args):
        pass

ThreadingHTTPServer.daemon_threads = True
ThreadingHTTPServer(("127.0.0.1", port), Zeros).serve_forever()
'

# httpd_py_start MODE [PORT]
httpd_py_start() {
    HTTPD_PORT=${2:-$(free_port)} || return 1
    python3 -c "$_HTTPD_PY" "$1" "$HTTPD_PORT" </dev/null >/dev/null 2>&1 &
    HTTPD_PIDS+=("$!")
    wait_port "$HTTPD_PORT"
}

# httpd_stop: for teardown; stops only the servers started above.
httpd_stop() {
    stop_pids "${HTTPD_PIDS[@]}"
    HTTPD_PIDS=()
}

# httpd_nginx_tls_start DOCROOT CERT KEY [EXTRA [PORT]]
#
# nginx serving DOCROOT over TLS on 127.0.0.1 with CERT (leaf + chain, PEM)
# and KEY. EXTRA is more nginx configuration for the server block (an auth
# check, ssl_verify_client, redirects...). Sets HTTPD_PORT and
# HTTPD_ACCESS_LOG like httpd_nginx_start; the access log has the default
# "combined" format, so a conditional GET answered 304 shows as '" 304 '.
httpd_nginx_tls_start() {
    HTTPD_PORT=${5:-$(free_port)} || return 1
    _httpd_nginx "server {
        listen 127.0.0.1:$HTTPD_PORT ssl;
        ssl_certificate $2;
        ssl_certificate_key $3;
        root $1;
        ${4-}
    }"
}

_HTTPD_PY_TLS='
import socket, ssl, sys, threading, time

mode, cert, key, port = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(cert, key)
srv = socket.socket()
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("127.0.0.1", port))
srv.listen(16)
held = []

def serve(conn):
    try:
        tls = ctx.wrap_socket(conn, server_side=True)
        held.append(tls)
        tls.recv(65536)            # the request
        if mode == "stall":
            return                 # never answered, never closed
        tls.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/x-pem-file\r\n"
                    b"Content-Length: 100000\r\n\r\n")
        while True:                # trickle: one byte a second
            tls.sendall(b"#")
            time.sleep(1)
    except (OSError, ssl.SSLError):
        pass

while True:
    c, _ = srv.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
'

# httpd_py_tls_start MODE CERT KEY [PORT]: a python3 TLS server (CERT: leaf
# + chain, KEY) that completes the handshake and reads the request, then
#   stall    never answers
#   trickle  answers 200 with Content-Length 100000 and sends one byte a
#            second
# so that only a total timeout ends the request.
httpd_py_tls_start() {
    HTTPD_PORT=${4:-$(free_port)} || return 1
    python3 -c "$_HTTPD_PY_TLS" "$1" "$2" "$3" "$HTTPD_PORT" </dev/null >/dev/null 2>&1 &
    HTTPD_PIDS+=("$!")
    wait_port "$HTTPD_PORT"
}
