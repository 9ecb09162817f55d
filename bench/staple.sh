#!/usr/bin/env bash
#
# bench/staple.sh - how fast does `certctl staple --all` fetch, verify and
# install fresh OCSP staples, against the per-certificate openssl way?
#
#   bash bench/staple.sh
#
# A certdir of BENCH_NAMES names (default 500, bench/mkcertdir.c) whose
# leaves name a real responder on loopback: `openssl ocsp -index ... -multi
# 4`, signing with the issuing intermediate. In one run on one machine,
# BENCH_RUNS runs each (default 3), median wall time:
#   certctl        `certctl staple --all --force` (every name fetched,
#                  verified and installed by rename; --jobs default 4)
#   openssl way    what an ocspbot-style script does per certificate: one
#                  `openssl ocsp` process to fetch the response, a second to
#                  verify it, then mv into place
# then prints a table and rewrites its section of docs/BENCHMARKS.md.
#
# Knobs: BENCH_NAMES, BENCH_RUNS, BENCH_TMPDIR, BENCH_BUILD (default
# /tmp/build-staple-bench), BENCH_KEEP=1, BENCH_NO_DOC=1.
#
# Needs: meson, ninja, cc, pkg-config, OpenSSL 3 headers and CLI, python3,
# awk.

set -euo pipefail

here=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
top=$(dirname -- "$here")
names=${BENCH_NAMES:-500}
runs=${BENCH_RUNS:-3}
build=${BENCH_BUILD:-/tmp/build-staple-bench}
doc=$top/docs/BENCHMARKS.md
# shellcheck source=bench/lib.sh
source "$top/bench/lib.sh"
# shellcheck source=tests/helpers/net.bash
source "$top/tests/helpers/net.bash"

[[ $names =~ ^[1-9][0-9]*$ ]] || die "BENCH_NAMES must be a positive number"
[[ $runs =~ ^[1-9][0-9]*$ ]] || die "BENCH_RUNS must be a positive number"
need meson ninja cc pkg-config openssl python3 awk

release_build "$build" "$top"
certctl=$CERTCTL
read -r -a ssl_flags <<<"$(pkg-config --cflags --libs openssl)"
cc -O2 -Wall -Wextra -o "$build/mkcertdir" "$here/mkcertdir.c" "${ssl_flags[@]}" ||
    die "cc mkcertdir.c failed"

# ----------------------------------------------------------------- setup

scratch_dir certctl-staple-bench
work=$WORK
responder_pid=
stop_responder() {
    if [[ -n $responder_pid ]]; then
        kill "$responder_pid" 2>/dev/null || true
        wait "$responder_pid" 2>/dev/null || true
    fi
}
trap 'stop_responder; scratch_cleanup "$work"' EXIT

port=$(free_port)
url=http://127.0.0.1:$port
"$build/mkcertdir" "$work" "$names" "$url" >/dev/null || die "mkcertdir failed"
certdir=$work/certdir
printf 'unique_subject = no\n' >"$work/index.txt.attr"
# -multi 4: four responder processes, so the responder is not what limits
# either side.
openssl ocsp -index "$work/index.txt" -port "$port" -CA "$work/inter.pem" \
    -rsigner "$work/inter.pem" -rkey "$work/inter.key" -ndays 7 -multi 4 \
    </dev/null >"$work/responder.log" 2>&1 &
responder_pid=$!
# Not wait_port: OpenSSL 3.0's -multi responder child that gets a
# connection without a request spins at 100% CPU for good. It says ACCEPT
# once it listens.
for ((i = 0; i < 100; i++)); do
    grep -q ACCEPT "$work/responder.log" && break
    sleep 0.1
done
grep -q ACCEPT "$work/responder.log" ||
    die "the OCSP responder did not start: $(cat "$work/responder.log")"
conf=$work/certctl.conf

mapfile -t all_names < <(cd "$certdir" && ls -d name*.example)

# ----------------------------------------------------------------- runs

run_certctl() {
    local t0 t1 rc=0 made
    t0=$EPOCHREALTIME
    "$certctl" -c "$conf" staple --all --force >/dev/null || rc=$?
    t1=$EPOCHREALTIME
    ((rc == 0)) || die "certctl staple --all --force exited $rc (want 0)"
    made=$(find "$certdir/.live" -name ocsp.der -newermt "@${t0%.*}" | wc -l)
    ((made == names)) || die "certctl renewed $made staples, want $names"
    calc "$t1 - $t0"
}

# The openssl way, per name: fetch, verify, install.
run_openssl() {
    local t0 t1 name dir
    t0=$EPOCHREALTIME
    for name in "${all_names[@]}"; do
        dir=$certdir/$name
        openssl ocsp -issuer "$dir/chain.pem" -cert "$dir/cert.pem" -url "$url" \
            -no_nonce -noverify -respout "$work/resp.der" >/dev/null 2>&1 ||
            die "openssl ocsp could not fetch for $name"
        openssl ocsp -respin "$work/resp.der" -issuer "$dir/chain.pem" \
            -cert "$dir/cert.pem" -CAfile "$work/trust.pem" -no_nonce 2>&1 |
            grep -q "$dir/cert.pem: good" || die "openssl ocsp did not verify $name"
        mv -f "$work/resp.der" "$work/$name.ocsp"
    done
    t1=$EPOCHREALTIME
    calc "$t1 - $t0"
}

load_start=$(cut -d' ' -f1-3 /proc/loadavg)
certctl_times=() openssl_times=()
for ((r = 1; r <= runs; r++)); do
    s=$(run_certctl)
    certctl_times+=("$s")
    printf 'certctl     run %d: %s s\n' "$r" "$s"
    s=$(run_openssl)
    openssl_times+=("$s")
    printf 'openssl way run %d: %s s\n' "$r" "$s"
done
load_end=$(cut -d' ' -f1-3 /proc/loadavg)
certctl_s=$(median "${certctl_times[@]}")
openssl_s=$(median "${openssl_times[@]}")
ratio=$(calc "$openssl_s / $certctl_s" 1)
v_ratio=$(verdict "$openssl_s >= 10 * $certctl_s")

table=$(
    printf '| tool | %d names (s) | ms per name | vs certctl |\n|---|---:|---:|---:|\n' "$names"
    # shellcheck disable=SC2016 # the backticks are Markdown, not a command
    printf '| `certctl staple --all --force` | %s | %s | 1x |\n' \
        "$(calc "$certctl_s")" "$(calc "$certctl_s * 1000 / $names")"
    printf '| openssl way (fetch + verify process per name) | %s | %s | %sx slower |\n' \
        "$(calc "$openssl_s")" "$(calc "$openssl_s * 1000 / $names")" "$ratio"
)
targets=$(
    printf '| target | measured | |\n|---|---|---|\n'
    printf '| at least 10x faster than the openssl way | %sx | %s |\n' "$ratio" "$v_ratio"
)
printf '\n%s\n\n%s\n\nload average: %s at the start, %s at the end\n' \
    "$table" "$targets" "$load_start" "$load_end"

[[ ${BENCH_NO_DOC-} == 1 ]] && exit 0

section=$work/section.md
cat >"$section" <<EOF
<!-- staple:begin -->
<!-- Generated by bench/staple.sh: do not edit by hand; rerun it to refresh. -->

## \`certctl staple --all\` on $names names

Generated by \`bench/staple.sh\` on $(date -u '+%Y-%m-%d %H:%M UTC').

A certdir of $names names (\`bench/mkcertdir.c\`) whose leaves name one
OCSP responder on loopback: \`openssl ocsp -index ... -multi 4 -ndays 7\`,
signing with the issuing intermediate. Median of $runs run(s), in the same
run on the same machine:

- **certctl**: \`certctl staple --all --force\`: for every name a request
  (GET, SHA-1 CertID), the verification of section 4 (signer, CertID, good,
  thisUpdate/nextUpdate, newer than the installed one) and an install by
  rename into the live generation, 4 names at a time (\`--jobs\` default).
- **openssl way**: what an ocspbot-style script does, per name: \`openssl
  ocsp -issuer chain.pem -cert cert.pem -url URL -respout resp.der\`, then
  \`openssl ocsp -respin resp.der ... -CAfile trust.pem\` to verify it, then
  \`mv\` into place.

$table

### Targets

$targets

### Machine

$(machine_rows)
| certctl | $(source_state "$top"), meson release build |
| load average (1, 5, 15 min) | $load_start at the start, $load_end at the end |

Reproduce: \`bash bench/staple.sh\` (knobs: \`BENCH_NAMES\`, \`BENCH_RUNS\`,
\`BENCH_TMPDIR\`, \`BENCH_BUILD\`, \`BENCH_KEEP=1\`, \`BENCH_NO_DOC=1\`).
<!-- staple:end -->
EOF
doc_section "$doc" staple "$section" || die "cannot write $doc"
printf 'wrote the staple section of %s\n' "$doc"
