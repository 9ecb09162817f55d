#!/usr/bin/env bats
# certctl check: every finding of DESIGN.md section 4a, the output formats,
# the monitoring exit codes, and that check never writes.

bats_require_minimum_version 1.5.0

setup() {
    load ../helpers/common
    common_setup
}

teardown() {
    report_on_failure
    # shellcheck disable=SC2086 # empty when no server was started
    stop_pids ${SERVER_PID:-}
}

@test "--all shows progress on a terminal's stderr, and never without one or with -q" {
    mk a.example.com
    mk b.example.com
    mk c.example.com
    # script(1) gives certctl a terminal; stdout goes elsewhere.
    run script -qec "$CERTCTL check --all >/dev/null" /dev/null
    assert_success
    # Names are checked in parallel and may finish in any order: some
    # count shows, and the line is erased at the end.
    assert_output --regexp 'certctl: check [12]/3'
    refute_output --partial 'check 3/3'
    [[ $output == *$'\r\033[K' ]]
    run script -qec "$CERTCTL -q check --all >/dev/null" /dev/null
    assert_output ""
    run script -qec "$CERTCTL check a.example.com b.example.com >/dev/null" /dev/null
    assert_output ""
    run --separate-stderr "$CERTCTL" check --all
    assert_success
    [ -z "$stderr" ]
}

# bats test_tags=memcheck
@test "a healthy set is OK (exit 0)" {
    mk www.example.com
    run "$CERTCTL" check www.example.com
    assert_success
    assert_output --regexp '^OK +www\.example\.com +expires [0-9-]+ \(in (89|90) days\)$'
}

@test "an expired certificate is CRITICAL" {
    mk www --expired
    run "$CERTCTL" check www
    assert_failure 2
    assert_output --partial "expired on"
}

@test "a not yet valid certificate is CRITICAL" {
    mk www --not-yet-valid
    run "$CERTCTL" check www
    assert_failure 2
    assert_output --partial "not yet valid"
}

@test "expiry within --warn is WARNING, within --crit CRITICAL, thresholds adjustable" {
    mk soon --days 10
    run "$CERTCTL" check soon
    assert_failure 1
    assert_output --regexp 'WARNING +soon +expires .* \(in (9|10) days\)'
    run "$CERTCTL" check --warn 5 soon
    assert_success
    run "$CERTCTL" check --crit 15 soon
    assert_failure 2
    mk sooner --days 3
    run "$CERTCTL" check sooner
    assert_failure 2
}

@test "thresholds come from the config's check: section" {
    mk soon --days 10
    write_config "defaults: {check: {warn: 5d, crit: 2d}}"
    run "$CERTCTL" check soon
    assert_success
}

# bats test_tags=memcheck
@test "a key that does not match the cert is CRITICAL" {
    pki_leaf "$PKI" other
    pki_leaf "$PKI" www
    certdir_put "$CERTDIR" www "$PKI/other.key" "$PKI/www.crt" "$PKI/www.chain.pem"
    run "$CERTCTL" check www
    assert_failure 2
    assert_output --partial "key does not match cert"
}

# bats test_tags=memcheck
@test "a chain to an untrusted root is CRITICAL with OpenSSL's reason" {
    mk www --issuer other-inter
    run "$CERTCTL" check www
    assert_failure 2
    assert_output --partial "chain does not verify"
    assert_output --partial "local issuer"
}

@test "a missing intermediate is CRITICAL" {
    pki_leaf "$PKI" www
    certdir_put "$CERTDIR" www "$PKI/www.key" "$PKI/www.crt" ""
    run "$CERTCTL" check www
    assert_failure 2
    assert_output --partial "chain does not verify"
}

@test "a chain carrying the root, or out of order, is WARNING" {
    pki_leaf "$PKI" www
    cat "$PKI/www.chain.pem" "$PKI/root.pem" > "$BATS_TEST_TMPDIR/chain"
    certdir_put "$CERTDIR" www "$PKI/www.key" "$PKI/www.crt" "$BATS_TEST_TMPDIR/chain"
    run "$CERTCTL" -v check www
    assert_failure 1
    assert_output --partial "carries the root"
    cat "$PKI/root.pem" "$PKI/www.chain.pem" > "$BATS_TEST_TMPDIR/chain2"
    certdir_put "$CERTDIR" www "$PKI/www.key" "$PKI/www.crt" "$BATS_TEST_TMPDIR/chain2" 2
    run "$CERTCTL" -v check www
    assert_failure 1
    assert_output --partial "out of order"
}

@test "an expired or not yet valid intermediate in chain.pem is CRITICAL, a valid copy next to it is not" {
    pki_ca "$PKI" inter-expired "certctl Test Intermediate" --parent root --expired \
        --key "$PKI/inter.key"
    pki_ca "$PKI" inter-future "certctl Test Intermediate" --parent root --not-yet-valid \
        --key "$PKI/inter.key"
    pki_leaf "$PKI" old
    certdir_put "$CERTDIR" old "$PKI/old.key" "$PKI/old.crt" "$PKI/inter-expired.pem"
    pki_leaf "$PKI" early
    certdir_put "$CERTDIR" early "$PKI/early.key" "$PKI/early.crt" "$PKI/inter-future.pem"
    run "$CERTCTL" check old
    assert_failure 2
    assert_output --partial "expired on"
    run "$CERTCTL" check early
    assert_failure 2
    assert_output --partial "not yet valid"
    # Next to a valid copy, the stale one is only a stray.
    pki_leaf "$PKI" both
    cat "$PKI/inter-future.pem" "$PKI/inter.pem" >"$BATS_TEST_TMPDIR/chain.pem"
    certdir_put "$CERTDIR" both "$PKI/both.key" "$PKI/both.crt" "$BATS_TEST_TMPDIR/chain.pem"
    run "$CERTCTL" check both
    assert_failure 1
    assert_output --partial "not on the leaf's path"
}

@test "a key whose public half is not its private half's is CRITICAL (EC, RSA)" {
    local d=$BATS_TEST_TMPDIR
    openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$d/a.key"
    pki_leaf "$PKI" ec
    # A's scalar with the certificate key's point: the public keys "match".
    pki_bad_key "$d/a.key" "$d/ec-bad.key" "$PKI/ec.key"
    certdir_put "$CERTDIR" ec "$d/ec-bad.key" "$PKI/ec.crt" "$PKI/ec.chain.pem"
    pki_leaf "$PKI" rsa --rsa 2048
    pki_bad_key "$PKI/rsa.key" "$d/rsa-bad.key"
    certdir_put "$CERTDIR" rsa "$d/rsa-bad.key" "$PKI/rsa.crt" "$PKI/rsa.chain.pem"
    for n in ec rsa; do
        run "$CERTCTL" check "$n"
        assert_failure 2
        assert_output --partial "privkey.pem: the private key is inconsistent"
    done
}

@test "a DNS name with a NUL byte inside covers nothing and is CRITICAL" {
    write_config "certificates: {www: {domains: [www.example.com]}}"
    pki_leaf "$PKI" www --san 'www.example.comX.evil.test'
    pki_patch_cert "$PKI" "$PKI/www.crt" "$BATS_TEST_TMPDIR/nul.crt" 'b"comX.evil"' \
        'b"com\x00.evil"'
    certdir_put "$CERTDIR" www "$PKI/www.key" "$BATS_TEST_TMPDIR/nul.crt" "$PKI/www.chain.pem"
    run "$CERTCTL" -v check www
    assert_failure 2
    assert_output --partial "configured domain 'www.example.com' is not covered"
    assert_output --partial "malformed DNS or IP name"
    run "$CERTCTL" --json check www
    refute_output --partial 'www.example.com\u0000'
    refute_output --partial '"www.example.com"'
}

@test "a missing file is CRITICAL and named" {
    mk www
    rm "$CERTDIR/.live/www.g0001/fullchain.pem"
    run "$CERTCTL" check www
    assert_failure 2
    assert_output --partial "fullchain.pem is missing"
}

@test "a symlink where a file belongs is CRITICAL" {
    mk www
    ln -sf /etc/passwd "$CERTDIR/.live/www.g0001/chain.pem"
    run "$CERTCTL" check www
    assert_failure 2
    assert_output --partial "chain.pem is a symlink where a file belongs"
}

# bats test_tags=memcheck
@test "garbage or a truncated cert.pem is CRITICAL" {
    mk www
    echo "hello" > "$CERTDIR/.live/www.g0001/cert.pem"
    run "$CERTCTL" check www
    assert_failure 2
    assert_output --partial "cert.pem does not parse"
    head -c 300 "$PKI/www.crt" > "$CERTDIR/.live/www.g0001/cert.pem"
    run "$CERTCTL" check www
    assert_failure 2
    assert_output --partial "truncated"
}

@test "a fullchain.pem that is not cert + chain is CRITICAL" {
    mk www
    cp "$PKI/www.crt" "$CERTDIR/.live/www.g0001/fullchain.pem"
    run "$CERTCTL" check www
    assert_failure 2
    assert_output --partial "fullchain.pem is not cert.pem followed by chain.pem"
}

@test "a configured domain missing from the SANs is CRITICAL" {
    mk www.example.com --san www.example.com
    write_config "certificates: {www.example.com: {domains: [www.example.com, example.com]}}"
    run "$CERTCTL" check www.example.com
    assert_failure 2
    assert_output --partial "configured domain 'example.com' is not covered"
}

@test "a wildcard certificate covers its configured wildcard name" {
    mk _.example.com --san '*.example.com'
    write_config "certificates: {'*.example.com': {domains: ['*.example.com']}}"
    run "$CERTCTL" check '*.example.com'
    assert_success
}

@test "RSA below 2048 bits is CRITICAL" {
    mk www --rsa 1024
    run "$CERTCTL" check www
    assert_failure 2
    assert_output --partial "RSA key of 1024 bits"
}

@test "a SHA-1 signature is CRITICAL" {
    mk www --sha1
    run "$CERTCTL" check www
    assert_failure 2
    assert_output --partial "weak signature"
}

@test "a private key readable by others is CRITICAL, by an unnamed group WARNING" {
    mk www
    chmod 0644 "$CERTDIR/.live/www.g0001/privkey.pem"
    run "$CERTCTL" check www
    assert_failure 2
    assert_output --partial "readable by others (mode 0644)"
    chmod 0640 "$CERTDIR/.live/www.g0001/privkey.pem"
    run "$CERTCTL" check www
    assert_failure 1
    assert_output --partial "readable by group"
    write_config "defaults: {group: $(id -gn)}"
    run "$CERTCTL" check www
    assert_success
}

@test "a must-staple certificate without a staple is CRITICAL" {
    mk www --must-staple
    run "$CERTCTL" check www
    assert_failure 2
    assert_output --partial "must-staple certificate without a staple"
}

@test "a recorded download failure is WARNING" {
    mk www
    mkdir -p "$CERTDIR/.state"
    echo '{"download": {"last_error": "acme: rate limited"}}' > "$CERTDIR/.state/www.json"
    run "$CERTCTL" check www
    assert_failure 1
    assert_output --partial "last download failed: acme: rate limited"
}

@test "a pending key older than 7 days is WARNING" {
    mk www
    mkdir -p -m 0700 "$CERTDIR/.pending/www"
    cp "$PKI/www.key" "$CERTDIR/.pending/www/privkey.pem"
    touch -d '10 days ago' "$CERTDIR/.pending/www/privkey.pem"
    run "$CERTCTL" check www
    assert_failure 1
    assert_output --partial "pending key is 10 days old"
}

@test "a name with no certificate is CRITICAL" {
    run "$CERTCTL" check nothing.example
    assert_failure 2
    assert_output --partial "no certificate installed"
}

# bats test_tags=memcheck
@test "--all checks every name, worst first, exit is the worst status" {
    mk a.example
    mk b.example --expired
    mk c.example --days 10
    run "$CERTCTL" check --all
    assert_failure 2
    assert_line --index 0 --regexp '^CRITICAL +b\.example'
    assert_line --index 1 --regexp '^WARNING +c\.example'
    assert_line --index 2 --regexp '^OK +a\.example'
}

@test "--all includes configured names that have nothing installed" {
    mk a.example
    write_config "certificates: {new.example: }"
    run "$CERTCTL" check --all
    assert_failure 2
    assert_output --partial "new.example"
}

@test "--all on an empty certdir is UNKNOWN" {
    run "$CERTCTL" check --all
    assert_failure 3
    assert_output --partial "no names"
}

# bats test_tags=memcheck
@test "--json is one JSON document with facts and findings" {
    mk www --days 10
    run "$CERTCTL" --json check www
    assert_failure 1
    echo "$output" | python3 -c '
import json, sys
doc = json.load(sys.stdin)
assert doc["status"] == "WARNING", doc
n = doc["names"][0]
assert n["name"] == "www" and n["status"] == "WARNING"
assert n["sans"] == ["www"] and n["key"] == "EC P-256" and n["days_left"] in (9, 10)
assert n["findings"][0]["severity"] == "WARNING"
'
}

@test "--format nagios prints one status line with perfdata" {
    mk a.example
    mk b.example --days 10
    run "$CERTCTL" check --format nagios --all
    assert_failure 1
    assert_output --regexp "^CERTCTL WARNING - 0 critical, 1 warning, 1 ok: b\.example: expires .* \| 'days_b\.example'=(9|10);;; 'days_a\.example'=(89|90);;;$"
}

# bats test_tags=memcheck
@test "--format prometheus with --output writes the textfile atomically" {
    mk a.example
    mk b.example --expired
    run "$CERTCTL" check --format prometheus --output "$BATS_TEST_TMPDIR/certctl.prom" --all
    assert_failure 2
    assert_output ""
    run cat "$BATS_TEST_TMPDIR/certctl.prom"
    assert_line 'certctl_cert_status{name="b.example"} 2'
    assert_line 'certctl_cert_status{name="a.example"} 0'
    assert_line --regexp '^certctl_cert_not_after_seconds\{name="a\.example"\} [0-9]{10}$'
    assert_line --regexp '^certctl_check_timestamp_seconds [0-9]{10}$'
    [ "$(stat -c %a "$BATS_TEST_TMPDIR/certctl.prom")" = 644 ]
    [ -z "$(ls -A "$BATS_TEST_TMPDIR" | grep '\.tmp$' || true)" ]
}

@test "check never modifies the certdir" {
    mk a.example
    mk b.example --expired
    before=$(tree_sum "$CERTDIR")
    run "$CERTCTL" check --all --format json
    run "$CERTCTL" check --all
    [ "$(tree_sum "$CERTDIR")" = "$before" ]
}

@test "a group-writable certdir is refused with UNKNOWN" {
    mk www
    chmod 0775 "$CERTDIR"
    run "$CERTCTL" check www
    assert_failure 3
    assert_output --partial "group or world writable"
}

@test "a live link pointing outside .live is CRITICAL, not followed" {
    mk www
    ln -sfn /etc "$CERTDIR/evil"
    run "$CERTCTL" check evil
    assert_failure 2
    assert_output --partial "refusing"
}

# bats test_tags=memcheck
@test "bad arguments are UNKNOWN (exit 3) with a one-line reason" {
    run "$CERTCTL" check --format xml --all
    assert_failure 3
    assert_output --partial "unknown format 'xml'"
    run "$CERTCTL" check --warn soon --all
    assert_failure 3
    run "$CERTCTL" check ../etc
    assert_failure 3
    assert_output --partial "invalid name '../etc'"
    run "$CERTCTL" check
    assert_failure 3
    run "$CERTCTL" check --frob www
    assert_failure 3
    run "$CERTCTL" check --all www
    assert_failure 3
}

# bats test_tags=memcheck
@test "a broken config is UNKNOWN and names file and line" {
    mk www
    printf 'certdir: %s\nbogus: 1\n' "$CERTDIR" > "$CONFIG"
    run "$CERTCTL" check www
    assert_failure 3
    assert_output --partial "$CONFIG:2: unknown key 'bogus'"
}

start_tls_server() { # CERT KEY CHAIN
    PORT=$(free_port)
    openssl s_server -quiet -accept "127.0.0.1:$PORT" -cert "$1" -key "$2" \
        -cert_chain "$3" -www >/dev/null 2>&1 &
    SERVER_PID=$!
    wait_port "$PORT"
}

# bats test_tags=memcheck
@test "--connect: the served certificate is the installed one" {
    mk www
    start_tls_server "$PKI/www.crt" "$PKI/www.key" "$PKI/www.chain.pem"
    run "$CERTCTL" check --connect "127.0.0.1:$PORT" www
    assert_success
}

@test "--connect: a server still serving the old certificate is CRITICAL" {
    pki_leaf "$PKI" old --san www
    mk www
    start_tls_server "$PKI/old.crt" "$PKI/old.key" "$PKI/old.chain.pem"
    run "$CERTCTL" check --connect "127.0.0.1:$PORT" www
    assert_failure 2
    assert_output --partial "installed but not reloaded"
}

@test "--connect: nothing listening is CRITICAL" {
    mk www
    run "$CERTCTL" check --connect "127.0.0.1:$(free_port)" www
    assert_failure 2
    assert_output --partial "cannot connect"
}

# Issue 16: a SIGQUIT to a slow check (a server that accepts and never
# answers) dumped core, private key included. certctl turns core files off
# (RLIMIT_CORE 0, hard limit too) and makes itself undumpable, which the
# kernel shows by giving /proc/PID to root. That shows only for a process
# of another user, so as root certctl runs as nobody here, on a certdir of
# theirs; both are read from /proc while certctl waits on the server.
@test "certctl runs with core dumps off and is not dumpable" {
    local _ pid
    U=$(mktemp -d /tmp/certctl-core.XXXXXX)
    chmod 0755 "$U"
    CERTDIR=$U/certdir
    mkdir "$CERTDIR"
    mk www
    cp "$PKI/trust.pem" "$U/"
    printf 'certdir: %s\ntrust: %s\n' "$CERTDIR" "$U/trust.pem" >"$U/certctl.conf"
    local as=()
    if [ "$(id -u)" -eq 0 ]; then
        chown -R nobody "$U"
        as=(setpriv --reuid=nobody --regid="$(id -gn nobody)" --clear-groups)
    fi
    PORT=$(free_port)
    # shellcheck disable=SC2016 # python, not shell
    python3 -c 'import socket, sys, time
s = socket.socket()
s.bind(("127.0.0.1", int(sys.argv[1])))
s.listen(8)
open(sys.argv[2] + "/listening", "w").close()
c, _ = s.accept()
open(sys.argv[2] + "/accepted", "w").close()
time.sleep(600)' "$PORT" "$U" &
    SERVER_PID=$!
    for _ in $(seq 1 $((100 * SLOWDOWN))); do
        [ -e "$U/listening" ] && break
        sleep 0.1
    done
    # A core limit to lower: without the fix, certctl would keep this one.
    "${as[@]}" sh -c 'ulimit -c unlimited; exec "$@"' sh env CERTCTL_CONFIG="$U/certctl.conf" \
        CERTCTL_CERTDIR="$CERTDIR" "$CERTCTL" check --timeout 600 --connect "127.0.0.1:$PORT" www 3>&- &
    pid=$!
    for _ in $(seq 1 $((100 * SLOWDOWN))); do
        [ -e "$U/accepted" ] || ! kill -0 "$pid" 2>/dev/null && break
        sleep 0.1
    done
    if [ ! -e "$U/accepted" ]; then
        kill "$pid" 2>/dev/null || true
        rm -rf "$U"
        echo "certctl never connected"
        return 1
    fi
    local limits owner uid
    limits=$(grep '^Max core file size' "/proc/$pid/limits")
    owner=$(stat -c %u "/proc/$pid/status")
    uid=$(awk '/^Uid:/ { print $2 }' "/proc/$pid/status")
    kill "$pid"
    wait "$pid" || true
    rm -rf "$U"
    echo "limits: $limits; /proc owner $owner; uid $uid"
    [[ $limits =~ ^Max\ core\ file\ size\ +0\ +0\ +bytes ]]
    [ "$uid" -ne 0 ]
    [ "$owner" -eq 0 ]
}

# start_drip_server: a TCP server on loopback that reads the ClientHello,
# sends the header of a 16 KiB handshake record and then its body one byte
# a second: every read gets a byte well within any per-read timeout.
start_drip_server() {
    PORT=$(free_port)
    python3 -c '
import socket, sys, threading, time
def drip(conn):
    try:
        conn.recv(65536)
        conn.sendall(b"\x16\x03\x03\x40\x00")
        while True:
            time.sleep(1)
            conn.sendall(b"\x00")
    except OSError:
        pass
srv = socket.socket()
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("127.0.0.1", int(sys.argv[1])))
srv.listen(16)
while True:
    c, _ = srv.accept()
    threading.Thread(target=drip, args=(c,), daemon=True).start()
' "$PORT" </dev/null >/dev/null 2>&1 &
    SERVER_PID=$!
    wait_port "$PORT"
}

@test "--connect: --timeout bounds the whole handshake, not each read" {
    mk www
    start_drip_server
    # The outer bound only stops a hanging test; before the fix the drip
    # kept check waiting for hours.
    run --separate-stderr timeout $((60 * SLOWDOWN)) "$CERTCTL" check --timeout 2 \
        --connect "127.0.0.1:$PORT" www
    assert_failure 2
    [[ $output == *"'127.0.0.1:$PORT' did not complete the TLS handshake within 2 s"* ]] ||
        fail "output: $output / $stderr"
}
