#!/usr/bin/env bats
# certctl download from an HTTP certificate store (the fleet mode, DESIGN.md
# section 5, source `type: http`): URL templates with {name} and
# {spki_sha256}, conditional GETs (ETag / Last-Modified in .state), 404 for
# a pending key, bearer tokens, client certificates, TLS verification,
# redirects, the body cap and timeouts, file:// stores, and the failsafe of
# section 4 for what a store hands out. The store is Debian's nginx on
# loopback with a certificate for 127.0.0.1 from the test PKI; the
# publisher is the test itself (rekey, --print-csr, pki_csr_sign, a file in
# nginx's docroot).
#
# Duration: the stalled-server cases wait for the timeouts they configure
# (a few seconds); everything else takes a few seconds at most.

# SC2016: $http_authorization and friends are nginx variables.
# SC2030/SC2031: each @test runs in its own subshell, by design.
# shellcheck disable=SC2016,SC2030,SC2031
bats_require_minimum_version 1.5.0

setup() {
    load ../helpers/common
    load ../helpers/httpd
    load ../helpers/fleet
    common_setup
    W=$BATS_TEST_TMPDIR
    DOCROOT=$W/store
    mkdir -p "$DOCROOT"
    # The store's own TLS certificate, made once per file.
    [ -e "$PKI/store.full.pem" ] || pki_leaf "$PKI" store --san localhost,IP:127.0.0.1
    PUBLISHED=0
    # Until a store is started: one on a port nothing listens on.
    fleet_config "https://127.0.0.1:1/{name}/{spki_sha256}.pem"
}

teardown() {
    report_on_failure
    [ -z "${SPLAY_PID:-}" ] || stop_pids "$SPLAY_PID"
    httpd_stop
}

# ------------------------------------------------------------------ helpers

# fleet_config URL [MORE]: a config whose only source is the store at URL
# (trusting the test root for its TLS), with MORE lines of YAML for the
# source, and one name, web1.
fleet_config() {
    write_config "defaults: {source: fleet}
sources:
  fleet:
    type: http
    url: $1
    ca_file: $PKI/root.pem
${2:-}
certificates:
  web1: {domains: [web1]}"
}

# store_start [EXTRA]: nginx over TLS serving $DOCROOT, EXTRA more server
# configuration; the config points at it with the usual template.
store_start() {
    httpd_nginx_tls_start "$DOCROOT" "$PKI/store.full.pem" "$PKI/store.key" "${1:-}"
    STORE_PORT=$HTTPD_PORT
    STORE_LOG=$HTTPD_ACCESS_LOG
    URL="https://127.0.0.1:$STORE_PORT/{name}/{spki_sha256}.pem"
    fleet_config "$URL" "${2:-}"
}

# publish CERT HASH [CHAIN]: what the publisher does: CERT + CHAIN (default
# the intermediate) at web1/HASH.pem in the docroot, replaced by rename.
# Each publication gets its own mtime (nginx's ETag is mtime + size: two
# certificates of one size published within a second would share it).
publish() {
    local chain=${3-$PKI/inter.pem}
    mkdir -p "$DOCROOT/web1"
    cat "$1" ${chain:+"$chain"} >"$DOCROOT/web1/.tmp"
    PUBLISHED=$((PUBLISHED + 1))
    touch -d "@$(($(date +%s) - 86400 + PUBLISHED * 60))" "$DOCROOT/web1/.tmp"
    mv "$DOCROOT/web1/.tmp" "$DOCROOT/web1/$2.pem"
}

# enroll: rekey web1 (a pending key + CSR), have the CSR signed (90 days)
# and publish it for the pending key. Leaves $W/web1.key (the pending
# key), $W/web1.csr, $W/c1.crt and HASH (the key's SPKI hash).
enroll() {
    run "$CERTCTL" rekey web1
    assert_success
    cp "$CERTDIR/.pending/web1/privkey.pem" "$W/web1.key"
    run "$CERTCTL" rekey --print-csr web1
    assert_success
    printf '%s\n' "$output" >"$W/web1.csr"
    HASH=$(spki_of "$W/web1.key")
    pki_csr_sign "$PKI" "$W/web1.csr" "$W/c1.crt"
    publish "$W/c1.crt" "$HASH"
}

# first_install [EXTRA [MORE]]: enroll, start the store and download: web1
# is live (generation 1) with the pending key.
first_install() {
    enroll
    store_start "${1:-}" "${2:-}"
    run --separate-stderr "$CERTCTL" download web1
    assert_success
    assert_equal "$(readlink "$CERTDIR/web1")" ".live/web1.g0001"
}

# requests: the status codes nginx answered, one a line, oldest first.
requests() {
    awk '{ print $9 }' "$STORE_LOG"
}

serial_of() {
    openssl x509 -in "$1" -noout -serial
}

# fps FILE: the SHA-256 fingerprint of every certificate in a PEM file, in
# order, one per line.
fps() {
    local d c
    d=$(mktemp -d "$W/split.XXXXXX")
    awk -v d="$d" '/-----BEGIN CERTIFICATE-----/ { f = sprintf("%s/%04d.pem", d, ++n) }
        f { print > f }
        /-----END CERTIFICATE-----/ { close(f); f = "" }' "$1"
    for c in "$d"/*.pem; do
        [ -e "$c" ] || continue
        openssl x509 -in "$c" -noout -fingerprint -sha256 | cut -d= -f2
    done
}

# assert_live GEN KEY CERT: web1's live set is generation GEN with KEY's key,
# CERT as cert.pem and the intermediate alone as chain.pem.
assert_live() {
    local gen
    printf -v gen 'g%04d' "$1"
    assert_equal "$(readlink "$CERTDIR/web1")" ".live/web1.$gen"
    assert_equal "$(stat -c %a "$CERTDIR/web1/privkey.pem")" 600
    assert_equal "$(openssl pkey -in "$CERTDIR/web1/privkey.pem" -pubout)" \
        "$(openssl pkey -in "$2" -pubout)"
    assert_equal "$(fps "$CERTDIR/web1/cert.pem")" "$(fps "$3")"
    assert_equal "$(fps "$CERTDIR/web1/chain.pem")" "$(fps "$PKI/inter.pem")"
    assert_equal "$(cat "$CERTDIR/web1/cert.pem" "$CERTDIR/web1/chain.pem")" \
        "$(cat "$CERTDIR/web1/fullchain.pem")"
}

# ------------------------------------------------------- the happy paths

# bats test_tags=memcheck
@test "first download: the cert published for the pending key's SPKI goes live" {
    enroll
    store_start
    # The hash in the URL is the one the issue defines, of the pending key.
    assert_equal "$HASH" "$(openssl pkey -in "$CERTDIR/.pending/web1/privkey.pem" \
        -pubout -outform DER | sha256sum | cut -d' ' -f1)"
    run --separate-stderr "$CERTCTL" download web1
    assert_success
    [ -z "$stderr" ] || fail "stderr: $stderr"
    assert_output --regexp '^installed web1 \(expires [0-9]{4}-[0-9]{2}-[0-9]{2}, serial [0-9a-f:]+\)$'
    assert_live 1 "$W/web1.key" "$W/c1.crt"
    [ ! -e "$CERTDIR/.pending/web1" ]
    # The CSR the cert was issued for is kept with the generation.
    assert_equal "$(cat "$CERTDIR/web1/csr.pem")" "$(cat "$W/web1.csr")"
    # nginx saw one GET of exactly that path.
    run grep -c "\"GET /web1/$HASH.pem HTTP/1.1\" 200 " "$STORE_LOG"
    assert_output 1
    # The validators are kept for the next run.
    jq -e --arg u "https://127.0.0.1:$STORE_PORT/web1/$HASH.pem" \
        '.http.url == $u and (.http.etag | length > 0) and (.http.last_modified | length > 0)' \
        "$CERTDIR/.state/web1.json"
    run "$CERTCTL" check web1
    assert_success
}

# bats test_tags=memcheck
@test "second run: 304 from the store, exit 10, silent, not one byte written" {
    first_install
    before=$(tree_sum "$CERTDIR")
    run --separate-stderr "$CERTCTL" download web1
    assert_failure 10
    assert_output ""
    [ -z "$stderr" ] || fail "stderr: $stderr"
    assert_equal "$(tree_sum "$CERTDIR")" "$before"
    # The store answered the conditional GET with 304 (no body to parse).
    assert_equal "$(requests)" "$(printf '200\n304')"
    tail -n1 "$STORE_LOG" | grep -q "\"GET /web1/$HASH.pem HTTP/1.1\" 304 0 "
    # --all asks the same way.
    run --separate-stderr "$CERTCTL" download --all
    assert_failure 10
    assert_output ""
    [ -z "$stderr" ] || fail "stderr: $stderr"
    assert_equal "$(tree_sum "$CERTDIR")" "$before"
    assert_equal "$(requests)" "$(printf '200\n304\n304')"
}

@test "the ETag alone or Last-Modified alone makes the request conditional" {
    # nginx without ETags: If-Modified-Since does the work.
    first_install "etag off;"
    jq -e '.http | has("etag") | not' "$CERTDIR/.state/web1.json"
    before=$(tree_sum "$CERTDIR")
    run "$CERTCTL" download web1
    assert_failure 10
    assert_equal "$(tree_sum "$CERTDIR")" "$before"
    assert_equal "$(requests)" "$(printf '200\n304')"
}

# validator_store: a python3 store on plain http serving $DOCROOT that
# answers with the ETag and Last-Modified bytes in $W/etag and $W/modified
# (raw, whatever they hold) and appends each request's header lines to
# $W/requests. Sets URL.
validator_store() {
    cat >"$W/store.py" <<'PY'
import os, sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
root, w, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
class H(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"
    def do_GET(self):
        with open(os.path.join(w, "requests"), "ab") as f:
            f.write(b"---\n" + bytes(self.headers))
        with open(root + self.path, "rb") as f:
            body = f.read()
        head = b"HTTP/1.0 200 OK\r\nContent-Length: %d\r\n" % len(body)
        for name in ("etag", "modified"):
            with open(os.path.join(w, name), "rb") as f:
                value = f.read()
            if value:
                head += (b"ETag: " if name == "etag" else b"Last-Modified: ") + value + b"\r\n"
        self.wfile.write(head + b"\r\n" + body)
    def log_message(self, *args):
        pass
ThreadingHTTPServer(("127.0.0.1", port), H).serve_forever()
PY
    HTTPD_PORT=$(free_port)
    python3 "$W/store.py" "$DOCROOT" "$W" "$HTTPD_PORT" </dev/null >/dev/null 2>&1 &
    HTTPD_PIDS+=("$!")
    wait_port "$HTTPD_PORT"
    URL="http://127.0.0.1:$HTTPD_PORT/{name}/{spki_sha256}.pem"
    fleet_config "$URL"
}

# last_request: the header lines of the store's last request.
last_request() {
    awk '/^---$/ { r = ""; next } { r = r $0 "\n" } END { printf "%s", r }' "$W/requests"
}

@test "an ETag or Last-Modified that is no valid header value is neither stored nor sent back" {
    enroll
    printf '"v1-good"' >"$W/etag"
    printf 'Sun, 06 Nov 1994 08:49:37 GMT' >"$W/modified"
    validator_store
    run "$CERTCTL" download web1
    assert_success
    # The control: valid validators are kept and sent back.
    jq -e '.http.etag == "\"v1-good\"" and .http.last_modified == "Sun, 06 Nov 1994 08:49:37 GMT"' \
        "$CERTDIR/.state/web1.json"
    run "$CERTCTL" download web1
    assert_failure 10
    last_request | grep -qx 'If-None-Match: "v1-good"'
    last_request | grep -qx 'If-Modified-Since: Sun, 06 Nov 1994 08:49:37 GMT'
    printf 'W/"weak-1"' >"$W/etag"
    run "$CERTCTL" download web1
    run "$CERTCTL" download web1
    last_request | grep -qx 'If-None-Match: W/"weak-1"'
    # Bare CR, other control characters, a header split by a bare LF,
    # unquoted, a quote inside, over 256 bytes, obs-text.
    long=\"$(head -c 300 /dev/zero | tr '\0' a)\"
    for etag in '"a\rX-Injected: 1"' '"a\x01b"' '"a\x1bb"' '"a\tb"' '"a b"' \
        '"a\nX-Injected: 1"' 'unquoted' '"a"b"' '"' '' "$long" '"caf\xc3\xa9"'; do
        # shellcheck disable=SC2059 # the escapes in $etag are the point
        printf "$etag" >"$W/etag"
        printf 'Sun, 06 Nov 1994 08:49:37 GMT\rX-Injected: 2' >"$W/modified"
        run --separate-stderr "$CERTCTL" -v download web1
        [ "$status" -eq 10 ] || fail "$etag: exit $status: $stderr"
        jq -e '.http | (has("etag") or has("last_modified")) | not' \
            "$CERTDIR/.state/web1.json" || fail "stored: $etag"
        [[ -z "$etag" || $stderr == *"ignoring an invalid etag header"* ]] ||
            fail "no debug line for $etag: $stderr"
        run "$CERTCTL" download web1
        assert_failure 10
        run last_request
        refute_output --partial "If-None-Match"
        refute_output --partial "If-Modified-Since"
        refute_output --partial "X-Injected"
    done
    # libcurl itself refuses a NUL in a header: an error, nothing kept.
    printf '"a\0b"' >"$W/etag"
    run --separate-stderr "$CERTCTL" download web1
    assert_failure 1
    jq -e '.http | has("etag") | not' "$CERTDIR/.state/web1.json"
    # A .state written before the check cannot smuggle one in either.
    : >"$W/etag"
    jq '.http.etag = "\"a\rX-Injected: 3\"" | .http.last_modified = "x\ny: 4"' \
        "$CERTDIR/.state/web1.json" >"$W/state.json"
    cp "$W/state.json" "$CERTDIR/.state/web1.json"
    run "$CERTCTL" download web1
    assert_failure 10
    run last_request
    refute_output --partial "If-None-Match"
    refute_output --partial "X-Injected"
}

# bats test_tags=memcheck
@test "a new cert published for the live key is installed (exit 0), then 304 again" {
    first_install
    pki_csr_sign "$PKI" "$W/web1.csr" "$W/c2.crt" --days 120
    publish "$W/c2.crt" "$HASH"
    # A dry run says so and writes nothing (not even the new validators).
    before=$(tree_sum "$CERTDIR")
    run --separate-stderr "$CERTCTL" -n download web1
    assert_success
    assert_output "would install web1 from 'fleet'"
    assert_equal "$(tree_sum "$CERTDIR")" "$before"
    run --separate-stderr "$CERTCTL" download web1
    assert_success
    [ -z "$stderr" ] || fail "stderr: $stderr"
    assert_output --regexp '^installed web1 \(expires '
    assert_live 2 "$W/web1.key" "$W/c2.crt"
    [ "$(serial_of "$CERTDIR/web1/cert.pem")" != "$(serial_of "$W/c1.crt")" ]
    [ -d "$CERTDIR/.live/web1.g0001" ]
    # The new validators are kept: the next run is a 304.
    before=$(tree_sum "$CERTDIR")
    run "$CERTCTL" download web1
    assert_failure 10
    assert_equal "$(tree_sum "$CERTDIR")" "$before"
    assert_equal "$(requests)" "$(printf '200\n200\n200\n304')"
}

@test "the same cert published again (new ETag) changes nothing, and the next run is a 304" {
    first_install
    # Same bytes, new mtime: nginx answers 200 with new validators.
    publish "$W/c1.crt" "$HASH"
    live=$(live_sum)
    run --separate-stderr "$CERTCTL" download web1
    assert_failure 10
    assert_output ""
    [ -z "$stderr" ] || fail "stderr: $stderr"
    assert_equal "$(live_sum)" "$live"
    assert_equal "$(requests)" "$(printf '200\n200')"
    # Those validators must now be the ones sent: otherwise every later run
    # downloads and parses the whole body again.
    before=$(tree_sum "$CERTDIR")
    run "$CERTCTL" download web1
    assert_failure 10
    assert_equal "$(tree_sum "$CERTDIR")" "$before"
    assert_equal "$(requests)" "$(printf '200\n200\n304')"
}

@test "a pending key: 404 is 'not published yet' (exit 10); once published it goes live" {
    first_install
    run "$CERTCTL" rekey web1
    assert_success
    cp "$CERTDIR/.pending/web1/privkey.pem" "$W/next.key"
    NEXT=$(spki_of "$W/next.key")
    [ "$NEXT" != "$HASH" ]
    before=$(tree_sum "$CERTDIR")
    run --separate-stderr "$CERTCTL" download web1
    assert_failure 10
    assert_output ""
    [ -z "$stderr" ] || fail "stderr: $stderr"
    assert_equal "$(tree_sum "$CERTDIR")" "$before"
    # The store was asked for the pending key's certificate, not the live one's.
    tail -n1 "$STORE_LOG" | grep -q "\"GET /web1/$NEXT.pem HTTP/1.1\" 404 "
    # -v says why nothing happened.
    run --separate-stderr "$CERTCTL" -v download web1
    assert_failure 10
    [[ $stderr == *"web1: not published yet for the pending key"* ]] || fail "stderr: $stderr"
    assert_equal "$(tree_sum "$CERTDIR")" "$before"

    run "$CERTCTL" rekey --print-csr web1
    assert_success
    printf '%s\n' "$output" >"$W/next.csr"
    pki_csr_sign "$PKI" "$W/next.csr" "$W/next.crt"
    publish "$W/next.crt" "$NEXT"
    run --separate-stderr "$CERTCTL" download web1
    assert_success
    assert_output --partial "installed web1"
    assert_live 2 "$W/next.key" "$W/next.crt"
    [ ! -e "$CERTDIR/.pending/web1" ]
    # Generation 1 still holds the old key.
    assert_equal "$(openssl pkey -in "$CERTDIR/.live/web1.g0001/privkey.pem" -pubout)" \
        "$(openssl pkey -in "$W/web1.key" -pubout)"
    # And the next run asks for the (now live) new key's cert, conditionally.
    run "$CERTCTL" download web1
    assert_failure 10
    tail -n1 "$STORE_LOG" | grep -q "\"GET /web1/$NEXT.pem HTTP/1.1\" 304 "
}

@test "404 for the live key is an error (exit 1), recorded for check" {
    first_install
    rm "$DOCROOT/web1/$HASH.pem"
    rejected "404"
    [[ $stderr == *"https://127.0.0.1:$STORE_PORT/web1/$HASH.pem"* ]] || fail "no URL: $stderr"
    run "$CERTCTL" check web1
    assert_failure 1
    assert_output --partial "last download failed"
}

@test "--all: one name installed and one failing is exit 0, the failure on stderr" {
    enroll
    store_start
    write_config "defaults: {source: fleet}
sources:
  fleet:
    type: http
    url: $URL
    ca_file: $PKI/root.pem
certificates:
  web1: {domains: [web1]}
  web2: {domains: [web2]}"
    run --separate-stderr "$CERTCTL" download --all
    assert_success
    assert_output --regexp '^installed web1 \(expires '
    assert_equal "$stderr" "certctl: web2: no key to fetch a certificate for (run 'certctl rekey web2' first)"
    assert_live 1 "$W/web1.key" "$W/c1.crt"
    [ ! -e "$CERTDIR/web2" ]
}

@test "a name without any key is an error that says to rekey, and asks nothing" {
    store_start
    run --separate-stderr "$CERTCTL" download web1
    assert_failure 1
    assert_output ""
    assert_equal "$stderr" "certctl: web1: no key to fetch a certificate for (run 'certctl rekey web1' first)"
    [ ! -e "$CERTDIR/web1" ]
    [ ! -s "$STORE_LOG" ]
}

# --------------------------------------------------------- authentication

# bats test_tags=memcheck
@test "bearer token: sent from bearer_token_file; missing or wrong -> exit 1 with a clear error" {
    enroll
    auth='if ($http_authorization != "Bearer s3cret") { return 401; }'
    # No token at all.
    store_start "$auth"
    rejected "HTTP 401"
    [[ $stderr == *bearer_token_file* ]] || fail "stderr: $stderr"
    [ ! -e "$CERTDIR/web1" ]
    # A wrong one.
    (umask 077 && echo wrong >"$W/token")
    fleet_config "$URL" "    bearer_token_file: $W/token"
    rejected "HTTP 401"
    [ ! -e "$CERTDIR/web1" ]
    # The right one (with its trailing newline): installed.
    (umask 077 && echo s3cret >"$W/token")
    run --separate-stderr "$CERTCTL" download web1
    assert_success
    assert_output --partial "installed web1"
    assert_live 1 "$W/web1.key" "$W/c1.crt"
    assert_equal "$(requests)" "$(printf '401\n401\n200')"
    # ... and sent with the conditional request too.
    run "$CERTCTL" download web1
    assert_failure 10
    assert_equal "$(requests)" "$(printf '401\n401\n200\n304')"
}

@test "a bearer_token_file readable by group or others is refused before any request" {
    (umask 077 && echo s3cret >"$W/token")
    first_install 'if ($http_authorization != "Bearer s3cret") { return 401; }' \
        "    bearer_token_file: $W/token"
    # A newer cert that would be installed if the request went out.
    pki_csr_sign "$PKI" "$W/web1.csr" "$W/c2.crt" --days 120
    publish "$W/c2.crt" "$HASH"
    n=$(wc -l <"$STORE_LOG")
    chmod 0644 "$W/token"
    rejected "readable by group or others"
    [[ $stderr == *"$W/token"* ]] || fail "stderr does not name the file: $stderr"
    chmod 0640 "$W/token"
    rejected "readable by group or others"
    chmod 0604 "$W/token"
    rejected "readable by group or others"
    # Not one request went out with the exposed token.
    assert_equal "$(wc -l <"$STORE_LOG")" "$n"
    assert_live 1 "$W/web1.key" "$W/c1.crt"
    chmod 0600 "$W/token"
    run "$CERTCTL" download web1
    assert_success
    assert_live 2 "$W/web1.key" "$W/c2.crt"
}

@test "a bearer token is never sent over plain http://" {
    enroll
    (umask 077 && echo s3cret >"$W/token")
    httpd_nginx_start "$DOCROOT"
    STORE_LOG=$HTTPD_ACCESS_LOG
    fleet_config "http://127.0.0.1:$HTTPD_PORT/{name}/{spki_sha256}.pem" \
        "    bearer_token_file: $W/token"
    run --separate-stderr "$CERTCTL" download web1
    assert_failure 1
    [[ $stderr == *web1:* ]] || fail "stderr: $stderr"
    # Nothing reached the server: the token did not cross the wire in clear.
    [ ! -s "$STORE_LOG" ]
    [ ! -e "$CERTDIR/web1" ]
    # The control: the same token to the same files over https works.
    store_start 'if ($http_authorization != "Bearer s3cret") { return 401; }' \
        "    bearer_token_file: $W/token"
    run "$CERTCTL" download web1
    assert_success
    assert_live 1 "$W/web1.key" "$W/c1.crt"
}

# mk_client NAME: $W/NAME.key and $W/NAME.pem (leaf + intermediate), a TLS
# client certificate (clientAuth) issued by the test intermediate.
mk_client() {
    printf '%s\n' "basicConstraints = critical, CA:FALSE" \
        "keyUsage = critical, digitalSignature" "extendedKeyUsage = clientAuth" \
        "subjectKeyIdentifier = hash" "authorityKeyIdentifier = keyid:always" >"$W/$1.ext"
    (umask 077 && openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 \
        -out "$W/$1.key" 2>/dev/null)
    openssl req -new -key "$W/$1.key" -subj "/CN=$1" -out "$W/$1.csr" 2>/dev/null
    openssl x509 -req -in "$W/$1.csr" -CA "$PKI/inter.pem" -CAkey "$PKI/inter.key" \
        -set_serial "0x$(openssl rand -hex 16)" -days 30 -sha256 \
        -extfile "$W/$1.ext" -out "$W/$1.crt" 2>/dev/null
    cat "$W/$1.crt" "$PKI/inter.pem" >"$W/$1.pem"
}

# bats test_tags=memcheck
@test "mTLS: a store that requires a client certificate gets client_cert/client_key" {
    enroll
    mk_client fleet-client
    store_start "ssl_verify_client on; ssl_verify_depth 2; ssl_client_certificate $PKI/root.pem;"
    # Without one, nginx refuses (400) and nothing is installed.
    rejected "HTTP 400"
    [ ! -e "$CERTDIR/web1" ]
    fleet_config "$URL" "    client_cert: $W/fleet-client.pem
    client_key: $W/fleet-client.key"
    run --separate-stderr "$CERTCTL" download web1
    assert_success
    [ -z "$stderr" ] || fail "stderr: $stderr"
    assert_live 1 "$W/web1.key" "$W/c1.crt"
    assert_equal "$(requests)" "$(printf '400\n200')"
    run "$CERTCTL" download web1
    assert_failure 10
    assert_equal "$(requests)" "$(printf '400\n200\n304')"
}

# ------------------------------------------------------------------- TLS

@test "TLS is always verified: a store the trust does not vouch for is refused" {
    enroll
    store_start
    # No ca_file: the system store does not know the test root.
    write_config "defaults: {source: fleet}
sources:
  fleet:
    type: http
    url: $URL
certificates:
  web1: {domains: [web1]}"
    rejected "SSL certificate problem"
    # A ca_file with the wrong root.
    fleet_config "$URL"
    sed -i "s|ca_file: .*|ca_file: $PKI/other-root.pem|" "$CONFIG"
    rejected "SSL certificate problem"
    [ ! -s "$STORE_LOG" ]
    # The right root, but a store whose certificate is for another name.
    pki_leaf "$PKI" impostor --san impostor.example
    good_port=$STORE_PORT good_log=$STORE_LOG
    httpd_nginx_tls_start "$DOCROOT" "$PKI/impostor.full.pem" "$PKI/impostor.key"
    fleet_config "https://127.0.0.1:$HTTPD_PORT/{name}/{spki_sha256}.pem"
    rejected "SSL"
    [ ! -s "$HTTPD_ACCESS_LOG" ]
    [ ! -e "$CERTDIR/web1" ]
    # The control: the right root and the right name work.
    fleet_config "https://127.0.0.1:$good_port/{name}/{spki_sha256}.pem"
    run "$CERTCTL" download web1
    assert_success
    assert_live 1 "$W/web1.key" "$W/c1.crt"
    [ "$(wc -l <"$good_log")" = 1 ]
}

@test "redirects: followed to https, refused to plain http (certdir unchanged)" {
    first_install
    pki_csr_sign "$PKI" "$W/web1.csr" "$W/c2.crt" --days 120
    pki_csr_sign "$PKI" "$W/web1.csr" "$W/c3.crt" --days 150
    # A plain-http server with a good, newer certificate at the same path.
    mkdir -p "$W/plain/web1"
    cat "$W/c2.crt" "$PKI/inter.pem" >"$W/plain/web1/$HASH.pem"
    # Restart the store with two redirecting prefixes, next to the plain one.
    httpd_stop
    httpd_nginx_start "$W/plain"
    plain_port=$HTTPD_PORT plain_log=$HTTPD_ACCESS_LOG
    store_start "location /to-http/ { rewrite ^/to-http/(.*)\$ http://127.0.0.1:$plain_port/\$1 redirect; }
        location /to-https/ { rewrite ^/to-https/(.*)\$ https://127.0.0.1:\$server_port/\$1 redirect; }"
    fleet_config "https://127.0.0.1:$STORE_PORT/to-http/{name}/{spki_sha256}.pem"
    rejected '"http"'
    grep -q "\"GET /to-http/web1/$HASH.pem HTTP/1.1\" 302 " "$STORE_LOG"
    # The plain server was never asked.
    [ ! -s "$plain_log" ]
    assert_equal "$(readlink "$CERTDIR/web1")" ".live/web1.g0001"

    # To https it is followed (the control that redirects work at all).
    publish "$W/c3.crt" "$HASH"
    fleet_config "https://127.0.0.1:$STORE_PORT/to-https/{name}/{spki_sha256}.pem"
    run --separate-stderr "$CERTCTL" download web1
    assert_success
    assert_live 2 "$W/web1.key" "$W/c3.crt"
    grep -q "\"GET /web1/$HASH.pem HTTP/1.1\" 200 " "$STORE_LOG"
}

# ------------------------------------------- what a store may hand out

# bats test_tags=memcheck
@test "a cert for another key is rejected, the live set untouched" {
    first_install
    pki_leaf "$PKI" web1 --days 120
    publish "$PKI/web1.crt" "$HASH"
    rejected "matches neither the live nor a pending key"
    assert_live 1 "$W/web1.key" "$W/c1.crt"
    run "$CERTCTL" check web1
    assert_failure 1
    assert_output --partial "last download failed"
}

@test "a rejected certificate is reported with the URL it came from" {
    first_install
    pki_csr_sign "$PKI" "$W/web1.csr" "$W/old.crt" --expired
    publish "$W/old.crt" "$HASH"
    rejected "expired"
    # DESIGN.md section 1: an error names the name, the file or URL, and the
    # reason; and download has no --key to suggest.
    [[ $stderr == *"https://127.0.0.1:$STORE_PORT/web1/$HASH.pem"* ]] || fail "no URL: $stderr"
    pki_leaf "$PKI" web1 --days 120
    publish "$PKI/web1.crt" "$HASH"
    rejected "matches neither"
    [[ $stderr == *"https://127.0.0.1:$STORE_PORT/web1/$HASH.pem"* ]] || fail "no URL: $stderr"
    [[ $stderr != *--key* ]] || fail "suggests an option download does not have: $stderr"
}

@test "an expired cert is rejected" {
    first_install
    pki_csr_sign "$PKI" "$W/web1.csr" "$W/old.crt" --expired
    publish "$W/old.crt" "$HASH"
    rejected "expired"
    assert_live 1 "$W/web1.key" "$W/c1.crt"
}

@test "a cert not yet valid is rejected" {
    first_install
    pki_csr_sign "$PKI" "$W/web1.csr" "$W/future.crt" --not-yet-valid
    publish "$W/future.crt" "$HASH"
    rejected "not yet valid"
    assert_live 1 "$W/web1.key" "$W/c1.crt"
}

@test "a cert older than the live one is rejected (--force installs it)" {
    first_install
    pki_csr_sign "$PKI" "$W/web1.csr" "$W/short.crt" --days 30
    publish "$W/short.crt" "$HASH"
    rejected "expires before the installed one"
    assert_live 1 "$W/web1.key" "$W/c1.crt"
    run "$CERTCTL" download --force web1
    assert_success
    assert_live 2 "$W/web1.key" "$W/short.crt"
}

@test "a chain that does not verify is rejected" {
    first_install
    # Issued under another root, with its own intermediate.
    pki_csr_sign "$PKI" "$W/web1.csr" "$W/other.crt" --days 120 --issuer other-inter
    publish "$W/other.crt" "$HASH" "$PKI/other-inter.pem"
    rejected "chain does not verify"
    assert_live 1 "$W/web1.key" "$W/c1.crt"
    # Our leaf with the intermediate missing (no caIssuers to complete it).
    pki_csr_sign "$PKI" "$W/web1.csr" "$W/lone.crt" --days 120
    publish "$W/lone.crt" "$HASH" ""
    rejected "chain does not verify"
    assert_live 1 "$W/web1.key" "$W/c1.crt"
    # A cert that does not cover the configured domain.
    pki_leaf "$PKI" elsewhere --key "$W/web1.key" --san elsewhere --days 120
    publish "$PKI/elsewhere.crt" "$HASH"
    rejected "does not cover configured domain 'web1'"
    assert_live 1 "$W/web1.key" "$W/c1.crt"
}

# bats test_tags=memcheck
@test "a truncated PEM body is rejected" {
    first_install
    pki_csr_sign "$PKI" "$W/web1.csr" "$W/c2.crt" --days 120
    cat "$W/c2.crt" "$PKI/inter.pem" >"$W/full2.pem"
    # Cut in the middle of the leaf...
    head -c "$(($(stat -c %s "$W/c2.crt") / 2))" "$W/full2.pem" >"$W/cut1.pem"
    publish "$W/cut1.pem" "$HASH" ""
    rejected "truncated"
    [[ $stderr == *"'https://127.0.0.1:$STORE_PORT/web1/$HASH.pem'"* ]] || fail "no URL: $stderr"
    assert_live 1 "$W/web1.key" "$W/c1.crt"
    # ... and in the middle of the intermediate (the leaf is whole).
    head -c "$(($(stat -c %s "$W/full2.pem") - 200))" "$W/full2.pem" >"$W/cut2.pem"
    publish "$W/cut2.pem" "$HASH" ""
    rejected "truncated"
    assert_live 1 "$W/web1.key" "$W/c1.crt"
    # The control: the whole file installs.
    publish "$W/full2.pem" "$HASH" ""
    run "$CERTCTL" download web1
    assert_success
    assert_live 2 "$W/web1.key" "$W/c2.crt"
}

# bats test_tags=memcheck
@test "a body over 1 MiB is refused, even when the certs in it are good" {
    first_install
    pki_csr_sign "$PKI" "$W/web1.csr" "$W/c2.crt" --days 120
    # A good, newer chain followed by 5 MB of text a PEM reader skips.
    cat "$W/c2.crt" "$PKI/inter.pem" >"$W/big.pem"
    yes 'padding padding padding padding padding padding padding padding padding' |
        head -c 5000000 >>"$W/big.pem"
    publish "$W/big.pem" "$HASH" ""
    rejected "larger than 1048576 bytes"
    assert_live 1 "$W/web1.key" "$W/c1.crt"
    # Just under the cap is fine.
    cat "$W/c2.crt" "$PKI/inter.pem" >"$W/ok.pem"
    yes 'padding' | head -c $((1000 * 1000)) >>"$W/ok.pem"
    publish "$W/ok.pem" "$HASH" ""
    run "$CERTCTL" download web1
    assert_success
    assert_live 2 "$W/web1.key" "$W/c2.crt"
}

@test "a store that accepts and never answers times out (exit 1, certdir unchanged)" {
    first_install
    # Accepts the TCP connection, never says a word (not even TLS).
    httpd_py_start hang
    fleet_config "https://127.0.0.1:$HTTPD_PORT/{name}/{spki_sha256}.pem" \
        "    timeout: {connect: 2s}"
    t0=$(date +%s)
    before=$(live_sum)
    run --separate-stderr timeout 120 "$CERTCTL" download web1
    t=$(($(date +%s) - t0))
    assert_failure 1
    assert_output ""
    assert_equal "$(live_sum)" "$before"
    [[ $stderr =~ web1:.*https://127\.0\.0\.1:$HTTPD_PORT/.*(timed out|timeout) ]] ||
        fail "stderr: $stderr"
    # The TLS handshake falls under the configured connect timeout; the
    # default (10 s) would take longer than this bound.
    [ "$t" -lt $((9 * SLOWDOWN)) ] || fail "took $t s"
}

@test "a store that answers one byte a second is cut off by the total timeout" {
    first_install
    # Completes the handshake and sends headers, then trickles: only the
    # total timeout (configured 4 s here; 30 s by default) ends this.
    httpd_py_tls_start trickle "$PKI/store.full.pem" "$PKI/store.key"
    fleet_config "https://127.0.0.1:$HTTPD_PORT/{name}/{spki_sha256}.pem" \
        "    timeout: {total: 4s}"
    t0=$(date +%s)
    before=$(live_sum)
    run --separate-stderr timeout 120 "$CERTCTL" download web1
    t=$(($(date +%s) - t0))
    assert_failure 1
    assert_output ""
    assert_equal "$(live_sum)" "$before"
    [[ $stderr =~ web1:.*(timed out|timeout) ]] || fail "stderr: $stderr"
    [ "$t" -lt $((25 * SLOWDOWN)) ] || fail "took $t s"
}

@test "a failed attempt is cleared from the state by the next good answer (304)" {
    first_install
    port=$STORE_PORT
    # The store is down for a while.
    httpd_stop
    run "$CERTCTL" download web1
    assert_failure 1
    run "$CERTCTL" check web1
    assert_failure 1
    assert_output --partial "last download failed"
    # It is back, nothing changed: a 304, so the download works again and
    # check must stop warning about a failure that is over.
    httpd_nginx_tls_start "$DOCROOT" "$PKI/store.full.pem" "$PKI/store.key" "" "$port"
    STORE_LOG=$HTTPD_ACCESS_LOG
    run "$CERTCTL" download web1
    assert_failure 10
    assert_equal "$(requests)" 304
    run "$CERTCTL" check web1
    assert_success
    refute_output --partial "failed"
    # And from then on a 304 writes nothing.
    before=$(tree_sum "$CERTDIR")
    run "$CERTCTL" download web1
    assert_failure 10
    assert_equal "$(tree_sum "$CERTDIR")" "$before"
}

# ---------------------------------------------------------------- file://

# bats test_tags=memcheck
@test "file:// store: installs, is silent when unchanged, installs the next cert" {
    enroll
    write_config "defaults: {source: fleet}
sources:
  fleet:
    type: http
    url: file://$DOCROOT/{name}/{spki_sha256}.pem
certificates:
  web1: {domains: [web1]}"
    run --separate-stderr "$CERTCTL" download web1
    assert_success
    assert_output --partial "installed web1"
    assert_live 1 "$W/web1.key" "$W/c1.crt"
    [ ! -e "$CERTDIR/.pending/web1" ]
    before=$(tree_sum "$CERTDIR")
    run --separate-stderr "$CERTCTL" download web1
    assert_failure 10
    assert_output ""
    [ -z "$stderr" ] || fail "stderr: $stderr"
    assert_equal "$(tree_sum "$CERTDIR")" "$before"
    pki_csr_sign "$PKI" "$W/web1.csr" "$W/c2.crt" --days 120
    publish "$W/c2.crt" "$HASH"
    run "$CERTCTL" download web1
    assert_success
    assert_live 2 "$W/web1.key" "$W/c2.crt"
    # A missing file is a 404: an error for the live key...
    rm "$DOCROOT/web1/$HASH.pem"
    rejected "404"
    # ... and "not published yet" for a pending one.
    run "$CERTCTL" rekey web1
    assert_success
    before=$(tree_sum "$CERTDIR")
    run --separate-stderr "$CERTCTL" download web1
    assert_failure 10
    assert_equal "$(tree_sum "$CERTDIR")" "$before"
    # The same failsafe: an expired cert is rejected.
    cp "$CERTDIR/.pending/web1/privkey.pem" "$W/next.key"
    run "$CERTCTL" rekey --print-csr web1
    printf '%s\n' "$output" >"$W/next.csr"
    pki_csr_sign "$PKI" "$W/next.csr" "$W/next.crt" --expired
    publish "$W/next.crt" "$(spki_of "$W/next.key")"
    rejected "expired"
    assert_live 2 "$W/web1.key" "$W/c2.crt"
}

@test "a pending key that is split or of a foreign kind is refused before the store is asked" {
    write_config "defaults: {source: fleet}
sources:
  fleet:
    type: http
    url: file://$DOCROOT/{name}/{spki_sha256}.pem
certificates:
  web1: {domains: [web1]}"
    run "$CERTCTL" rekey web1
    assert_success
    local key=$CERTDIR/.pending/web1/privkey.pem
    # A split key (B's point, A's scalar), its cert published for B's SPKI.
    openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$W/a.key"
    pki_leaf "$PKI" web1 --san web1
    pki_bad_key "$W/a.key" "$W/bad.key" "$PKI/web1.key"
    cat "$W/bad.key" >"$key"
    publish "$PKI/web1.crt" "$(spki_of "$PKI/web1.key")"
    rejected "inconsistent"
    # An Ed448 key with a valid certificate published for it.
    openssl genpkey -algorithm ED448 -out "$W/ed448.key"
    pki_leaf "$PKI" web1 --san web1 --key "$W/ed448.key"
    cat "$W/ed448.key" >"$key"
    publish "$PKI/web1.crt" "$(spki_of "$W/ed448.key")"
    rejected "keys are not supported"
    [ ! -e "$CERTDIR/web1" ]
}

@test "file://localhost/ is this machine; a file:// URL with another host is refused" {
    enroll
    write_config "defaults: {source: fleet}
sources:
  fleet:
    type: http
    url: file://localhost$DOCROOT/{name}/{spki_sha256}.pem
certificates:
  web1: {domains: [web1]}"
    run --separate-stderr "$CERTCTL" download web1
    assert_success
    assert_live 1 "$W/web1.key" "$W/c1.crt"
    sed -i "s|file://localhost|file://fileserver|" "$CONFIG"
    rejected "file:// URL names a path on this machine"
}

@test "file:// store: a FIFO, a directory, a device, an oversized file (or a symlink to one) fail at once" {
    enroll
    write_config "defaults: {source: fleet}
sources:
  fleet:
    type: http
    url: file://$DOCROOT/{name}/{spki_sha256}.pem
    timeout: {total: 2s}
certificates:
  web1: {domains: [web1]}"
    f=$DOCROOT/web1/$HASH.pem
    mkfifo "$W/fifo"
    mkdir "$W/dir"
    yes 'padding padding padding' | head -c 2000000 >"$W/big"
    for target in fifo dir /dev/zero big; do
        [[ $target == /* ]] || target=$W/$target
        for how in itself symlink; do
            rm -rf "$f"
            if [ "$how" = symlink ]; then
                ln -s "$target" "$f"
            elif [ -d "$target" ]; then
                mkdir "$f"
            elif [ -p "$target" ]; then
                mkfifo "$f"
            elif [ -c "$target" ]; then
                continue # no device nodes without root: the symlink stands in
            else
                cp "$target" "$f"
            fi
            # A bound that fails the test instead of hanging it (a FIFO
            # used to block in open(2) for ever, holding the lock).
            before=$(live_sum)
            run --separate-stderr timeout $((60 * SLOWDOWN)) "$CERTCTL" download web1
            assert_failure 1
            [[ $stderr == *web1:*"file://$f"* ]] || fail "$target ($how): $stderr"
            if [ "$target" = "$W/big" ]; then
                [[ $stderr == *"larger than 1048576 bytes"* ]] || fail "$target ($how): $stderr"
            else
                [[ $stderr == *"is not a regular file"* ]] || fail "$target ($how): $stderr"
            fi
            assert_equal "$(live_sum)" "$before"
        done
    done
    # The control: the published regular file, through a symlink too.
    ln -sf "$DOCROOT/web1/c1.pem" "$f"
    cat "$W/c1.crt" "$PKI/inter.pem" >"$DOCROOT/web1/c1.pem"
    run "$CERTCTL" download web1
    assert_success
    assert_live 1 "$W/web1.key" "$W/c1.crt"
}

# ---------------------------------------------------------------- --jobs

# bats test_tags=memcheck
@test "--jobs 4: eight names fetched at once, each verified and installed, then all 304" {
    local n name hosts=""
    store_start
    for n in 1 2 3 4 5 6 7 8; do
        hosts+="  host$n: {domains: [host$n]}"$'\n'
    done
    write_config "defaults: {source: fleet}
sources:
  fleet:
    type: http
    url: https://127.0.0.1:$STORE_PORT/{name}/{spki_sha256}.pem
    ca_file: $PKI/root.pem
certificates:
$hosts"
    run "$CERTCTL" rekey --all
    assert_success
    for n in 1 2 3 4 5 6 7 8; do
        name=host$n
        cp "$CERTDIR/.pending/$name/privkey.pem" "$W/$name.key"
        run "$CERTCTL" rekey --print-csr "$name"
        assert_success
        printf '%s\n' "$output" >"$W/$name.csr"
        pki_csr_sign "$PKI" "$W/$name.csr" "$W/$name.crt"
        mkdir -p "$DOCROOT/$name"
        cat "$W/$name.crt" "$PKI/inter.pem" >"$DOCROOT/$name/$(spki_of "$W/$name.key").pem"
    done
    run --separate-stderr "$CERTCTL" download --all --jobs 4
    assert_success
    [ -z "$stderr" ] || fail "stderr: $stderr"
    for n in 1 2 3 4 5 6 7 8; do
        name=host$n
        assert_output --partial "installed $name "
        assert_equal "$(readlink "$CERTDIR/$name")" ".live/$name.g0001"
        assert_equal "$(fps "$CERTDIR/$name/cert.pem")" "$(fps "$W/$name.crt")"
        assert_equal "$(openssl pkey -in "$CERTDIR/$name/privkey.pem" -pubout)" \
            "$(openssl pkey -in "$W/$name.key" -pubout)"
        [ ! -e "$CERTDIR/.pending/$name" ]
    done
    run "$CERTCTL" check --all
    assert_success
    # Nothing changed since: every answer a 304, nothing written.
    before=$(tree_sum "$CERTDIR")
    : >"$STORE_LOG"
    run --separate-stderr "$CERTCTL" download --all --jobs 4
    assert_failure 10
    assert_equal "$(grep -c '" 304 ' "$STORE_LOG")" 8
    assert_equal "$(tree_sum "$CERTDIR")" "$before"
}

@test "--jobs out of range is a usage error that touches nothing" {
    before=$(tree_sum "$CERTDIR")
    for bad in 0 65 x; do
        run --separate-stderr "$CERTCTL" download --all --jobs "$bad"
        assert_failure 2
        [[ $stderr == *--jobs* ]] || fail "stderr: $stderr"
    done
    assert_equal "$(tree_sum "$CERTDIR")" "$before"
}

# ------------------------------------------- the lock, the splay, the hooks

# file_store [CERT-YAML]: a config whose source is the file:// store in
# $DOCROOT, with web1 configured as CERT-YAML (default: its domains alone).
file_store() {
    write_config "defaults: {source: fleet}
sources:
  fleet:
    type: http
    url: file://$DOCROOT/{name}/{spki_sha256}.pem
certificates:
  web1: ${1:-{domains: [web1]\}}"
}

# sleeping PID LOG: until PID is in its --splay sleep: the kernel says it
# waits in nanosleep (/proc/PID/wchan), or where wchan is hidden, -v has
# said so in LOG. 10 s (scaled) at most; fails when PID is gone.
sleeping() {
    local pid=$1 log=$2 wchan _
    for _ in $(seq 1 $((100 * SLOWDOWN))); do
        kill -0 "$pid" 2>/dev/null || fail "the splayed run ended: $(cat "$log")"
        wchan=$(cat "/proc/$pid/wchan" 2>/dev/null) || wchan=''
        [[ $wchan == *nanosleep* ]] && return 0
        [[ ( -z $wchan || $wchan == 0 ) ]] && grep -q -- '--splay' "$log" && return 0
        sleep 0.1
    done
    fail "the splayed run never slept: $(cat "$log")"
}

@test "deploy_hook runs after the lock is released: its own certctl staple/rekey gets the lock" {
    enroll
    # The hook records what its certctl runs exited with; --lock-timeout 0
    # fails at once on a held lock instead of waiting for it.
    cat >"$W/hook" <<HOOK
#!/bin/sh
"$CERTCTL" --lock-timeout 0 staple "\$CERTCTL_NAME" 2>>"$W/hook.err"
echo "staple \$?" >>"$W/hook.out"
"$CERTCTL" --lock-timeout 0 check "\$CERTCTL_NAME" >/dev/null 2>>"$W/hook.err"
echo "check \$?" >>"$W/hook.out"
"$CERTCTL" --lock-timeout 0 rekey "\$CERTCTL_NAME" >/dev/null 2>>"$W/hook.err"
echo "rekey \$?" >>"$W/hook.out"
HOOK
    chmod +x "$W/hook"
    file_store "{domains: [web1], deploy_hook: $W/hook}"
    run --separate-stderr "$CERTCTL" download web1
    assert_success
    assert_output --partial "installed web1"
    [ -z "$stderr" ] || fail "stderr: $stderr"
    # staple: 10 (no OCSP URL, nothing to do) means it had the lock.
    assert_equal "$(cat "$W/hook.out")" "staple 10
check 0
rekey 0"
    [ ! -s "$W/hook.err" ] || fail "the hook's certctl said: $(cat "$W/hook.err")"
    assert_live 1 "$W/web1.key" "$W/c1.crt"
    [ -e "$CERTDIR/.pending/web1/privkey.pem" ]
}

@test "a failing deploy_hook after the lock is released is still reported (exit 0, set live)" {
    enroll
    file_store "{domains: [web1], deploy_hook: 'exit 7'}"
    run --separate-stderr "$CERTCTL" download web1
    assert_success
    [[ $stderr == *web1:*deploy_hook*exit\ 7* ]] || fail "stderr: $stderr"
    assert_live 1 "$W/web1.key" "$W/c1.crt"
}

@test "--splay sleeps before taking the lock: a staple and a rekey meanwhile get it at once" {
    local secs
    enroll
    file_store
    run "$CERTCTL" download web1
    assert_success
    # A draw under a minute could end the sleep while we look: draw again.
    # (3>&-: bats waits for whatever holds its descriptor 3 open.)
    for _ in 1 2 3 4 5; do
        "$CERTCTL" -v download --splay 3600 web1 2>"$W/splay.log" 3>&- &
        SPLAY_PID=$!
        sleeping "$SPLAY_PID" "$W/splay.log"
        secs=$(sed -n 's/.*waiting \([0-9]*\)\.[0-9]* s (--splay).*/\1/p' "$W/splay.log")
        [[ -z $secs || $secs -ge 60 ]] && break
        stop_pids "$SPLAY_PID"
    done
    run --separate-stderr "$CERTCTL" --lock-timeout 0 staple web1
    [[ $stderr != *locked* ]] || fail "staple: $stderr"
    assert_failure 10
    run --separate-stderr "$CERTCTL" --lock-timeout 0 rekey web1
    [[ $stderr != *locked* ]] || fail "rekey: $stderr"
    assert_success
    kill -0 "$SPLAY_PID" || fail "the splayed run ended early: $(cat "$W/splay.log")"
    stop_pids "$SPLAY_PID"
    assert_live 1 "$W/web1.key" "$W/c1.crt"
}

@test "--splay: a NAME not in the config is a usage error at once, before any sleep" {
    file_store
    run --separate-stderr timeout $((10 * SLOWDOWN)) "$CERTCTL" download --splay 86400 typo
    assert_failure 2
    [[ $stderr == *typo*not\ in\ the\ config* ]] || fail "stderr: $stderr"
}
