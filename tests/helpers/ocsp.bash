# shellcheck shell=bash
#
# tests/helpers/ocsp.bash - OCSP responders on loopback for certctl's tests.
#
#   ocsp_setup                           OCSP_DIR (scratch), OCSP_PORT (free),
#                                        OCSP_URL (http://127.0.0.1:PORT, the
#                                        URL to bake into leaves with
#                                        pki_leaf --ocsp), OCSP_INDEX (empty)
#   ocsp_index_add INDEX V|R CERT        one line of an `openssl ca` index:
#                                        valid or revoked (a day ago)
#   ocsp_responder_cert OUT NAME ISSUER [EKU]
#                                        a responder cert OUT/NAME.{pem,key}
#                                        issued by $PKI/ISSUER.{pem,key};
#                                        EKU "ocsp" (default) carries
#                                        id-kp-OCSPSigning, "none" does not
#   ocsp_start INDEX SIGNER KEY [OPTS...]
#                                        a real responder: `openssl ocsp
#                                        -index INDEX -CA $OCSP_CA
#                                        -rsigner SIGNER -rkey KEY OPTS` on
#                                        OCSP_PORT (add -ndays N for a
#                                        nextUpdate; nonces are echoed)
#   ocsp_response OUT CERT INDEX SIGNER KEY [OPTS...]
#                                        the same responder, once, offline:
#                                        its answer for CERT into OUT (DER)
#   ocsp_shift IN OUT SECONDS [KEY]      IN with every time in the response
#                                        data (producedAt, thisUpdate,
#                                        nextUpdate) moved by SECONDS and
#                                        signed again with KEY (default
#                                        $PKI/inter.key, ECDSA-SHA256): stale
#                                        or future responses without faketime
#   ocsp_static_start MODE [ARG]         a python3 server on OCSP_PORT that
#                                        logs every request and answers:
#                                          file PATH  200, PATH's bytes (read
#                                                     per request)
#                                          html       200, an HTML page
#                                          zeros N    200, N zero bytes with
#                                                     Content-Length
#                                          stream N   200, N zero bytes, no
#                                                     Content-Length
#                                          status N   HTTP status N, no body
#                                          hang       never answers
#   ocsp_requests                        the request log: "METHOD PATH TYPE
#                                        LENGTH" per line; the DER request of
#                                        line N is in OCSP_DIR/req.N.der
#                                        (GET: the URL's base64 decoded)
#   ocsp_stop                            stop every server started here
#
# OCSP_CA is the issuer the responder answers for (default $PKI/inter.pem;
# set it to $PKI/root.pem for leaves issued by the root).
#
# Servers listen on OCSP_PORT only (python3 on 127.0.0.1; openssl ocsp 3.0
# takes a bare port number for -port and binds the wildcard address: it
# refuses "127.0.0.1:PORT"). A server that dies at start is reported with
# its log. A server counts as started when its log says it listens: never
# probe `openssl ocsp` with a connection (see _ocsp_wait). Needs PKI
# (common_setup), free_port and pki.bash.

OCSP_PIDS=()

ocsp_setup() {
    OCSP_DIR=$BATS_TEST_TMPDIR/ocsp
    mkdir -p "$OCSP_DIR" || return 1
    OCSP_PORT=$(free_port) || return 1
    # shellcheck disable=SC2034 # read by the test files
    OCSP_URL=http://127.0.0.1:$OCSP_PORT
    OCSP_INDEX=$OCSP_DIR/index.txt
    : >"$OCSP_INDEX" || return 1
    # Distinct subjects are not guaranteed (two leaves may share a CN).
    printf 'unique_subject = no\n' >"$OCSP_INDEX.attr"
}

# ocsp_index_add INDEX V|R CERT
ocsp_index_add() {
    local index=$1 st=$2 cert=$3 serial end exp rev=''
    serial=$(openssl x509 -noout -serial -in "$cert") || return 1
    # long serials come folded with backslash-newlines
    serial=${serial#serial=}
    serial=${serial//[!0-9A-F]/}
    end=$(openssl x509 -noout -enddate -in "$cert") || return 1
    exp=$(date -u -d "${end#notAfter=}" +%y%m%d%H%M%SZ) || return 1
    case $st in
        V) ;;
        R) rev=$(date -u -d '1 day ago' +%y%m%d%H%M%SZ) || return 1 ;;
        *)
            echo "ocsp_index_add: status must be V or R" >&2
            return 1
            ;;
    esac
    [[ -e $index.attr ]] || printf 'unique_subject = no\n' >"$index.attr"
    printf '%s\t%s\t%s\t%s\tunknown\t/CN=%s\n' "$st" "$exp" "$rev" "$serial" \
        "$(basename "$cert")" >>"$index"
}

# ocsp_responder_cert OUT NAME ISSUER [ocsp|none]
ocsp_responder_cert() {
    local out=$1 name=$2 issuer=$3 eku=${4:-ocsp} serial
    serial=$(od -An -tx1 -N16 /dev/urandom) || return 1
    serial=${serial//[!0-9a-f]/}
    {
        printf '[ ext ]\nbasicConstraints = critical, CA:FALSE\n'
        printf 'keyUsage = critical, digitalSignature\n'
        printf 'subjectKeyIdentifier = hash\nauthorityKeyIdentifier = keyid:always\n'
        if [[ $eku == ocsp ]]; then
            printf 'extendedKeyUsage = OCSPSigning\nnoCheck = ignored\n'
        fi
    } >"$out/$name.ext" || return 1
    printf '[ req ]\ndistinguished_name = dn\n[ dn ]\n' >"$out/$name.req.cnf"
    if ! openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 \
        -out "$out/$name.key" 2>/dev/null ||
        ! openssl req -new -config "$out/$name.req.cnf" -key "$out/$name.key" \
            -subj "/CN=certctl test OCSP responder $name" -out "$out/$name.csr" \
            2>/dev/null ||
        ! openssl x509 -req -in "$out/$name.csr" -CA "$PKI/$issuer.pem" \
            -CAkey "$PKI/$issuer.key" -set_serial "0x$serial" -days 30 \
            -extfile "$out/$name.ext" -extensions ext -out "$out/$name.pem" \
            2>/dev/null; then
        echo "ocsp_responder_cert: cannot issue $name under $issuer" >&2
        return 1
    fi
}

# _ocsp_wait PID LOG WORD: until LOG shows WORD (the server listens); fail
# early if PID dies. No probe connection: one that closes without a request
# wedges the single-threaded `openssl ocsp` 3.0 responder for good.
_ocsp_wait() {
    local pid=$1 log=$2 word=$3
    if ! wait_for 30 "the responder on port $OCSP_PORT" _ocsp_up "$pid" "$log" "$word"; then
        cat "$log" >&2
        return 1
    fi
    if ! kill -0 "$pid" 2>/dev/null; then
        echo "the server on port $OCSP_PORT died:" >&2
        cat "$log" >&2
        return 1
    fi
}

# _ocsp_up PID LOG WORD: LOG shows WORD, or PID is gone (no use waiting).
_ocsp_up() {
    grep -q -- "$3" "$2" 2>/dev/null || ! kill -0 "$1" 2>/dev/null
}

# ocsp_start INDEX SIGNER KEY [OPTS...]
ocsp_start() {
    local index=$1 signer=$2 key=$3 log
    shift 3
    log=$(mktemp "$OCSP_DIR/responder.XXXXXX.log") || return 1
    # -ignore_err: a bad request must not end the responder (the default).
    openssl ocsp -index "$index" -port "$OCSP_PORT" -CA "${OCSP_CA:-$PKI/inter.pem}" \
        -rsigner "$signer" -rkey "$key" -ignore_err "$@" \
        </dev/null >>"$log" 2>&1 3>&- &
    OCSP_PIDS+=("$!")
    _ocsp_wait "$!" "$log" "waiting for OCSP client connections"
}

# ocsp_response OUT CERT INDEX SIGNER KEY [OPTS...]
ocsp_response() {
    local out=$1 cert=$2 index=$3 signer=$4 key=$5 req
    shift 5
    req=$(mktemp "$OCSP_DIR/oneshot.XXXXXX") || return 1
    if ! openssl ocsp -issuer "${OCSP_CA:-$PKI/inter.pem}" -cert "$cert" -no_nonce \
        -reqout "$req" >/dev/null 2>&1 ||
        ! openssl ocsp -index "$index" -CA "${OCSP_CA:-$PKI/inter.pem}" -rsigner "$signer" \
            -rkey "$key" -reqin "$req" -respout "$out" "$@" >/dev/null 2>&1; then
        echo "ocsp_response: openssl ocsp failed for $cert" >&2
        return 1
    fi
}

_OCSP_SHIFT_PY='
import datetime, re, subprocess, sys

src, dst, delta, key = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]

def tlv(b, i):
    """(tag, content start, content end) of the element at i."""
    n, j = b[i + 1], i + 2
    if n & 0x80:
        k = n & 0x7F
        n, j = int.from_bytes(b[j:j + k], "big"), j + k
    return b[i], j, j + n

def kids(b, start, end):
    out, i = [], start
    while i < end:
        _, _, e = tlv(b, i)
        out.append(b[i:e])
        i = e
    return out

def enc(tag, content):
    n = len(content)
    if n < 0x80:
        return bytes([tag, n]) + content
    nb = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([tag, 0x80 | len(nb)]) + nb + content

def move(m):
    t = datetime.datetime.strptime(m.group(1).decode(), "%Y%m%d%H%M%S")
    t += datetime.timedelta(seconds=delta)
    return b"\x18\x0f" + t.strftime("%Y%m%d%H%M%S").encode() + b"Z"

resp = open(src, "rb").read()
_, s, e = tlv(resp, 0)
status, rbytes = kids(resp, s, e)
_, s, e = tlv(rbytes, 0)
_, s, e = tlv(rbytes, s)
oid, octets = kids(rbytes, s, e)
_, s, e = tlv(octets, 0)
basic = octets[s:e]
_, s, e = tlv(basic, 0)
tbs, sigalg, _sig, *rest = kids(basic, s, e)
tbs = re.sub(rb"\x18\x0f(\d{14})Z", move, tbs)
sig = subprocess.run(["openssl", "dgst", "-sha256", "-binary", "-sign", key],
                     input=tbs, capture_output=True, check=True).stdout
basic = enc(0x30, tbs + sigalg + enc(0x03, b"\x00" + sig) + b"".join(rest))
out = enc(0x30, status + enc(0xA0, enc(0x30, oid + enc(0x04, basic))))
open(dst, "wb").write(out)
'

# ocsp_shift IN OUT SECONDS [KEY]
ocsp_shift() {
    python3 -c "$_OCSP_SHIFT_PY" "$1" "$2" "$3" "${4:-$PKI/inter.key}"
}

_OCSP_STATIC_PY='
import base64, os, sys, threading, time, urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

mode, arg, port, logdir = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
lock = threading.Lock()
try:                       # number requests on from an earlier server
    count = [len(open(os.path.join(logdir, "requests.log")).readlines())]
except OSError:
    count = [0]

class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"

    def record(self, body):
        with lock:
            count[0] += 1
            n = count[0]
            with open(os.path.join(logdir, "req.%d.der" % n), "wb") as f:
                f.write(body)
            with open(os.path.join(logdir, "requests.log"), "a") as f:
                f.write("%s %s %s %d\n" % (self.command, self.path,
                        self.headers.get("Content-Type", "-"), len(body)))

    def answer(self):
        if mode == "hang":
            time.sleep(3600)
            return
        if mode == "status":
            self.send_response(int(arg))
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        self.send_response(200)
        if mode in ("zeros", "stream"):
            n = int(arg)
            self.send_header("Content-Type", "application/ocsp-response")
            if mode == "zeros":
                self.send_header("Content-Length", str(n))
            self.end_headers()
            block = bytes(65536)
            try:
                while n > 0:
                    self.wfile.write(block[:min(n, len(block))])
                    n -= len(block)
            except OSError:
                pass
            return
        if mode == "html":
            body = b"<!DOCTYPE html><html><body><h1>Welcome to our portal</h1></body></html>\n"
            ctype = "text/html"
        else:
            body = open(arg, "rb").read()
            ctype = "application/ocsp-response"
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        try:
            raw = urllib.parse.unquote(self.path.rsplit("/", 1)[1])
            body = base64.b64decode(raw, validate=True)
        except Exception:
            body = b""
        self.record(body)
        self.answer()

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        self.record(body)
        self.answer()

    def log_message(self, *args):
        pass

ThreadingHTTPServer.daemon_threads = True
server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
print("listening", flush=True)
server.serve_forever()
'

# ocsp_static_start MODE [ARG]
ocsp_static_start() {
    local log
    log=$(mktemp "$OCSP_DIR/static.XXXXXX.log") || return 1
    python3 -c "$_OCSP_STATIC_PY" "$1" "${2:--}" "$OCSP_PORT" "$OCSP_DIR" \
        </dev/null >>"$log" 2>&1 3>&- &
    OCSP_PIDS+=("$!")
    _ocsp_wait "$!" "$log" "listening"
}

ocsp_requests() {
    cat "$OCSP_DIR/requests.log" 2>/dev/null || true
}

# ocsp_stop: for teardown (and to take a responder away mid-test); stops
# only the servers started above and waits until they are gone.
ocsp_stop() {
    stop_pids "${OCSP_PIDS[@]}"
    OCSP_PIDS=()
}

# ocsp_crl INDEX OUT [stale]: a DER CRL of the revoked entries of INDEX
# (see ocsp_index_add), signed by the intermediate $PKI/inter that issues
# the test leaves, valid for a week; "stale" makes its nextUpdate a day
# ago (lastUpdate 8 days ago).
ocsp_crl() {
    local index=$1 out=$2 dir
    local -a window=(-crldays 7)
    if [[ ${3-} == stale ]]; then
        window=(-crl_lastupdate "$(date -u -d '8 days ago' +%y%m%d%H%M%SZ)"
            -crl_nextupdate "$(date -u -d '1 day ago' +%y%m%d%H%M%SZ)")
    fi
    dir=$(mktemp -d "$OCSP_DIR/crl.XXXXXX") || return 1
    touch "$index"
    [[ -e $index.attr ]] || printf 'unique_subject = no\n' >"$index.attr"
    printf '[ ca ]\ndefault_ca = crl_ca\n[ crl_ca ]\ndatabase = %s\ndefault_md = sha256\n' \
        "$index" >"$dir/ca.cnf"
    if ! openssl ca -gencrl -batch -config "$dir/ca.cnf" -keyfile "$PKI/inter.key" \
        -cert "$PKI/inter.pem" "${window[@]}" -out "$dir/crl.pem" 2>"$dir/err" ||
        ! openssl crl -in "$dir/crl.pem" -outform DER -out "$out" 2>>"$dir/err"; then
        cat "$dir/err" >&2
        return 1
    fi
}
