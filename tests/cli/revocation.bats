#!/usr/bin/env bats
# certctl check --revocation: asks the CA whether each live certificate is
# revoked, through OCSP (a real `openssl ocsp` responder on loopback) or,
# without an OCSP URL, the CRL distribution point (a CRL made by `openssl
# ca -gencrl` from the same index, served on loopback). Revoked is
# CRITICAL; an answer that cannot be had or trusted is a WARNING; check
# never writes to the certdir, and without --revocation it asks nobody.

bats_require_minimum_version 1.5.0

setup() {
    load ../helpers/common
    load ../helpers/ocsp
    common_setup
    ocsp_setup
    CRL_URL=$OCSP_URL/inter.crl
}

teardown() {
    report_on_failure
    ocsp_stop
}

# The usual responder: the issuing intermediate signs, a week of validity.
responder() {
    ocsp_start "$OCSP_INDEX" "$PKI/inter.pem" "$PKI/inter.key" -ndays 7
}

# check_rev ARGS...: `check --revocation ARGS`, certdir untouched.
check_rev() {
    local before
    before=$(tree_sum "$CERTDIR")
    run --separate-stderr "$CERTCTL" check --revocation --timeout 5 "$@"
    assert_equal "$(tree_sum "$CERTDIR")" "$before"
}

# bats test_tags=memcheck
@test "OCSP: good is OK, revoked is CRITICAL with its date; offline check asks nobody" {
    mk good --ocsp "$OCSP_URL"
    mk bad --ocsp "$OCSP_URL"
    ocsp_index_add "$OCSP_INDEX" V "$PKI/good.crt"
    ocsp_index_add "$OCSP_INDEX" R "$PKI/bad.crt"
    responder
    check_rev good
    assert_success
    check_rev bad
    assert_failure 2
    assert_output --partial "revoked on $(date -u -d '1 day ago' +%Y-%m-%d)"
    assert_output --partial "(OCSP)"
    # Without --revocation nothing is asked and the set is fine.
    run "$CERTCTL" check bad
    assert_success
}

@test "OCSP: a certificate the responder does not know is CRITICAL (UNKNOWN)" {
    mk stranger --ocsp "$OCSP_URL"
    responder
    check_rev stranger
    assert_failure 2
    assert_output --partial "UNKNOWN"
}

# bats test_tags=memcheck
@test "CRL: a listed certificate is CRITICAL, others OK; one fetch for all names" {
    mk a --crl "$CRL_URL"
    mk b --crl "$CRL_URL"
    mk c --crl "$CRL_URL"
    ocsp_index_add "$OCSP_INDEX" R "$PKI/a.crt"
    ocsp_crl "$OCSP_INDEX" "$OCSP_DIR/inter.crl"
    ocsp_static_start file "$OCSP_DIR/inter.crl"
    check_rev --all
    assert_failure 2
    assert_output --regexp "a.*revoked on [0-9-]+.*\(CRL\)"
    refute_output --regexp "(^|[^a-z])b[^a-z].*revoked"
    [ "$(ocsp_requests | wc -l)" -eq 1 ] || fail "requests: $(ocsp_requests)"
    check_rev b c
    assert_success
}

@test "CRL: also read as PEM" {
    mk a --crl "$CRL_URL"
    ocsp_index_add "$OCSP_INDEX" R "$PKI/a.crt"
    ocsp_crl "$OCSP_INDEX" "$OCSP_DIR/inter.der"
    openssl crl -inform DER -in "$OCSP_DIR/inter.der" -out "$OCSP_DIR/inter.pem"
    ocsp_static_start file "$OCSP_DIR/inter.pem"
    check_rev a
    assert_failure 2
    assert_output --partial "(CRL)"
}

@test "OCSP down, CRL up: the answer comes from the CRL" {
    mk a --ocsp "http://127.0.0.1:$(free_port)" --crl "$CRL_URL"
    ocsp_index_add "$OCSP_INDEX" R "$PKI/a.crt"
    ocsp_crl "$OCSP_INDEX" "$OCSP_DIR/inter.crl"
    ocsp_static_start file "$OCSP_DIR/inter.crl"
    check_rev a
    assert_failure 2
    assert_output --partial "(CRL)"
}

# bats test_tags=memcheck
@test "a stale, foreign, garbage or missing CRL is a WARNING naming the reason" {
    mk a --crl "$CRL_URL"
    ocsp_index_add "$OCSP_INDEX" R "$PKI/a.crt"
    # Stale: nextUpdate a day ago. The revoked entry must not be believed
    # either way; the status is unknown.
    ocsp_crl "$OCSP_INDEX" "$OCSP_DIR/stale.crl" stale
    ocsp_static_start file "$OCSP_DIR/stale.crl"
    check_rev a
    assert_failure 1
    assert_output --partial "cannot learn the revocation status"
    assert_output --partial "stale"
    ocsp_stop
    # Signed by another CA (same index, another key and name).
    pki_init "$BATS_TEST_TMPDIR/other"
    PKI=$BATS_TEST_TMPDIR/other ocsp_crl "$OCSP_INDEX" "$OCSP_DIR/foreign.crl"
    ocsp_static_start file "$OCSP_DIR/foreign.crl"
    check_rev a
    assert_failure 1
    assert_output --regexp "not (from|signed by) the certificate's issuer"
    ocsp_stop
    # Not a CRL at all.
    ocsp_static_start html
    check_rev a
    assert_failure 1
    assert_output --partial "not a CRL"
    ocsp_stop
    # Nobody there.
    check_rev a
    assert_failure 1
    assert_output --partial "cannot learn the revocation status"
}

@test "OCSP responder down and no CRL: WARNING, the cert itself still checked" {
    mk a --ocsp "$OCSP_URL"
    check_rev a
    assert_failure 1
    assert_output --partial "cannot learn the revocation status: OCSP"
}

@test "a certificate that names neither OCSP nor a CRL is not asked about" {
    mk plain
    check_rev plain
    assert_success
}
