#!/usr/bin/env bats
# Staples across renewals, with the real servers that load them from the
# certdir: nginx (ssl_stapling_file NAME/ocsp.der) and haproxy (crt
# combined.pem, which finds combined.pem.ocsp beside it). A renewal of a
# stapled set carries a staple for the new certificate, fetched before the
# swap, so `nginx -t`, `nginx -s reload` and a haproxy reload keep working
# and serve the new certificate with a good staple. With the responder
# down, the renewal is held back while the live certificate is safe (the
# reload still works and serves the old set); close to expiry it goes live
# without a staple and `staple` fills it in later.

bats_require_minimum_version 1.5.0

setup() {
    load ../helpers/common
    load ../helpers/ocsp
    common_setup
    ocsp_setup
    SERVER_PIDS=()
    write_config 'defaults: {files: [combined]}'
    W=$BATS_TEST_TMPDIR/work
    mkdir -p "$W"
}

teardown() {
    stop_pids "${SERVER_PIDS[@]}"
    ocsp_stop
    if [[ -n ${PEBBLE_PID:-} ]]; then
        pebble_stop
    fi
}

# cert NAME OUT [pki_leaf options]: a certificate for NAME that names the
# test responder and is valid in its index, kept as OUT.{crt,key,chain.pem}.
cert() {
    local name=$1 out=$2
    shift 2
    pki_leaf "$PKI" "$name" --ocsp "$OCSP_URL" "$@"
    cp "$PKI/$name.crt" "$out.crt"
    cp "$PKI/$name.key" "$out.key"
    cp "$PKI/$name.chain.pem" "$out.chain.pem"
    ocsp_index_add "$OCSP_INDEX" "${STATUS:-V}" "$out.crt"
}

responder() {
    ocsp_start "$OCSP_INDEX" "$PKI/inter.pem" "$PKI/inter.key" -ndays 7
}

serial_of() {
    openssl x509 -noout -serial -in "$1" | cut -d= -f2
}

# import_set NAME CERTBASE: certctl import of CERTBASE.{crt,key,chain.pem}.
import_set() {
    run --separate-stderr "$CERTCTL" import "$1" --cert "$2.crt" --key "$2.key" \
        --chain "$2.chain.pem" --no-fetch
}

# A stapled set www: imported, then stapled from the running responder.
stapled_www() {
    cert www "$W/old" "$@"
    cert www "$W/new" --key "$W/old.key"
    responder
    import_set www "$W/old"
    assert_success
    run "$CERTCTL" staple www
    assert_success
    assert_output --partial "stapled www"
}

# assert_staple_for FILE CERT: FILE is a verified "good" response about CERT.
assert_staple_for() {
    run openssl ocsp -respin "$1" -issuer "$PKI/inter.pem" -cert "$2" \
        -VAfile "$PKI/inter.pem" -no_nonce
    assert_success
    assert_output --partial "Response verify OK"
    assert_output --partial "$2: good"
}

# ------------------------------------------------------------------ servers

# nginx_start: nginx on a free port with the stapling recipe of
# docs/recipes.md for www; a master and one worker, as in production (a
# reload in single-process mode is not what operators run). The worker
# runs as the test's own user, so it can read the test's files.
nginx_start() {
    NGINX_DIR=$BATS_TEST_TMPDIR/nginx
    NGINX_PORT=$(free_port)
    mkdir -p "$NGINX_DIR/tmp"
    cat >"$NGINX_DIR/nginx.conf" <<EOF
daemon off;
$( ((EUID == 0)) && echo 'user root root;')
worker_processes 1;
pid $NGINX_DIR/nginx.pid;
error_log $NGINX_DIR/error.log notice;
events { worker_connections 64; }
http {
    access_log off;
    client_body_temp_path $NGINX_DIR/tmp/body;
    proxy_temp_path $NGINX_DIR/tmp/proxy;
    fastcgi_temp_path $NGINX_DIR/tmp/fastcgi;
    uwsgi_temp_path $NGINX_DIR/tmp/uwsgi;
    scgi_temp_path $NGINX_DIR/tmp/scgi;
    server {
        listen 127.0.0.1:$NGINX_PORT ssl;
        server_name www;
        ssl_certificate     $CERTDIR/www/fullchain.pem;
        ssl_certificate_key $CERTDIR/www/privkey.pem;
        ssl_stapling        on;
        ssl_stapling_file   $CERTDIR/www/ocsp.der;
        location / { return 200 "ok\n"; }
    }
}
EOF
    nginx_cmd -t
    assert_success
    /usr/sbin/nginx -e "$NGINX_DIR/error.log" -p "$NGINX_DIR" -c "$NGINX_DIR/nginx.conf" \
        </dev/null >"$NGINX_DIR/stdout.log" 2>&1 &
    SERVER_PIDS+=("$!")
    wait_port "$NGINX_PORT" || fail "nginx did not start: $(cat "$NGINX_DIR/error.log")"
}

nginx_cmd() {
    run /usr/sbin/nginx -e "$NGINX_DIR/error.log" -p "$NGINX_DIR" -c "$NGINX_DIR/nginx.conf" "$@"
}

# wait_log FILE PATTERN COUNT: until FILE has COUNT lines matching PATTERN.
wait_log() {
    local _
    for _ in $(seq 1 $((100 * SLOWDOWN))); do
        (($(grep -c -- "$2" "$1" 2>/dev/null) >= $3)) && return 0
        sleep 0.1
    done
    fail "$1 never showed '$2' $3 times: $(cat "$1")"
}

# nginx_reload: the documented `nginx -t` and reload both succeed, and
# the worker of the old configuration has exited (the master starts the
# new one first), so only the new configuration answers.
nginx_reload() {
    local before
    before=$(grep -c 'exited with code' "$NGINX_DIR/error.log" || true)
    nginx_cmd -t
    assert_success
    nginx_cmd -s reload
    assert_success
    wait_log "$NGINX_DIR/error.log" 'exited with code' $((before + 1))
}

# haproxy_start: haproxy in master-worker mode on a free port, serving
# www's combined.pem (and the combined.pem.ocsp beside it).
haproxy_start() {
    command -v haproxy >/dev/null || fail "haproxy is missing (scripts/install-deps.sh installs it)"
    HAPROXY_DIR=$BATS_TEST_TMPDIR/haproxy
    HAPROXY_PORT=$(free_port)
    mkdir -p "$HAPROXY_DIR"
    cat >"$HAPROXY_DIR/haproxy.cfg" <<EOF
global
    pidfile $HAPROXY_DIR/haproxy.pid
defaults
    mode http
    timeout connect 5s
    timeout client 10s
    timeout server 10s
frontend www
    bind 127.0.0.1:$HAPROXY_PORT ssl crt $CERTDIR/www/combined.pem
    http-request return status 200 content-type text/plain string ok
EOF
    run haproxy -c -f "$HAPROXY_DIR/haproxy.cfg"
    assert_success
    haproxy -W -db -f "$HAPROXY_DIR/haproxy.cfg" </dev/null >"$HAPROXY_DIR/log" 2>&1 &
    SERVER_PIDS+=("$!")
    HAPROXY_MASTER=$!
    wait_log "$HAPROXY_DIR/log" 'Loading success' 1
    wait_port "$HAPROXY_PORT"
}

# haproxy_reload: the configuration checks, a reload (SIGUSR2 to the
# master) loads it, and the former worker has exited, so only the new
# configuration answers.
haproxy_reload() {
    local loaded gone
    loaded=$(grep -c 'Loading success' "$HAPROXY_DIR/log" || true)
    gone=$(grep -c 'Former worker .* exited' "$HAPROXY_DIR/log" || true)
    run haproxy -c -f "$HAPROXY_DIR/haproxy.cfg"
    assert_success
    kill -USR2 "$HAPROXY_MASTER"
    wait_log "$HAPROXY_DIR/log" 'Loading \(success\|failure\)' $((loaded + 1))
    run grep -c 'Loading failure' "$HAPROXY_DIR/log"
    assert_output 0
    wait_log "$HAPROXY_DIR/log" 'Former worker .* exited' $((gone + 1))
}

# served PORT: what a client gets, with the staple (s_client -status).
served() {
    run openssl s_client -connect "127.0.0.1:$1" -servername www -status \
        -CAfile "$PKI/trust.pem" -verify_return_error </dev/null
    assert_success
    assert_output --partial "Verify return code: 0 (ok)"
}

# assert_serves PORT CERT: the server sends CERT with a good staple about it.
assert_serves() {
    local want got
    want=$(serial_of "$2")
    served "$1"
    assert_output --partial "OCSP Response Status: successful"
    assert_output --partial "Cert Status: good"
    # The staple's CertID names the served certificate.
    assert_output --regexp "Serial Number: 0*$want"
    got=$(sed -n '/^Server certificate/,/END CERTIFICATE/p' <<<"$output" |
        openssl x509 -noout -serial | cut -d= -f2)
    [[ $got == "$want" ]] || fail "serves serial $got, not $want"
}

# ------------------------------------------------------------------- nginx

@test "nginx: a renewal by import carries a staple for the new certificate; -t and reload succeed" {
    stapled_www
    nginx_start
    assert_serves "$NGINX_PORT" "$W/old.crt"
    import_set www "$W/new"
    assert_success
    assert_output --partial "installed www"
    [ -z "$stderr" ] || fail "stderr: $stderr"
    assert_staple_for "$CERTDIR/www/ocsp.der" "$W/new.crt"
    cmp "$CERTDIR/www/ocsp.der" "$CERTDIR/www/combined.pem.ocsp"
    cmp "$CERTDIR/www/ocsp.der" "$CERTDIR/www.ocsp"
    nginx_reload
    assert_serves "$NGINX_PORT" "$W/new.crt"
    run "$CERTCTL" check www
    assert_success
    # The carried staple counts as fresh: staple has nothing to do.
    run "$CERTCTL" staple www
    assert_failure 10
}

# bats test_tags=memcheck
@test "nginx: with the responder down the renewal is held back; the reload still serves the old set, stapled" {
    stapled_www
    nginx_start
    ocsp_stop
    before=$(tree_sum "$CERTDIR" | grep -v '^\.state')
    import_set www "$W/new"
    assert_failure 1
    assert_output ""
    [[ $stderr == "certctl: www: not installed: no staple for the new certificate ("*"OCSP responder '$OCSP_URL'"*"the live set keeps its staple until it expires on "*": try again when the responder answers (import --force installs without a staple)" ]] ||
        fail "stderr: $stderr"
    [ "$(tree_sum "$CERTDIR" | grep -v '^\.state')" = "$before" ]
    nginx_reload
    assert_serves "$NGINX_PORT" "$W/old.crt"
    # The responder is back: the same import goes through, stapled.
    responder
    import_set www "$W/new"
    assert_success
    nginx_reload
    assert_serves "$NGINX_PORT" "$W/new.crt"
}

@test "nginx: close to expiry the renewal goes live without a staple; the next staple run makes nginx whole" {
    stapled_www --days 3
    nginx_start
    ocsp_stop
    import_set www "$W/new"
    assert_success
    assert_output --partial "installed www"
    [[ $stderr == "certctl: www: installed without a staple ("*"): ocsp.der is missing until 'certctl staple' fetches one" ]] ||
        fail "stderr: $stderr"
    [ ! -e "$CERTDIR/www/ocsp.der" ]
    [ ! -e "$CERTDIR/www/combined.pem.ocsp" ]
    run "$CERTCTL" check www
    assert_failure 1
    assert_output --partial "ocsp.der is missing, yet the name is stapled"
    # This is what the hold-back avoids while it can: nginx cannot load the
    # set (no placeholder file is both loaded by nginx and harmless).
    nginx_cmd -t
    assert_failure
    assert_output --partial "ocsp.der"
    responder
    run "$CERTCTL" staple www
    assert_success
    assert_staple_for "$CERTDIR/www/ocsp.der" "$W/new.crt"
    cmp "$CERTDIR/www/ocsp.der" "$CERTDIR/www/combined.pem.ocsp"
    nginx_reload
    assert_serves "$NGINX_PORT" "$W/new.crt"
    run "$CERTCTL" check www
    assert_success
}

@test "import --force installs a renewal without a staple when the responder is down" {
    stapled_www
    ocsp_stop
    run --separate-stderr "$CERTCTL" import www --cert "$W/new.crt" --key "$W/new.key" \
        --chain "$W/new.chain.pem" --no-fetch --force
    assert_success
    [[ $stderr == *"installed without a staple"* ]] || fail "stderr: $stderr"
    [ "$(serial_of "$CERTDIR/www/cert.pem")" = "$(serial_of "$W/new.crt")" ]
    [ ! -e "$CERTDIR/www/ocsp.der" ]
}

# bats test_tags=memcheck
@test "a renewal the responder calls revoked is never installed, not even with --force" {
    stapled_www
    ocsp_stop
    STATUS=R cert www "$W/revoked" --key "$W/old.key"
    responder
    before=$(tree_sum "$CERTDIR" | grep -v '^\.state')
    for force in "" --force; do
        run --separate-stderr "$CERTCTL" import www --cert "$W/revoked.crt" \
            --key "$W/revoked.key" --chain "$W/revoked.chain.pem" --no-fetch $force
        assert_failure 1
        [[ $stderr == *"REVOKED"* ]] || fail "stderr: $stderr"
        [ "$(tree_sum "$CERTDIR" | grep -v '^\.state')" = "$before" ]
    done
}

@test "a set that was never stapled renews without asking any responder" {
    cert www "$W/old"
    cert www "$W/new" --key "$W/old.key"
    ocsp_static_start status 500
    import_set www "$W/old"
    assert_success
    import_set www "$W/new"
    assert_success
    [ -z "$stderr" ] || fail "stderr: $stderr"
    [ ! -e "$CERTDIR/www/ocsp.der" ]
    [ -z "$(ocsp_requests)" ]
    run "$CERTCTL" check www
    assert_success
}

@test "a renewal whose certificate names no responder goes live, with a warning to stop stapling" {
    stapled_www
    pki_leaf "$PKI" www --key "$W/old.key"
    run --separate-stderr "$CERTCTL" import www --cert "$PKI/www.crt" --key "$W/old.key" \
        --chain "$PKI/www.chain.pem" --no-fetch
    assert_success
    [[ $stderr == *"the new certificate names no OCSP responder"*"ssl_stapling_file"* ]] ||
        fail "stderr: $stderr"
    [ ! -e "$CERTDIR/www/ocsp.der" ]
    # Nothing to staple any more: check is content, and the next renewal
    # says nothing.
    run "$CERTCTL" check www
    assert_success
    pki_leaf "$PKI" www --key "$W/old.key"
    run --separate-stderr "$CERTCTL" import www --cert "$PKI/www.crt" --key "$W/old.key" \
        --chain "$PKI/www.chain.pem" --no-fetch
    assert_success
    [ -z "$stderr" ] || fail "stderr: $stderr"
}

@test "a set that lost its staple to an earlier renewal gets one again at the next" {
    stapled_www
    # What certctl before this fix left: a live generation without ocsp.der.
    run "$CERTCTL" import www --cert "$W/new.crt" --key "$W/new.key" \
        --chain "$W/new.chain.pem" --no-fetch --force
    rm -f "$CERTDIR/www/ocsp.der" "$CERTDIR/www/combined.pem.ocsp"
    cert www "$W/third" --key "$W/old.key"
    ocsp_stop
    responder
    import_set www "$W/third"
    assert_success
    assert_staple_for "$CERTDIR/www/ocsp.der" "$W/third.crt"
}

@test "download from an http store carries the staple; held back while the responder is down" {
    stapled_www
    mkdir -p "$W/store"
    write_config "defaults: {source: fleet, files: [combined]}
sources:
  fleet:
    type: http
    url: file://$W/store/{name}.pem
certificates:
  www: {domains: [www]}"
    cat "$W/new.crt" "$W/new.chain.pem" >"$W/store/www.pem"
    nginx_start
    ocsp_stop
    before=$(tree_sum "$CERTDIR" | grep -v '^\.state')
    run --separate-stderr "$CERTCTL" download www
    assert_failure 1
    [[ $stderr == *"not installed: no staple for the new certificate"* ]] || fail "stderr: $stderr"
    [ "$(tree_sum "$CERTDIR" | grep -v '^\.state')" = "$before" ]
    # download --force renews early; it does not drop the staple.
    run --separate-stderr "$CERTCTL" download --force www
    assert_failure 1
    [ "$(tree_sum "$CERTDIR" | grep -v '^\.state')" = "$before" ]
    # check reports the held-back renewal until it goes through.
    run "$CERTCTL" check www
    assert_failure 1
    assert_output --partial "last download failed: "
    nginx_reload
    assert_serves "$NGINX_PORT" "$W/old.crt"
    responder
    run --separate-stderr "$CERTCTL" download www
    assert_success
    assert_output --partial "installed www"
    nginx_reload
    assert_serves "$NGINX_PORT" "$W/new.crt"
    run "$CERTCTL" check www
    assert_success
}

@test "a rekeyed key promoted by its certificate carries a staple too" {
    stapled_www
    run "$CERTCTL" rekey www
    assert_success
    run "$CERTCTL" rekey --print-csr www
    assert_success
    printf '%s\n' "$output" >"$W/next.csr"
    pki_csr_sign "$PKI" "$W/next.csr" "$W/next.crt" --ocsp "$OCSP_URL"
    ocsp_index_add "$OCSP_INDEX" V "$W/next.crt"
    # openssl ocsp may miss an index changed within the second it read it.
    ocsp_stop
    responder
    run --separate-stderr "$CERTCTL" import www --cert "$W/next.crt" \
        --chain "$PKI/inter.pem" --no-fetch
    assert_success
    assert_output --partial "pending key now live"
    [ ! -e "$CERTDIR/.pending/www" ]
    assert_staple_for "$CERTDIR/www/ocsp.der" "$W/next.crt"
    cmp "$CERTDIR/www/ocsp.der" "$CERTDIR/www/combined.pem.ocsp"
}

# ----------------------------------------------------------------- haproxy

@test "haproxy: a renewal carries combined.pem.ocsp; the reload serves the new certificate stapled" {
    stapled_www
    haproxy_start
    assert_serves "$HAPROXY_PORT" "$W/old.crt"
    import_set www "$W/new"
    assert_success
    assert_staple_for "$CERTDIR/www/combined.pem.ocsp" "$W/new.crt"
    haproxy_reload
    assert_serves "$HAPROXY_PORT" "$W/new.crt"
}

@test "haproxy: with the responder down the reload keeps serving the old set, stapled; then the renewal" {
    stapled_www
    haproxy_start
    ocsp_stop
    import_set www "$W/new"
    assert_failure 1
    haproxy_reload
    assert_serves "$HAPROXY_PORT" "$W/old.crt"
    responder
    import_set www "$W/new"
    assert_success
    haproxy_reload
    assert_serves "$HAPROXY_PORT" "$W/new.crt"
}

@test "haproxy: a set that went live without a staple loads, and the next staple run is served" {
    stapled_www --days 3
    haproxy_start
    ocsp_stop
    import_set www "$W/new"
    assert_success
    [ ! -e "$CERTDIR/www/combined.pem.ocsp" ]
    haproxy_reload
    served "$HAPROXY_PORT"
    assert_output --partial "OCSP response: no response sent"
    responder
    run "$CERTCTL" staple www
    assert_success
    haproxy_reload
    assert_serves "$HAPROXY_PORT" "$W/new.crt"
}

# ------------------------------------------------------------------- check

@test "check: a stapled set's missing, dangling or empty staple paths are flagged" {
    stapled_www
    run "$CERTCTL" check -v www
    assert_success
    live=$CERTDIR/$(readlink "$CERTDIR/www")
    # NAME.ocsp: missing, pointing elsewhere.
    mv "$CERTDIR/www.ocsp" "$W/www.ocsp"
    run "$CERTCTL" check -v www
    assert_failure 1
    assert_output --partial "www.ocsp is missing"
    ln -s www/cert.pem "$CERTDIR/www.ocsp"
    run "$CERTCTL" check -v www
    assert_failure 1
    assert_output --partial "www.ocsp is not a link to www/ocsp.der"
    rm "$CERTDIR/www.ocsp"
    mv "$W/www.ocsp" "$CERTDIR/www.ocsp"
    # combined.pem.ocsp: missing, or another response than ocsp.der.
    mv "$live/combined.pem.ocsp" "$W/c.ocsp"
    run "$CERTCTL" check -v www
    assert_failure 1
    assert_output --partial "combined.pem.ocsp is missing"
    printf 'x' >"$live/combined.pem.ocsp"
    run "$CERTCTL" check -v www
    assert_failure 1
    assert_output --partial "combined.pem.ocsp differs from ocsp.der"
    mv "$W/c.ocsp" "$live/combined.pem.ocsp"
    # An empty placeholder.
    mv "$live/ocsp.der" "$W/ocsp.der"
    : >"$live/ocsp.der"
    run "$CERTCTL" check -v www
    assert_failure 1
    assert_output --partial "ocsp.der is an empty placeholder"
    # Gone, with NAME.ocsp dangling: the name is still a stapled one.
    rm "$live/ocsp.der"
    run "$CERTCTL" check -v www
    assert_failure 1
    assert_output --partial "ocsp.der is missing, yet the name is stapled"
    mv "$W/ocsp.der" "$live/ocsp.der"
    run "$CERTCTL" check -v www
    assert_success
}

@test "check: the same findings are CRITICAL for a must-staple certificate" {
    stapled_www --must-staple
    live=$CERTDIR/$(readlink "$CERTDIR/www")
    run "$CERTCTL" check -v www
    assert_success
    rm "$CERTDIR/www.ocsp"
    run "$CERTCTL" check -v www
    assert_failure 2
    assert_output --partial "www.ocsp is missing"
    ln -s www/ocsp.der "$CERTDIR/www.ocsp"
    rm "$live/combined.pem.ocsp"
    run "$CERTCTL" check -v www
    assert_failure 2
    assert_output --partial "combined.pem.ocsp is missing"
    cp "$live/ocsp.der" "$live/combined.pem.ocsp"
    : >"$live/ocsp.der"
    : >"$live/combined.pem.ocsp"
    run "$CERTCTL" check -v www
    assert_failure 2
    assert_output --partial "ocsp.der is an empty placeholder"
}

# -------------------------------------------------------------------- ACME

@test "ACME: a certificate held back for its staple is kept and tried again, never ordered again" {
    load ../helpers/pebble
    local name=www.example.com kept serial
    # The responder the CA's certificates name is broken (HTTP 500).
    ocsp_static_start status 500
    PEBBLE_OCSP_URL=$OCSP_URL pebble_start "$BATS_TEST_TMPDIR/pebble"
    dl_config() {
        cat >"$CONFIG" <<YAML
certdir: $CERTDIR
trust: $PEBBLE_ROOTS
defaults: {source: ca${1:+, $1}}
sources:
$(pebble_source ca "{type: dns-01, hook: $HELPERS/challtestsrv-hook}")
certificates:
  $name: {domains: [$name]}
YAML
    }
    dl_config
    run "$CERTCTL" download "$name"
    assert_success
    # Stapled from now on (whatever ocsp.der holds, a server loads it).
    printf 'x' >"$CERTDIR/$name/ocsp.der"
    before=$(tree_sum "$CERTDIR" | grep -Ev '^\.(state|pending|acme)(/| )')
    run --separate-stderr "$CERTCTL" download --force "$name"
    assert_failure 1
    [[ $stderr == *"not installed: no staple for the new certificate"*"HTTP 500"* ]] ||
        fail "stderr: $stderr"
    [ "$(tree_sum "$CERTDIR" | grep -Ev '^\.(state|pending|acme)(/| )')" = "$before" ]
    kept=$CERTDIR/.pending/$name/fullchain.pem
    [ -f "$kept" ]
    cp "$kept" "$W/kept.pem"
    serial=$(serial_of "$kept")
    # The next run (due: the pending key waits) tries the same certificate.
    run --separate-stderr "$CERTCTL" -v download "$name"
    assert_failure 1
    [[ $stderr == *"trying again the certificate issued for the pending key"* ]] ||
        fail "stderr: $stderr"
    cmp "$kept" "$W/kept.pem"
    # Once the live certificate is inside the crit window it goes live,
    # the very certificate that was kept, without a staple.
    dl_config "check: {warn: 3650d, crit: 3650d}"
    run --separate-stderr "$CERTCTL" download "$name"
    assert_success
    [[ $stderr == *"installed without a staple"* ]] || fail "stderr: $stderr"
    [ "$(serial_of "$CERTDIR/$name/cert.pem")" = "$serial" ]
    [ ! -e "$CERTDIR/.pending/$name" ]
}
