#!/usr/bin/env bats
# The fleet on object storage (DESIGN.md section 9): an http source signed
# with AWS Signature V4 (aws_sigv4:, libcurl's CURLOPT_AWS_SIGV4) pulling
# from a private bucket, and publish: writing each new live set to the
# stores it names (a bucket by PUT, a directory by an atomic write).
#
# The S3 server in every test is s3rver 3.7.1 (npm) on loopback, fronted by
# tests/helpers/s3-verify.py: s3rver accepts any signature, so the front
# checks each request's signature with botocore's S3SigV4Auth (recomputed
# over the request as received), the clock skew (15 minutes, as S3) and the
# key's rights, answering 403 with S3's error codes, and can be told to
# answer 500 or to hang. The clock-skew cases shift the verifier's clock
# (S3VERIFY_CLOCK_OFFSET), not certctl's.

# SC2030/SC2031: each @test runs in its own subshell, by design.
# shellcheck disable=SC2030,SC2031
bats_require_minimum_version 1.5.0

setup() {
    load ../helpers/common
    load ../helpers/s3
    load ../helpers/fleet
    common_setup
    W=$BATS_TEST_TMPDIR
    s3_start
    PATH_URL="http://127.0.0.1:$S3_PORT/certs/{name}/{spki_sha256}.pem"
    bucket_config "$PATH_URL"
}

teardown() {
    report_on_failure
    s3_stop
}

# ------------------------------------------------------------------ helpers

# sigv4 KEY: the aws_sigv4 block of a source using KEY's files.
sigv4() {
    printf '    aws_sigv4:\n      region: %s\n      access_key_id_file: %s\n      secret_access_key_file: %s\n' \
        "$S3_REGION" "$S3_KEYS/$1.id" "$S3_KEYS/$1.secret"
}

# bucket_config URL [MORE]: web1 pulls from the bucket at URL with the
# fleet's read-only key; MORE is more YAML for the source.
bucket_config() {
    write_config "defaults: {source: bucket}
sources:
  bucket:
    type: http
    url: $1
$(sigv4 fleet)
${2:-}
certificates:
  web1: {domains: [web1]}"
}

# sign_pending: a pending key for web1 (its hash in HASH) and its CSR
# signed by the test CA: $W/c1.full.pem, the full chain.
sign_pending() {
    run "$CERTCTL" rekey web1
    assert_success
    HASH=$(spki_of "$CERTDIR/.pending/web1/privkey.pem")
    run "$CERTCTL" rekey --print-csr web1
    assert_success
    printf '%s\n' "$output" >"$W/web1.csr"
    pki_csr_sign "$PKI" "$W/web1.csr" "$W/c1.crt"
    cat "$W/c1.crt" "$PKI/inter.pem" >"$W/c1.full.pem"
}

# enroll: sign_pending, and the full chain put in the bucket under
# web1/HASH.pem (as an issuing host would).
enroll() {
    sign_pending
    s3_put "$W/c1.full.pem" "web1/$HASH.pem"
}

# first_pull: enroll and download: web1 is live from the bucket.
first_pull() {
    enroll
    run --separate-stderr "$CERTCTL" download web1
    assert_success
    assert_equal "$(readlink "$CERTDIR/web1")" ".live/web1.g0001"
}

# --------------------------------------------------------------- pulling

# bats test_tags=memcheck
@test "s3rver+verifier: a path-style pull is signed (botocore agrees), installs, then a 304" {
    enroll
    run --separate-stderr "$CERTCTL" download web1
    assert_success
    assert_output --partial "installed web1"
    assert_equal "$(readlink "$CERTDIR/web1")" ".live/web1.g0001"
    assert_equal "$(cat "$CERTDIR/web1/fullchain.pem")" "$(cat "$W/c1.full.pem")"
    # The verifier let one signed GET through, s3rver answered 200.
    assert_equal "$(grep -c "^GET /certs/web1/$HASH.pem 200$" "$S3_DIR/verify.log")" 1
    jq -e '.http.etag | length > 0' "$CERTDIR/.state/web1.json"
    unchanged
    assert_equal "$(tail -n1 "$S3_DIR/verify.log")" "GET /certs/web1/$HASH.pem 304"
}

@test "s3rver+verifier: a virtual-host-style URL (BUCKET.s3.localhost) works the same" {
    enroll
    bucket_config "http://certs.s3.localhost:$S3_PORT/{name}/{spki_sha256}.pem"
    run --separate-stderr "$CERTCTL" download web1
    assert_success
    assert_equal "$(readlink "$CERTDIR/web1")" ".live/web1.g0001"
    assert_equal "$(tail -n1 "$S3_DIR/verify.log")" "GET /web1/$HASH.pem 200"
    unchanged
    assert_equal "$(tail -n1 "$S3_DIR/verify.log")" "GET /web1/$HASH.pem 304"
}

# bats test_tags=memcheck
@test "s3rver+verifier: a wrong secret is SignatureDoesNotMatch (exit 1, certdir unchanged)" {
    first_pull
    (umask 077 && echo 'not/the+secret' >"$S3_KEYS/fleet.secret")
    rejected "answered HTTP 403 (SignatureDoesNotMatch)"
    [[ $stderr == *"check secret_access_key_file"* ]] || fail "stderr: $stderr"
    # Recorded for check; the secret itself is written nowhere.
    run "$CERTCTL" check web1
    assert_failure 1
    assert_output --partial "SignatureDoesNotMatch"
    run grep -rF 'not/the+secret' "$CERTDIR"
    assert_failure 1
}

@test "s3rver+verifier: an unknown key id is a 403 InvalidAccessKeyId (exit 1, certdir unchanged)" {
    first_pull
    (umask 077 && echo 'AKIANOBODY000000' >"$S3_KEYS/fleet.id")
    rejected "answered HTTP 403 (InvalidAccessKeyId): check access_key_id_file"
}

@test "s3rver+verifier (its clock shifted): a skew over 15 minutes is RequestTimeTooSkewed; 10 minutes is fine" {
    first_pull
    # The verifier's notion of now moves, certctl's clock stays.
    s3_verify_stop
    s3_verify_start 960
    rejected "answered HTTP 403 (RequestTimeTooSkewed): this host's clock is off"
    s3_verify_stop
    s3_verify_start -960
    rejected "RequestTimeTooSkewed"
    s3_verify_stop
    s3_verify_start 600
    run --separate-stderr "$CERTCTL" download web1
    assert_failure 10
    assert_equal "$(tail -n1 "$S3_DIR/verify.log")" "GET /certs/web1/$HASH.pem 304"
}

@test "s3rver+verifier: a 500 from the bucket is an error (exit 1, certdir unchanged)" {
    first_pull
    s3_fault 500
    rejected "answered HTTP 500 (InternalError)"
}

@test "s3rver+verifier: a bucket that never answers is cut off by the total timeout" {
    first_pull
    bucket_config "$PATH_URL" "    timeout: {total: 2s}"
    s3_fault slow
    rejected "timed out"
}

@test "key files that group or others may read, not regular, or missing are a config error (exit 2)" {
    chmod 0644 "$S3_KEYS/fleet.secret"
    refused 2 "secret_access_key_file '$S3_KEYS/fleet.secret' is readable by group or others (mode 0644)" download web1
    [[ $output == *"certctl.conf:"* ]] || fail "no file:line: $output"
    chmod 0600 "$S3_KEYS/fleet.secret"
    chmod 0640 "$S3_KEYS/fleet.id"
    refused 2 "access_key_id_file '$S3_KEYS/fleet.id' is readable by group or others (mode 0640)" download web1
    chmod 0600 "$S3_KEYS/fleet.id"
    rm "$S3_KEYS/fleet.id"
    mkdir "$S3_KEYS/fleet.id"
    chmod 0700 "$S3_KEYS/fleet.id"
    refused 2 "access_key_id_file '$S3_KEYS/fleet.id' is not a regular file" download web1
    rmdir "$S3_KEYS/fleet.id"
    refused 2 "cannot read access_key_id_file '$S3_KEYS/fleet.id'" download web1
}

@test "a key file owned by another user is a config error (exit 2)" {
    [ "$(id -u)" -eq 0 ] || skip "needs root to give the file away"
    chown nobody "$S3_KEYS/fleet.secret"
    refused 2 "is owned by uid $(id -u nobody), not by this user or root" download web1
}

@test "aws_sigv4 without a region or key file, or with a bad region, is a config error" {
    write_config "sources:
  bucket:
    type: http
    url: $PATH_URL
    aws_sigv4: {region: $S3_REGION, access_key_id_file: $S3_KEYS/fleet.id}"
    refused 2 "'aws_sigv4' needs 'region', 'access_key_id_file' and 'secret_access_key_file'" download --all
    write_config "sources:
  bucket:
    type: http
    url: $PATH_URL
    aws_sigv4: {region: 'us-east-1:x', access_key_id_file: $S3_KEYS/fleet.id, secret_access_key_file: $S3_KEYS/fleet.secret}"
    refused 2 "key 'region' must be lower-case letters, digits and '-'" download --all
}

@test "the secrets are never printed, not even at -vvv" {
    first_pull
    run --separate-stderr "$CERTCTL" -vvv download web1
    assert_failure 10
    for f in "$S3_KEYS"/fleet.*; do
        [[ "$output$stderr" != *"$(cat "$f")"* ]] || fail "$f printed: $output $stderr"
        run grep -rF "$(cat "$f")" "$CERTDIR"
        assert_failure 1
    done
}

# ------------------------------------------------------------- publishing

# issuer_config: the issuing host. web1 comes from a directory (its
# "CA" here) and is published to the bucket (issuer key) and to a share.
issuer_config() {
    write_config "defaults: {source: ca}
sources:
  ca:
    type: http
    url: file://$W/ca/{name}/{spki_sha256}.pem
  bucket:
    type: http
    url: $PATH_URL
$(sigv4 "${1:-issuer}")
  share:
    type: http
    url: file://$W/share/{name}/{spki_sha256}.pem
certificates:
  web1: {domains: [web1], publish: [bucket, share]}"
}

# issue: the issuing host's new certificate for web1 (pending key) waits in
# its "CA" directory.
issue() {
    sign_pending
    mkdir -p "$W/ca/web1"
    cp "$W/c1.full.pem" "$W/ca/web1/$HASH.pem"
}

# bats test_tags=memcheck
@test "s3rver+verifier: after a download the new fullchain is PUT to the bucket and written to the share" {
    issuer_config
    issue
    run --separate-stderr "$CERTCTL" download web1
    assert_success
    assert_line "published web1 to 'bucket'"
    assert_line "published web1 to 'share'"
    [ -z "$stderr" ] || fail "stderr: $stderr"
    # Both stores hold exactly the live fullchain, under the key's hash.
    assert_equal "$(s3_get "web1/$HASH.pem")" "$(cat "$CERTDIR/web1/fullchain.pem")"
    assert_equal "$(cat "$W/share/web1/$HASH.pem")" "$(cat "$CERTDIR/web1/fullchain.pem")"
    assert_equal "$(stat -c %a "$W/share/web1/$HASH.pem")" 644
    assert_equal "$(ls -A "$W/share/web1")" "$HASH.pem"
    grep -q "^PUT /certs/web1/$HASH.pem 200$" "$S3_DIR/verify.log"
    # Nothing new: no PUT again, silent, exit 10, nothing written.
    unchanged
    assert_equal "$(grep -c '^PUT ' "$S3_DIR/verify.log")" 1
    # check says when each store got it.
    run "$CERTCTL" -v check web1
    assert_success
    assert_output --regexp "store 'bucket' got the live certificate on [0-9]{4}-"
    assert_output --partial "store 'share' got the live certificate on"
}

@test "s3rver+verifier: an import that installs publishes too" {
    issuer_config
    pki_leaf "$PKI" web1
    HASH=$(spki_of "$PKI/web1.key")
    run --separate-stderr "$CERTCTL" import --cert "$PKI/web1.crt" --key "$PKI/web1.key" \
        --chain "$PKI/web1.chain.pem" web1
    assert_success
    assert_line "published web1 to 'bucket'"
    assert_line "published web1 to 'share'"
    assert_equal "$(s3_get "web1/$HASH.pem")" "$(cat "$CERTDIR/web1/fullchain.pem")"
    assert_equal "$(cat "$W/share/web1/$HASH.pem")" "$(cat "$CERTDIR/web1/fullchain.pem")"
}

@test "s3rver+verifier: a failed publish is an error, recorded, retried with nothing due, then done" {
    issuer_config
    issue
    s3_verify_stop
    # The bucket is down: web1 is installed (exit 0: reload) and the
    # failure is said; the share got it.
    run --separate-stderr "$CERTCTL" download web1
    assert_success
    assert_line --partial "installed web1"
    assert_line "published web1 to 'share'"
    [[ $stderr == "certctl: web1: publish to 'bucket': 'http://127.0.0.1:$S3_PORT/certs/web1/$HASH.pem'"* ]] ||
        fail "stderr: $stderr"
    jq -e '.publish.bucket.last_error | length > 0' "$CERTDIR/.state/web1.json"
    run "$CERTCTL" check web1
    assert_failure 1
    assert_output --partial "publish to 'bucket' pending: last tried on"
    # Next run: nothing due, the bucket still down: exit 1, said again,
    # the live set untouched.
    before=$(live_sum)
    run --separate-stderr "$CERTCTL" download web1
    assert_failure 1
    assert_output ""
    [[ $stderr == "certctl: web1: publish to 'bucket':"* ]] || fail "stderr: $stderr"
    assert_equal "$(live_sum)" "$before"
    # The bucket is back: the next run publishes (nothing due, exit 10).
    s3_verify_start 0
    run --separate-stderr "$CERTCTL" download web1
    assert_failure 10
    assert_output "published web1 to 'bucket'"
    [ -z "$stderr" ] || fail "stderr: $stderr"
    assert_equal "$(s3_get "web1/$HASH.pem")" "$(cat "$CERTDIR/web1/fullchain.pem")"
    run "$CERTCTL" -v check web1
    assert_success
    assert_output --partial "store 'bucket' got the live certificate on"
    jq -e '.publish.bucket | has("last_error") | not' "$CERTDIR/.state/web1.json"
}

@test "s3rver+verifier: publishing with the fleet's read-only key is a 403 AccessDenied, kept pending" {
    issuer_config fleet
    issue
    run --separate-stderr "$CERTCTL" download web1
    assert_success
    [[ $stderr == *"answered HTTP 403 (AccessDenied)"* ]] || fail "stderr: $stderr"
    run "$CERTCTL" check web1
    assert_failure 1
    assert_output --partial "publish to 'bucket' pending"
}

@test "publish: names that are no http source are a config error" {
    write_config "sources:
  ca: {type: http, url: 'file:///nowhere/{name}'}
certificates:
  web1: {source: ca, publish: [ca, nowhere]}"
    refused 2 "publish: 'nowhere' is not an http source under 'sources'" download web1
}
