#!/usr/bin/env bats
# certctl download (ACME): issuance through every challenge type against a
# local Pebble, the renewal decision, rekey promotion, the reload contract
# (exit codes, silence when nothing is due), failures that leave the live
# set alone and show up in check, dry runs and the deploy_hook.
#
# One Pebble (with pebble-challtestsrv) serves the whole file; the tests
# that need Pebble configured differently, or stop it, start their own.

bats_require_minimum_version 1.5.0

: "${CERTCTL_SRC:=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)}"

setup_file() {
    load ../helpers/common
    load ../helpers/pebble
    pebble_start "$BATS_FILE_TMPDIR/pebble"
    # Tests see only what is exported: keep the pids to this process so
    # that a test's teardown (pebble_stop) can only stop its own Pebble.
    SHARED_PEBBLE_PID=$PEBBLE_PID SHARED_CHALL_PID=$PEBBLE_CHALL_PID
}

teardown_file() {
    PEBBLE_PID=${SHARED_PEBBLE_PID:-} PEBBLE_CHALL_PID=${SHARED_CHALL_PID:-}
    pebble_stop
}

setup() {
    load ../helpers/common
    load ../helpers/pebble
    CERTDIR="$BATS_TEST_TMPDIR/certdir"
    CONFIG="$BATS_TEST_TMPDIR/certctl.conf"
    WEBROOT="$BATS_TEST_TMPDIR/webroot"
    HOOK="$CERTCTL_SRC/tests/helpers/challtestsrv-hook"
    export CERTCTL_CONFIG="$CONFIG" CERTCTL_CERTDIR="$CERTDIR"
    mkdir -p "$CERTDIR" "$WEBROOT"
    chmod 0755 "$CERTDIR"
    PEBBLE_PID='' PEBBLE_CHALL_PID='' NGINX_PID=''
}

teardown() {
    report_on_failure
    if [ -n "${NGINX_PID:-}" ]; then
        kill "$NGINX_PID" 2>/dev/null || true
        wait "$NGINX_PID" 2>/dev/null || true
    fi
    pebble_stop # only a Pebble this test started itself
}

# write_dl_config CERTIFICATES [DEFAULTS]: a config for the current Pebble
# with three sources (dns: dns-01 through challtestsrv, web: http-01
# webroot, lis: http-01 built-in listener), plus 'dead' (a directory on a
# port nothing listens on, $DEAD_URL) and 'noagree' (agree_tos: false). CERTIFICATES
# is the body of the certificates: mapping, DEFAULTS more flow-mapping
# entries for defaults:.
write_dl_config() {
    DEAD_URL="https://127.0.0.1:$(free_port)/dir"
    cat > "$CONFIG" <<YAML
certdir: $CERTDIR
trust: $PEBBLE_ROOTS
defaults: {source: dns${2:+, $2}}
sources:
$(pebble_source dns "{type: dns-01, hook: $HOOK}")
$(pebble_source web "{type: http-01, webroot: $WEBROOT}")
$(pebble_source lis "{type: http-01, listen: \"127.0.0.1:$PEBBLE_HTTP_PORT\"}")
  dead:
    type: acme
    directory: $DEAD_URL
    agree_tos: true
    challenge: {type: dns-01, hook: $HOOK}
  noagree:
    type: acme
    directory: $PEBBLE_URL
    ca_file: $PEBBLE_CA
    agree_tos: false
    challenge: {type: dns-01, hook: $HOOK}
certificates:
$1
YAML
}

# nginx_start DOCROOT PORT: Debian's nginx serving DOCROOT on loopback.
nginx_start() {
    local dir="$BATS_TEST_TMPDIR/nginx"
    mkdir -p "$dir/tmp"
    cat > "$dir/nginx.conf" <<EOF
daemon off;
master_process off;
pid $dir/nginx.pid;
error_log $dir/error.log;
events { worker_connections 64; }
http {
    access_log $dir/access.log;
    default_type text/plain;
    client_body_temp_path $dir/tmp/body;
    proxy_temp_path $dir/tmp/proxy;
    fastcgi_temp_path $dir/tmp/fastcgi;
    uwsgi_temp_path $dir/tmp/uwsgi;
    scgi_temp_path $dir/tmp/scgi;
    server { listen 127.0.0.1:$2; root $1; }
}
EOF
    /usr/sbin/nginx -e "$dir/error.log" -p "$dir" -c "$dir/nginx.conf" \
        >"$dir/stdout" 2>&1 3>&- &
    NGINX_PID=$!
    NGINX_ACCESS_LOG="$dir/access.log"
    wait_port "$2"
}

nginx_stop() {
    kill "$NGINX_PID"
    wait "$NGINX_PID" 2>/dev/null || true
    NGINX_PID=
    # The port must be free again for the built-in listener.
    wait_for 30 "port $PEBBLE_HTTP_PORT to be free" port_closed "$PEBBLE_HTTP_PORT"
}

# The live sets and their links: the whole certdir except the state of
# attempts (.state), keys waiting for a certificate (.pending) and the
# ACME accounts (.acme). This must not change when a download fails.
live_sum() {
    tree_sum "$CERTDIR" | grep -Ev '^\.(state|pending|acme)(/| )'
}

# Everything but .state.
all_but_state() {
    tree_sum "$CERTDIR" | grep -Ev '^\.state(/| )'
}

# assert_good_set NAME: files, modes, links, chain and key of a live set.
assert_good_set() {
    local name=$1 d="$CERTDIR/$1" gen
    gen=$(readlink "$CERTDIR/$name")
    [[ $gen =~ ^\.live/${name//./\\.}\.g[0-9]{4}/?$ ]] || {
        echo "$name -> $gen is not a relative link into .live" >&2
        return 1
    }
    [ -d "$CERTDIR/$gen" ]
    [ "$(stat -c %a "$d/privkey.pem")" = 600 ]
    for f in cert.pem chain.pem fullchain.pem; do
        [ -f "$d/$f" ]
        [ ! -L "$d/$f" ]
        [ "$(stat -c %a "$d/$f")" = 644 ]
    done
    [ "$(grep -c 'BEGIN CERTIFICATE' "$d/cert.pem")" = 1 ]
    [ "$(cat "$d/cert.pem" "$d/chain.pem")" = "$(cat "$d/fullchain.pem")" ]
    run openssl verify -CAfile "$PEBBLE_ROOTS" -untrusted "$d/chain.pem" "$d/cert.pem"
    assert_success
    assert_output "$d/cert.pem: OK"
    [ "$(openssl pkey -in "$d/privkey.pem" -pubout)" = \
        "$(openssl x509 -in "$d/cert.pem" -noout -pubkey)" ]
    # The flat links lead to the same files.
    cmp "$CERTDIR/$name.key" "$d/privkey.pem"
    cmp "$CERTDIR/$name.crt" "$d/cert.pem"
    cmp "$CERTDIR/$name.chain.crt" "$d/chain.pem"
    cmp "$CERTDIR/$name.chained.crt" "$d/fullchain.pem"
}

sans() { # NAME: the certificate's DNS names, one a line, sorted
    openssl x509 -in "$CERTDIR/$1/cert.pem" -noout -ext subjectAltName |
        tr ',' '\n' | sed -n 's/^ *DNS://p' | sort
}

serial() {
    openssl x509 -in "$CERTDIR/$1/cert.pem" -noout -serial
}

pubkey_of_key() {
    openssl pkey -in "$1" -pubout
}

# ---------------------------------------------------------------- issuance

# bats test_tags=memcheck
@test "first issuance: http-01 webroot (nginx), built-in listener, dns-01 with a wildcard" {
    write_dl_config "
  web.example.com: {source: web}
  lis.example.com: {source: lis, domains: [lis.example.com, www.lis.example.com]}
  '*.example.org': {domains: ['*.example.org', example.org]}"

    # Webroot and listener both need Pebble's http-01 port: nginx first.
    nginx_start "$WEBROOT" "$PEBBLE_HTTP_PORT"
    run --separate-stderr "$CERTCTL" download web.example.com '*.example.org'
    assert_success
    [ -z "$stderr" ]
    assert_line --regexp '^installed web\.example\.com \(expires 20[0-9-]+, serial [0-9a-f:]+\)$'
    assert_line --regexp '^installed _\.example\.org \(expires 20[0-9-]+, serial [0-9a-f:]+\)$'
    [ "${#lines[@]}" = 2 ]
    # Pebble really fetched the token from nginx, and it is gone now.
    [ -d "$WEBROOT/.well-known/acme-challenge" ]
    grep -Eq 'GET /\.well-known/acme-challenge/[A-Za-z0-9_-]+ HTTP/1\.[01]" 200' \
        "$NGINX_ACCESS_LOG"
    [ -z "$(ls -A "$WEBROOT/.well-known/acme-challenge")" ]
    nginx_stop

    # Then the built-in listener, on the same port; the others are not due.
    run --separate-stderr "$CERTCTL" download --all
    assert_success
    [ -z "$stderr" ]
    assert_output --regexp '^installed lis\.example\.com \(expires 20[0-9-]+, serial [0-9a-f:]+\)$'
    # The listener is gone once the run is over.
    run bash -c "exec 3<>/dev/tcp/127.0.0.1/$PEBBLE_HTTP_PORT"
    assert_failure

    for name in web.example.com lis.example.com _.example.org; do
        assert_good_set "$name"
        [ "$(readlink "$CERTDIR/$name")" = ".live/$name.g0001" ]
        run "$CERTCTL" check "$name"
        assert_success
        assert_output --regexp "^OK +$name "
    done
    [ "$(sans web.example.com)" = "web.example.com" ]
    [ "$(sans lis.example.com)" = "$(printf 'lis.example.com\nwww.lis.example.com')" ]
    [ "$(sans _.example.org)" = "$(printf '*.example.org\nexample.org')" ]
    run "$CERTCTL" check '*.example.org'
    assert_success
    # One account key per source, private.
    for src in web lis dns; do
        [ "$(stat -c %a "$CERTDIR/.acme/$src/account.key")" = 600 ]
        openssl pkey -in "$CERTDIR/.acme/$src/account.key" -noout
    done
    [ ! -e "$CERTDIR/.pending/web.example.com" ]
}

# bats test_tags=memcheck
@test "a second run changes no byte, prints nothing and exits 10" {
    write_dl_config "
  www.example.com:
  '*.example.net':"
    run "$CERTCTL" download --all
    assert_success
    before=$(tree_sum "$CERTDIR")
    run --separate-stderr "$CERTCTL" download --all
    assert_failure 10
    assert_output ""
    [ -z "$stderr" ]
    [ "$(tree_sum "$CERTDIR")" = "$before" ]
    run --separate-stderr "$CERTCTL" download www.example.com
    assert_failure 10
    assert_output ""
    [ -z "$stderr" ]
    [ "$(tree_sum "$CERTDIR")" = "$before" ]
}

@test "names that are not due cost no network traffic" {
    write_dl_config "  www.example.com:"
    run "$CERTCTL" download --all
    assert_success
    before=$(tree_sum "$CERTDIR")
    # The same name, now from a CA that is not there: not due, not asked.
    write_dl_config "  www.example.com: {source: dead}"
    run --separate-stderr "$CERTCTL" download --all
    assert_failure 10
    assert_output ""
    [ -z "$stderr" ]
    [ "$(tree_sum "$CERTDIR")" = "$before" ]
}

@test "a name in the certdir but not in the config is left alone by --all" {
    write_dl_config "  www.example.com:"
    run "$CERTCTL" download --all
    assert_success
    # An imported set download knows nothing about.
    cp -a "$CERTDIR/.live/www.example.com.g0001" "$CERTDIR/.live/imported.g0001"
    ln -s .live/imported.g0001 "$CERTDIR/imported"
    before=$(tree_sum "$CERTDIR")
    run --separate-stderr "$CERTCTL" download --all
    assert_failure 10
    assert_output ""
    [ -z "$stderr" ]
    [ "$(tree_sum "$CERTDIR")" = "$before" ]
}

# ----------------------------------------------------------------- renewal

@test "renew_before larger than the remaining validity renews, keeping the old generation" {
    write_dl_config "  www.example.com:"
    run "$CERTCTL" download --all
    assert_success
    old_serial=$(serial www.example.com)
    old_key=$(pubkey_of_key "$CERTDIR/www.example.com/privkey.pem")
    # Pebble's certificates last 5 years: 2000 days is more than is left.
    write_dl_config "  www.example.com:" "renew_before: 2000d"
    run -0 "$CERTCTL" -n download --all
    assert_output --regexp '^would download www\.example\.com \(less than 2000 days of validity left\)$'
    run --separate-stderr "$CERTCTL" download --all
    assert_success
    [ -z "$stderr" ]
    assert_output --regexp '^installed www\.example\.com \(expires '
    [ "$(readlink "$CERTDIR/www.example.com")" = ".live/www.example.com.g0002" ]
    [ -f "$CERTDIR/.live/www.example.com.g0001/cert.pem" ]
    [ "$(serial www.example.com)" != "$old_serial" ]
    [ "$(openssl x509 -in "$CERTDIR/.live/www.example.com.g0001/cert.pem" -noout -serial)" = \
        "$old_serial" ]
    [ "$(pubkey_of_key "$CERTDIR/.live/www.example.com.g0001/privkey.pem")" = "$old_key" ]
    assert_good_set www.example.com
    # A per-certificate renew_before works the same.
    write_dl_config "  www.example.com: {renew_before: 2000d}"
    run "$CERTCTL" download www.example.com
    assert_success
    [ "$(readlink "$CERTDIR/www.example.com")" = ".live/www.example.com.g0003" ]
    # With the default (a third of the lifetime) it is not due.
    write_dl_config "  www.example.com:"
    run "$CERTCTL" download --all
    assert_failure 10
}

@test "--force renews a name that is not due" {
    write_dl_config "  www.example.com:"
    run "$CERTCTL" download --all
    assert_success
    old_serial=$(serial www.example.com)
    run "$CERTCTL" download --force www.example.com
    assert_success
    assert_output --partial "installed www.example.com"
    [ "$(readlink "$CERTDIR/www.example.com")" = ".live/www.example.com.g0002" ]
    [ "$(serial www.example.com)" != "$old_serial" ]
    assert_good_set www.example.com
}

# bats test_tags=memcheck
@test "rekey then download promotes the pending key" {
    write_dl_config "  www.example.com:"
    run "$CERTCTL" download --all
    assert_success
    old_key=$(pubkey_of_key "$CERTDIR/www.example.com/privkey.pem")
    run "$CERTCTL" rekey www.example.com
    assert_success
    [ -f "$CERTDIR/.pending/www.example.com/privkey.pem" ]
    pending_key=$(pubkey_of_key "$CERTDIR/.pending/www.example.com/privkey.pem")
    [ "$pending_key" != "$old_key" ]
    # The live set is untouched until the certificate arrives.
    [ "$(pubkey_of_key "$CERTDIR/www.example.com/privkey.pem")" = "$old_key" ]

    run "$CERTCTL" -n download --all
    assert_success
    assert_output "would download www.example.com (a pending key waits for its certificate)"
    run --separate-stderr "$CERTCTL" download --all
    assert_success
    [ -z "$stderr" ]
    assert_output --partial "installed www.example.com"
    [ "$(readlink "$CERTDIR/www.example.com")" = ".live/www.example.com.g0002" ]
    [ "$(pubkey_of_key "$CERTDIR/www.example.com/privkey.pem")" = "$pending_key" ]
    [ ! -e "$CERTDIR/.pending/www.example.com" ]
    assert_good_set www.example.com
    run "$CERTCTL" check www.example.com
    assert_success
    run "$CERTCTL" download --all
    assert_failure 10
}

@test "a pending key that is split or of a foreign kind is refused, nothing installed" {
    write_dl_config "  www.example.com:"
    run "$CERTCTL" rekey www.example.com
    assert_success
    local key=$CERTDIR/.pending/www.example.com/privkey.pem d=$BATS_TEST_TMPDIR
    cp "$key" "$d/good.key"
    openssl genpkey -algorithm ED448 -out "$d/ed448.key"
    openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$d/a.key"
    # A's scalar with the pending key's point: the CSR still matches it.
    pki_bad_key "$d/a.key" "$d/split.key" "$d/good.key"
    for bad in ed448:"keys are not supported" split:inconsistent; do
        cat "$d/${bad%%:*}.key" >"$key"
        run --separate-stderr "$CERTCTL" download www.example.com
        assert_failure 1
        [[ $stderr == *"the pending key"*"${bad#*:}"* ]] || fail "stderr: $stderr"
        [ ! -e "$CERTDIR/www.example.com" ]
    done
    # The good key again: issued and installed.
    cat "$d/good.key" >"$key"
    run "$CERTCTL" download www.example.com
    assert_success
    assert_good_set www.example.com
}

@test "a domain added to (or removed from) the config triggers a new order" {
    write_dl_config "  www.example.com: {domains: [www.example.com]}"
    run "$CERTCTL" download --all
    assert_success
    write_dl_config "  www.example.com: {domains: [www.example.com, extra.example.com]}"
    run -0 "$CERTCTL" -n download --all
    assert_output "would download www.example.com (configured domain 'extra.example.com' is not in the certificate)"
    run --separate-stderr "$CERTCTL" download --all
    assert_success
    [ -z "$stderr" ]
    assert_output --partial "installed www.example.com"
    [ "$(readlink "$CERTDIR/www.example.com")" = ".live/www.example.com.g0002" ]
    [ "$(sans www.example.com)" = "$(printf 'extra.example.com\nwww.example.com')" ]
    assert_good_set www.example.com
    run "$CERTCTL" check www.example.com
    assert_success

    write_dl_config "  www.example.com: {domains: [extra.example.com]}"
    run "$CERTCTL" download --all
    assert_success
    [ "$(readlink "$CERTDIR/www.example.com")" = ".live/www.example.com.g0003" ]
    [ "$(sans www.example.com)" = "extra.example.com" ]
}

# bats test_tags=memcheck
@test "badNonce is retried (PEBBLE_WFE_NONCEREJECT=50)" {
    # Pebble rejects each nonce with probability 1/2, so a run of ~100
    # signed requests only succeeds reliably when a badNonce is retried
    # often enough: with n retries a request fails with probability
    # 2^-(n+1) (5 retries: about 1 run in 64 requests fails).
    pebble_start "$BATS_TEST_TMPDIR/pebble" PEBBLE_WFE_NONCEREJECT=50
    names=$(for i in $(seq -w 1 12); do echo "  n$i.example.com:"; done)
    write_dl_config "$names"
    run --separate-stderr "$CERTCTL" download --all
    assert_success
    [ -z "$stderr" ]
    [ "$(grep -c '^installed n[0-9]*\.example\.com ' <<<"$output")" = 12 ]
    assert_good_set n01.example.com
    assert_good_set n12.example.com
}

# ---------------------------------------------------------------- failures

# assert_failure_recorded NAME [TEXT]: check reports the failed download.
assert_failure_recorded() {
    run "$CERTCTL" check "$1"
    assert_failure 1
    assert_output --regexp "^WARNING +$1 "
    assert_output --partial "last download failed"
    [ -z "${2:-}" ] || assert_output --partial "$2"
}

@test "Pebble stopped in the middle of a run: exit 1, live set untouched, check warns" {
    # No reuse of the first run's authorization: the renewal must call the hook.
    pebble_start "$BATS_TEST_TMPDIR/pebble" PEBBLE_AUTHZREUSE=0
    write_dl_config "  www.example.com:"
    run "$CERTCTL" download --all
    assert_success
    before=$(live_sum)
    acme_before=$(tree_sum "$CERTDIR/.acme")
    # A dns-01 hook that publishes the record, then stops Pebble and
    # waits until it no longer answers.
    port=${PEBBLE_URL#https://127.0.0.1:}
    port=${port%/dir}
    cat > "$BATS_TEST_TMPDIR/killing-hook" <<EOF
#!/usr/bin/env bash
"$HOOK" "\$@" || exit
if [ "\$1" = set ]; then
    kill -KILL $PEBBLE_PID
    touch "$BATS_TEST_TMPDIR/killed"
    for _ in \$(seq 1 $((300 * SLOWDOWN))); do
        (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null || exit 0
        sleep 0.1
    done
fi
EOF
    chmod +x "$BATS_TEST_TMPDIR/killing-hook"
    HOOK="$BATS_TEST_TMPDIR/killing-hook" write_dl_config "  www.example.com:" "renew_before: 2000d"
    run --separate-stderr "$CERTCTL" download --all
    [ -e "$BATS_TEST_TMPDIR/killed" ] # the hook ran and stopped Pebble
    assert_failure 1
    assert_output ""
    [ "$(grep -c . <<<"$stderr")" = 1 ]
    [[ $stderr == *www.example.com:* ]]
    [[ $stderr == *"${PEBBLE_URL%/dir}"* ]]
    [ "$(live_sum)" = "$before" ]
    [ "$(tree_sum "$CERTDIR/.acme")" = "$acme_before" ]
    assert_failure_recorded www.example.com
    assert_good_set www.example.com
}

# bats test_tags=memcheck
@test "Pebble not running: exit 1, live set untouched, check warns" {
    write_dl_config "  www.example.com:"
    run "$CERTCTL" download --all
    assert_success
    before=$(all_but_state)
    write_dl_config "  www.example.com: {source: dead}" "renew_before: 2000d"
    dead_url=$DEAD_URL
    run --separate-stderr "$CERTCTL" download --all
    assert_failure 1
    assert_output ""
    [ "$(grep -c . <<<"$stderr")" = 1 ]
    [[ $stderr == *www.example.com:* ]]
    [[ $stderr == *"$dead_url"* ]]
    [ "$(all_but_state)" = "$before" ]
    assert_failure_recorded www.example.com "$dead_url"
    # Still due, but the source failed a moment ago: the next run waits
    # (backoff, #19) and says so; --force tries again, fails again.
    run --separate-stderr "$CERTCTL" download --all
    assert_failure 10
    [[ $output == "www.example.com: due "*"not tried: waiting after 1 failed attempt"* ]]
    run "$CERTCTL" download --force --all
    assert_failure 1
    [ "$(all_but_state)" = "$before" ]
}

# bats test_tags=memcheck
@test "a failing challenge: exit 1, live set untouched, check warns; a later success clears it" {
    write_dl_config "  www.example.com:"
    run "$CERTCTL" download --all
    assert_success
    before=$(live_sum)
    # http-01 through a webroot nobody serves (PEBBLE_VA_ALWAYS_VALID unset).
    write_dl_config "  www.example.com: {source: web}" "renew_before: 2000d"
    run --separate-stderr "$CERTCTL" download --all
    assert_failure 1
    assert_output ""
    [ "$(grep -c . <<<"$stderr")" = 1 ]
    [[ $stderr == *"www.example.com: "*"challenge"*"failed"* ]]
    [ "$(live_sum)" = "$before" ]
    # The token file was cleaned up even though validation failed.
    [ -d "$WEBROOT/.well-known/acme-challenge" ]
    [ -z "$(ls -A "$WEBROOT/.well-known/acme-challenge")" ]
    assert_failure_recorded www.example.com "challenge"
    assert_good_set www.example.com

    write_dl_config "  www.example.com:" "renew_before: 2000d"
    run "$CERTCTL" download --all
    assert_success
    write_dl_config "  www.example.com:"
    run "$CERTCTL" check www.example.com
    assert_success
    refute_output --partial "last download failed"
}

@test "http-01 webroot: planted symlinks are refused; a web user's own directories still work" {
    write_dl_config "  web.example.com: {source: web}"
    elsewhere=$BATS_TEST_TMPDIR/elsewhere
    mkdir -p "$elsewhere/acme-challenge"
    for link in .well-known .well-known/acme-challenge; do
        rm -rf "$WEBROOT/.well-known"
        if [ "$link" = .well-known ]; then
            ln -s "$elsewhere" "$WEBROOT/.well-known"
        else
            mkdir "$WEBROOT/.well-known"
            ln -s "$elsewhere/acme-challenge" "$WEBROOT/.well-known/acme-challenge"
        fi
        run --separate-stderr "$CERTCTL" download web.example.com
        assert_failure 1
        [[ $stderr == *"web.example.com: '$WEBROOT/$link' is not a directory (a symlink?)"* ]] ||
            fail "$link: $stderr"
        # Nothing was written through the link.
        [ -z "$(ls -A "$elsewhere/acme-challenge")" ]
        [ ! -e "$CERTDIR/web.example.com" ]
    done
    # Real directories (the web server's, say) are used as they are.
    rm -rf "$WEBROOT/.well-known"
    mkdir -p "$WEBROOT/.well-known/acme-challenge"
    nginx_start "$WEBROOT" "$PEBBLE_HTTP_PORT"
    run --separate-stderr "$CERTCTL" download web.example.com
    assert_success
    grep -Eq 'GET /\.well-known/acme-challenge/[A-Za-z0-9_-]+ HTTP/1\.[01]" 200' \
        "$NGINX_ACCESS_LOG"
    [ -z "$(ls -A "$WEBROOT/.well-known/acme-challenge")" ]
    assert_good_set web.example.com
}

@test "a wildcard over http-01 fails with a hint to use dns-01" {
    write_dl_config "  '*.example.com': {source: lis}"
    run --separate-stderr "$CERTCTL" download --all
    assert_failure 1
    assert_output ""
    [[ $stderr == *"_.example.com: "*"no http-01 challenge"*"wildcards need dns-01"* ]]
    [ ! -e "$CERTDIR/_.example.com" ]
    grep -q '"last_error"' "$CERTDIR/.state/_.example.com.json"
}

@test "a garbage account key: exit 1 naming it, kept as it is, live set untouched" {
    write_dl_config "  www.example.com:"
    run "$CERTCTL" download --all
    assert_success
    echo "this is not a key" > "$CERTDIR/.acme/dns/account.key"
    chmod 0600 "$CERTDIR/.acme/dns/account.key"
    before=$(all_but_state)
    write_dl_config "  www.example.com:" "renew_before: 2000d"
    run --separate-stderr "$CERTCTL" download --all
    assert_failure 1
    assert_output ""
    [ "$(grep -c . <<<"$stderr")" = 1 ]
    [[ $stderr == *www.example.com:* ]]
    [[ $stderr == *account* ]]
    [[ $stderr == *"account.key"* ]]
    # Never silently replaced by a new account.
    [ "$(cat "$CERTDIR/.acme/dns/account.key")" = "this is not a key" ]
    [ "$(all_but_state)" = "$before" ]
    assert_failure_recorded www.example.com
}

@test "agree_tos false: exit 1 with a clear error, live set untouched" {
    write_dl_config "  www.example.com:"
    run "$CERTCTL" download --all
    assert_success
    before=$(live_sum)
    write_dl_config "  www.example.com: {source: noagree}" "renew_before: 2000d"
    run --separate-stderr "$CERTCTL" download --all
    assert_failure 1
    assert_output ""
    [[ $stderr == *www.example.com:* ]]
    [[ $stderr == *"agree_tos: true"* ]]
    [[ $stderr == *noagree* ]]
    [ "$(live_sum)" = "$before" ]
    assert_failure_recorded www.example.com "agree_tos"

    # On an empty certdir nothing is installed either.
    rm -rf "$CERTDIR" && mkdir -m 0755 "$CERTDIR"
    write_dl_config "  new.example.com: {source: noagree}"
    run --separate-stderr "$CERTCTL" download --all
    assert_failure 1
    [[ $stderr == *"agree_tos"* ]]
    [ ! -e "$CERTDIR/new.example.com" ]
    [ -z "$(ls -A "$CERTDIR/.live" 2>/dev/null)" ]
}

@test "one name failing and another succeeding: exit 0, the failure on stderr" {
    write_dl_config "
  good.example.com:
  bad.example.com: {source: dead}"
    run --separate-stderr "$CERTCTL" download --all
    assert_success
    assert_output --regexp '^installed good\.example\.com \(expires '
    [ "${#lines[@]}" = 1 ]
    [ "$(grep -c . <<<"$stderr")" = 1 ]
    [[ $stderr == "certctl: bad.example.com: acme: directory 'https://127.0.0.1:"* ]]
    assert_good_set good.example.com
    [ ! -e "$CERTDIR/bad.example.com" ]
    [ ! -e "$CERTDIR/.live/bad.example.com.g0001" ]
    grep -q '"last_error"' "$CERTDIR/.state/bad.example.com.json"
    run "$CERTCTL" check good.example.com
    assert_success
    # Next time only the failed one is due, and it fails alone: exit 1.
    run --separate-stderr "$CERTCTL" download --all
    assert_failure 1
    assert_output ""
    [[ $stderr == "certctl: bad.example.com: "* ]]
}

@test "--jobs: orders from one source are in flight at once, each verified and installed" {
    # A dns hook that notes how many of its calls overlap. Each call waits
    # until another one is active too, or until two calls have met once:
    # orders in flight at once meet there (the wait is an event; its bound
    # only keeps a broken run from hanging). With --jobs 1 (mode "alone")
    # each call gives a wrongly parallel one a second to show up.
    mkdir "$BATS_TEST_TMPDIR/active"
    echo meet > "$BATS_TEST_TMPDIR/mode"
    cat > "$BATS_TEST_TMPDIR/hook" <<EOF
#!/bin/bash
if [ "\$1" = set ]; then
    touch "$BATS_TEST_TMPDIR/active/\$\$"
    tries=$((600 * SLOWDOWN))
    [ "\$(cat "$BATS_TEST_TMPDIR/mode")" = alone ] && tries=20
    for _ in \$(seq 1 \$tries); do
        [ -e "$BATS_TEST_TMPDIR/met" ] && break
        if [ "\$(ls "$BATS_TEST_TMPDIR/active" | wc -l)" -ge 2 ]; then
            touch "$BATS_TEST_TMPDIR/met"
            break
        fi
        sleep 0.05
    done
    ls "$BATS_TEST_TMPDIR/active" | wc -l >> "$BATS_TEST_TMPDIR/overlap"
    rm "$BATS_TEST_TMPDIR/active/\$\$"
fi
exec "$HOOK" "\$@"
EOF
    chmod +x "$BATS_TEST_TMPDIR/hook"
    HOOK="$BATS_TEST_TMPDIR/hook"
    write_dl_config "$(for i in 1 2 3 4 5 6; do echo "  n$i.example.com:"; done)"
    run "$CERTCTL" download --all --jobs 6
    assert_success
    [ "$(grep -c '^installed n' <<<"$output")" = 6 ]
    for i in 1 2 3 4 5 6; do
        assert_good_set "n$i.example.com"
    done
    [ "$(sort -n "$BATS_TEST_TMPDIR/overlap" | tail -1)" -ge 2 ]
    # And --jobs 1 really is one at a time.
    : > "$BATS_TEST_TMPDIR/overlap"
    echo alone > "$BATS_TEST_TMPDIR/mode"
    rm -f "$BATS_TEST_TMPDIR/met"
    run "$CERTCTL" download --all --jobs 1 --force
    assert_success
    [ "$(sort -n "$BATS_TEST_TMPDIR/overlap" | tail -1)" -eq 1 ]
}

# ------------------------------------------------------------------- usage

@test "usage errors exit 2 and attempt nothing" {
    write_dl_config "  www.example.com:"
    # No config at all (and none in /etc).
    if [ ! -e /etc/certctl.conf ]; then
        run env -u CERTCTL_CONFIG "$CERTCTL" download --all
        assert_failure 2
        assert_output --partial "config"
    fi
    run "$CERTCTL" -c "$BATS_TEST_TMPDIR/missing.conf" download --all
    assert_failure 2
    run "$CERTCTL" download
    assert_failure 2
    assert_output --partial "NAME"
    run "$CERTCTL" download --all www.example.com
    assert_failure 2
    run "$CERTCTL" download --frobnicate --all
    assert_failure 2
    run "$CERTCTL" download ../etc
    assert_failure 2
    assert_output --partial "invalid name"
    run "$CERTCTL" download --splay soon --all
    assert_failure 2
    printf 'certdir: %s\nsources: {x: {type: acme, bogus: 1}}\n' "$CERTDIR" > "$CONFIG"
    run "$CERTCTL" download --all
    assert_failure 2
    assert_output --partial "$CONFIG:2"
    # Nothing was written by any of these (an empty skeleton at most).
    [ -z "$(find "$CERTDIR" -mindepth 1 ! -type d ! -name .lock)" ]
    [ ! -e "$CERTDIR/.acme" ]
}

@test "a NAME that is not in the config is an error, not 'nothing to do'" {
    write_dl_config "  www.example.com:"
    run --separate-stderr "$CERTCTL" download typo.example.com
    assert_failure 2
    [[ $stderr == *typo.example.com* ]]
    [ -z "$(find "$CERTDIR" -mindepth 1 ! -type d ! -name .lock)" ]
}

@test "--all with no names at all exits 1" {
    write_dl_config ""
    sed -i '/^certificates:$/d' "$CONFIG"
    run "$CERTCTL" download --all
    assert_failure 1
    assert_output --partial "no names"
}

# bats test_tags=memcheck
@test "--dry-run says what would be downloaded and writes nothing" {
    write_dl_config "
  www.example.com:
  '*.example.net':"
    before=$(tree_sum "$CERTDIR")
    run --separate-stderr "$CERTCTL" -n download --all
    assert_success
    [ -z "$stderr" ]
    assert_line "would download www.example.com (no certificate installed)"
    assert_line "would download _.example.net (no certificate installed)"
    [ "${#lines[@]}" = 2 ]
    run "$CERTCTL" download --dry-run www.example.com
    assert_success
    assert_output "would download www.example.com (no certificate installed)"
    [ "$(tree_sum "$CERTDIR")" = "$before" ]
    # No CA is contacted: a dead one makes no difference.
    write_dl_config "  www.example.com: {source: dead}"
    run "$CERTCTL" download -n --all
    assert_success
    assert_output "would download www.example.com (no certificate installed)"
    [ "$(tree_sum "$CERTDIR")" = "$before" ]

    # With a live set that is not due: silent, exit 10; with --force it would.
    write_dl_config "  www.example.com:"
    run "$CERTCTL" download --all
    assert_success
    before=$(tree_sum "$CERTDIR")
    run --separate-stderr "$CERTCTL" -n download --all
    assert_failure 10
    assert_output ""
    [ -z "$stderr" ]
    run "$CERTCTL" -n download --force --all
    assert_success
    assert_output "would download www.example.com (--force)"
    [ "$(tree_sum "$CERTDIR")" = "$before" ]
}

# ------------------------------------------------------------- deploy_hook

@test "deploy_hook runs after a change, and not when nothing changed" {
    mark="$BATS_TEST_TMPDIR/deployed"
    write_dl_config "
  www.example.com: {deploy_hook: 'echo \"\$CERTCTL_NAME \$CERTCTL_CERTDIR\" >> $mark'}
  other.example.com:"
    # The hook learns the certdir in use, even when it came from -d.
    run --separate-stderr env -u CERTCTL_CERTDIR "$CERTCTL" -d "$CERTDIR" download www.example.com
    assert_success
    [ "$(cat "$mark")" = "www.example.com $CERTDIR" ]
    rm "$mark"
    # Nothing due: the hook does not run.
    run "$CERTCTL" download --all
    assert_success   # other.example.com is new
    assert_output --partial "installed other.example.com"
    [ ! -e "$mark" ]
    run "$CERTCTL" download --all
    assert_failure 10
    [ ! -e "$mark" ]
    # A failed download does not run it either.
    write_dl_config "
  www.example.com: {source: dead, deploy_hook: 'echo \"\$CERTCTL_NAME\" >> $mark'}" \
        "renew_before: 2000d"
    run "$CERTCTL" download --all
    assert_failure 1
    [ ! -e "$mark" ]
}

@test "a failing deploy_hook is reported, the new set stays (exit 0)" {
    write_dl_config "  www.example.com: {deploy_hook: 'exit 3'}"
    run --separate-stderr "$CERTCTL" download --all
    assert_success
    assert_output --partial "installed www.example.com"
    [[ $stderr == *www.example.com:*deploy_hook*3* ]]
    assert_good_set www.example.com
}
