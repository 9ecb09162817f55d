#!/usr/bin/env bats
# certctl download and ACME Renewal Information (RFC 9773): the CA's
# suggested window decides, asked at the pace of its Retry-After, and the
# next order names the certificate it replaces. Debian's Pebble has no
# renewalInfo, so tests/helpers/ari-shim.py serves Pebble's directory with
# renewalInfo added (answers from files this test writes); orders go to
# Pebble itself.

bats_require_minimum_version 1.5.0

setup() {
    load ../helpers/common
    load ../helpers/pebble
    CERTDIR="$BATS_TEST_TMPDIR/certdir"
    CONFIG="$BATS_TEST_TMPDIR/certctl.conf"
    SHIM="$BATS_TEST_TMPDIR/shim"
    export CERTCTL_CONFIG="$CONFIG" CERTCTL_CERTDIR="$CERTDIR"
    mkdir -p "$CERTDIR" "$SHIM"
    pebble_start "$BATS_TEST_TMPDIR/pebble" PEBBLE_VA_ALWAYS_VALID=1
    local port
    port=$(free_port)
    python3 "$CERTCTL_SRC/tests/helpers/ari-shim.py" "$port" \
        "$PEBBLE_DIR/pki/localhost.full.pem" "$PEBBLE_DIR/pki/localhost.key" \
        "$PEBBLE_CA" "$PEBBLE_URL" "$SHIM" 2>"$SHIM/log" &
    SHIM_PID=$!
    wait_port "$port"
    cat > "$CONFIG" <<YAML
certdir: $CERTDIR
trust: $PEBBLE_ROOTS
defaults: {source: ari, renew_before: 1d}
sources:
  ari:
    type: acme
    directory: https://127.0.0.1:$port/dir
    ca_file: $PEBBLE_CA
    agree_tos: true
    challenge: {type: http-01, listen: "127.0.0.1:$PEBBLE_HTTP_PORT"}
certificates:
  www.example.com:
YAML
}

teardown() {
    report_on_failure
    stop_pids "$SHIM_PID"
    pebble_stop
}

# window FROM-SECONDS TO-SECONDS: the shim's window, relative to now.
window() {
    local now
    now=$(date +%s)
    printf '{"suggestedWindow": {"start": "%s", "end": "%s"}}\n' \
        "$(date -u -d "@$((now + $1))" +%Y-%m-%dT%H:%M:%SZ)" \
        "$(date -u -d "@$((now + $2))" +%Y-%m-%dT%H:%M:%SZ)" > "$SHIM/window.json"
}

# The RFC 9773 ID of a certificate, computed with openssl: base64url of
# the AKI key identifier, ".", base64url of the serial's DER content.
cert_id() {
    local aki serial
    aki=$(openssl x509 -in "$1" -noout -ext authorityKeyIdentifier |
        sed -n 's/^ *\(keyid:\)\{0,1\}\([0-9A-F:]*\)$/\2/p' | tr -d ':\n')
    serial=$(openssl x509 -in "$1" -noout -serial | cut -d= -f2)
    [ $((${#serial} % 2)) -eq 0 ] || serial="0$serial"
    # A leading byte with the high bit set needs the 00 of a positive INTEGER.
    [ "$((16#${serial:0:2}))" -lt 128 ] || serial="00$serial"
    python3 -c 'import base64, sys
b = lambda h: base64.urlsafe_b64encode(bytes.fromhex(h)).decode().rstrip("=")
print(b(sys.argv[1]) + "." + b(sys.argv[2]))' "$aki" "$serial"
}

requests() { [ -f "$SHIM/requests" ] && wc -l < "$SHIM/requests" || echo 0; }

# make_due_again: the time the CA's Retry-After set has passed.
make_due_again() {
    python3 - "$CERTDIR/.state/www.example.com.json" <<'PY'
import json, sys
state = json.load(open(sys.argv[1]))
state["ari"]["next_check"] = 0
json.dump(state, open(sys.argv[1], "w"))
PY
}

# bats test_tags=memcheck
@test "the CA's window decides: asked once per Retry-After, then the order replaces the old certificate" {
    window 2592000 2678400 # in 30 to 31 days
    run "$CERTCTL" download --all
    [ "$status" -eq 0 ]
    grep -q '"renewalInfo"' "$CERTDIR/.acme/ari/directory.json"
    [ "$(requests)" -eq 0 ] # the first certificate needs no window
    first_serial=$(openssl x509 -in "$CERTDIR/www.example.com/cert.pem" -noout -serial)

    # Not due by lifetime: the CA is asked, with the RFC 9773 ID.
    run "$CERTCTL" download --all
    [ "$status" -eq 10 ]
    [ "$(requests)" -eq 1 ]
    [ "$(cat "$SHIM/requests")" = "$(cert_id "$CERTDIR/www.example.com/cert.pem")" ]
    # Within the Retry-After (6 h by default): not asked again, no write.
    before=$(tree_sum "$CERTDIR")
    run "$CERTCTL" download --all
    [ "$status" -eq 10 ]
    [ "$(requests)" -eq 1 ]
    [ "$(tree_sum "$CERTDIR")" = "$before" ]

    # The window moves into the past: the next question renews.
    window -7200 -3600
    make_due_again
    run "$CERTCTL" -v download --all
    [ "$status" -eq 0 ]
    [ "$(requests)" -eq 2 ]
    [[ $output == *"replaces certificate $(head -1 "$SHIM/requests")"* ]]
    [ "$(openssl x509 -in "$CERTDIR/www.example.com/cert.pem" -noout -serial)" != "$first_serial" ]
    "$CERTCTL" check www.example.com
}

@test "a window already open is kept: the pick inside it does not change on every question" {
    run "$CERTCTL" download --all
    [ "$status" -eq 0 ]
    window 86400 864000
    run "$CERTCTL" download --all
    [ "$status" -eq 10 ]
    pick=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["ari"]["renew_at"])' \
        "$CERTDIR/.state/www.example.com.json")
    now=$(date +%s)
    [ "$pick" -ge $((now + 86000)) ] && [ "$pick" -le $((now + 864000)) ]
    make_due_again
    run "$CERTCTL" download --all
    [ "$status" -eq 10 ]
    [ "$(requests)" -eq 2 ]
    [ "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["ari"]["renew_at"])' \
        "$CERTDIR/.state/www.example.com.json")" = "$pick" ]
}

@test "Retry-After sets when to ask again, clamped to at least an hour" {
    run "$CERTCTL" download --all
    [ "$status" -eq 0 ]
    window 2592000 2678400
    echo 5 > "$SHIM/retry-after"
    run "$CERTCTL" download --all
    [ "$status" -eq 10 ]
    next=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["ari"]["next_check"])' \
        "$CERTDIR/.state/www.example.com.json")
    now=$(date +%s)
    [ "$next" -ge $((now + 3500)) ] && [ "$next" -le $((now + 3700)) ]
}

# bats test_tags=memcheck
@test "a broken renewalInfo answer leaves the decision to the lifetime rule" {
    run "$CERTCTL" download --all
    [ "$status" -eq 0 ]
    for body in 'not json' '{"suggestedWindow": {"start": "yesterday", "end": "today"}}' \
        '{"suggestedWindow": {"start": "2030-01-02T00:00:00Z", "end": "2030-01-01T00:00:00Z"}}' \
        '[]'; do
        printf '%s' "$body" > "$SHIM/window.json"
        before=$(tree_sum "$CERTDIR")
        run "$CERTCTL" download --all
        [ "$status" -eq 10 ]
        [ -z "$output" ]
        [ "$(tree_sum "$CERTDIR")" = "$before" ]
    done
    rm "$SHIM/window.json" # 404
    run "$CERTCTL" download --all
    [ "$status" -eq 10 ]
    [ "$(requests)" -eq 5 ]
}

@test "a dry run asks nothing and uses the kept answer" {
    run "$CERTCTL" download --all
    [ "$status" -eq 0 ]
    window -7200 -3600
    run "$CERTCTL" download --dry-run --all
    [ "$status" -eq 10 ]
    [ "$(requests)" -eq 0 ]
}
