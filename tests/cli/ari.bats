#!/usr/bin/env bats
# certctl download and ACME Renewal Information (RFC 9773): the CA's
# suggested window decides, asked at the pace of its Retry-After, and the
# next order names the certificate it replaces.
#
# Two servers, and each test names its own in its title:
#  - "pebble 2.6:" tests run against the real renewalInfo of the Pebble in
#    Debian's next release (tests/helpers/get-pebble-next.sh), with no shim:
#    its window is derived from the certificate (a day either side of the
#    point where a third of the lifetime is left), and it checks the
#    "replaces" of an order (the certificate must be this account's and not
#    replaced already).
#  - "shim:" tests use Debian 12's Pebble (2.4, no renewalInfo) behind
#    tests/helpers/ari-shim.py, which adds renewalInfo answered from files
#    the test writes, for what Pebble cannot be made to say: a window in the
#    past, a chosen Retry-After, broken answers. Orders still go to Pebble.

bats_require_minimum_version 1.5.0

setup() {
    load ../helpers/common
    load ../helpers/pebble
    CERTDIR="$BATS_TEST_TMPDIR/certdir"
    CONFIG="$BATS_TEST_TMPDIR/certctl.conf"
    SHIM="$BATS_TEST_TMPDIR/shim"
    export CERTCTL_CONFIG="$CONFIG" CERTCTL_CERTDIR="$CERTDIR"
    mkdir -p "$CERTDIR" "$SHIM"
    SHIM_PID=
    if [[ $BATS_TEST_DESCRIPTION == "pebble 2.6: "* ]]; then
        setup_real
    else
        setup_shim
    fi
}

# The real thing: Pebble 2.6 and its own renewalInfo.
setup_real() {
    pebble_next
    pebble_start "$BATS_TEST_TMPDIR/pebble" PEBBLE_VA_ALWAYS_VALID=1
    cat > "$CONFIG" <<YAML
certdir: $CERTDIR
trust: $PEBBLE_ROOTS
defaults: {source: pebble, renew_before: 1h}
sources:
$(pebble_source pebble "{type: http-01, listen: \"127.0.0.1:$PEBBLE_HTTP_PORT\"}")
certificates:
  www.example.com:
YAML
}

setup_shim() {
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
    # shellcheck disable=SC2086 # empty without a shim
    stop_pids $SHIM_PID
    pebble_stop
}

# state KEY...: a value from .state/www.example.com.json ("ari start").
state() {
    python3 -c 'import json, sys
v = json.load(open(sys.argv[1]))
for k in sys.argv[2:]:
    v = v[k]
print(v)' "$CERTDIR/.state/www.example.com.json" "$@"
}

# epoch FILE WHICH: the certificate's -startdate or -enddate in seconds.
epoch() {
    date -d "$(openssl x509 -in "$1" -noout "-$2" | cut -d= -f2)" +%s
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
@test "shim: the CA's window decides: asked once per Retry-After, then the order replaces the old certificate" {
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

@test "shim: a window already open is kept: the pick inside it does not change on every question" {
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

@test "shim: Retry-After sets when to ask again, clamped to at least an hour" {
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
@test "shim: a broken renewalInfo answer leaves the decision to the lifetime rule" {
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

@test "shim: a dry run asks nothing and uses the kept answer" {
    run "$CERTCTL" download --all
    [ "$status" -eq 0 ]
    window -7200 -3600
    run "$CERTCTL" download --dry-run --all
    [ "$status" -eq 10 ]
    [ "$(requests)" -eq 0 ]
}

# bats test_tags=memcheck
@test "pebble 2.6: its renewalInfo window is followed (not due before it), and an order replacing the certificate is accepted" {
    PEBBLE_VALIDITY=518400 # 6 days, as Let's Encrypt's shortlived profile
    pebble_stop
    pebble_start "$BATS_TEST_TMPDIR/pebble" PEBBLE_VA_ALWAYS_VALID=1
    sed -i "s|directory: .*|directory: $PEBBLE_URL|; s|ca_file: .*|ca_file: $PEBBLE_CA|" "$CONFIG"
    sed -i "s|^trust: .*|trust: $PEBBLE_ROOTS|" "$CONFIG"
    # check's default thresholds (21 and 7 days) are for long lifetimes.
    sed -i "s|^defaults: {|defaults: {check: {warn: 2d, crit: 1d}, |" "$CONFIG"
    run "$CERTCTL" download --all
    [ "$status" -eq 0 ]
    grep -q '"renewalInfo": "https://127.0.0.1:' "$CERTDIR/.acme/pebble/directory.json"
    cert=$CERTDIR/www.example.com/cert.pem
    [ $(($(epoch "$cert" enddate) - $(epoch "$cert" startdate))) -ge $((6 * 86400 - 1)) ]

    # Not due by lifetime (renew_before 1h): Pebble is asked, with the
    # RFC 9773 ID of the certificate, and its window lies ahead.
    run "$CERTCTL" download --all
    [ "$status" -eq 10 ]
    [ "$(state ari cert_id)" = "$(cert_id "$cert")" ]
    now=$(date +%s)
    start=$(state ari start) end=$(state ari end) pick=$(state ari renew_at)
    [ "$start" -gt "$now" ] && [ "$end" -gt "$start" ]
    [ "$end" -le "$(epoch "$cert" enddate)" ]
    [ "$pick" -ge "$start" ] && [ "$pick" -lt "$end" ]
    # Within its Retry-After: not asked again, nothing written.
    before=$(tree_sum "$CERTDIR")
    run "$CERTCTL" download --all
    [ "$status" -eq 10 ]
    [ "$(tree_sum "$CERTDIR")" = "$before" ]

    # A renewal now names the certificate it replaces, and Pebble (which
    # refuses a replaces it does not know) issues.
    old_id=$(cert_id "$cert")
    run "$CERTCTL" -v download --force --all
    [ "$status" -eq 0 ]
    [[ $output == *"replaces certificate $old_id"* ]]
    grep -q "POST /order-plz" "$PEBBLE_DIR/pebble.log"
    [ "$(cert_id "$cert")" != "$old_id" ]
    "$CERTCTL" check www.example.com
}

@test "pebble 2.6: a 'replaces' Pebble refuses (the certificate was replaced already) fails the run cleanly" {
    run "$CERTCTL" download --all
    [ "$status" -eq 0 ]
    run "$CERTCTL" download --all # asks renewalInfo: the state learns the ID
    [ "$status" -eq 10 ]
    cp "$CERTDIR/.state/www.example.com.json" "$BATS_TEST_TMPDIR/state.json"
    run "$CERTCTL" download --force --all
    [ "$status" -eq 0 ]
    # The state of before: the next order replaces the same certificate again.
    python3 - "$BATS_TEST_TMPDIR/state.json" "$CERTDIR/.state/www.example.com.json" <<'PY'
import json, sys
old, cur = (json.load(open(p)) for p in sys.argv[1:])
cur["ari"] = dict(old["ari"], generation=cur["live"]["generation"])
json.dump(cur, open(sys.argv[2], "w"))
PY
    live=$(readlink "$CERTDIR/www.example.com")
    run --separate-stderr "$CERTCTL" download --force --all
    [ "$status" -eq 1 ]
    [[ $stderr == *"www.example.com: acme: urn:ietf:params:acme:error:"* ]]
    [ "$(readlink "$CERTDIR/www.example.com")" = "$live" ]
}
