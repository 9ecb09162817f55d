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
    PKI="$BATS_FILE_TMPDIR/pki"
    pki_init "$PKI"
    pki_leaf "$PKI" localhost --san localhost,IP:127.0.0.1
    # A certificate for a key certctl does not have.
    pki_leaf "$PKI" other --san www.example.com
    STATE="$BATS_FILE_TMPDIR/state"
    mkdir -p "$STATE"
    PORT=$(free_port)
    python3 "$CERTCTL_SRC/tests/helpers/hostile-acme.py" "$PORT" \
        "$PKI/localhost.full.pem" "$PKI/localhost.key" "$PKI" "$STATE" \
        >"$STATE/log" 2>&1 3>&- &
    SERVER_PID=$!
    wait_port "$PORT"
    export PORT STATE
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
    timeout: {connect: 2s, total: 3s}
    challenge: {type: dns-01, hook: /bin/true}
certificates:
  www.example.com:
YAML
}

teardown() {
    report_on_failure
}

# hostile MODE: one run against the server in MODE must fail cleanly.
hostile() {
    echo "$1" > "$STATE/mode"
    rm -f "$STATE/answered"
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
