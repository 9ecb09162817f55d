#!/usr/bin/env bash
#
# bench/scale.sh - does certctl's cost per name stay flat from 1,000 to
# 100,000 names?
#
#   bash bench/scale.sh
#
# For each size in BENCH_SIZES (default "1000 10000 100000"), on a fresh
# certdir made by bench/mkcertdir.c (its leaves name an OCSP responder on
# loopback) and a config naming every name, nothing due anywhere, in one
# run on one machine (BENCH_RUNS runs of each, default 1, median):
#   download-acme  `download --all` with an `acme` source (a directory URL
#                  on a closed port: a no-op must not connect, and would
#                  fail if it tried); after one warm-up run that caches the
#                  live facts in .state, as any daily run finds them
#   download-http  `download --all` with a `type: http` source: Debian's
#                  nginx over TLS on loopback serving the certdir's own
#                  full chains; every answer must be a 304 (after one
#                  warm-up run that records the validators)
#   check          `check --all` (every name OK)
#   rekey-dry      `rekey --all -n` (plans a key per name, writes nothing)
#   staple         `staple --all` with every staple fresh (after one
#                  warm-up run against `openssl ocsp` that fetches them)
# each under GNU time: wall, user+sys CPU and peak RSS; plus bench/floor.c
# (parse + verify per name, one thread) as check's single-core floor.
# Writes docs/scale.dat (the numbers), docs/scale.svg (gnuplot: time per
# name against names) and its section of docs/BENCHMARKS.md.
#
# Knobs: BENCH_SIZES, BENCH_RUNS, BENCH_TMPDIR, BENCH_BUILD (default
# /tmp/build-scale-bench), BENCH_CERTCTL (measure this binary instead of
# building one), BENCH_KEEP=1, BENCH_NO_DOC=1 (print only; write nothing
# under docs/), BENCH_DATA=FILE (measure nothing: report on FILE, a data
# file an earlier run wrote, complete or cut short).
#
# Needs: meson, ninja, cc, pkg-config, OpenSSL 3 headers and CLI, python3,
# awk, nginx (Debian's nginx-light), GNU time, gnuplot (Debian's
# gnuplot-nox; the last two installed with apt-get when missing and
# running as root). A 100,000-name certdir takes about 2.5 GB of tmpfs.

set -euo pipefail

here=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
top=$(dirname -- "$here")
read -r -a sizes <<<"${BENCH_SIZES:-1000 10000 100000}"
runs=${BENCH_RUNS:-1}
build=${BENCH_BUILD:-/tmp/build-scale-bench}
doc=$top/docs/BENCHMARKS.md
# shellcheck source=bench/lib.sh
source "$top/bench/lib.sh"
# shellcheck source=tests/helpers/net.bash
source "$top/tests/helpers/net.bash"
# shellcheck source=tests/helpers/httpd.bash
source "$top/tests/helpers/httpd.bash"

((${#sizes[@]} > 0)) || die "BENCH_SIZES names no size"
for n in "${sizes[@]}" "$runs"; do
    [[ $n =~ ^[1-9][0-9]*$ ]] || die "'$n' is not a positive number (BENCH_SIZES, BENCH_RUNS)"
done
for n in "${sizes[@]}"; do
    ((n <= 100000)) || die "sizes go up to 100000 (bench/mkcertdir.c)"
done
if [[ -n ${BENCH_DATA-} ]]; then
    [[ -r $BENCH_DATA ]] || die "cannot read BENCH_DATA=$BENCH_DATA"
    data=$BENCH_DATA
    mapfile -t sizes < <(awk '!/^#/ { print $1 }' "$data" | sort -nu)
    ((${#sizes[@]} > 0)) || die "$data holds no measurement"
    [[ ${BENCH_NO_DOC-} == 1 ]] || need_pkg gnuplot gnuplot-nox
else
need meson ninja cc pkg-config openssl python3 awk
[[ -x /usr/sbin/nginx ]] || die "nginx is needed (apt-get install nginx-light)"
if [[ ! -x /usr/bin/time ]]; then
    # `time` is a bash keyword too: need_pkg would find that.
    ((EUID == 0)) && command -v apt-get >/dev/null &&
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq time >/dev/null
    [[ -x /usr/bin/time ]] || die "/usr/bin/time (GNU time) is needed: apt-get install time"
fi
[[ ${BENCH_NO_DOC-} == 1 ]] || need_pkg gnuplot gnuplot-nox

mkdir -p "$build"
bench_certctl "$build" "$top"
certctl=$CERTCTL
certctl_build=$CERTCTL_BUILD
bench_programs "$build" mkcertdir floor

# ----------------------------------------------------------------- setup

scratch_dir certctl-scale-bench
work=$WORK
trap 'ocsp_responder_stop; httpd_stop; scratch_cleanup "$work"' EXIT

# One nginx for every size, serving the scratch directory: NAME's full
# chain is https://127.0.0.1:PORT/SIZE/certdir/NAME/fullchain.pem.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
    -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 \
    -keyout "$work/store.key" -out "$work/store.pem" 2>/dev/null || die "openssl req failed"
httpd_nginx_tls_start "$work" "$work/store.pem" "$work/store.key" || die "nginx did not start"
store_url=https://127.0.0.1:$HTTPD_PORT
# Nothing listens here: an ACME no-op that tried to connect would fail.
closed_port=$(free_port)

# config DIR SIZE SOURCE-YAML: DIR/SOURCE.conf naming every name of DIR's
# certdir under the one source given.
config() {
    local dir=$1 n=$2 body=$3 file=$1/$4.conf i
    {
        cat "$dir/certctl.conf"
        printf 'defaults: {source: src}\nsources:\n  src:\n%s\ncertificates:\n' "$body"
        for ((i = 0; i < n; i++)); do
            printf '  name%05d.example:\n' "$i"
        done
    } >"$file"
}

# quiet_run WANT-RC ARGS...: certctl ARGS, untimed, must exit WANT-RC.
quiet_run() {
    local want=$1 rc=0
    shift
    "$certctl" "$@" >"$work/out" 2>"$work/err" || rc=$?
    ((rc == want)) || die "certctl $* exited $rc (want $want): $(head -3 "$work/err")"
}

data=$work/scale.dat
printf '# names command wall_s cpu_s peak_rss_kb\n# certctl %s\n' "$certctl_build" >"$data"

# measure SIZE LABEL WANT-RC ARGS...: BENCH_RUNS timed runs of certctl ARGS,
# each exiting WANT-RC; the medians go to the data file.
measure() {
    local n=$1 label=$2 want=$3 r wall user sys kb rc
    local walls=() cpus=() rss=()
    shift 3
    for ((r = 0; r < runs; r++)); do
        rc=0
        /usr/bin/time -f '%e %U %S %M' -o "$work/time.out" \
            "$certctl" "$@" >"$work/out" 2>"$work/err" || rc=$?
        ((rc == want)) || die "certctl $* exited $rc (want $want): $(head -3 "$work/err")"
        # GNU time puts "Command exited with non-zero status" first.
        read -r wall user sys kb < <(tail -n 1 "$work/time.out")
        walls+=("$wall") cpus+=("$(calc "$user + $sys" 2)") rss+=("$kb")
    done
    printf '%s %s %s %s %s\n' "$n" "$label" "$(median "${walls[@]}")" \
        "$(median "${cpus[@]}")" "$(median "${rss[@]}")" | tee -a "$data"
}

# ----------------------------------------------------------------- runs

# measure_all: every size; the numbers go to $data as they come, so that
# a run cut short still leaves what it measured (see BENCH_DATA).
measure_all() {
local n dir certdir ocsp_port got line kv
printf '# load_start %s\n# fs %s\n' "$(cut -d' ' -f1-3 /proc/loadavg)" \
    "$(df -PT "$work" | awk 'NR == 2 { print $2 }')" >>"$data"
for n in "${sizes[@]}"; do
    dir=$work/$n
    certdir=$dir/certdir
    mkdir -p "$dir"
    ocsp_port=$(free_port)
    printf 'making %d names ...\n' "$n"
    "$build/mkcertdir" "$dir" "$n" "http://127.0.0.1:$ocsp_port" >/dev/null ||
        die "mkcertdir failed"
    config "$dir" "$n" "    type: acme
    directory: https://127.0.0.1:$closed_port/directory
    agree_tos: true
    challenge: {type: http-01, webroot: $work}" acme
    config "$dir" "$n" "    type: http
    url: $store_url/$n/certdir/{name}/fullchain.pem
    ca_file: $work/store.pem" http

    quiet_run 10 -c "$dir/acme.conf" download --all
    measure "$n" download-acme 10 -c "$dir/acme.conf" download --all

    quiet_run 10 -c "$dir/http.conf" download --all
    : >"$HTTPD_ACCESS_LOG"
    measure "$n" download-http 10 -c "$dir/http.conf" download --all
    got=$(grep -c '" 304 ' "$HTTPD_ACCESS_LOG" || true)
    ((got == n * runs)) || die "the store answered $got 304s, want $((n * runs))"

    measure "$n" check 0 -c "$dir/acme.conf" check --all
    measure "$n" rekey-dry 0 -c "$dir/acme.conf" rekey --all -n

    ocsp_responder_start "$dir" "$ocsp_port"
    quiet_run 0 -c "$dir/acme.conf" staple --all
    measure "$n" staple 10 -c "$dir/acme.conf" staple --all
    ocsp_responder_stop

    # As a row of its own: wall time for all names, one thread.
    line=$("$build/floor" "$certdir") || die "floor failed"
    line=${line##*$'\n'}
    for kv in $line; do
        [[ $kv == per_cert_ms=* ]] &&
            printf '%s floor %s %s 0\n' "$n" "$(calc "${kv#*=} * $n / 1000")" \
                "$(calc "${kv#*=} * $n / 1000")" | tee -a "$data"
    done
    [[ ${BENCH_KEEP-} == 1 ]] || rm -rf -- "$dir"
done
printf '# load_end %s\n' "$(cut -d' ' -f1-3 /proc/loadavg)" >>"$data"
}

measure_all
fi
# ----------------------------------------------------------------- report

# field SIZE LABEL COLUMN: a number from the data file (3 wall, 4 cpu, 5
# rss), or nothing when that was not measured.
field() {
    awk -v n="$1" -v l="$2" -v c="$3" '$1 == n && $2 == l { print $c }' "$data"
}

# note WHAT: the rest of a "# WHAT ..." line of the data file.
note() {
    awk -v w="$1" '$1 == "#" && $2 == w { $1 = $2 = ""; sub(/^ +/, ""); print; exit }' "$data"
}
load_start=$(note load_start) load_end=$(note load_end) certctl_build=$(note certctl)

small=${sizes[0]} big=${sizes[-1]}
labels=(download-acme download-http check rekey-dry staple)
# The backticks in the titles and tables below are Markdown.
# shellcheck disable=SC2016
declare -A title=(
    [download-acme]='`download --all`, acme source, no-op'
    [download-http]='`download --all`, http store, all 304'
    [check]='`check --all`'
    [rekey-dry]='`rekey --all -n`'
    [staple]='`staple --all`, every staple fresh'
)
# shellcheck disable=SC2016
table=$(
    printf '| command | names | wall (s) | µs per name (wall) | CPU (s) | µs per name (CPU) | cores used | peak RSS (MB) |\n'
    printf '|---|---:|---:|---:|---:|---:|---:|---:|\n'
    for l in "${labels[@]}"; do
        for n in "${sizes[@]}"; do
            wall=$(field "$n" "$l" 3) cpu=$(field "$n" "$l" 4) kb=$(field "$n" "$l" 5)
            if [[ -z $wall ]]; then
                printf '| %s | %d | not measured | | | | | |\n' "${title[$l]}" "$n"
                continue
            fi
            printf '| %s | %d | %s | %s | %s | %s | %s | %s |\n' "${title[$l]}" "$n" \
                "$wall" "$(calc "$wall * 1e6 / $n" 1)" "$cpu" "$(calc "$cpu * 1e6 / $n" 1)" \
                "$(calc "$cpu / ($wall > 0 ? $wall : 0.001)" 2)" "$(calc "$kb / 1024" 1)"
        done
    done
    for n in "${sizes[@]}"; do
        wall=$(field "$n" floor 3)
        if [[ -n $wall ]]; then
            printf '| floor (`bench/floor.c`, 1 thread) | %d | %s | %s | | | 1 | |\n' "$n" \
                "$wall" "$(calc "$wall * 1e6 / $n" 1)"
        fi
    done
)

# per_name SIZE LABEL COLUMN: microseconds per name, or nothing.
per_name() {
    local v
    v=$(field "$1" "$2" "$3")
    [[ -z $v ]] || calc "$v * 1e6 / $1" 3
}

# target TEXT MEASURED CONDITION: a row of the targets table; MEASURED
# empty means not measured.
target() {
    if [[ -z $2 ]]; then
        printf '| %s | not measured | - |\n' "$1"
    else
        printf '| %s | %s | %s |\n' "$1" "$2" "$(verdict "$3")"
    fi
}

# shellcheck disable=SC2016
targets=$(
    printf '| target | measured | |\n|---|---|---|\n'
    for l in "${labels[@]}"; do
        for c in 3:wall 4:CPU; do
            a=$(per_name "$small" "$l" "${c%%:*}") b=$(per_name "$big" "$l" "${c%%:*}")
            ratio=
            [[ -z $a || -z $b ]] || ratio=$(calc "$b / ($a > 0 ? $a : 0.001)" 2)
            target "${title[$l]}: ${c#*:} per name at $big within 1.5x of $small" \
                "${ratio:+${ratio}x}" "$ratio <= 1.5"
        done
    done
    us=$(per_name "$big" download-acme 3)
    target "no-op \`download --all\` (acme) at most 50 µs per name at $big (wall)" \
        "${us:+$(calc "${us:-0}" 1) µs}" "$us <= 50"
    us=$(per_name "$big" check 3) floor=$(per_name "$big" floor 3) cores=
    [[ -z $us ]] || cores=$(calc "$(field "$big" check 4) / $(field "$big" check 3)" 2)
    target "\`check --all\` at $big: wall per name at most the single-core floor, both cores busy" \
        "${us:+$(calc "$us" 1) µs vs floor ${floor:+$(calc "$floor" 1)} µs, $cores cores}" \
        "${floor:+$us <= $floor && }$cores >= 1.5"
    kb=$(field "$big" download-acme 5)
    target "peak RSS of the no-op \`download --all\` at $big at most 64 MB" \
        "${kb:+$(calc "${kb:-0} / 1024" 1) MB}" "$kb <= 65536"
)
printf '\n%s\n\n%s\n\nload average: %s at the start, %s at the end\n' \
    "$table" "$targets" "$load_start" "$load_end"

[[ ${BENCH_NO_DOC-} == 1 ]] && exit 0

cp "$data" "$top/docs/scale.dat"
xtics=$(IFS=,; printf '%s' "${sizes[*]}")
# Each command's rows next to each other, or gnuplot would not join them.
plotdata=$(mktemp) || die "mktemp failed"
grep -v '^#' "$data" | sort -k2,2 -k1,1n >"$plotdata"
gnuplot <<EOF || die "gnuplot failed"
set terminal svg size 800,480 dynamic font "sans,12" background "white"
set output "$top/docs/scale.svg"
set title "certctl: wall time per name against names (bench/scale.sh)"
set xlabel "names"
set ylabel "µs per name (wall)"
set logscale xy
set grid
set key outside right
set xtics ($xtics)
plot for [l in "${labels[*]} floor"] "$plotdata" \
    using 1:(strcol(2) eq l ? \$3 * 1e6 / \$1 : 1/0) with linespoints title l
EOF

section=$(mktemp) || die "mktemp failed"
cat >"$section" <<EOF
<!-- scale:begin -->
<!-- Generated by bench/scale.sh: do not edit by hand; rerun it to refresh. -->

## Scale: cost per name from $small to $big names

Generated by \`bench/scale.sh\` on $(date -u '+%Y-%m-%d %H:%M UTC').

For each size, a certdir made by \`bench/mkcertdir.c\` and a config naming
every name under one source, with nothing due: \`download --all\` with an
ACME source (no connection made) and with an HTTP store (nginx over TLS on
loopback, every answer a 304), \`check --all\`, \`rekey --all -n\`, and
\`staple --all\` with every staple fresh. Warm-up runs (untimed) leave the
certdir as a daily run finds it: live facts cached in \`.state\`, the
store's validators recorded, the staples fetched. $runs run(s) each
(median), wall and user+sys CPU and peak RSS from GNU time. The floor is
\`bench/floor.c\`: parse cert and chain and verify the leaf's signature,
one thread.

Wall time depends on what else the machine runs (the load average is
below); CPU time per name is the steadier measure of certctl's own cost.

![time per name against names](scale.svg)

$table

Numbers: [\`docs/scale.dat\`](scale.dat).

### Targets

$targets

### Machine

$(machine_rows)
| certctl | $certctl_build |
| certdir on | $(note fs) |
| load average (1, 5, 15 min) | $load_start at the start, $load_end at the end |

Reproduce: \`bash bench/scale.sh\` (knobs: \`BENCH_SIZES\`, \`BENCH_RUNS\`,
\`BENCH_TMPDIR\`, \`BENCH_BUILD\`, \`BENCH_CERTCTL\`, \`BENCH_KEEP=1\`,
\`BENCH_NO_DOC=1\`).
<!-- scale:end -->
EOF
doc_section "$doc" scale "$section" || die "cannot write $doc"
rm -f -- "$section" "$plotdata"
printf 'wrote the scale section of %s, docs/scale.dat and docs/scale.svg\n' "$doc"
