# shellcheck shell=bash
# shellcheck disable=SC2154 # names, runs, jobs, work, ...: set by bench/fleet.sh
# bench/fleet-bucket.sh - the bucket case of bench/fleet.sh (sourced by it,
# which sets names, runs, jobs, certdir, store, work, certctl, top, doc):
# the same unchanged names in a private S3 bucket, s3rver 3.7.1 on
# loopback over plain http. s3rver does not check signatures (the tests
# put a botocore check in front; here it would only add the same cost to
# both sides); every request is signed all the same, by libcurl in both.

# The payload hash S3 wants on every SigV4 GET: that of the empty body.
empty_sha=e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855

bucket_stop() {
    if [[ -n ${s3rver_pid-} ]]; then
        kill "$s3rver_pid" 2>/dev/null || true
        wait "$s3rver_pid" 2>/dev/null || true
        s3rver_pid=
    fi
}

# bucket_conf FILE SOURCE-URL [publish]: a config for the bench certdir
# whose names come from SOURCE-URL; with "publish", a share of the bench
# store is the source and every name is published to the bucket.
bucket_conf() {
    {
        grep -E '^(certdir|trust):' "$work/certctl.conf"
        if [[ ${3-} == publish ]]; then
            printf 'defaults: {source: share, publish: [bucket]}\nsources:\n'
            printf '  share:\n    type: http\n    url: file://%s/{name}.pem\n' "$store"
        else
            printf 'defaults: {source: bucket}\nsources:\n'
        fi
        printf '  bucket:\n    type: http\n    url: %s\n    aws_sigv4:\n' "$2"
        printf '      region: us-east-1\n      access_key_id_file: %s\n' "$work/s3keys/id"
        printf '      secret_access_key_file: %s\ncertificates:\n' "$work/s3keys/secret"
        for set in "$certdir"/.live/*.g0001; do
            name=${set##*/}
            printf '  %s:\n' "${name%.g0001}"
        done
    } >"$1"
}

# GETs answered 304 since the log was last cleared (s3rver logs each one).
bucket_not_modified() {
    grep -c ' 304 ' "$work/s3rver.log" || true
}

# bucket_run_certctl: "WALL CPU" seconds of one run; CPU (user + system,
# certctl's own) shows how much of the wall time is the client's.
bucket_run_certctl() {
    local t0 t1 rc=0 cpu
    : >"$work/s3rver.log"
    t0=$EPOCHREALTIME
    /usr/bin/time -o "$work/cpu" -f '%U %S' \
        "$certctl" -c "$work/bucket.conf" download --all --jobs "$jobs" >/dev/null || rc=$?
    t1=$EPOCHREALTIME
    ((rc == 10)) || die "certctl download --all (bucket) exited $rc (want 10)"
    (($(bucket_not_modified) == names)) ||
        die "certctl (bucket): $(bucket_not_modified) answers were 304, want $names"
    cpu=$(awk 'END { print $1 + $2 }' "$work/cpu")
    printf '%s %s\n' "$(calc "$t1 - $t0")" "$cpu"
}

# bucket_loop WANT: curl --aws-sigv4 per name; the warm-up (WANT 200)
# saves each ETag, the timed runs (WANT 304) send it as If-None-Match
# (curl 7.88 would empty a saved ETag on a 304 that carries none).
bucket_loop() {
    local t0 t1 code set name bad=0 id secret etag_opt=--etag-compare
    id=$(cat "$work/s3keys/id")
    secret=$(cat "$work/s3keys/secret")
    mkdir -p "$work/etags"
    [[ $1 == 304 ]] || etag_opt=--etag-save
    t0=$EPOCHREALTIME
    for set in "$certdir"/.live/*.g0001; do
        name=${set##*/}
        name=${name%.g0001}
        code=$(curl -s --aws-sigv4 aws:amz:us-east-1:s3 -u "$id:$secret" \
            -H "x-amz-content-sha256: $empty_sha" \
            "$etag_opt" "$work/etags/$name" \
            -o "$work/new.pem" -w '%{http_code}' "$bucket_url/$name.pem") || bad=1
        [[ $code == "$1" ]] || bad=1
    done
    t1=$EPOCHREALTIME
    ((bad == 0)) || die "the curl --aws-sigv4 loop got an answer other than $1"
    calc "$t1 - $t0"
}

bucket_case() {
    local port rc=0 b_times=() b_cpus=() l_times=() b_s b_cpu l_s ratio v_ratio table
    local section s r cpu
    need s3rver
    [[ -x /usr/bin/time ]] || die "/usr/bin/time is needed (apt-get install time)"
    port=$(free_port)
    mkdir -p "$work/s3" "$work/s3keys"
    # s3rver knows one key id, S3RVER; it does not check SigV4 signatures.
    (umask 077 && echo S3RVER >"$work/s3keys/id" && echo S3RVER >"$work/s3keys/secret")
    s3rver -d "$work/s3" -a 127.0.0.1 -p "$port" --configure-bucket certs \
        >"$work/s3rver.log" 2>&1 &
    s3rver_pid=$!
    wait_port "$port" || die "s3rver did not start"
    bucket_url=http://127.0.0.1:$port/certs
    # Fill the bucket the way an issuing host does: certctl's publish:.
    bucket_conf "$work/publish.conf" "$bucket_url/{name}.pem" publish
    "$certctl" -c "$work/publish.conf" download --all --jobs "$jobs" >/dev/null || rc=$?
    ((rc == 10)) || die "publishing to the bucket exited $rc (want 10)"
    bucket_conf "$work/bucket.conf" "$bucket_url/{name}.pem"
    # Warm-ups: each side records its ETags (200s).
    "$certctl" -c "$work/bucket.conf" download --all --jobs "$jobs" >/dev/null || true
    bucket_loop 200 >/dev/null
    for ((r = 1; r <= runs; r++)); do
        read -r s cpu < <(bucket_run_certctl) || die "the certctl run failed"
        b_times+=("$s")
        b_cpus+=("$cpu")
        printf 'certctl (bucket)      run %d: %s s (CPU %s s)\n' "$r" "$s" "$cpu"
        s=$(bucket_loop 304)
        l_times+=("$s")
        printf 'curl --aws-sigv4 loop run %d: %s s\n' "$r" "$s"
    done
    bucket_stop
    b_s=$(median "${b_times[@]}")
    b_cpu=$(median "${b_cpus[@]}")
    l_s=$(median "${l_times[@]}")
    ratio=$(calc "$l_s / $b_s" 1)
    v_ratio=$(verdict "$l_s >= 50 * $b_s")
    # shellcheck disable=SC2016 # the backticks are Markdown, not a command
    table=$(
        printf '| tool, from the bucket (SigV4) | %d names (s) | ms per name | vs certctl |\n' "$names"
        printf '|---|---:|---:|---:|\n'
        printf '| `certctl download --all --jobs %d` (`aws_sigv4:`) | %s | %s | 1x |\n' "$jobs" \
            "$(calc "$b_s")" "$(calc "$b_s * 1000 / $names")"
        printf '| `curl --aws-sigv4` loop (`--etag-compare`, one process per name) | %s | %s | %sx slower |\n' \
            "$(calc "$l_s")" "$(calc "$l_s * 1000 / $names")" "$ratio"
        printf '| certctl CPU time (user + system), median | %s | %s | |\n' \
            "$(calc "$b_cpu")" "$(calc "$b_cpu * 1000 / $names")"
        printf '| target: at least 50x faster than the loop | %sx | | %s |\n' "$ratio" "$v_ratio"
    )
    printf '\n%s\n' "$table"
    [[ ${BENCH_NO_DOC-} == 1 ]] && return 0
    section=$work/bucket-section.md
    cat >"$section" <<EOF2
<!-- fleet-bucket:begin -->
<!-- Generated by bench/fleet.sh (the bucket case): rerun it to refresh. -->

### The same from a private S3 bucket

Generated by \`bench/fleet.sh\` on $(date -u '+%Y-%m-%d %H:%M UTC') (\`BENCH_CASES=bucket\`),
$(curl --version | head -1 | cut -d' ' -f1-2), certctl $(source_state "$top"). The
$names full chains in a bucket of s3rver $(s3rver --version) on loopback (plain
http; s3rver answers If-None-Match with 304 and does not check SigV4
signatures), put there by certctl's own \`publish:\`. Every request is
SigV4-signed by libcurl; every answer is a 304; median of $runs run(s).
s3rver (Node.js, one thread, JSON metadata per object on disk) answers
a few hundred requests a second at most: certctl's wall time is the
server's; its own CPU time is the third row. Against nginx (the
section above) the same run takes a fraction of a second.

$table
<!-- fleet-bucket:end -->
EOF2
    doc_section "$doc" fleet-bucket "$section" || die "cannot write $doc"
    printf 'wrote the fleet-bucket section of %s\n' "$doc"
}
