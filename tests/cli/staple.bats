#!/usr/bin/env bats
# certctl staple: fetch, verify and install OCSP responses, against a real
# responder (`openssl ocsp`) and hostile servers on loopback. The reload
# contract (0 changed, 10 nothing to do, 1 failure, 2 usage), the refresh
# policy, every verification step, and that a failure changes nothing but
# .state/NAME.json.

bats_require_minimum_version 1.5.0

setup() {
    load ../helpers/common
    load ../helpers/ocsp
    common_setup
    ocsp_setup
}

teardown() {
    report_on_failure
    ocsp_stop
}

# mko NAME [pki_leaf options]: an installed set whose certificate names the
# test responder (AIA OCSP) and is listed as valid in its index.
mko() {
    local name=$1
    shift
    mk "$name" --ocsp "$OCSP_URL" "$@"
    ocsp_index_add "$OCSP_INDEX" V "$PKI/$name.crt"
}

# The usual responder: the issuing intermediate signs, a week of validity.
# shellcheck disable=SC2120 # extra openssl ocsp options are optional
responder() {
    ocsp_start "$OCSP_INDEX" "$PKI/inter.pem" "$PKI/inter.key" -ndays 7 "$@"
}

# live NAME: the live generation directory of NAME.
live() {
    echo "$CERTDIR/$(readlink "$CERTDIR/$1")"
}

# The certdir without .state (failures may record there), and without the
# empty .lock and .pending/ that opening a certdir for writing creates.
sum_nostate() {
    tree_sum "$CERTDIR" | grep -v -e '^\.state[/ ]' -e '^\.lock f ' -e '^\.pending d ' || true
}

# assert_good_staple FILE CERT [SIGNER]: FILE is an OCSP response that
# openssl itself verifies (signed by SIGNER, default the intermediate) and
# that says CERT is good.
assert_good_staple() {
    run openssl ocsp -respin "$1" -issuer "$PKI/inter.pem" -cert "$2" \
        -VAfile "${3:-$PKI/inter.pem}" -no_nonce
    assert_success
    assert_output --partial "Response verify OK"
    assert_output --partial "$2: good"
}

# differ A B: the two files are not identical.
differ() {
    ! cmp -s "$1" "$2"
}

# state_py NAME PYTHON: run PYTHON with `s` bound to .state/NAME.json.
state_py() {
    python3 -c "import json, sys, time; s = json.load(open(sys.argv[1])); $2" \
        "$CERTDIR/.state/$1.json"
}

# bats test_tags=memcheck
@test "a good response is verified and installed as ocsp.der, reachable through NAME.ocsp (exit 0)" {
    mko www
    responder
    run --separate-stderr "$CERTCTL" staple www
    assert_success
    assert_output --regexp '^stapled www \(good, next update [0-9]{4}-[0-9]{2}-[0-9]{2}'
    [ -z "$stderr" ]
    dir=$(live www)
    [ -f "$dir/ocsp.der" ]
    [ ! -L "$dir/ocsp.der" ]
    [ "$(stat -c %a "$dir/ocsp.der")" = 644 ]
    cmp "$dir/ocsp.der" "$CERTDIR/www.ocsp"
    cmp "$dir/ocsp.der" "$CERTDIR/www/ocsp.der"
    [ ! -e "$dir/ocsp.der.tmp" ]
    # combined.pem is not enabled, so there is no combined.pem.ocsp
    [ ! -e "$dir/combined.pem.ocsp" ]
    assert_good_staple "$CERTDIR/www.ocsp" "$PKI/www.crt"
    # The responder answers with the CertID it was asked about: SHA-1.
    run openssl ocsp -respin "$CERTDIR/www.ocsp" -resp_text -noverify
    assert_output --partial "Hash Algorithm: sha1"
    assert_output --partial "Serial Number: $(openssl x509 -noout -serial -in "$PKI/www.crt" | cut -d= -f2)"
    state_py www '
st = s["staple"]
assert "last_error" not in st and st["failures"] == 0 and st["revoked"] is False, st
assert abs(st["next_update"] - (time.time() + 7 * 86400)) < 600, st'
}

# bats test_tags=memcheck
@test "a fresh staple is left alone: exit 10, silent, no write and no network traffic" {
    mko www
    responder
    run "$CERTCTL" staple www
    assert_success
    before=$(tree_sum "$CERTDIR")
    stamp=$(stat -c '%i %Y' "$(live www)/ocsp.der")
    run --separate-stderr "$CERTCTL" staple www
    assert_failure 10
    assert_output ""
    [ -z "$stderr" ]
    [ "$(tree_sum "$CERTDIR")" = "$before" ]
    [ "$(stat -c '%i %Y' "$(live www)/ocsp.der")" = "$stamp" ]
    # No responder at all: still 10, so nothing was asked.
    ocsp_stop
    run "$CERTCTL" staple www
    assert_failure 10
    assert_output ""
    run "$CERTCTL" -v staple www
    assert_failure 10
    assert_output --partial "fresh"
    [ "$(tree_sum "$CERTDIR")" = "$before" ]
}

@test "--force fetches a fresh staple anyway; the previous one is kept as ocsp.der.prev" {
    mko www
    responder
    run "$CERTCTL" staple www
    assert_success
    cp "$(live www)/ocsp.der" "$BATS_TEST_TMPDIR/old.der"
    run "$CERTCTL" staple --force www
    assert_success
    assert_output --partial "stapled www"
    dir=$(live www)
    cmp "$BATS_TEST_TMPDIR/old.der" "$dir/ocsp.der.prev"
    differ "$BATS_TEST_TMPDIR/old.der" "$dir/ocsp.der"
    cmp "$dir/ocsp.der" "$CERTDIR/www.ocsp"
    assert_good_staple "$dir/ocsp.der" "$PKI/www.crt"
    [ ! -e "$dir/ocsp.der.tmp" ]
    [ "$(readlink "$CERTDIR/www")" = ".live/www.g0001" ]
    # -f is --force
    run "$CERTCTL" staple -f www
    assert_success
}

@test "an installed staple that is garbage or about another certificate is replaced" {
    mko www
    mko other
    responder
    dir=$(live www)
    echo "not a staple" >"$dir/ocsp.der"
    run "$CERTCTL" staple www
    assert_success
    assert_output --partial "stapled www"
    assert_good_staple "$dir/ocsp.der" "$PKI/www.crt"
    [ "$(cat "$dir/ocsp.der.prev")" = "not a staple" ]
    ocsp_response "$dir/ocsp.der" "$PKI/other.crt" "$OCSP_INDEX" "$PKI/inter.pem" \
        "$PKI/inter.key" -ndays 7
    run "$CERTCTL" staple www
    assert_success
    assert_good_staple "$dir/ocsp.der" "$PKI/www.crt"
}

@test "refresh: less than min_validity left (default 3d, from the config) means due" {
    mko www
    dir=$(live www)
    # window 10 days, 2 days left
    ocsp_response "$BATS_TEST_TMPDIR/r.der" "$PKI/www.crt" "$OCSP_INDEX" \
        "$PKI/inter.pem" "$PKI/inter.key" -ndays 10
    ocsp_shift "$BATS_TEST_TMPDIR/r.der" "$BATS_TEST_TMPDIR/aged.der" $((-8 * 86400))
    assert_good_staple "$BATS_TEST_TMPDIR/aged.der" "$PKI/www.crt"
    cp "$BATS_TEST_TMPDIR/aged.der" "$dir/ocsp.der"
    # min_validity 1d and a low percentage: fresh, nothing asked
    write_config "defaults: {ocsp: {min_validity: 1d, min_validity_percent: 10}}"
    run "$CERTCTL" staple www
    assert_failure 10
    cmp "$BATS_TEST_TMPDIR/aged.der" "$dir/ocsp.der"
    # min_validity 3d alone makes it due
    write_config "defaults: {ocsp: {min_validity: 3d, min_validity_percent: 10}}"
    responder
    run "$CERTCTL" staple www
    assert_success
    assert_output --partial "stapled www"
    differ "$BATS_TEST_TMPDIR/aged.der" "$dir/ocsp.der"
    assert_good_staple "$dir/ocsp.der" "$PKI/www.crt"
    # per-name settings apply too
    cp "$BATS_TEST_TMPDIR/aged.der" "$dir/ocsp.der"
    write_config "defaults: {ocsp: {min_validity: 1d, min_validity_percent: 10}}
certificates: {www: {ocsp: {min_validity: 3d}}}"
    run "$CERTCTL" staple www
    assert_success
    # the defaults (3d, 42.8%): due
    cp "$BATS_TEST_TMPDIR/aged.der" "$dir/ocsp.der"
    write_config
    run "$CERTCTL" staple www
    assert_success
    assert_good_staple "$dir/ocsp.der" "$PKI/www.crt"
}

@test "refresh: a responder handing out one-hour responses is asked on every run" {
    mko www
    ocsp_start "$OCSP_INDEX" "$PKI/inter.pem" "$PKI/inter.key" -nmin 60
    run "$CERTCTL" staple www
    assert_success
    cp "$(live www)/ocsp.der" "$BATS_TEST_TMPDIR/first.der"
    run "$CERTCTL" staple www
    assert_success
    assert_output --partial "stapled www"
    cmp "$BATS_TEST_TMPDIR/first.der" "$(live www)/ocsp.der.prev"
    # unless min_validity says an hour is plenty
    write_config "defaults: {ocsp: {min_validity: 10m, min_validity_percent: 1}}"
    run "$CERTCTL" staple www
    assert_failure 10
}

@test "refresh: less than min_validity_percent of the window left means due" {
    mko www
    dir=$(live www)
    # window 10 days, 4 days left: more than 3d, less than 42.8% (4.28d)
    ocsp_response "$BATS_TEST_TMPDIR/r.der" "$PKI/www.crt" "$OCSP_INDEX" \
        "$PKI/inter.pem" "$PKI/inter.key" -ndays 10
    ocsp_shift "$BATS_TEST_TMPDIR/r.der" "$BATS_TEST_TMPDIR/aged.der" $((-6 * 86400))
    cp "$BATS_TEST_TMPDIR/aged.der" "$dir/ocsp.der"
    write_config "defaults: {ocsp: {min_validity_percent: 30}}"
    run "$CERTCTL" staple www
    assert_failure 10
    cmp "$BATS_TEST_TMPDIR/aged.der" "$dir/ocsp.der"
    write_config
    responder
    run "$CERTCTL" staple www
    assert_success
    assert_output --partial "stapled www"
    assert_good_staple "$dir/ocsp.der" "$PKI/www.crt"
    cmp "$BATS_TEST_TMPDIR/aged.der" "$dir/ocsp.der.prev"
}

# bats test_tags=memcheck
@test "revoked: never installed, one error line saying REVOKED, recorded so check is CRITICAL" {
    mk www --ocsp "$OCSP_URL"
    ocsp_index_add "$OCSP_INDEX" R "$PKI/www.crt"
    responder
    before=$(sum_nostate)
    run --separate-stderr "$CERTCTL" staple www
    assert_failure 1
    assert_output ""
    [ "$(printf '%s\n' "$stderr" | wc -l)" -eq 1 ]
    [[ $stderr == *www:*REVOKED* ]]
    [ ! -e "$(live www)/ocsp.der" ]
    [ "$(sum_nostate)" = "$before" ]
    state_py www '
st = s["staple"]
assert st["revoked"] is True and "REVOKED" in st["last_error"] and st["failures"] == 1, st'
    run "$CERTCTL" check www
    assert_failure 2
    assert_output --partial "revoked"
    # Back to good at the responder: the next staple clears the mark.
    ocsp_stop
    : >"$OCSP_INDEX"
    ocsp_index_add "$OCSP_INDEX" V "$PKI/www.crt"
    responder
    run "$CERTCTL" staple www
    assert_success
    run "$CERTCTL" check www
    assert_success
}

@test "revoked after a good staple: the good one stays, check still goes CRITICAL" {
    mko www
    responder
    run "$CERTCTL" staple www
    assert_success
    cp "$(live www)/ocsp.der" "$BATS_TEST_TMPDIR/good.der"
    ocsp_stop
    : >"$OCSP_INDEX"
    ocsp_index_add "$OCSP_INDEX" R "$PKI/www.crt"
    responder
    before=$(sum_nostate)
    run "$CERTCTL" staple --force www
    assert_failure 1
    assert_output --partial "REVOKED"
    [ "$(sum_nostate)" = "$before" ]
    cmp "$BATS_TEST_TMPDIR/good.der" "$(live www)/ocsp.der"
    run "$CERTCTL" check www
    assert_failure 2
    assert_output --partial "revoked"
}

@test "unknown (serial not in the index): never installed, error says UNKNOWN, recorded" {
    mk www --ocsp "$OCSP_URL"
    responder
    before=$(sum_nostate)
    run --separate-stderr "$CERTCTL" staple www
    assert_failure 1
    assert_output ""
    [[ $stderr == *www:*UNKNOWN* ]]
    [ ! -e "$(live www)/ocsp.der" ]
    [ "$(sum_nostate)" = "$before" ]
    state_py www '
st = s["staple"]
assert st["revoked"] is False and "UNKNOWN" in st["last_error"], st'
    run "$CERTCTL" check www
    assert_failure 1
    assert_output --partial "last staple failed"
}

# bats test_tags=memcheck
@test "a response signed by an unrelated key, or by the root, is rejected" {
    mko www
    before=$(sum_nostate)
    # other-inter chains to a root certctl does not trust
    ocsp_start "$OCSP_INDEX" "$PKI/other-inter.pem" "$PKI/other-inter.key" -ndays 7
    run "$CERTCTL" staple www
    assert_failure 1
    assert_output --partial "signature does not verify"
    ocsp_stop
    # the same without the signer's certificate in the response
    ocsp_start "$OCSP_INDEX" "$PKI/other-inter.pem" "$PKI/other-inter.key" -ndays 7 \
        -resp_no_certs
    run "$CERTCTL" staple www
    assert_failure 1
    assert_output --partial "signature does not verify"
    ocsp_stop
    # the trusted root is not the issuer and not a delegated responder
    ocsp_start "$OCSP_INDEX" "$PKI/root.pem" "$PKI/root.key" -ndays 7
    run "$CERTCTL" staple www
    assert_failure 1
    assert_output --partial "signature does not verify"
    [ ! -e "$(live www)/ocsp.der" ]
    [ "$(sum_nostate)" = "$before" ]
}

@test "a delegated responder issued by the issuer with id-kp-OCSPSigning is accepted" {
    mko www
    ocsp_responder_cert "$OCSP_DIR" resp inter ocsp
    ocsp_start "$OCSP_INDEX" "$OCSP_DIR/resp.pem" "$OCSP_DIR/resp.key" -ndays 7
    run "$CERTCTL" staple www
    assert_success
    assert_output --partial "stapled www"
    assert_good_staple "$(live www)/ocsp.der" "$PKI/www.crt" "$OCSP_DIR/resp.pem"
    run openssl ocsp -respin "$(live www)/ocsp.der" -resp_text -noverify
    assert_output --partial "Responder Id: CN = certctl test OCSP responder resp"
    run "$CERTCTL" check www
    assert_success
}

@test "a delegated responder without OCSPSigning, or not issued by the issuer, is rejected" {
    mko www
    before=$(sum_nostate)
    ocsp_responder_cert "$OCSP_DIR" noeku inter none
    ocsp_responder_cert "$OCSP_DIR" byroot root ocsp
    ocsp_responder_cert "$OCSP_DIR" byother other-inter ocsp
    for r in noeku byroot byother; do
        ocsp_start "$OCSP_INDEX" "$OCSP_DIR/$r.pem" "$OCSP_DIR/$r.key" -ndays 7
        run "$CERTCTL" staple www
        echo "responder $r: $output"
        assert_failure 1
        assert_output --partial "signature does not verify"
        ocsp_stop
    done
    [ ! -e "$(live www)/ocsp.der" ]
    [ "$(sum_nostate)" = "$before" ]
}

# bats test_tags=memcheck
@test "a stale response (nextUpdate passed) is rejected" {
    mko www
    ocsp_response "$OCSP_DIR/r.der" "$PKI/www.crt" "$OCSP_INDEX" "$PKI/inter.pem" \
        "$PKI/inter.key" -ndays 1
    ocsp_shift "$OCSP_DIR/r.der" "$OCSP_DIR/stale.der" $((-2 * 86400))
    ocsp_static_start file "$OCSP_DIR/stale.der"
    before=$(sum_nostate)
    run "$CERTCTL" staple www
    assert_failure 1
    assert_output --partial "nextUpdate has passed"
    [ ! -e "$(live www)/ocsp.der" ]
    [ "$(sum_nostate)" = "$before" ]
    state_py www 'assert "nextUpdate" in s["staple"]["last_error"], s'
    # and the server was asked (the failure is the response, not the fetch)
    [ "$(ocsp_requests | wc -l)" -eq 1 ]
}

@test "a response without nextUpdate is rejected" {
    mko www
    ocsp_start "$OCSP_INDEX" "$PKI/inter.pem" "$PKI/inter.key"
    before=$(sum_nostate)
    run "$CERTCTL" staple www
    assert_failure 1
    assert_output --partial "no nextUpdate"
    [ ! -e "$(live www)/ocsp.der" ]
    [ "$(sum_nostate)" = "$before" ]
}

@test "thisUpdate in the future: 2 minutes of skew are accepted, an hour is not" {
    mko www
    ocsp_response "$OCSP_DIR/r.der" "$PKI/www.crt" "$OCSP_INDEX" "$PKI/inter.pem" \
        "$PKI/inter.key" -ndays 7
    ocsp_shift "$OCSP_DIR/r.der" "$OCSP_DIR/future.der" 3600
    ocsp_shift "$OCSP_DIR/r.der" "$OCSP_DIR/skew.der" 120
    cp "$OCSP_DIR/future.der" "$OCSP_DIR/serve.der"
    ocsp_static_start file "$OCSP_DIR/serve.der"
    before=$(sum_nostate)
    run "$CERTCTL" staple www
    assert_failure 1
    assert_output --partial "thisUpdate is in the future"
    [ "$(sum_nostate)" = "$before" ]
    cp "$OCSP_DIR/skew.der" "$OCSP_DIR/serve.der"
    run "$CERTCTL" staple www
    assert_success
    cmp "$OCSP_DIR/skew.der" "$(live www)/ocsp.der"
}

@test "a response about another certificate (another serial) is rejected" {
    mko www
    mko other
    ocsp_response "$OCSP_DIR/other.der" "$PKI/other.crt" "$OCSP_INDEX" \
        "$PKI/inter.pem" "$PKI/inter.key" -ndays 7
    ocsp_static_start file "$OCSP_DIR/other.der"
    before=$(sum_nostate)
    run "$CERTCTL" staple www
    assert_failure 1
    assert_output --partial "not about this certificate"
    [ ! -e "$(live www)/ocsp.der" ]
    [ "$(sum_nostate)" = "$before" ]
}

@test "a response older than the installed one is not installed" {
    mko www
    ocsp_response "$OCSP_DIR/new.der" "$PKI/www.crt" "$OCSP_INDEX" "$PKI/inter.pem" \
        "$PKI/inter.key" -ndays 7
    # valid (an hour old, nextUpdate in 7 days less an hour) but older
    ocsp_shift "$OCSP_DIR/new.der" "$OCSP_DIR/old.der" -3600
    cp "$OCSP_DIR/new.der" "$OCSP_DIR/serve.der"
    ocsp_static_start file "$OCSP_DIR/serve.der"
    run "$CERTCTL" staple www
    assert_success
    cmp "$OCSP_DIR/new.der" "$(live www)/ocsp.der"
    cp "$OCSP_DIR/old.der" "$OCSP_DIR/serve.der"
    before=$(sum_nostate)
    run "$CERTCTL" staple --force www
    assert_failure 1
    assert_output --partial "older"
    [ "$(sum_nostate)" = "$before" ]
    cmp "$OCSP_DIR/new.der" "$(live www)/ocsp.der"
}

@test "an installed staple dated in the future (the clock was ahead) does not block a refresh" {
    mko www
    ocsp_response "$OCSP_DIR/r.der" "$PKI/www.crt" "$OCSP_INDEX" "$PKI/inter.pem" \
        "$PKI/inter.key" -ndays 7
    ocsp_shift "$OCSP_DIR/r.der" "$OCSP_DIR/ahead.der" 86400
    cp "$OCSP_DIR/ahead.der" "$(live www)/ocsp.der"
    # check agrees that this staple is not valid
    run "$CERTCTL" check www
    assert_failure 1
    assert_output --partial "thisUpdate is in the future"
    responder
    run "$CERTCTL" staple www
    assert_success
    assert_output --partial "stapled www"
    assert_good_staple "$(live www)/ocsp.der" "$PKI/www.crt"
}

# bats test_tags=memcheck
@test "responder down: exit 1 naming the URL, nothing changed, the failure recorded" {
    mko www
    before=$(sum_nostate)
    run --separate-stderr "$CERTCTL" staple www
    assert_failure 1
    assert_output ""
    [[ $stderr == "certctl: www: "*"$OCSP_URL"* || $stderr == "www: "*"$OCSP_URL"* ]]
    [ "$(sum_nostate)" = "$before" ]
    state_py www '
st = s["staple"]
assert st["failures"] == 1 and st["last_error"], st'
    run "$CERTCTL" staple www
    assert_failure 1
    state_py www 'assert s["staple"]["failures"] == 2, s'
    run "$CERTCTL" check www
    assert_failure 1
    assert_output --partial "last staple failed"
}

@test "an HTML page instead of an OCSP response is rejected" {
    mko www
    ocsp_static_start html
    before=$(sum_nostate)
    run "$CERTCTL" staple www
    assert_failure 1
    assert_output --partial "not an OCSP response"
    [ ! -e "$(live www)/ocsp.der" ]
    [ "$(sum_nostate)" = "$before" ]
}

# bats test_tags=memcheck
@test "a 10 MB body is cut off at the 64 KiB cap, with or without Content-Length" {
    mko www
    before=$(sum_nostate)
    ocsp_static_start zeros $((10 * 1024 * 1024))
    SECONDS=0
    run "$CERTCTL" staple www
    assert_failure 1
    assert_output --partial "larger than 65536 bytes"
    ocsp_stop
    ocsp_static_start stream $((10 * 1024 * 1024))
    run "$CERTCTL" staple www
    assert_failure 1
    assert_output --partial "larger than 65536 bytes"
    [ "$SECONDS" -lt $((10 * SLOWDOWN)) ]
    [ ! -e "$(live www)/ocsp.der" ]
    [ "$(sum_nostate)" = "$before" ]
}

@test "an unsuccessful OCSP status (tryLater) or an HTTP error is not installed" {
    mko www
    printf '\x30\x03\x0a\x01\x03' >"$OCSP_DIR/trylater.der"
    ocsp_static_start file "$OCSP_DIR/trylater.der"
    before=$(sum_nostate)
    run "$CERTCTL" staple www
    assert_failure 1
    assert_output --partial "trylater"
    ocsp_stop
    ocsp_static_start status 500
    run "$CERTCTL" staple www
    assert_failure 1
    assert_output --partial "HTTP 500"
    [ "$(sum_nostate)" = "$before" ]
}

@test "a responder that never answers is given up after --timeout" {
    mko www
    ocsp_static_start hang
    before=$(sum_nostate)
    SECONDS=0
    run "$CERTCTL" staple --timeout 2 www
    assert_failure 1
    assert_output --partial "$OCSP_URL"
    assert_output --partial "timed out"
    [ "$SECONDS" -lt $((10 * SLOWDOWN)) ]
    [ "$(sum_nostate)" = "$before" ]
}

@test "the request: GET with the percent-encoded base64 when it fits in 255 bytes, else POST" {
    mko www
    ocsp_response "$OCSP_DIR/www.der" "$PKI/www.crt" "$OCSP_INDEX" "$PKI/inter.pem" \
        "$PKI/inter.key" -ndays 7
    ocsp_static_start file "$OCSP_DIR/www.der"
    run "$CERTCTL" staple www
    assert_success
    run ocsp_requests
    assert_line --index 0 --regexp '^GET /[A-Za-z0-9%]+ - [0-9]+$'
    run openssl ocsp -reqin "$OCSP_DIR/req.1.der" -req_text
    assert_success
    assert_output --partial "Hash Algorithm: sha1"
    assert_output --partial "Serial Number: $(openssl x509 -noout -serial -in "$PKI/www.crt" | cut -d= -f2)"
    refute_output --partial "Nonce"
    ocsp_stop
    # A 123-byte serial makes a 195-byte request: 260 bytes of base64.
    mko big --serial "7B$(printf 'AB%.0s' $(seq 1 122))"
    ocsp_response "$OCSP_DIR/big.der" "$PKI/big.crt" "$OCSP_INDEX" "$PKI/inter.pem" \
        "$PKI/inter.key" -ndays 7
    ocsp_static_start file "$OCSP_DIR/big.der"
    run "$CERTCTL" staple big
    assert_success
    run ocsp_requests
    assert_line --index 1 --regexp '^POST / application/ocsp-request [0-9]+$'
    run openssl ocsp -reqin "$OCSP_DIR/req.2.der" -req_text
    assert_success
    assert_output --partial "Serial Number: 7BABABAB"
}

# bats test_tags=memcheck
@test "--nonce: sent, echoed by openssl ocsp, and required in the response" {
    mko www
    # a canned response carries no nonce
    ocsp_response "$OCSP_DIR/canned.der" "$PKI/www.crt" "$OCSP_INDEX" \
        "$PKI/inter.pem" "$PKI/inter.key" -ndays 7
    ocsp_static_start file "$OCSP_DIR/canned.der"
    before=$(sum_nostate)
    run "$CERTCTL" staple --nonce www
    assert_failure 1
    assert_output --partial "nonce"
    [ "$(sum_nostate)" = "$before" ]
    run openssl ocsp -reqin "$OCSP_DIR/req.1.der" -req_text
    assert_output --partial "OCSP Nonce"
    # without --nonce the same response is fine
    run "$CERTCTL" staple www
    assert_success
    ocsp_stop
    # openssl ocsp echoes the nonce
    responder
    run "$CERTCTL" staple --nonce --force www
    assert_success
    assert_output --partial "stapled www"
    run openssl ocsp -respin "$(live www)/ocsp.der" -resp_text -noverify
    assert_output --partial "OCSP Nonce"
}

@test "a certificate without an OCSP URL is skipped (exit 10, a note with -v)" {
    mk www
    before=$(sum_nostate)
    run "$CERTCTL" staple www
    assert_failure 10
    assert_output ""
    run "$CERTCTL" -v staple www
    assert_failure 10
    assert_output --partial "names no OCSP responder"
    [ "$(sum_nostate)" = "$before" ]
    [ ! -e "$CERTDIR/.state/www.json" ]
}

@test "a must-staple certificate without an OCSP URL is an error (exit 1)" {
    mk www --must-staple
    before=$(sum_nostate)
    run "$CERTCTL" staple www
    assert_failure 1
    assert_output --partial "must-staple"
    [ "$(sum_nostate)" = "$before" ]
}

@test "check after staple: OK, and a must-staple certificate with a good staple is OK" {
    mko www
    mko ms --must-staple
    run "$CERTCTL" check ms
    assert_failure 2
    assert_output --partial "must-staple certificate without a staple"
    responder
    run "$CERTCTL" staple www ms
    assert_success
    assert_output --partial "stapled www"
    assert_output --partial "stapled ms"
    run "$CERTCTL" check www
    assert_success
    run "$CERTCTL" check ms
    assert_success
    run "$CERTCTL" --json check ms
    echo "$output" | python3 -c '
import json, sys
n = json.load(sys.stdin)["names"][0]
assert n["status"] == "OK", n'
}

@test "one name changing and another failing exits 0 and prints the failure" {
    mko good
    mk bad --ocsp "$OCSP_URL"
    responder
    run --separate-stderr "$CERTCTL" staple good bad
    assert_success
    assert_output --partial "stapled good"
    [[ $stderr == *bad:*UNKNOWN* ]]
    [ -f "$(live good)/ocsp.der" ]
    [ ! -e "$(live bad)/ocsp.der" ]
    # nothing changed and one failure: 1
    run "$CERTCTL" staple good bad
    assert_failure 1
    assert_output --partial "UNKNOWN"
}

# bats test_tags=memcheck
@test "--all staples every name that names a responder, concurrently" {
    for n in a b c d e; do mko $n.example; done
    mk plain.example
    responder
    run "$CERTCTL" staple --all --jobs 3
    assert_success
    for n in a b c d e; do
        assert_output --partial "stapled $n.example"
    done
    for n in a b c d e; do
        assert_good_staple "$(live $n.example)/ocsp.der" "$PKI/$n.example.crt"
    done
    [ ! -e "$(live plain.example)/ocsp.der" ]
    run "$CERTCTL" staple --all
    assert_failure 10
    assert_output ""
}

# bats test_tags=memcheck
@test "combined.pem.ocsp follows ocsp.der when files: [combined] is configured" {
    write_config "defaults: {files: [combined]}"
    pki_leaf "$PKI" www --ocsp "$OCSP_URL"
    ocsp_index_add "$OCSP_INDEX" V "$PKI/www.crt"
    run "$CERTCTL" import www --cert "$PKI/www.full.pem" --key "$PKI/www.key"
    assert_success
    dir=$(live www)
    [ -f "$dir/combined.pem" ]
    responder
    run "$CERTCTL" staple www
    assert_success
    cmp "$dir/ocsp.der" "$dir/combined.pem.ocsp"
    cmp "$dir/ocsp.der" "$CERTDIR/www.ocsp"
    cp "$dir/ocsp.der" "$BATS_TEST_TMPDIR/old.der"
    run "$CERTCTL" staple --force www
    assert_success
    cmp "$dir/ocsp.der" "$dir/combined.pem.ocsp"
    cmp "$BATS_TEST_TMPDIR/old.der" "$dir/combined.pem.ocsp.prev"
    differ "$BATS_TEST_TMPDIR/old.der" "$dir/combined.pem.ocsp"
}

@test "a failure writing combined.pem.ocsp does not hide a changed ocsp.der behind exit 1" {
    write_config "defaults: {files: [combined]}"
    pki_leaf "$PKI" www --ocsp "$OCSP_URL"
    ocsp_index_add "$OCSP_INDEX" V "$PKI/www.crt"
    run "$CERTCTL" import www --cert "$PKI/www.full.pem" --key "$PKI/www.key"
    assert_success
    responder
    run "$CERTCTL" staple www
    assert_success
    dir=$(live www)
    cp "$dir/ocsp.der" "$BATS_TEST_TMPDIR/good.der"
    # The second file of the install cannot be written (a directory sits
    # where its .prev goes: a stand-in for ENOSPC/EIO between two writes).
    mkdir "$dir/combined.pem.ocsp.prev"
    touch "$dir/combined.pem.ocsp.prev/x"
    run "$CERTCTL" staple --force www
    echo "status $status: $output"
    # Exit 1 promises that nothing changed (so nobody reloads); a change
    # must be reported with exit 0.
    if [ "$status" -eq 1 ]; then
        cmp "$BATS_TEST_TMPDIR/good.der" "$dir/ocsp.der"
    else
        assert_success
    fi
}

@test "a certificate issued directly by a trusted root (empty chain.pem) is stapled" {
    mk www --issuer root --ocsp "$OCSP_URL"
    ocsp_index_add "$OCSP_INDEX" V "$PKI/www.crt"
    run "$CERTCTL" check www
    assert_success
    # shellcheck disable=SC2034 # read by ocsp_start
    OCSP_CA=$PKI/root.pem
    ocsp_start "$OCSP_INDEX" "$PKI/root.pem" "$PKI/root.key" -ndays 7
    run "$CERTCTL" staple www
    assert_success
    assert_output --partial "stapled www"
    run openssl ocsp -respin "$(live www)/ocsp.der" -issuer "$PKI/root.pem" \
        -cert "$PKI/www.crt" -VAfile "$PKI/root.pem" -no_nonce
    assert_output --partial "good"
}

@test "a revoked mark does not outlive the certificate it was about" {
    mk www --ocsp "$OCSP_URL"
    ocsp_index_add "$OCSP_INDEX" R "$PKI/www.crt"
    responder
    run "$CERTCTL" staple www
    assert_failure 1
    assert_output --partial "REVOKED"
    run "$CERTCTL" check www
    assert_failure 2
    assert_output --partial "revoked"
    # The replacement comes from a CA without OCSP (as Let's Encrypt's
    # certificates have been since 2025): nothing to staple, nothing revoked.
    pki_leaf "$PKI" www2 --san www --cn www
    run "$CERTCTL" import www --cert "$PKI/www2.full.pem" --key "$PKI/www2.key"
    assert_success
    run "$CERTCTL" staple www
    assert_failure 10
    run "$CERTCTL" check www
    assert_success
}

@test "-n reports what is due and writes nothing, asking no responder" {
    mko www
    before=$(tree_sum "$CERTDIR")
    run "$CERTCTL" -n staple www
    [ "$status" -eq 0 ] || [ "$status" -eq 10 ]
    assert_output --partial "would staple www (no staple installed)"
    [ "$(tree_sum "$CERTDIR")" = "$before" ]
}

@test "usage errors exit 2; --all on an empty certdir exits 1" {
    mko www
    run "$CERTCTL" staple
    assert_failure 2
    run "$CERTCTL" staple --frob www
    assert_failure 2
    run "$CERTCTL" staple --timeout 0 www
    assert_failure 2
    run "$CERTCTL" staple --timeout soon www
    assert_failure 2
    run "$CERTCTL" staple --jobs 0 www
    assert_failure 2
    run "$CERTCTL" staple --all www
    assert_failure 2
    run "$CERTCTL" staple ../etc
    assert_failure 2
    assert_output --partial "invalid name"
    run "$CERTCTL" staple --help
    assert_success
    assert_output --partial "--nonce"
    rm -rf "$CERTDIR"
    mkdir -m 0755 "$CERTDIR"
    run "$CERTCTL" staple --all
    assert_failure 1
    assert_output --partial "no names"
}
