#!/usr/bin/env bash
#
# bench/fleet.sh - the daily fleet run: how fast does a server learn that
# none of its certificates changed in the HTTP store?
#
#   bash bench/fleet.sh
#
# A certdir of BENCH_NAMES names (default 1000, made by bench/mkcertdir.c)
# whose full chains are also published, unchanged, by Debian's nginx over
# TLS on loopback. In one run on one machine, BENCH_RUNS runs each (default
# 3), median wall time, every answer a 304:
#   certctl      `certctl download --all --jobs 8` with a `type: http`
#                source (after one warm-up run that records the validators)
#   curl loop    what a fleet script does today, per name:
#                curl -z fullchain.pem -o new.pem https://store/NAME.pem
#                (If-Modified-Since from the local file; one process and one
#                TLS handshake per name)
# and the bucket case: the same names in a private S3 bucket (s3rver 3.7.1
# on loopback, plain http), put there by certctl's own publish:, then
#   certctl      the same run with `aws_sigv4:` on the source
#   curl loop    curl --aws-sigv4 per name, with --etag-compare/--etag-save
#                (If-None-Match from the ETag it saved)
# then prints tables and rewrites its sections of docs/BENCHMARKS.md
# (fleet and fleet-bucket).
#
# Knobs: BENCH_NAMES, BENCH_RUNS, BENCH_JOBS (default 8), BENCH_TMPDIR,
# BENCH_BUILD (default /tmp/build-fleet-bench), BENCH_KEEP=1,
# BENCH_NO_DOC=1, BENCH_CASES (default "http bucket": which to run).
#
# Needs: meson, ninja, cc, pkg-config, OpenSSL 3 headers and CLI, curl,
# nginx (Debian's nginx-light), python3, awk; s3rver 3.7.1 (npm) for the
# bucket case.

set -euo pipefail

here=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
top=$(dirname -- "$here")
names=${BENCH_NAMES:-1000}
runs=${BENCH_RUNS:-3}
jobs=${BENCH_JOBS:-8}
cases=" ${BENCH_CASES:-http bucket} "
build=${BENCH_BUILD:-/tmp/build-fleet-bench}
doc=$top/docs/BENCHMARKS.md
# shellcheck source=bench/lib.sh
source "$top/bench/lib.sh"
# shellcheck source=tests/helpers/net.bash
source "$top/tests/helpers/net.bash"
# shellcheck source=tests/helpers/httpd.bash
source "$top/tests/helpers/httpd.bash"
# shellcheck source=bench/fleet-bucket.sh
source "$here/fleet-bucket.sh"

[[ $names =~ ^[1-9][0-9]*$ ]] || die "BENCH_NAMES must be a positive number"
[[ $runs =~ ^[1-9][0-9]*$ ]] || die "BENCH_RUNS must be a positive number"
need meson ninja cc pkg-config openssl curl python3 awk
[[ -x /usr/sbin/nginx ]] || die "nginx is needed (apt-get install nginx-light)"

release_build "$build" "$top"
certctl=$CERTCTL
read -r -a ssl_flags <<<"$(pkg-config --cflags --libs openssl)"
cc -O2 -Wall -Wextra -o "$build/mkcertdir" "$here/mkcertdir.c" "${ssl_flags[@]}" ||
    die "cc mkcertdir.c failed"

# ----------------------------------------------------------------- setup

scratch_dir certctl-fleet-bench
work=$WORK
trap 'httpd_stop; bucket_stop; scratch_cleanup "$work"' EXIT
"$build/mkcertdir" "$work" "$names" >/dev/null || die "mkcertdir failed"
certdir=$work/certdir
store=$work/store
mkdir -p "$store"
for set in "$certdir"/.live/*.g0001; do
    name=${set##*/}
    cp "$set/fullchain.pem" "$store/${name%.g0001}.pem"
done
# Published a day ago, fetched since: If-Modified-Since is later than the
# store's Last-Modified, as for any fleet server.
touch -d '1 day ago' "$store"/*.pem

if [[ $cases == *" bucket "* ]]; then
    bucket_case
fi
[[ $cases == *" http "* ]] || exit 0

# The store's own TLS certificate, for 127.0.0.1.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
    -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 \
    -keyout "$work/store.key" -out "$work/store.pem" 2>/dev/null || die "openssl req failed"
# `if_modified_since before`: curl -z sends the local file's time, which is
# not the exact Last-Modified that nginx wants by default.
httpd_nginx_tls_start "$store" "$work/store.pem" "$work/store.key" \
    "if_modified_since before;" || die "nginx did not start"
url=https://127.0.0.1:$HTTPD_PORT

conf=$work/certctl.conf
{
    printf 'defaults: {source: fleet}\nsources:\n  fleet:\n    type: http\n'
    printf '    url: %s/{name}.pem\n    ca_file: %s\ncertificates:\n' "$url" "$work/store.pem"
    for set in "$certdir"/.live/*.g0001; do
        name=${set##*/}
        printf '  %s:\n' "${name%.g0001}"
    done
} >>"$conf"

# ----------------------------------------------------------------- runs

# 304s answered since the access log was last cleared.
not_modified() {
    grep -c '" 304 ' "$HTTPD_ACCESS_LOG" || true
}

run_certctl() {
    local t0 t1 rc=0
    : >"$HTTPD_ACCESS_LOG"
    t0=$EPOCHREALTIME
    "$certctl" -c "$conf" download --all --jobs "$jobs" >/dev/null || rc=$?
    t1=$EPOCHREALTIME
    ((rc == 10)) || die "certctl download --all exited $rc (want 10: nothing changed)"
    (($(not_modified) == names)) || die "certctl: $(not_modified) answers were 304, want $names"
    calc "$t1 - $t0"
}

run_loop() {
    local t0 t1 code set name bad=0
    : >"$HTTPD_ACCESS_LOG"
    t0=$EPOCHREALTIME
    for set in "$certdir"/.live/*.g0001; do
        name=${set##*/}
        name=${name%.g0001}
        code=$(curl -s --cacert "$work/store.pem" -z "$certdir/$name/fullchain.pem" \
            -o "$work/new.pem" -w '%{http_code}' "$url/$name.pem") || bad=1
        [[ $code == 304 ]] || bad=1
    done
    t1=$EPOCHREALTIME
    ((bad == 0)) || die "the curl loop got an answer other than 304"
    calc "$t1 - $t0"
}

load_start=$(cut -d' ' -f1-3 /proc/loadavg)
# The first run records ETag and Last-Modified in .state (and answers 200).
"$certctl" -c "$conf" download --all --jobs "$jobs" >/dev/null || true
certctl_times=() loop_times=()
for ((r = 1; r <= runs; r++)); do
    s=$(run_certctl)
    certctl_times+=("$s")
    printf 'certctl   run %d: %s s\n' "$r" "$s"
    s=$(run_loop)
    loop_times+=("$s")
    printf 'curl loop run %d: %s s\n' "$r" "$s"
done
load_end=$(cut -d' ' -f1-3 /proc/loadavg)
certctl_s=$(median "${certctl_times[@]}")
loop_s=$(median "${loop_times[@]}")
ratio=$(calc "$loop_s / $certctl_s" 1)
scaled=$(calc "$certctl_s * 1000 / $names")
v_ratio=$(verdict "$loop_s >= 10 * $certctl_s")
v_abs=$(verdict "$certctl_s * 1000 / $names < 1")

table=$(
    printf '| tool | %d names (s) | ms per name | vs certctl |\n|---|---:|---:|---:|\n' "$names"
    # shellcheck disable=SC2016 # the backticks are Markdown, not a command
    printf '| `certctl download --all --jobs %d` | %s | %s | 1x |\n' "$jobs" \
        "$(calc "$certctl_s")" "$(calc "$certctl_s * 1000 / $names")"
    # shellcheck disable=SC2016 # the backticks are Markdown, not a command
    printf '| curl loop (`curl -z` per name) | %s | %s | %sx slower |\n' \
        "$(calc "$loop_s")" "$(calc "$loop_s * 1000 / $names")" "$ratio"
)
targets=$(
    printf '| target | measured | |\n|---|---|---|\n'
    printf '| under 1 s for 1,000 names | %s s per 1,000 names | %s |\n' "$scaled" "$v_abs"
    printf '| at least 10x faster than the curl loop | %sx | %s |\n' "$ratio" "$v_ratio"
)
printf '\n%s\n\n%s\n\nload average: %s at the start, %s at the end\n' \
    "$table" "$targets" "$load_start" "$load_end"

[[ ${BENCH_NO_DOC-} == 1 ]] && exit 0

section=$work/section.md
cat >"$section" <<EOF
<!-- fleet:begin -->
<!-- Generated by bench/fleet.sh: do not edit by hand; rerun it to refresh. -->

## The daily fleet run: $names unchanged names from an HTTP store

Generated by \`bench/fleet.sh\` on $(date -u '+%Y-%m-%d %H:%M UTC').

A certdir of $names names (\`bench/mkcertdir.c\`) whose full chains are
published, unchanged, by Debian's nginx over TLS on loopback. Every answer
is a 304; median of $runs run(s), in the same run on the same machine:

- **certctl**: \`certctl download --all --jobs $jobs\` with a source of
  \`type: http\` (\`url: https://127.0.0.1:PORT/{name}.pem\`), after one
  warm-up run that recorded ETag and Last-Modified in \`.state\`. Exit 10,
  nothing written. Per name it reads the state and the live key, sends
  If-None-Match and If-Modified-Since, and it shares connections and TLS
  sessions across names.
- **curl loop**: what a fleet script does today, one name after the other:
  \`curl -z NAME/fullchain.pem -o new.pem https://127.0.0.1:PORT/NAME.pem\`
  (one process and one TLS handshake per name).

$table

### Targets

$targets

### Machine

$(machine_rows)
| curl | $(curl --version | head -1 | cut -d' ' -f1-2) |
| nginx | $(/usr/sbin/nginx -v 2>&1 | cut -d/ -f2) |
| certctl | $(source_state "$top"), meson release build |
| load average (1, 5, 15 min) | $load_start at the start, $load_end at the end |

Reproduce: \`bash bench/fleet.sh\` (knobs: \`BENCH_NAMES\`, \`BENCH_RUNS\`,
\`BENCH_JOBS\`, \`BENCH_TMPDIR\`, \`BENCH_BUILD\`, \`BENCH_KEEP=1\`,
\`BENCH_NO_DOC=1\`).
<!-- fleet:end -->
EOF
doc_section "$doc" fleet "$section" || die "cannot write $doc"
printf 'wrote the fleet section of %s\n' "$doc"
