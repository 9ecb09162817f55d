#!/usr/bin/env bats
# certctl revoke: a name's live certificate revoked at a real Pebble, by
# the account key and by the certificate's own key; what Pebble then says
# about it (its management interface: Pebble 2.4 serves no OCSP), the
# record in .state, check reporting it CRITICAL, download renewing it;
# errors (already revoked, no certificate, CA down, usage) that leave the
# certdir as it was.

bats_require_minimum_version 1.5.0

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
    common_setup
    PEBBLE_PID='' PEBBLE_CHALL_PID=''
    write_rv_config
}

teardown() {
    report_on_failure
    pebble_stop # only a Pebble this test started itself
}

# write_rv_config [DIRECTORY-URL]: www and api from Pebble; stored from an
# http store (nothing to revoke at).
write_rv_config() {
    pebble_dns_config "  www.example.com:
  api.example.com:
  stored.example.com: {source: files}" "${1:-}"
}

serial() {
    openssl x509 -in "$CERTDIR/$1/cert.pem" -noout -serial | cut -d= -f2
}

# state_revoked NAME FIELD: a field of the "revoked" record of NAME.
state_revoked() {
    python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["revoked"][sys.argv[2]])' \
        "$CERTDIR/.state/$1.json" "$2"
}

# bats test_tags=memcheck
@test "revoke by the account key: Pebble revokes it, .state records it, check is CRITICAL, download renews" {
    run "$CERTCTL" download www.example.com
    assert_success
    s=$(serial www.example.com)
    pebble_cert_status "$s" | grep -q '"Status": "Valid"'

    run "$CERTCTL" revoke www.example.com --reason superseded
    assert_success
    assert_equal "${#lines[@]}" 1
    assert_output --regexp "^revoked www.example.com \(serial [0-9a-f:]+, reason superseded, source 'pebble'\)$"

    run pebble_cert_status "$s"
    assert_output --partial '"Status": "Revoked"'
    assert_output --partial '"Reason": 4'
    assert_equal "$(state_revoked www.example.com reason)" superseded
    assert_equal "$(state_revoked www.example.com by)" "account key"
    assert_equal "$(state_revoked www.example.com generation)" 1

    run "$CERTCTL" check www.example.com
    assert_failure 2
    assert_output --partial "revoked on $(date -u +%Y-%m-%d) (superseded, by certctl revoke)"

    # Revoked means due: a plain download replaces it, and the new
    # certificate is not reported revoked.
    run "$CERTCTL" download www.example.com
    assert_success
    assert_output --partial "installed www.example.com"
    [ "$(serial www.example.com)" != "$s" ]
    run "$CERTCTL" check www.example.com
    refute_output --partial "revoked"
}

@test "revoke --by-cert-key signs with the certificate's key (keyCompromise)" {
    "$CERTCTL" download api.example.com
    s=$(serial api.example.com)
    run "$CERTCTL" revoke --by-cert-key --reason keyCompromise api.example.com
    assert_success
    assert_output --partial "reason keyCompromise"
    run pebble_cert_status "$s"
    assert_output --partial '"Status": "Revoked"'
    assert_output --partial '"Reason": 1'
    assert_equal "$(state_revoked api.example.com by)" "certificate key"
    # No account was needed for it: the account key made by download is
    # the only one there.
    [ "$(find "$CERTDIR/.acme" -name 'account.key*' | wc -l)" = 1 ]
}

@test "revoking an already revoked certificate is a clear error; the record stays" {
    "$CERTCTL" download www.example.com
    "$CERTCTL" revoke www.example.com --reason cessationOfOperation
    refused 1 "www.example.com: certificate $(state_revoked www.example.com serial) is already revoked (source 'pebble')" \
        revoke www.example.com
    assert_equal "$(state_revoked www.example.com reason)" cessationOfOperation
    # Also with the certificate's key, which needs no account.
    refused 1 "is already revoked" revoke --by-cert-key www.example.com
}

@test "a certificate revoked elsewhere: the CA's answer is recorded, check is CRITICAL" {
    "$CERTCTL" download www.example.com
    # Revoked behind certctl's back: through a second certdir's copy.
    cp -a "$CERTDIR" "$BATS_TEST_TMPDIR/copy"
    "$CERTCTL" -d "$BATS_TEST_TMPDIR/copy" revoke www.example.com
    run "$CERTCTL" revoke www.example.com
    assert_failure 1
    assert_output --partial "already revoked"
    assert_equal "$(state_revoked www.example.com reason)" unknown
    run "$CERTCTL" check www.example.com
    assert_failure 2
    assert_output --partial "revoked on"
}

@test "--dry-run names the certificate and contacts no CA" {
    "$CERTCTL" download www.example.com
    s=$(serial www.example.com)
    before=$(tree_sum "$CERTDIR")
    run "$CERTCTL" -n revoke www.example.com
    assert_success
    assert_output --partial "would revoke www.example.com (serial"
    pebble_cert_status "$s" | grep -q '"Status": "Valid"'
    assert_equal "$(tree_sum "$CERTDIR")" "$before"
}

@test "the CA down, or no certificate: exit 1, the certdir as it was" {
    "$CERTCTL" download www.example.com
    write_rv_config "https://127.0.0.1:$(free_port)/dir"
    refused 1 "www.example.com: acme: directory" revoke www.example.com
    write_rv_config
    refused 1 "api.example.com: no certificate installed" revoke api.example.com
}

@test "--by-cert-key with a privkey.pem that is not the certificate's: refused before any request" {
    "$CERTCTL" download www.example.com
    live=$(readlink -f "$CERTDIR/www.example.com")
    chmod u+w "$live" "$live/privkey.pem"
    openssl genpkey -algorithm ec -pkeyopt ec_paramgen_curve:P-256 -out "$live/privkey.pem" 2>/dev/null
    refused 1 "www.example.com: the live privkey.pem does not match cert.pem" \
        revoke --by-cert-key www.example.com
}

@test "usage errors exit 2 and attempt nothing" {
    refused 2 "revoke takes exactly one NAME" revoke
    refused 2 "revoke takes exactly one NAME" revoke www.example.com api.example.com
    refused 2 "--reason wants unspecified, keyCompromise" revoke --reason nope www.example.com
    refused 2 "invalid name" revoke 'bad/name'
    refused 2 "not in the config" revoke other.example.com
    refused 2 "source 'files' is not an ACME CA" revoke stored.example.com
    run "$CERTCTL" revoke --help
    assert_success
    assert_output --partial "usage: certctl revoke"
}
