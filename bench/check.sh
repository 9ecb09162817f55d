#!/usr/bin/env bash
#
# bench/check.sh - how fast is `certctl check --all` on a big certdir?
#
#   bash bench/check.sh
#
# In one run on one machine, against one freshly made certdir of
# BENCH_NAMES names (default 10000):
#   certctl   `certctl -c CONF check --all`, BENCH_RUNS runs (default 3),
#             median wall time, peak RSS (/usr/bin/time -f %M)
#   loop      what a sysadmin's cron script does today, per cert:
#             openssl x509 -checkend + openssl verify, timed on a sample of
#             BENCH_SAMPLE names (default 200) spread over the certdir and
#             extrapolated per cert
#   floor     bench/floor.c: parse cert.pem + chain.pem and verify the
#             leaf's signature, one process, one thread (median of runs)
# then prints a table and rewrites its section of docs/BENCHMARKS.md.
#
# Other knobs: BENCH_TMPDIR (where the certdir goes; default /dev/shm when
# it is a writable tmpfs, else TMPDIR or /tmp), BENCH_BUILD (meson build
# dir for certctl and the bench programs; default bench/build),
# BENCH_CERTCTL (a certctl binary to measure instead of building one),
# BENCH_KEEP=1 keeps the certdir.
#
# Needs: cc, pkg-config, OpenSSL 3 headers and CLI, meson, ninja, GNU time
# (/usr/bin/time; installed with apt-get when running as root).

set -euo pipefail

here=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
top=$(dirname -- "$here")
names=${BENCH_NAMES:-10000}
sample=${BENCH_SAMPLE:-200}
runs=${BENCH_RUNS:-3}
build=${BENCH_BUILD:-$here/build}
doc=$top/docs/BENCHMARKS.md
# shellcheck source=bench/lib.sh
source "$top/bench/lib.sh"

# ----------------------------------------------------------------- tools

need cc pkg-config openssl meson ninja awk
if [[ ! -x /usr/bin/time ]]; then
    # GNU time reports peak RSS; bash's `time` keyword cannot.
    if ((EUID == 0)) && command -v apt-get >/dev/null; then
        apt-get install -y -qq time >/dev/null || die "apt-get install time failed"
    else
        die "/usr/bin/time (GNU time) is needed: apt-get install time"
    fi
fi
pkg-config --atleast-version=3.0.0 openssl || die "OpenSSL >= 3.0 development files needed"

# ----------------------------------------------------------------- build

# A release build of its own, so the numbers never come from a debug or
# sanitizer build someone else configured. ninja rebuilds only what changed.
# BENCH_CERTCTL=/path/to/certctl measures a binary built elsewhere instead.
if [[ -n ${BENCH_CERTCTL-} ]]; then
    certctl=$BENCH_CERTCTL
    [[ -x $certctl ]] || die "BENCH_CERTCTL=$certctl is not executable"
    mkdir -p -- "$build"
else
    release_build "$build" "$top"
    certctl=$CERTCTL
fi

bench_programs "$build" mkcertdir floor

# ----------------------------------------------------------------- certdir

# tmpfs by default: the data is throwaway, and creating then deleting
# 60,000 inodes on a journal-less ext4 makes later file creation crawl for
# minutes (ext4 skips recently deleted inodes). Reads come from the page
# cache either way.
scratch_dir certctl-bench
work=$WORK

# Other work on the machine skews every number: record how busy it was.
read -r load1 _ </proc/loadavg
printf 'making %d names in %s ...\n' "$names" "$work"
t0=$EPOCHREALTIME
"$build/mkcertdir" "$work" "$names" || die "mkcertdir failed"
t1=$EPOCHREALTIME
gen_s=$(calc "$t1 - $t0")
conf=$work/certctl.conf
certdir=$work/certdir
printf '  %s s\n' "$gen_s"

# ----------------------------------------------------------------- certctl

printf 'certctl check --all, %d runs ...\n' "$runs"
walls=() cpus=() rss=()
for ((i = 0; i < runs; i++)); do
    t0=$EPOCHREALTIME
    rc=0
    /usr/bin/time -f '%M %U %S' -o "$work/time.out" \
        "$certctl" -c "$conf" check --all >/dev/null || rc=$?
    t1=$EPOCHREALTIME
    # Anything but OK means the certdir is not what this bench thinks.
    ((rc == 0)) || die "certctl check --all exited $rc (want 0)"
    read -r kb user sys <"$work/time.out"
    walls+=("$(calc "$t1 - $t0")")
    cpus+=("$(calc "$user + $sys")")
    rss+=("$kb")
    printf '  run %d: %s s wall, %s s cpu, %s KB peak RSS\n' \
        "$((i + 1))" "${walls[i]}" "${cpus[i]}" "$kb"
done
certctl_s=$(median "${walls[@]}")
certctl_cpu_s=$(median "${cpus[@]}")
certctl_ms=$(calc "$certctl_s * 1000 / $names")
certctl_cpu_ms=$(calc "$certctl_cpu_s * 1000 / $names")
rss_kb=$(printf '%s\n' "${rss[@]}" | sort -n | tail -n 1)
rss_mb=$(calc "$rss_kb / 1024" 1)

# ----------------------------------------------------------------- loop

((sample > names)) && sample=$names
printf 'openssl loop on %d names ...\n' "$sample"
step=$((names / sample))
t0=$EPOCHREALTIME
loop_bad=0
for ((i = 0; i < sample; i++)); do
    printf -v d '%s/name%05d.example' "$certdir" "$((i * step))"
    # What the cron script does: expiring within 7 days? chain good?
    if ! openssl x509 -checkend 604800 -noout -in "$d/cert.pem" >/dev/null ||
        ! openssl verify -CAfile "$work/trust.pem" -untrusted "$d/chain.pem" \
            "$d/cert.pem" >/dev/null; then
        loop_bad=$((loop_bad + 1))
    fi
done
t1=$EPOCHREALTIME
((loop_bad == 0)) || die "the openssl loop failed on $loop_bad names"
loop_ms=$(calc "($t1 - $t0) * 1000 / $sample")
loop_all_s=$(calc "$loop_ms * $names / 1000" 1)
printf '  %s ms per cert\n' "$loop_ms"

# ----------------------------------------------------------------- floor

printf 'floor, %d runs ...\n' "$runs"
floors=() parses=() verifies=()
for ((i = 0; i < runs; i++)); do
    line=$("$build/floor" "$certdir") || die "floor failed"
    line=${line##*$'\n'}
    # floor names=N per_cert_ms=T parse_ms=P verify_ms=V
    for kv in $line; do
        case $kv in
            per_cert_ms=*) floors+=("${kv#*=}") ;;
            parse_ms=*) parses+=("${kv#*=}") ;;
            verify_ms=*) verifies+=("${kv#*=}") ;;
        esac
    done
    printf '  run %d: %s ms per cert\n' "$((i + 1))" "${floors[i]}"
done
floor_ms=$(calc "$(median "${floors[@]}")")
parse_ms=$(calc "$(median "${parses[@]}")")
verify_ms=$(calc "$(median "${verifies[@]}")")

# ----------------------------------------------------------------- verdict

loop_ratio=$(calc "$loop_ms / $certctl_ms" 1)
floor_ratio=$(calc "$certctl_ms / $floor_ms" 2)
v_loop=$(verdict "$loop_ms >= 50 * $certctl_ms")
v_floor=$(verdict "$certctl_ms <= $floor_ms")
v_rss=$(verdict "$rss_kb < 32768")

cpu_model=$(awk -F': *' '/^model name/ { print $2; exit }' /proc/cpuinfo)
cpus_n=$(nproc)
ssl_cli=$(openssl version)
ssl_lib=$(pkg-config --modversion openssl)
when=$(date -u '+%Y-%m-%d %H:%M UTC')
commit=$(source_state "$top")
if [[ -n ${BENCH_CERTCTL-} ]]; then
    commit="$BENCH_CERTCTL (given with BENCH_CERTCTL)"
else
    commit="$commit, meson release build"
fi
fs=$(df -PT "$work" | awk 'NR == 2 { print $2 }')

label="\`certctl check --all\`"
table=$(
    printf '| tool | ms per cert | %d names | vs certctl |\n' "$names"
    printf '|---|---:|---:|---:|\n'
    printf '| openssl loop (x509 -checkend + verify, 1 process each) | %s | %s s (extrapolated from %d) | %sx slower |\n' \
        "$loop_ms" "$loop_all_s" "$sample" "$loop_ratio"
    printf '| %s (%d cores, wall) | %s | %s s | 1x |\n' \
        "$label" "$cpus_n" "$certctl_ms" "$certctl_s"
    printf '| %s (cpu time, all threads) | %s | %s s | |\n' \
        "$label" "$certctl_cpu_ms" "$certctl_cpu_s"
    printf '| floor (parse 2 PEM certs + 1 X509_verify, 1 thread) | %s | %s s | certctl is %sx the floor |\n' \
        "$floor_ms" "$(calc "$floor_ms * $names / 1000")" "$floor_ratio"
)
targets=$(
    printf '| target | measured | |\n|---|---|---|\n'
    printf '| at least 50x faster than the loop | %sx | %s |\n' "$loop_ratio" "$v_loop"
    printf '| no slower than the single-core floor | %sx the floor | %s |\n' "$floor_ratio" "$v_floor"
    printf '| peak RSS under 32 MB | %s MB (%s KB) | %s |\n' "$rss_mb" "$rss_kb" "$v_rss"
)

printf '\n%s\n\n%s\n\n' "$table" "$targets"
printf 'floor split: parse %s ms, verify %s ms per cert\n' "$parse_ms" "$verify_ms"

# ----------------------------------------------------------------- docs

section=$(mktemp)
cat >"$section" <<EOF
<!-- check:begin -->
## \`certctl check --all\` on $names names

Generated by \`bench/check.sh\` on $when; rerunning it rewrites this section.

A certdir of $names names (\`bench/mkcertdir.c\`: one EC P-256 root and
intermediate, one leaf key shared by all names, 90-day leaves
\`nameNNNNN.example\`, the layout of DESIGN.md section 3 without the flat
compatibility links) is checked three ways, on the same machine in the same
run:

- **openssl loop**: what a cron script does today, per name
  \`openssl x509 -checkend 604800 -noout -in cert.pem && openssl verify
  -CAfile trust.pem -untrusted chain.pem cert.pem\`, one name after the other;
  timed on $sample names spread over the certdir, extrapolated per cert.
- **certctl**: \`certctl -c certctl.conf check --all >/dev/null\`, exit code 0,
  median of $runs run(s); peak RSS from \`/usr/bin/time -f %M\` (worst run).
  check does more than the others: it also parses the key and matches it to
  the cert, builds and verifies the chain to the trust anchor (two
  signatures), reparses fullchain.pem and applies the policy of DESIGN.md 4a.
- **floor**: \`bench/floor.c\`, one process and one thread that only reads and
  parses cert.pem and chain.pem and verifies the leaf signature with the
  intermediate's key (median of $runs run(s), per-name time measured inside
  the process). Any checker has to do at least this much.

$table

Floor split: parse (two PEM certificates) $parse_ms ms, verify (one ECDSA
P-256 signature) $verify_ms ms per name.

### Targets

$targets

### Machine

| | |
|---|---|
| CPU | $cpu_model |
| cores (nproc) | $cpus_n |
| OpenSSL | $ssl_cli (headers $ssl_lib) |
| certctl | $commit |
| certdir on | $fs ($BENCH_TMPDIR) |
| load average (1 min) at start | $load1 |
| making the certdir | $gen_s s |

### Reproduce

    bash bench/check.sh

Knobs (environment): \`BENCH_NAMES\` (default 10000), \`BENCH_SAMPLE\` (200),
\`BENCH_RUNS\` (3), \`BENCH_TMPDIR\` (default /dev/shm), \`BENCH_BUILD\`
(default bench/build), \`BENCH_CERTCTL\` (measure this binary instead of
building one), \`BENCH_KEEP=1\` to keep the certdir. Needs cc,
pkg-config, OpenSSL 3 headers and CLI, meson, ninja and GNU time
(\`apt-get install time\`; the script installs it itself when run as root).
<!-- check:end -->
EOF
doc_section "$doc" check "$section" || { echo "cannot write $doc" >&2; exit 1; }
rm -f "$section"
printf 'wrote the check section of %s\n' "$doc"
