#!/usr/bin/env bats
# certctl download and what an order asks for in 2026 (#19): ACME
# profiles, renewal timing for short-lived certificates, and the backoff
# after failed attempts, and CA fallback over a list of sources.
#
# Server: tests/helpers/hostile-acme.py in its well-behaved mode ("the
# shim" below), because neither Debian 12's Pebble (2.4) nor trixie's
# (2.6) has ACME profiles (Pebble added them in 2.7), and because only a
# shim answers 503 or rateLimited on demand. The shim records every
# newOrder payload in $STATE/orders. Real renewalInfo against Pebble 2.6
# is in ari.bats. The timing tests need no server at all (--dry-run). The
# fallback tests put the shim (503, rateLimited) and a port nobody listens
# on before a real Pebble that requires external account binding.

bats_require_minimum_version 1.5.0

setup_file() {
    load ../helpers/common
    load ../helpers/hostile
    hostile_start
}

teardown_file() {
    stop_pids "$SERVER_PID"
}

setup() {
    load ../helpers/common
    load ../helpers/hostile
    common_setup
    rm -f "$STATE/orders" "$STATE/profiles" "$STATE/retry-after" "$STATE/answered"
    echo good > "$STATE/mode"
    echo '{"classic": "90 days", "shortlived": "6 days"}' > "$STATE/profiles"
    conf
}

teardown() {
    report_on_failure
    # The fallback tests start a Pebble of their own.
    if declare -F pebble_stop >/dev/null; then
        pebble_stop
    fi
}

# conf [CERT-YAML] [SOURCE-YAML]: one shim source, one certificate.
conf() {
    cat > "$CONFIG" <<YAML
certdir: $CERTDIR
trust: $PKI/trust.pem
defaults: {source: shim}
sources:
$(hostile_source shim)
    ${2:-}
certificates:
  www.example.com: {${1:-}}
YAML
}

# order_field N KEY: KEY of the Nth newOrder the shim got ("" when absent).
order_field() {
    sed -n "${1}p" "$STATE/orders" | jq -r ".$2 // \"\""
}

state() {
    jq -r "$1" "$CERTDIR/.state/www.example.com.json"
}

# ------------------------------------------------------------------ profiles

# bats test_tags=memcheck
@test "shim: the certificate's profile wins over the source's, is sent in newOrder, kept for renewals, shown by check" {
    conf "profile: shortlived" "profile: classic"
    run "$CERTCTL" download www.example.com
    assert_success
    [ "$(order_field 1 profile)" = shortlived ]
    [ "$(state .issued.profile)" = shortlived ]
    [ "$(state .issued.source)" = shim ]
    run "$CERTCTL" check -v www.example.com
    assert_success
    assert_output --partial "from source 'shim', profile 'shortlived'"
    run "$CERTCTL" check --format json www.example.com
    [ "$(jq -r '.names[0].profile' <<<"$output")" = shortlived ]

    # The renewal (certbot once lost the profile here) asks for it again.
    run "$CERTCTL" download --force www.example.com
    assert_success
    [ "$(wc -l < "$STATE/orders")" -eq 2 ]
    [ "$(order_field 2 profile)" = shortlived ]
    # Nothing changed: not due, nothing ordered.
    run "$CERTCTL" download www.example.com
    assert_failure 10
    [ "$(wc -l < "$STATE/orders")" -eq 2 ]
}

@test "shim: the source's profile applies when the certificate names none; none at all sends none" {
    conf "" "profile: classic"
    run "$CERTCTL" download www.example.com
    assert_success
    [ "$(order_field 1 profile)" = classic ]
    conf
    # Dropping the profile from the config is a change: renewed without one.
    run "$CERTCTL" download --dry-run www.example.com
    assert_output "would download www.example.com (the configured profile is none, the certificate's 'classic')"
    run "$CERTCTL" download www.example.com
    assert_success
    [ "$(jq -c 'has("profile")' <<<"$(sed -n 2p "$STATE/orders")")" = false ]
    [ "$(state '.issued | has("profile")')" = false ]
}

@test "shim: a changed profile renews the certificate" {
    conf "profile: classic"
    run "$CERTCTL" download www.example.com
    assert_success
    conf "profile: shortlived"
    run "$CERTCTL" download www.example.com
    assert_success
    [ "$(order_field 2 profile)" = shortlived ]
    run "$CERTCTL" download www.example.com
    assert_failure 10
}

# unordered TEXT: `download` exits 1 with one line on stderr holding TEXT,
# the live set as it was, no order placed.
unordered() {
    local live
    live=$(tree_sum "$CERTDIR/.live")
    run --separate-stderr "$CERTCTL" download www.example.com
    assert_failure 1
    assert_equal "$(grep -c . <<<"$stderr")" 1
    [[ $stderr == "certctl: www.example.com: $1" ]] || fail "stderr: $stderr"
    assert_equal "$(tree_sum "$CERTDIR/.live")" "$live"
    [ ! -e "$STATE/orders" ]
}

@test "shim: a profile the CA does not offer, or a CA without profiles: exit 1, one line, nothing ordered" {
    mk www.example.com
    conf "profile: tinylived"
    unordered "profile 'tinylived' is not offered by source 'shim' (it offers: classic, shortlived)"
    rm "$STATE/profiles"
    unordered "source 'shim' offers no profiles (its directory has no meta.profiles), so profile 'tinylived' cannot be ordered"
    # Recorded, so that check reports it.
    run "$CERTCTL" check www.example.com
    assert_output --partial "profile 'tinylived' cannot be ordered"
}

@test "a profile must be a non-empty string, in a source or an entry (exit 2)" {
    conf "profile: ''"
    refused 2 "key 'profile' must be a non-empty string" download www.example.com
    conf "" "profile: [a, b]"
    refused 2 "key 'profile' must be a non-empty string" download www.example.com
}

# ------------------------------------------------------------------- timing

# cert_aged LIFETIME-SECONDS LEFT-SECONDS: the live certificate, made
# anew, of that lifetime with that much of it left (the state's cache of
# the live certificate's facts goes with the old one).
cert_aged() {
    local f=$CERTDIR/.state/www.example.com.json
    rm -rf "$CERTDIR/.live" "$CERTDIR/www.example.com"
    if [ -f "$f" ]; then
        jq 'del(.live)' "$f" > "$f.new" && mv "$f.new" "$f"
    fi
    mk www.example.com --window $(($2 - $1)) "$2"
}

# due_at LIFETIME LEFT: `download --dry-run` says due (0) or not (10).
due_at() {
    cert_aged "$1" "$2"
    run "$CERTCTL" download --dry-run www.example.com
    echo "lifetime $1, left $2: exit $status, $output"
}

@test "6-day certificates are renewed at half their lifetime, 9-day ones too, longer ones at a third" {
    local h=3600 d=86400
    due_at $((6 * d)) $((3 * d + h))
    assert_failure 10
    due_at $((6 * d)) $((3 * d - h))
    assert_success
    assert_output "would download www.example.com (less than 3 days of validity left)"
    due_at $((9 * d)) $((9 * d / 2 + h))
    assert_failure 10
    due_at $((9 * d)) $((9 * d / 2 - h))
    assert_success
    due_at $((10 * d)) $((10 * d / 3 + h))
    assert_failure 10
    due_at $((90 * d)) $((30 * d + h))
    assert_failure 10
    due_at $((90 * d)) $((30 * d - h))
    assert_success
    assert_output "would download www.example.com (less than 30 days of validity left)"
    # A configured renew_before still decides.
    conf "renew_before: 50%"
    due_at $((90 * d)) $((44 * d))
    assert_success
}

# ------------------------------------------------------------------ backoff

# wait_is SECONDS: the recorded next attempt is that long after the last
# one (both are the run's own clock: no timing in the test).
wait_is() {
    assert_equal "$(($(state .download.next_attempt) - $(state .download.last_attempt)))" "$1"
}

@test "shim: after a 503 the name waits 1 h, then 2 h; a run before that says so (exit 10); --force tries; success clears it" {
    cert_aged $((90 * 86400)) $((20 * 86400)) # due, not close to expiry
    echo order-503 > "$STATE/mode"
    run --separate-stderr "$CERTCTL" download www.example.com
    assert_failure 1
    [[ $stderr == *"www.example.com: acme: "*"HTTP 503"* ]]
    [ "$(state .download.failures)" -eq 1 ]
    wait_is 3600

    # Before then: not tried (no order), a note, exit 10.
    before=$(tree_sum "$CERTDIR")
    run --separate-stderr "$CERTCTL" download www.example.com
    assert_failure 10
    # (due: the failed attempt left a pending key)
    [[ $output == "www.example.com: due ("*") but not tried: waiting after 1 failed attempt, next at "*" UTC (--force to try now)" ]]
    [ -z "$stderr" ]
    [ "$(wc -l < "$STATE/orders")" -eq 1 ]
    [ "$(tree_sum "$CERTDIR")" = "$before" ]
    run "$CERTCTL" check -v www.example.com
    assert_failure 1
    assert_output --regexp "last download failed: .*HTTP 503.* \(next attempt [0-9-]+ [0-9:]+ UTC\)"

    # --force tries now; a second failure doubles the wait.
    run "$CERTCTL" download --force www.example.com
    assert_failure 1
    [ "$(wc -l < "$STATE/orders")" -eq 2 ]
    [ "$(state .download.failures)" -eq 2 ]
    wait_is 7200

    echo good > "$STATE/mode"
    run "$CERTCTL" download --force www.example.com
    assert_success
    [ "$(state '.download | has("next_attempt")')" = false ]
    [ "$(state .download.failures)" -eq 0 ]
    run "$CERTCTL" check www.example.com
    assert_success
}

@test "shim: a rate limit's Retry-After (seconds or HTTP-date, up to 7 days) sets the wait when longer" {
    cert_aged $((90 * 86400)) $((20 * 86400))
    echo order-ratelimited > "$STATE/mode"
    echo 10800 > "$STATE/retry-after"
    run "$CERTCTL" download www.example.com
    assert_failure 1
    assert_output --partial "urn:ietf:params:acme:error:rateLimited"
    wait_is 10800
    # An HTTP-date (a distant one: the wait is capped at 7 days).
    echo 'Wed, 21 Oct 2099 07:28:00 GMT' > "$STATE/retry-after"
    run "$CERTCTL" download --force www.example.com
    assert_failure 1
    wait_is $((7 * 86400))
    # A Retry-After that is not one: the doubling alone (3 failures: 4 h).
    echo 'in a while' > "$STATE/retry-after"
    run "$CERTCTL" download --force www.example.com
    wait_is 14400
}

@test "shim: waiting out a backoff is a failure (exit 1) when the certificate is missing or close to expiry" {
    echo order-503 > "$STATE/mode"
    run "$CERTCTL" download www.example.com
    assert_failure 1
    # No certificate at all: the skip is an error.
    run --separate-stderr "$CERTCTL" download www.example.com
    assert_failure 1
    [[ $stderr == *"not tried: waiting after 1 failed attempt"*"close to expiry or missing" ]]
    [ "$(wc -l < "$STATE/orders")" -eq 1 ]
    # Half the renewal margin (30 d of 90) used up: 14 days left.
    cert_aged $((90 * 86400)) $((14 * 86400))
    run --separate-stderr "$CERTCTL" download www.example.com
    assert_failure 1
    [[ $stderr == *"close to expiry or missing" ]]
    # 20 days left: a note, exit 10.
    cert_aged $((90 * 86400)) $((20 * 86400))
    run --separate-stderr "$CERTCTL" download www.example.com
    assert_failure 10
    [ -z "$stderr" ]
}

@test "shim: another source configured since the failure is tried at once" {
    echo order-503 > "$STATE/mode"
    run "$CERTCTL" download www.example.com
    assert_failure 1
    sed -i 's/^  shim:/  shim2:/; s/source: shim}/source: shim2}/' "$CONFIG"
    echo good > "$STATE/mode"
    run "$CERTCTL" download www.example.com
    assert_success
    [ "$(state .issued.source)" = shim2 ]
}

# ------------------------------------------------------------- CA fallback

# fallback_conf SOURCES-LIST: three sources, a dead port, the shim and a
# real Pebble that requires external account binding.
fallback_conf() {
    cat "$PKI/trust.pem" "$PEBBLE_ROOTS" > "$BATS_TEST_TMPDIR/trust.pem"
    cat > "$CONFIG" <<YAML
certdir: $CERTDIR
trust: $BATS_TEST_TMPDIR/trust.pem
defaults: {source: $1}
sources:
$(hostile_source dead "https://127.0.0.1:$(free_port)/dir")
$(hostile_source shim)
$(pebble_source eab "{type: dns-01, hook: /bin/true}")
    eab: {kid: kid-1, hmac_key: $EAB_HMAC}
certificates:
  www.example.com:
YAML
}

start_eab_pebble() {
    load ../helpers/pebble
    EAB_HMAC=zWNDZM6eQGHWpSRTPal5eIUYFTu7EajVIoguysqZ9wG44nMEtx3MUAsUDkMTQ12W
    PEBBLE_EAB=kid-1:$EAB_HMAC pebble_start "$BATS_TEST_TMPDIR/pebble" PEBBLE_VA_ALWAYS_VALID=1
}

@test "fallback (shim + Pebble with EAB): a CA refusing connections, then one answering 503, then Pebble issues; the issuer is recorded" {
    start_eab_pebble
    fallback_conf "[dead, shim, eab]"
    echo order-503 > "$STATE/mode"
    run --separate-stderr "$CERTCTL" download www.example.com
    pebble_stop
    assert_success
    assert_output --partial "installed www.example.com"
    [ "$(grep -c . <<<"$stderr")" -eq 2 ]
    [[ $(sed -n 1p <<<"$stderr") == "certctl: www.example.com: "*"; trying source 'shim'" ]]
    [[ $(sed -n 2p <<<"$stderr") == "certctl: www.example.com: "*"HTTP 503"*"; trying source 'eab'" ]]
    [ "$(state .issued.source)" = eab ]
    [ "$(state '.download.failures')" -eq 0 ]
    openssl verify -CAfile "$PEBBLE_ROOTS" -untrusted "$CERTDIR/www.example.com/chain.pem" \
        "$CERTDIR/www.example.com/cert.pem"
    run "$CERTCTL" check -v www.example.com
    assert_success
    assert_output --partial "from source 'eab'"
}

@test "fallback (shim + Pebble): a rate limit falls back too; a refusal that is not an outage does not" {
    start_eab_pebble
    fallback_conf "[shim, eab]"
    echo order-ratelimited > "$STATE/mode"
    run --separate-stderr "$CERTCTL" download www.example.com
    assert_success
    [[ $stderr == *"rateLimited"*"; trying source 'eab'" ]]
    [ "$(state .issued.source)" = eab ]
    # An order the CA ends invalid is the order's fault: no other CA asked.
    echo order-invalid > "$STATE/mode"
    before=$(grep -c "POST /order-plz" "$PEBBLE_DIR/pebble.log")
    run --separate-stderr "$CERTCTL" download --force www.example.com
    pebble_stop
    assert_failure 1
    [ "$(grep -c . <<<"$stderr")" -eq 1 ]
    [[ $stderr == *"badCSR"* ]] || [[ $stderr == *"invalid"* ]]
    [ "$(grep -c "POST /order-plz" "$PEBBLE_DIR/pebble.log")" -eq "$before" ]
}

@test "a list of sources: each must exist, only acme sources, none twice (exit 2)" {
    conf
    sed -i 's/^defaults: {source: shim}/defaults: {source: [shim, nowhere]}/' "$CONFIG"
    refused 2 "source 'nowhere' is not defined under 'sources'" download www.example.com
    sed -i 's/\[shim, nowhere\]/[shim, shim]/' "$CONFIG"
    refused 2 "source 'shim' is listed twice" download www.example.com
    sed -i 's/\[shim, shim\]/[shim, store]/' "$CONFIG"
    printf '  store: {type: http, url: "https://127.0.0.1:1/{name}"}\n' >> "$CONFIG"
    # (the store goes under sources: move the certificates: block after it)
    python3 - "$CONFIG" <<'PY'
import sys
text = open(sys.argv[1]).read().split("\n")
store = [l for l in text if l.startswith("  store:")]
rest = [l for l in text if not l.startswith("  store:")]
i = rest.index("certificates:")
open(sys.argv[1], "w").write("\n".join(rest[:i] + store + rest[i:]))
PY
    refused 2 "a list of sources may name only acme sources, not 'store'" download www.example.com
    sed -i 's/\[shim, store\]/[]/' "$CONFIG"
    refused 2 "key 'source' must name at least one source" download www.example.com
}
