#!/usr/bin/env bats
# certctl download against a hostile ACME CA (tests/helpers/hostile-acme.py
# on loopback): malformed JSON, wrong content types, truncated, endless and
# dripping bodies, redirect loops, nonces refused forever, orders that never
# finish, problem documents with control characters, and certificates for
# another key or another name. Every case: exit 1, one error line naming
# the name, the live set exactly as before, no hang past the configured
# timeouts. Mode "good" is the control that the server can issue at all.

bats_require_minimum_version 1.5.0

setup_file() {
    load ../helpers/common
    load ../helpers/hostile
    hostile_start
    # A certificate for a key certctl does not have.
    pki_leaf "$PKI" other --san www.example.com
}

teardown_file() {
    stop_pids "$SERVER_PID"
}

setup() {
    load ../helpers/common
    common_setup
    mk www.example.com
    cat > "$CONFIG" <<YAML
certdir: $CERTDIR
trust: $PKI/trust.pem
defaults: {source: evil, renew_before: 100000d}
sources:
  evil:
    type: acme
    directory: https://127.0.0.1:$PORT/dir
    ca_file: $PKI/trust.pem
    agree_tos: true
    timeout: {connect: $((2 * SLOWDOWN))s, total: $((3 * SLOWDOWN))s}
    challenge: {type: dns-01, hook: /bin/true}
certificates:
  www.example.com:
YAML
}

teardown() {
    report_on_failure
}

# no_backoff: each mode is a fresh attempt, not one put off by the backoff
# (#19) that the last mode's failure set.
no_backoff() {
    local f=$CERTDIR/.state/www.example.com.json
    [ -f "$f" ] || return 0
    jq 'del(.download.next_attempt)' "$f" > "$f.new" && mv "$f.new" "$f"
}

# hostile MODE: one run against the server in MODE must fail cleanly.
hostile() {
    echo "$1" > "$STATE/mode"
    rm -f "$STATE/answered"
    no_backoff
    local before
    before=$(tree_sum "$CERTDIR/.live")
    run --separate-stderr timeout $((60 * SLOWDOWN)) "$CERTCTL" download www.example.com
    echo "# $1: $stderr" >&3
    [ "$status" -eq 1 ] || { echo "$1: exit $status"; return 1; }
    [ -z "$output" ]
    [ "$(printf '%s\n' "$stderr" | wc -l)" -eq 1 ] || { echo "$1: not one line"; return 1; }
    [[ $stderr == "certctl: www.example.com: "* ]]
    [ "$(tree_sum "$CERTDIR/.live")" = "$before" ]
    [ "$(readlink "$CERTDIR/www.example.com")" = ".live/www.example.com.g0001" ]
    grep -q '"last_error"' "$CERTDIR/.state/www.example.com.json"
}

# bats test_tags=memcheck
@test "control: the hostile server can issue (mode good installs generation 2)" {
    echo good > "$STATE/mode"
    run "$CERTCTL" download www.example.com
    [ "$status" -eq 0 ]
    [ "$(readlink "$CERTDIR/www.example.com")" = ".live/www.example.com.g0002" ]
    "$CERTCTL" check www.example.com
}

# bats test_tags=memcheck
@test "a directory that is garbage, HTML, not an object, endless, dripping or a redirect loop" {
    for m in dir-garbage dir-html dir-not-object dir-endless dir-drip dir-redirect-loop; do
        hostile "$m"
    done
    [[ $stderr == *"redirect"* || $stderr == *"Redirect"* ]]
}

@test "no Replay-Nonce, an account without Location, a problem document with control characters" {
    hostile nonce-none
    [[ $stderr == *"Replay-Nonce"* ]]
    hostile account-no-location
    hostile account-problem
    [[ $stderr == *"urn:ietf:params:acme:error:unauthorized"* ]]
    # The CA's newline and escape sequence do not reach the terminal.
    [[ $stderr != *$'\x1b'* ]]
}

# bats test_tags=memcheck
@test "orders: badNonce forever, text/plain, truncated JSON, 1000 authorizations, non-string ones, no finalize" {
    for m in order-badnonce-forever order-text order-truncated order-many-authz \
        order-authz-not-string order-no-finalize; do
        hostile "$m"
        [ "$m" != order-many-authz ] || [[ $stderr == *"more than 64"* ]]
    done
}

@test "orders that never finish, end invalid, or end valid without a certificate" {
    hostile order-processing-forever
    [[ $stderr == *"still processing after 6 s"* ]]
    hostile order-invalid
    hostile order-no-certificate
}

@test "authorizations: not JSON, no status, no usable challenge, a path as token, invalid, pending forever, failing" {
    for m in authz-garbage authz-no-status authz-no-challenge authz-evil-token authz-invalid; do
        hostile "$m"
    done
    [[ $stderr == *"invalid"* ]]
    hostile authz-pending-forever
    [[ $stderr == *"still pending after 6 s"* ]]
    hostile authz-fails
    [[ $stderr == *"no TXT record?found?"* ]]
}

# bats test_tags=memcheck
@test "certificates: for another key, for another name, truncated, HTML, empty, endless" {
    for m in cert-other-key cert-other-name cert-truncated cert-html cert-empty cert-endless; do
        hostile "$m"
    done
}

# webroot_config: http-01 through a webroot, $WEBROOT, that the hostile CA
# "validates" by reading the token file (STATE/served); $ELSEWHERE holds
# acme-challenge/tok3n, a root-only file a web user would like overwritten.
webroot_config() {
    WEBROOT=$BATS_TEST_TMPDIR/webroot
    ELSEWHERE=$BATS_TEST_TMPDIR/elsewhere
    mkdir -p "$WEBROOT" "$ELSEWHERE/acme-challenge"
    printf 'secret\n' >"$ELSEWHERE/acme-challenge/tok3n"
    chmod 0600 "$ELSEWHERE/acme-challenge/tok3n"
    sed -i "s|challenge: .*|challenge: {type: http-01, webroot: $WEBROOT}|" "$CONFIG"
    printf '%s' "$WEBROOT" >"$STATE/webroot"
    rm -f "$STATE/token" "$STATE/served"
}

# elsewhere_intact: the file outside the webroot kept its bytes and mode.
elsewhere_intact() {
    [ "$(cat "$ELSEWHERE/acme-challenge/tok3n")" = secret ]
    [ "$(stat -c %a "$ELSEWHERE/acme-challenge/tok3n")" = 600 ]
    [ "$(ls "$ELSEWHERE/acme-challenge")" = tok3n ]
}

@test "http-01 webroot: a symlink at .well-known or acme-challenge is never followed" {
    webroot_config
    ln -s "$ELSEWHERE" "$WEBROOT/.well-known"
    hostile authz-http
    [[ $stderr == *"'$WEBROOT/.well-known' is not a directory (a symlink?); refusing"* ]]
    elsewhere_intact
    rm "$WEBROOT/.well-known"
    mkdir "$WEBROOT/.well-known"
    ln -s "$ELSEWHERE/acme-challenge" "$WEBROOT/.well-known/acme-challenge"
    hostile authz-http
    [[ $stderr == *"'$WEBROOT/.well-known/acme-challenge' is not a directory (a symlink?)"* ]]
    elsewhere_intact
    [ ! -e "$STATE/served" ]
}

@test "http-01 webroot: a symlink or hard link at the token's name is replaced, not written through" {
    webroot_config
    mkdir -p "$WEBROOT/.well-known/acme-challenge"
    for how in symlink hardlink; do
        rm -f "$WEBROOT/.well-known/acme-challenge/tok3n" "$STATE/answered" "$STATE/served"
        if [ "$how" = symlink ]; then
            ln -s "$ELSEWHERE/acme-challenge/tok3n" "$WEBROOT/.well-known/acme-challenge/tok3n"
        else
            ln "$ELSEWHERE/acme-challenge/tok3n" "$WEBROOT/.well-known/acme-challenge/tok3n"
        fi
        echo authz-http >"$STATE/mode"
        run --separate-stderr timeout $((60 * SLOWDOWN)) "$CERTCTL" download www.example.com
        [ "$status" -eq 0 ] || { echo "$how: exit $status: $stderr"; return 1; }
        # The CA read the key authorization, the file is gone after.
        [[ $(cat "$STATE/served") == tok3n.* ]]
        [ ! -e "$WEBROOT/.well-known/acme-challenge/tok3n" ]
        [ ! -L "$WEBROOT/.well-known/acme-challenge/tok3n" ]
        elsewhere_intact
    done
}

@test "http-01 webroot: tokens that are not base64url are refused before any write" {
    webroot_config
    long=$(head -c 300 /dev/zero | tr '\0' A)
    for token in .. . "" a/b ../../elsewhere/acme-challenge/tok3n "$long" $'tok3n\n' \
        'tok=en' 'tok3n%2f' '~tok' 'tök3n'; do
        printf '%s' "$token" >"$STATE/token"
        hostile authz-http
        [[ $stderr == *"invalid challenge token"* ]] || { echo "$token: $stderr"; return 1; }
        [ -z "$(ls -A "$WEBROOT/.well-known/acme-challenge" 2>/dev/null)" ]
        elsewhere_intact
    done
}

@test "dns-01: the hook only gets identifiers of the order, never one the CA made up" {
    cat >"$BATS_TEST_TMPDIR/hook" <<SH
#!/bin/sh
printf '[%s]' "\$@" >>"$BATS_TEST_TMPDIR/hook.log"
echo >>"$BATS_TEST_TMPDIR/hook.log"
SH
    chmod +x "$BATS_TEST_TMPDIR/hook"
    sed -i "s|hook: /bin/true|hook: $BATS_TEST_TMPDIR/hook|" "$CONFIG"
    for ident in evil.example.net -rf --help $'www.example.com\nevil.example.net' \
        'www.example.com evil' ../../etc/passwd 'www.example.com.' '*.example.com' ''; do
        printf '%s' "$ident" >"$STATE/ident"
        hostile authz-ident
        [[ $stderr == *"which is not in the order"* ]] || { echo "$ident: $stderr"; return 1; }
        [ ! -e "$BATS_TEST_TMPDIR/hook.log" ]
    done
    # The control: the order's own name reaches the hook, set then clear.
    printf 'www.example.com' >"$STATE/ident"
    rm -f "$STATE/answered"
    echo authz-ident >"$STATE/mode"
    no_backoff
    run "$CERTCTL" download www.example.com
    [ "$status" -eq 0 ]
    [ "$(wc -l <"$BATS_TEST_TMPDIR/hook.log")" -eq 2 ]
    grep -q '^\[set\]\[www.example.com\]\[_acme-challenge.www.example.com\]\[[A-Za-z0-9_-]\{43\}\]$' \
        "$BATS_TEST_TMPDIR/hook.log"
    grep -q '^\[clear\]\[www.example.com\]' "$BATS_TEST_TMPDIR/hook.log"
}
