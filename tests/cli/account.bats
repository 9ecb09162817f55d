#!/usr/bin/env bats
# certctl account show / rollover against a real Pebble: the account URL
# and key thumbprint; a key change (RFC 8555 7.3.5) after which downloads
# work with the new key and Pebble refuses the old one; and a rollover
# cut short anywhere (Pebble down, the process killed at each file-system
# step) that leaves a key Pebble accepts for the same account.

bats_require_minimum_version 1.5.0

: "${CRASHPOINT:=$(dirname "$CERTCTL")/tests/libcrashpoint.so}"

setup_file() {
    load ../helpers/common
    load ../helpers/pebble
    pebble_share_start
}

teardown_file() {
    pebble_share_stop
}

setup() {
    load ../helpers/common
    load ../helpers/pebble
    load ../reliability/crash
    common_setup
    ACME="$CERTDIR/.acme/pebble"
    PEBBLE_PID='' PEBBLE_CHALL_PID=''
    write_ac_config
}

teardown() {
    report_on_failure
    pebble_stop # only a Pebble this test started itself
}

# write_ac_config [DIRECTORY-URL]: www.example.com from Pebble.
write_ac_config() {
    pebble_dns_config "  www.example.com:" "${1:-}"
}

# thumbprint KEYFILE: the RFC 7638 thumbprint of an EC key, computed here.
thumbprint() {
    python3 - "$1" <<'PY'
import base64, hashlib, json, sys
from cryptography.hazmat.primitives.serialization import load_pem_private_key
pub = load_pem_private_key(open(sys.argv[1], "rb").read(), None).public_key().public_numbers()
b64 = lambda n: base64.urlsafe_b64encode(n.to_bytes(32, "big")).rstrip(b"=").decode()
jwk = {"crv": "P-256", "kty": "EC", "x": b64(pub.x), "y": b64(pub.y)}
text = json.dumps(jwk, sort_keys=True, separators=(",", ":")).encode()
print(base64.urlsafe_b64encode(hashlib.sha256(text).digest()).rstrip(b"=").decode())
PY
}

# account_url: what `account show` says the account is.
account_url() {
    "$CERTCTL" account show pebble | sed -n 's/^account: *//p'
}

# bats test_tags=memcheck
@test "account show: the account URL, its status, the key's thumbprint; --json too" {
    "$CERTCTL" download www.example.com
    run "$CERTCTL" account show pebble
    assert_success
    assert_line --regexp "^account: +https://127\.0\.0\.1:[0-9]+/my-account/[0-9a-zA-Z]+$"
    assert_line "status:     valid"
    assert_line "thumbprint: $(thumbprint "$ACME/account.key")"
    assert_line "contact:    mailto:hostmaster@example.com"
    assert_line "key:        EC P-256 ($CERTDIR/.acme/pebble/account.key)"
    url=$(account_url)
    run "$CERTCTL" --json account show pebble
    assert_success
    assert_equal "$(jq -r .account <<<"$output")" "$url"
    assert_equal "$(jq -r .thumbprint <<<"$output")" "$(thumbprint "$ACME/account.key")"
    assert_equal "$(jq -r .rolled_over <<<"$output")" false
}

@test "account show makes no account and no key: a source never used is an error" {
    run "$CERTCTL" account show pebble
    assert_failure 1
    assert_output "certctl: source 'pebble' has no account yet: no '$ACME/account.key' (a download makes one)"
    [ ! -e "$CERTDIR/.acme" ]
    # A key the CA has no account for (not made by certctl) is not registered.
    mkdir -p "$ACME"
    openssl genpkey -algorithm ec -pkeyopt ec_paramgen_curve:P-256 -out "$ACME/account.key" 2>/dev/null
    key=$(sha256sum <"$ACME/account.key")
    run "$CERTCTL" account show pebble
    assert_failure 1
    assert_output "certctl: source 'pebble': the CA has no account for the key in '$ACME/account.key'"
    assert_equal "$(sha256sum <"$ACME/account.key")" "$key"
    [ "$(ls "$ACME" | grep -c key)" = 1 ]
    run "$CERTCTL" account rollover pebble
    assert_failure 1
    assert_output --partial "the CA has no account for the key"
    [ "$(ls "$ACME" | grep -c key)" = 1 ]
}

# bats test_tags=memcheck
@test "rollover: a new key for the same account, the old kept, downloads work, Pebble refuses the old key" {
    "$CERTCTL" download www.example.com
    url=$(account_url)
    old=$(sha256sum <"$ACME/account.key")
    cp "$ACME/account.key" "$BATS_TEST_TMPDIR/old.key"

    run "$CERTCTL" account rollover pebble
    assert_success
    assert_line "rolled over the account key of source 'pebble' (old key kept as account.key.old)"
    assert_line "account:    $url"
    assert_line "thumbprint: $(thumbprint "$ACME/account.key")"
    [ "$(sha256sum <"$ACME/account.key")" != "$old" ]
    cmp "$ACME/account.key.old" "$BATS_TEST_TMPDIR/old.key"
    [ "$(stat -c %a "$ACME/account.key")" = 600 ]
    [ "$(stat -c %a "$ACME/account.key.old")" = 600 ]
    [ ! -e "$ACME/account.key.new" ]
    assert_equal "$(account_url)" "$url"

    run "$CERTCTL" download --force www.example.com
    assert_success
    assert_equal "$(account_url)" "$url"

    # The old key, put back, is no account of Pebble's any more.
    cp -a "$CERTDIR" "$BATS_TEST_TMPDIR/copy"
    cp "$BATS_TEST_TMPDIR/old.key" "$BATS_TEST_TMPDIR/copy/.acme/pebble/account.key"
    run "$CERTCTL" -d "$BATS_TEST_TMPDIR/copy" account show pebble
    assert_failure 1
    assert_output --partial "the CA has no account for the key"
}

@test "rollover with Pebble down: exit 1, the old key stays and still works" {
    "$CERTCTL" download www.example.com
    url=$(account_url)
    before=$(tree_sum "$CERTDIR")
    write_ac_config "https://127.0.0.1:$(free_port)/dir"
    refused 1 "acme: directory" account rollover pebble
    write_ac_config
    assert_equal "$(account_url)" "$url"
    assert_equal "$(tree_sum "$CERTDIR")" "$before"
}

@test "rollover killed at every step: some key always works for the same account" {
    [ -f "$CRASHPOINT" ] || skip "no crashpoint interposer at $CRASHPOINT"
    "$CERTCTL" download www.example.com
    url=$(account_url)
    points=$(crash_points "$CERTCTL" account rollover pebble)
    [ "$points" -gt 3 ]
    for ((at = 0; at < points; at++)); do
        crash_trial "$at" "$CERTCTL" account rollover pebble
        # The next session settles what was left: same account, a key
        # Pebble takes, no key in flight any more.
        run "$CERTCTL" account show pebble
        assert_success
        assert_line "account:    $url"
        assert_line "thumbprint: $(thumbprint "$ACME/account.key")"
        [ ! -e "$ACME/account.key.new" ]
        [ "$(stat -c %a "$ACME/account.key")" = 600 ]
    done
    run "$CERTCTL" download --force www.example.com
    assert_success
}

@test "a new key the CA never took (left by a cut-short rollover) is removed, the old one used" {
    "$CERTCTL" download www.example.com
    url=$(account_url)
    key=$(sha256sum <"$ACME/account.key")
    openssl genpkey -algorithm ec -pkeyopt ec_paramgen_curve:P-256 -out "$ACME/account.key.new" 2>/dev/null
    chmod 600 "$ACME/account.key.new"
    run "$CERTCTL" download --force www.example.com
    assert_success
    [ ! -e "$ACME/account.key.new" ]
    assert_equal "$(sha256sum <"$ACME/account.key")" "$key"
    assert_equal "$(account_url)" "$url"
}

@test "usage errors exit 2 and attempt nothing" {
    refused 2 "account wants 'show SOURCE' or 'rollover SOURCE'" account
    refused 2 "account wants 'show SOURCE' or 'rollover SOURCE'" account show
    refused 2 "account wants 'show SOURCE' or 'rollover SOURCE'" account drop pebble
    refused 2 "no source 'nosuch' in the config" account show nosuch
    refused 2 "source 'files' is not an ACME CA" account rollover files
    run "$CERTCTL" account --help
    assert_success
    assert_output --partial "usage: certctl account show SOURCE"
}
