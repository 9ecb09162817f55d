#!/usr/bin/env bash
#
# bench/rekey.sh - how fast is `certctl rekey --all` at making keys and CSRs?
#
#   bash bench/rekey.sh
#
# A config names BENCH_NAMES certificates (default 200, `nameNNNN.example`)
# and the certdir holds no live set, so `certctl rekey --all` makes a first
# key and CSR for every name. For RSA-2048 and for EC P-256 separately, in one
# run on one machine:
#   certctl        `certctl -c CONF rekey --all --key-type ...` into a fresh
#                  certdir, BENCH_RUNS runs (default 3), median wall time
#   certctl -j1    the same with --jobs 1 (one core: the per-key cost alone)
#   openssl loop   what a sysadmin's script does today, per name:
#                  openssl genpkey + openssl req -new -subj /CN=NAME
#                  -addext subjectAltName=DNS:NAME, one name after the other,
#                  BENCH_RUNS runs over every name, median
# then prints a table and rewrites its own section of docs/BENCHMARKS.md
# (between <!-- rekey:begin --> and <!-- rekey:end -->; the rest of the file
# is left as it is, and the file is created when absent).
#
# Other knobs: BENCH_TMPDIR (default /dev/shm when writable, else TMPDIR or
# /tmp), BENCH_BUILD (meson build dir; default /tmp/build-rekey-bench, a
# release build without tests), BENCH_KEEP=1 keeps the scratch directory,
# BENCH_NO_DOC=1 leaves docs/BENCHMARKS.md alone, BENCH_DOC=FILE writes FILE
# instead.
#
# Needs: meson, ninja, a C compiler, OpenSSL 3 headers and CLI, awk.

set -euo pipefail

here=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
top=$(dirname -- "$here")
names=${BENCH_NAMES:-200}
runs=${BENCH_RUNS:-3}
build=${BENCH_BUILD:-/tmp/build-rekey-bench}
doc=${BENCH_DOC:-$top/docs/BENCHMARKS.md}
begin_marker='<!-- rekey:begin -->'
end_marker='<!-- rekey:end -->'

# shellcheck source=bench/lib.sh
source "$top/bench/lib.sh"

[[ $names =~ ^[1-9][0-9]*$ ]] || die "BENCH_NAMES must be a positive number"
[[ $runs =~ ^[1-9][0-9]*$ ]] || die "BENCH_RUNS must be a positive number"
need meson ninja openssl awk sort

# ----------------------------------------------------------------- build

release_build "$build" "$top"
certctl=$CERTCTL

# ----------------------------------------------------------------- scratch

scratch_dir certctl-rekey-bench
work=$WORK
certdir=$work/certdir
conf=$work/certctl.conf

name_of() { # name_of I: the I-th name
    printf 'name%04d.example' "$1"
}

{
    printf 'certdir: %s\ncertificates:\n' "$certdir"
    for ((i = 0; i < names; i++)); do
        printf '  %s:\n' "$(name_of "$i")"
    done
} >"$conf"

# ----------------------------------------------------------------- runs

# run_certctl KEYARGS JOBSARGS: one timed `rekey --all` into a fresh certdir;
# prints the wall time in seconds.
run_certctl() {
    local keyargs=$1 jobargs=$2 t0 t1 rc=0 made
    local -a kargs jargs
    read -r -a kargs <<<"$keyargs"
    read -r -a jargs <<<"$jobargs"
    rm -rf -- "$certdir"
    mkdir -m 0755 -- "$certdir"
    t0=$EPOCHREALTIME
    "$certctl" -q -c "$conf" rekey --all "${kargs[@]}" "${jargs[@]}" >/dev/null || rc=$?
    t1=$EPOCHREALTIME
    ((rc == 0)) || die "certctl rekey --all exited $rc (want 0)"
    # Every name got its key and CSR, or the time means nothing.
    made=$(find "$certdir/.pending" -mindepth 2 -name csr.pem | wc -l)
    ((made == names)) || die "certctl made $made CSRs, want $names"
    calc "$t1 - $t0"
}

# run_loop ALG: the per-cert openssl loop over every name; prints seconds.
run_loop() {
    local alg=$1 dir=$work/loop t0 t1 i n made
    local -a gen
    case $alg in
        rsa) gen=(-algorithm RSA -pkeyopt rsa_keygen_bits:2048) ;;
        ec) gen=(-algorithm EC -pkeyopt ec_paramgen_curve:P-256) ;;
    esac
    rm -rf -- "$dir"
    mkdir -m 0700 -- "$dir"
    t0=$EPOCHREALTIME
    for ((i = 0; i < names; i++)); do
        n=$(name_of "$i")
        (umask 077 && openssl genpkey "${gen[@]}" -out "$dir/$n.key" 2>/dev/null) ||
            die "openssl genpkey failed for $n"
        openssl req -new -key "$dir/$n.key" -subj "/CN=$n" \
            -addext "subjectAltName=DNS:$n" -out "$dir/$n.csr" 2>/dev/null ||
            die "openssl req failed for $n"
    done
    t1=$EPOCHREALTIME
    made=$(find "$dir" -name '*.csr' | wc -l)
    ((made == names)) || die "the openssl loop made $made CSRs, want $names"
    calc "$t1 - $t0"
}

# Other work on the machine skews the numbers (most of all the 2-core
# certctl run); the load averages go into the report so a reader can tell.
load_start=$(cut -d' ' -f1-3 /proc/loadavg)
declare -A med=()
for alg in ec rsa; do
    case $alg in
        rsa) keyargs="--key-type rsa --bits 2048" label="RSA-2048" ;;
        ec) keyargs="--key-type ec --curve P-256" label="EC P-256" ;;
    esac
    # Interleaved (certctl, certctl -j1, loop; again ...) so that anything
    # else the machine does during the run weighs on all three alike.
    declare -A all=([certctl]='' [certctl1]='' [loop]='')
    for ((r = 1; r <= runs; r++)); do
        for tool in certctl certctl1 loop; do
            case $tool in
                certctl) s=$(run_certctl "$keyargs" "") ;;
                certctl1) s=$(run_certctl "$keyargs" "--jobs 1") ;;
                loop) s=$(run_loop "$alg") ;;
            esac
            all[$tool]+=" $s"
            printf '%-8s %-9s run %d: %s s\n' "$label" "$tool" "$r" "$s"
        done
    done
    for tool in certctl certctl1 loop; do
        read -r -a times <<<"${all[$tool]}"
        med[$alg.$tool]=$(calc "$(median "${times[@]}")")
    done
done

# ----------------------------------------------------------------- verdict

ms() { # ms SECONDS: per-name milliseconds
    calc "$1 * 1000 / $names" 2
}
cores=$(nproc)
load_end=$(cut -d' ' -f1-3 /proc/loadavg)
ec_x=$(calc "${med[ec.loop]} / ${med[ec.certctl]}" 2)
rsa_x=$(calc "${med[rsa.loop]} / ${med[rsa.certctl]}" 2)
ec_x1=$(calc "${med[ec.loop]} / ${med[ec.certctl1]}" 2)
rsa_x1=$(calc "${med[rsa.loop]} / ${med[rsa.certctl1]}" 2)
# Verdicts on the unrounded ratios, never on what the table shows.
v_ec=$(verdict "${med[ec.loop]} >= 5 * ${med[ec.certctl]}")
# "near 2x on 2 cores": RSA key generation is all prime search, which both
# tools do in the same library; the win is the second core, less overhead.
v_rsa=$(verdict "${med[rsa.loop]} >= 1.8 * ${med[rsa.certctl]}")

table=$(
    printf '| key | tool | %d names (s) | ms per name | loop / tool |\n' "$names"
    printf '|---|---|---:|---:|---:|\n'
    for alg in ec rsa; do
        case $alg in
            rsa) label="RSA-2048" x=$rsa_x x1=$rsa_x1 ;;
            ec) label="EC P-256" x=$ec_x x1=$ec_x1 ;;
        esac
        printf '| %s | openssl loop (genpkey + req, 2 processes per name) | %s | %s | 1x |\n' \
            "$label" "${med[$alg.loop]}" "$(ms "${med[$alg.loop]}")"
        # shellcheck disable=SC2016 # the backticks are Markdown, not a command
        printf '| %s | `certctl rekey --all` (%d cores) | %s | %s | %sx |\n' \
            "$label" "$cores" "${med[$alg.certctl]}" "$(ms "${med[$alg.certctl]}")" "$x"
        # shellcheck disable=SC2016 # the backticks are Markdown, not a command
        printf '| %s | `certctl rekey --all --jobs 1` | %s | %s | %sx |\n' \
            "$label" "${med[$alg.certctl1]}" "$(ms "${med[$alg.certctl1]}")" "$x1"
    done
)
targets=$(
    printf '| target | measured | |\n|---|---|---|\n'
    printf '| EC P-256: at least 5x faster than the loop | %sx | %s |\n' "$ec_x" "$v_ec"
    printf '| RSA-2048: near 2x faster than the loop on 2 cores (>= 1.8x) | %sx on %d cores | %s |\n' \
        "$rsa_x" "$cores" "$v_rsa"
)
printf '\n%s\n\n%s\n\nload average: %s at the start, %s at the end\n' \
    "$table" "$targets" "$load_start" "$load_end"

# ----------------------------------------------------------------- docs

if [[ ${BENCH_NO_DOC-} == 1 ]]; then
    exit 0
fi

cpu_model=$(awk -F': *' '/^model name/ { print $2; exit }' /proc/cpuinfo)
ssl_cli=$(openssl version)
when=$(date -u '+%Y-%m-%d %H:%M UTC')
commit=$(source_state "$top")
fs=$(df -PT "$work" | awk 'NR == 2 { print $2 }')

section=$work/section.md
cat >"$section" <<EOF
$begin_marker
<!-- Generated by bench/rekey.sh: do not edit by hand; rerun it to refresh. -->

## \`certctl rekey --all\` on $names names

Generated by \`bench/rekey.sh\` on $when.

A config names $names certificates (\`nameNNNN.example\`) and the certdir
holds no live set, so every run makes $names first keys and CSRs (CN and
one DNS SAN each, SHA-256). Each key type is measured three ways in the same
run on the same machine, median of $runs run(s) each:

- **openssl loop**: what a script does today, one name after the other:
  \`openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256\` (or
  \`-algorithm RSA -pkeyopt rsa_keygen_bits:2048\`) then \`openssl req -new
  -key KEY -subj /CN=NAME -addext subjectAltName=DNS:NAME\`.
- **certctl**: \`certctl -q -c certctl.conf rekey --all --key-type ...\` into a
  fresh certdir, exit code 0 and $names CSRs checked; keys made in parallel
  (\`--jobs\` defaults to the cores), each one written 0600 and fsynced, with
  its CSR, into \`.pending/NAME/\` under the certdir lock.
- **certctl --jobs 1**: the same on one core, to separate the per-key cost
  from the parallelism.

$table

RSA key generation is prime search inside OpenSSL for both tools, so beyond
the saved process start-ups the gain there can only come from the cores;
EC keys are cheap, so the loop's two process start-ups per name dominate it.

### Targets

$targets

### Machine

| | |
|---|---|
| CPU | $cpu_model |
| cores (nproc) | $cores |
| OpenSSL | $ssl_cli |
| certctl | $commit, meson release build ($build) |
| certdir on | $fs ($BENCH_TMPDIR) |
| load average (1, 5, 15 min) | $load_start at the start, $load_end at the end |

Reproduce: \`bash bench/rekey.sh\` (knobs: \`BENCH_NAMES\`, \`BENCH_RUNS\`,
\`BENCH_TMPDIR\`, \`BENCH_BUILD\`, \`BENCH_KEEP=1\`, \`BENCH_NO_DOC=1\`, \`BENCH_DOC\`).
$end_marker
EOF

# Replace only our section (markers included); append it when the file has
# none, create the file when there is none. Written next to the file and
# renamed over it, so a reader never sees half a file.
mkdir -p -- "$(dirname -- "$doc")"
tmpdoc=$(mktemp "$doc.XXXXXX") || die "mktemp next to $doc failed"
if [[ -f $doc ]]; then
    if grep -qxF -- "$begin_marker" "$doc" && grep -qxF -- "$end_marker" "$doc"; then
        awk -v b="$begin_marker" -v e="$end_marker" -v f="$section" '
            $0 == b { while ((getline line < f) > 0) print line; skip = 1; next }
            skip && $0 == e { skip = 0; next }
            !skip { print }
        ' "$doc" >"$tmpdoc" || die "cannot rewrite $doc"
    else
        { cat -- "$doc" && printf '\n' && cat -- "$section"; } >"$tmpdoc" ||
            die "cannot extend $doc"
    fi
else
    { printf '# Benchmarks\n\n' && cat -- "$section"; } >"$tmpdoc" || die "cannot write $doc"
fi
chmod 0644 "$tmpdoc"
mv -f -- "$tmpdoc" "$doc" || die "cannot replace $doc"
printf 'wrote the rekey section of %s\n' "$doc"
