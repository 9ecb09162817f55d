# shellcheck shell=bash
# A private S3 bucket on loopback: s3rver 3.7.1 (npm; the REST semantics:
# PUT, GET, ETag, 304) behind tests/helpers/s3-verify.py, which checks every
# request's SigV4 signature with botocore's own code and answers 403 as S3
# does (s3rver itself accepts any signature). The bucket is "certs" in
# region us-east-1. Two keys: fleet (read-only) and issuer (read-write);
# their files are $S3_KEYS/{fleet,issuer}.{id,secret}, mode 0600.

S3_REGION=us-east-1

# s3_start: s3rver and the verifier on ports of their own; sets S3_PORT
# (the verifier: the bucket's endpoint), S3_DIR, S3_KEYS.
s3_start() {
    S3_DIR=$BATS_TEST_TMPDIR/s3
    S3_KEYS=$BATS_TEST_TMPDIR/s3keys
    mkdir -p "$S3_DIR/data" "$S3_DIR/control" "$S3_KEYS"
    _s3_key fleet AKIAFLEET0000000 'fleet/Secret+Key0000000000000000000000' ro
    _s3_key issuer AKIAISSUER000000 'issuer/Secret+Key000000000000000000000' ""
    S3_UPSTREAM=$(free_port)
    S3_PORT=$(free_port)
    s3rver -d "$S3_DIR/data" -a 127.0.0.1 -p "$S3_UPSTREAM" --service-endpoint localhost \
        --configure-bucket certs >"$S3_DIR/s3rver.log" 2>&1 &
    S3RVER_PID=$!
    wait_port "$S3_UPSTREAM"
    s3_verify_start 0
}

# _s3_key NAME ID SECRET [ro]: key files for NAME and a line in the
# verifier's list of known keys.
_s3_key() {
    (umask 077 && printf '%s\n' "$2" >"$S3_KEYS/$1.id" && printf '%s\n' "$3" >"$S3_KEYS/$1.secret")
    printf '%s %s %s\n' "$2" "$3" "$4" >>"$S3_DIR/keys"
}

# s3_verify_start OFFSET: (re)start the verifier on $S3_PORT; OFFSET
# seconds shift its clock (S3VERIFY_CLOCK_OFFSET).
s3_verify_start() {
    S3VERIFY_CLOCK_OFFSET=$1 python3 "$HELPERS/s3-verify.py" "$S3_PORT" "$S3_UPSTREAM" \
        "$S3_REGION" "$S3_DIR/keys" "$S3_DIR/control" 2>>"$S3_DIR/verify.log" &
    S3VERIFY_PID=$!
    wait_port "$S3_PORT"
}

# s3_verify_stop: the bucket's endpoint goes down (connections refused).
s3_verify_stop() {
    stop_pids "${S3VERIFY_PID:-}"
    S3VERIFY_PID=''
    wait_for 10 "port $S3_PORT to close" port_closed "$S3_PORT"
}

s3_stop() {
    [ -z "${S3VERIFY_PID:-}" ] || stop_pids "$S3VERIFY_PID"
    [ -z "${S3RVER_PID:-}" ] || stop_pids "$S3RVER_PID"
    S3VERIFY_PID='' S3RVER_PID=''
}

# s3_fault 500|slow|'': every request fails that way until cleared.
s3_fault() {
    if [ -n "$1" ]; then
        printf '%s\n' "$1" >"$S3_DIR/control/fault"
    else
        rm -f "$S3_DIR/control/fault"
    fi
}

# _s3_curl KEY ARGS...: curl with KEY's SigV4 credentials (curl signs).
_s3_curl() {
    local key=$1
    shift
    curl -sS --aws-sigv4 "aws:amz:$S3_REGION:s3" \
        -u "$(cat "$S3_KEYS/$key.id"):$(cat "$S3_KEYS/$key.secret")" "$@"
}

# s3_put FILE OBJECT: upload FILE as OBJECT ("web1/HASH.pem") with the
# issuer's key.
s3_put() {
    _s3_curl issuer -f -X PUT -H "x-amz-content-sha256: $(sha256sum <"$1" | cut -c1-64)" \
        --data-binary "@$1" "http://127.0.0.1:$S3_PORT/certs/$2" >/dev/null
}

# s3_get OBJECT: the object's body on stdout (fails on a non-2xx).
s3_get() {
    _s3_curl issuer -f -H "x-amz-content-sha256: $(printf '' | sha256sum | cut -c1-64)" \
        "http://127.0.0.1:$S3_PORT/certs/$1"
}

# s3_statuses: the verifier's log, "METHOD PATH STATUS [CODE]" a line.
s3_statuses() {
    cat "$S3_DIR/verify.log"
}
