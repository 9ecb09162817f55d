#!/usr/bin/env bash
#
# bench/acme.sh - certctl against lego and certbot on one ACME CA (Debian's
# Pebble on loopback): issuing new names, and the daily run when nothing is
# due.
#
#   bash bench/acme.sh
#
# Every tool talks to a Pebble of its own, started fresh for it with
# PEBBLE_VA_NOSLEEP=1 PEBBLE_VA_ALWAYS_VALID=1 (no challenge is really
# validated, so nothing has to serve one; each tool is still configured
# for http-01 into a webroot, the cheapest way for all three) and
# PEBBLE_WFE_NONCEREJECT=0 (Pebble's random badNonce rejections are a test
# of the client, not how a CA behaves, and would only add noise). In one run
# on one machine:
#
#   (a) issue BENCH_NAMES new names (default 50), one certificate per name,
#       each tool with a new account, wall time of the whole batch:
#         certctl  `certctl download --all` over a config naming them all
#                  (--jobs left at its default)
#         lego     `lego --server ... --domains NAME run` per name
#         certbot  `certbot certonly --webroot ... -d NAME` per name
#   (b) the daily run when nothing is due, over the BENCH_NOOP_NAMES names
#       (default 100; the names of (a) plus more, issued untimed) that each
#       tool installed itself, median of BENCH_RUNS runs (default 5):
#         certctl  `certctl download --all` (must exit 10, print nothing,
#                  write nothing and open no connection)
#         certbot  `certbot -q renew --no-random-sleep-on-renew`
#         lego     `lego ... --domains NAME renew` per name (lego has no
#                  renew-everything command)
#       and certctl's no-op on a certdir of BENCH_BIG names (default 1000)
#       made by bench/mkcertdir.c, with a config naming them all under the
#       same Pebble source (90-day leaves, default renew_before: not due).
# Connections are counted once per tool, outside the timed runs, with
# strace -e trace=connect. Then it prints the tables and rewrites its
# section of docs/BENCHMARKS.md.
#
# Knobs: BENCH_NAMES, BENCH_NOOP_NAMES, BENCH_BIG, BENCH_RUNS,
# BENCH_TMPDIR, BENCH_BUILD (default /tmp/build-acme-bench),
# BENCH_CERTCTL (measure this binary instead of building one),
# BENCH_KEEP=1, BENCH_NO_DOC=1.
#
# Needs: meson, ninja, cc, pkg-config, OpenSSL 3 headers and CLI, python3,
# curl, awk, and Debian's pebble, lego, certbot and strace (installed with
# apt-get when missing and running as root).

set -euo pipefail

here=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
top=$(dirname -- "$here")
names=${BENCH_NAMES:-50}
noop_names=${BENCH_NOOP_NAMES:-100}
big=${BENCH_BIG:-1000}
runs=${BENCH_RUNS:-5}
build=${BENCH_BUILD:-/tmp/build-acme-bench}
doc=$top/docs/BENCHMARKS.md
# shellcheck source=bench/lib.sh
source "$top/bench/lib.sh"
# shellcheck source=tests/helpers/net.bash
source "$top/tests/helpers/net.bash"
# shellcheck source=tests/helpers/pki.bash
source "$top/tests/helpers/pki.bash"
# shellcheck source=tests/helpers/pebble.bash
source "$top/tests/helpers/pebble.bash"

for knob in BENCH_NAMES:$names BENCH_NOOP_NAMES:$noop_names BENCH_BIG:$big BENCH_RUNS:$runs; do
    [[ ${knob#*:} =~ ^[1-9][0-9]*$ ]] || die "${knob%%:*} must be a positive number"
done
((noop_names >= names)) || die "BENCH_NOOP_NAMES must be at least BENCH_NAMES"
((big <= 100000)) || die "BENCH_BIG must be at most 100000 (bench/mkcertdir.c)"
need meson ninja cc pkg-config openssl python3 curl awk
need_pkg pebble pebble
need_pkg lego lego
need_pkg certbot certbot
need_pkg strace strace

bench_start=$EPOCHREALTIME
mkdir -p "$build"
bench_certctl "$build" "$top"
certctl=$CERTCTL
certctl_build=$CERTCTL_BUILD
read -r -a ssl_flags <<<"$(pkg-config --cflags --libs openssl)"
cc -O2 -Wall -Wextra -o "$build/mkcertdir" "$here/mkcertdir.c" "${ssl_flags[@]}" ||
    die "cc mkcertdir.c failed"

# ----------------------------------------------------------------- setup

scratch_dir certctl-acme-bench
work=$WORK
pebble_pids=()
trap 'stop_pids "${pebble_pids[@]}"; scratch_cleanup "$work"' EXIT

# Directory URL, trust for its HTTPS, and its roots, per tool.
declare -A ca_url ca_tls ca_roots
# start_ca TOOL: a fresh Pebble (and pebble-challtestsrv) for TOOL alone,
# kept running to the end, so that the no-op runs of (b) have a live CA.
start_ca() {
    PEBBLE_PID='' PEBBLE_CHALL_PID=''
    local ok=0
    pebble_start "$work/ca-$1" PEBBLE_VA_ALWAYS_VALID=1 PEBBLE_WFE_NONCEREJECT=0 || ok=1
    pebble_pids+=(${PEBBLE_PID:+"$PEBBLE_PID"} ${PEBBLE_CHALL_PID:+"$PEBBLE_CHALL_PID"})
    ((ok == 0)) || die "Pebble for $1 did not start: $(tail -3 "$work/ca-$1/pebble.log" 2>/dev/null)"
    ca_url[$1]=$PEBBLE_URL ca_tls[$1]=$PEBBLE_CA ca_roots[$1]=$PEBBLE_ROOTS
}

webroot=$work/webroot
mkdir -p "$webroot" "$work/trace"
all_names=()
for ((i = 1; i <= noop_names; i++)); do
    all_names+=("$(printf 'acme%04d.example' "$i")")
done
extra=$((noop_names - names))

# certctl_conf FILE CERTDIR TRUST TOOL NAME...: a certctl config whose
# names all come from TOOL's Pebble by http-01 into the webroot.
certctl_conf() {
    local file=$1 certdir=$2 trust=$3 tool=$4 name
    shift 4
    {
        printf 'certdir: %s\ntrust: %s\ndefaults: {source: pebble}\nsources:\n' "$certdir" "$trust"
        printf '  pebble:\n    type: acme\n    directory: %s\n    ca_file: %s\n' \
            "${ca_url[$tool]}" "${ca_tls[$tool]}"
        printf '    agree_tos: true\n    contact: [mailto:hostmaster@example.com]\n'
        printf '    challenge: {type: http-01, webroot: %s}\ncertificates:\n' "$webroot"
        for name; do
            printf '  %s:\n' "$name"
        done
    } >"$file"
}

# ------------------------------------------------- the tools, as a user runs them

cc_certdir=$work/certctl/certdir
mkdir -p "$cc_certdir"
chmod 0755 "$work/certctl" "$cc_certdir"

# certctl_issue CONF COUNT: download --all, which must install COUNT names.
certctl_issue() {
    local rc=0 n
    "$certctl" -c "$1" download --all >"$work/certctl.out" 2>"$work/certctl.err" || rc=$?
    ((rc == 0)) || die "certctl download --all exited $rc (want 0): $(head -3 "$work/certctl.err")"
    n=$(grep -c '^installed ' "$work/certctl.out" || true)
    ((n == $2)) || die "certctl installed $n names, want $2: $(head -3 "$work/certctl.err")"
}

lego_dir=$work/lego
lego_run() { # lego_run NAME COMMAND [OPTIONS...]
    local name=$1
    shift
    LEGO_CA_CERTIFICATES=${ca_tls[lego]} lego --server "${ca_url[lego]}" --accept-tos \
        --email hostmaster@example.com --path "$lego_dir" --key-type ec256 \
        --http --http.webroot "$webroot" --domains "$name" "$@"
}

# lego_issue NAME...: one `lego run` per name.
lego_issue() {
    local name
    for name; do
        lego_run "$name" run >>"$work/lego.log" 2>&1 ||
            die "lego run failed for $name: $(tail -1 "$work/lego.log")"
    done
}

certbot_dirs=(--config-dir "$work/certbot/config" --work-dir "$work/certbot/work"
    --logs-dir "$work/certbot/logs")

# certbot_issue NAME...: one `certbot certonly` per name.
certbot_issue() {
    local name
    for name; do
        REQUESTS_CA_BUNDLE=${ca_tls[certbot]} certbot "${certbot_dirs[@]}" certonly \
            --non-interactive --agree-tos --register-unsafely-without-email \
            --server "${ca_url[certbot]}" --key-type ecdsa --webroot -w "$webroot" \
            -d "$name" >>"$work/certbot.log" 2>&1 ||
            die "certbot certonly failed for $name: $(tail -1 "$work/certbot.log")"
    done
}

count_files() { # count_files DIR FIND-TESTS...: files under DIR that match
    local dir=$1
    shift
    find "$dir" "$@" 2>/dev/null | wc -l
}

# ----------------------------------------------------------------- (a) issuance

load_start=$(cut -d' ' -f1-3 /proc/loadavg)
first=("${all_names[@]:0:names}")
later=("${all_names[@]:names:extra}")

start_ca certctl
conf_a=$work/certctl-a.conf
certctl_conf "$conf_a" "$cc_certdir" "${ca_roots[certctl]}" certctl "${first[@]}"
t0=$EPOCHREALTIME
certctl_issue "$conf_a" "$names"
t1=$EPOCHREALTIME
issue_certctl=$(calc "$t1 - $t0")
printf 'issue %d names: certctl %s s\n' "$names" "$issue_certctl"

start_ca lego
t0=$EPOCHREALTIME
lego_issue "${first[@]}"
t1=$EPOCHREALTIME
issue_lego=$(calc "$t1 - $t0")
n=$(count_files "$lego_dir/certificates" -name '*.example.crt' ! -name '*.issuer.crt')
((n == names)) || die "lego left $n certificates, want $names"
printf 'issue %d names: lego    %s s\n' "$names" "$issue_lego"

start_ca certbot
t0=$EPOCHREALTIME
certbot_issue "${first[@]}"
t1=$EPOCHREALTIME
issue_certbot=$(calc "$t1 - $t0")
n=$(count_files "$work/certbot/config/live" -mindepth 1 -maxdepth 1 -type d)
((n == names)) || die "certbot left $n lineages, want $names"
printf 'issue %d names: certbot %s s\n' "$names" "$issue_certbot"

if awk "BEGIN { exit !($issue_lego <= $issue_certbot) }"; then
    fastest=lego fastest_s=$issue_lego
else
    fastest=certbot fastest_s=$issue_certbot
fi

# ----------------------------------------------------------------- (b) the no-op

# The rest of the installed set, untimed.
conf_b=$work/certctl-b.conf
certctl_conf "$conf_b" "$cc_certdir" "${ca_roots[certctl]}" certctl "${all_names[@]}"
if ((extra > 0)); then
    printf 'issuing %d more names with each tool (untimed)\n' "$extra"
    certctl_issue "$conf_b" "$extra"
    lego_issue "${later[@]}"
    certbot_issue "${later[@]}"
fi

# The fabricated big certdir, under certctl's Pebble source.
"$build/mkcertdir" "$work/big" "$big" >/dev/null || die "mkcertdir failed"
conf_big=$work/certctl-big.conf
mapfile -t big_names < <(cd "$work/big/certdir" && ls -d name*.example)
((${#big_names[@]} == big)) || die "mkcertdir made ${#big_names[@]} names, want $big"
certctl_conf "$conf_big" "$work/big/certdir" "$work/big/trust.pem" certctl "${big_names[@]}"

# noop_certctl CONF CERTDIR: one timed no-op run; exit 10, silent, no new
# generation.
noop_certctl() {
    local t0 t1 rc=0 before after
    before=$(count_files "$2/.live" -mindepth 1 -maxdepth 1)
    t0=$EPOCHREALTIME
    "$certctl" -c "$1" download --all >"$work/noop.out" 2>"$work/noop.err" || rc=$?
    t1=$EPOCHREALTIME
    ((rc == 10)) || die "certctl download --all exited $rc (want 10: nothing due): $(head -3 "$work/noop.err")"
    [[ ! -s $work/noop.out && ! -s $work/noop.err ]] ||
        die "certctl printed something on a run with nothing due: $(head -3 "$work/noop.out" "$work/noop.err")"
    after=$(count_files "$2/.live" -mindepth 1 -maxdepth 1)
    ((before == after)) || die "certctl made a new generation on a run with nothing due"
    calc "$t1 - $t0"
}

noop_certbot() {
    local t0 t1 rc=0 before after
    before=$(count_files "$work/certbot/config/archive" -type f)
    t0=$EPOCHREALTIME
    REQUESTS_CA_BUNDLE=${ca_tls[certbot]} certbot "${certbot_dirs[@]}" -q renew \
        --no-random-sleep-on-renew >"$work/certbot-renew.log" 2>&1 || rc=$?
    t1=$EPOCHREALTIME
    ((rc == 0)) || die "certbot renew exited $rc: $(tail -3 "$work/certbot-renew.log")"
    after=$(count_files "$work/certbot/config/archive" -type f)
    ((before == after)) || die "certbot renew renewed something"
    calc "$t1 - $t0"
}

noop_lego() {
    local t0 t1 name before after
    before=$(count_files "$lego_dir" -type f)
    t0=$EPOCHREALTIME
    for name in "${all_names[@]}"; do
        lego_run "$name" renew --days 30 >>"$work/lego-renew.log" 2>&1 ||
            die "lego renew failed for $name: $(tail -1 "$work/lego-renew.log")"
    done
    t1=$EPOCHREALTIME
    after=$(count_files "$lego_dir" -type f)
    ((before == after)) || die "lego renew renewed something"
    calc "$t1 - $t0"
}

cc_times=() cb_times=() lego_times=() big_times=()
for ((r = 1; r <= runs; r++)); do
    s=$(noop_certctl "$conf_b" "$cc_certdir")
    cc_times+=("$s")
    s=$(noop_certbot)
    cb_times+=("$s")
    s=$(noop_lego)
    lego_times+=("$s")
    s=$(noop_certctl "$conf_big" "$work/big/certdir")
    big_times+=("$s")
    printf 'no-op run %d: certctl %s s, certbot renew %s s, lego renew loop %s s (%d names); certctl %s s (%d names)\n' \
        "$r" "${cc_times[-1]}" "${cb_times[-1]}" "${lego_times[-1]}" "$noop_names" \
        "${big_times[-1]}" "$big"
done
load_end=$(cut -d' ' -f1-3 /proc/loadavg)

# connections TRACE-NAME COMMAND...: TCP/IP connect(2) calls made by
# COMMAND and its children (run under strace, untimed).
connections() {
    local trace=$work/trace/$1
    shift
    strace -f -qq -e trace=connect -o "$trace" "$@" >/dev/null 2>&1 || true
    grep -cE 'connect\([0-9]+, \{sa_family=AF_INET6?,' "$trace" || true
}
conn_cc=$(connections certctl "$certctl" -c "$conf_b" download --all)
conn_big=$(connections certctl-big "$certctl" -c "$conf_big" download --all)
((conn_cc == 0 && conn_big == 0)) ||
    die "certctl download --all opened $conn_cc + $conn_big connections with nothing due (want 0)"
conn_cb=$(connections certbot env REQUESTS_CA_BUNDLE="${ca_tls[certbot]}" certbot \
    "${certbot_dirs[@]}" -q renew --no-random-sleep-on-renew)
conn_lego=0
for name in "${all_names[@]}"; do
    c=$(connections lego env LEGO_CA_CERTIFICATES="${ca_tls[lego]}" lego \
        --server "${ca_url[lego]}" --accept-tos --email hostmaster@example.com \
        --path "$lego_dir" --key-type ec256 --http --http.webroot "$webroot" \
        --domains "$name" renew --days 30)
    conn_lego=$((conn_lego + c))
done

bench_s=$(calc "$EPOCHREALTIME - $bench_start" 0)

# ----------------------------------------------------------------- report

cc_s=$(median "${cc_times[@]}")
cb_s=$(median "${cb_times[@]}")
lego_s=$(median "${lego_times[@]}")
big_s=$(median "${big_times[@]}")
r_issue=$(calc "$fastest_s / $issue_certctl" 1)
r_issue_lego=$(calc "$issue_lego / $issue_certctl" 1)
r_issue_cb=$(calc "$issue_certbot / $issue_certctl" 1)
r_cb=$(calc "$cb_s / $cc_s" 1)
r_lego=$(calc "$lego_s / $cc_s" 1)
big_per_1000=$(calc "$big_s * 1000 / $big")
v_issue=$(verdict "$fastest_s >= 3 * $issue_certctl")
v_cb=$(verdict "$cb_s >= 20 * $cc_s")
v_big=$(verdict "$big_s * 1000 / $big < 0.2")

issue_table=$(
    printf '| tool | %d names (s) | s per name | time / certctl |\n|---|---:|---:|---:|\n' "$names"
    # shellcheck disable=SC2016 # the backticks are Markdown, not a command
    printf '| `certctl download --all` (one process) | %s | %s | 1x |\n' \
        "$issue_certctl" "$(calc "$issue_certctl / $names")"
    # shellcheck disable=SC2016 # the backticks are Markdown, not a command
    printf '| lego (`lego ... run` per name) | %s | %s | %sx |\n' \
        "$issue_lego" "$(calc "$issue_lego / $names")" "$r_issue_lego"
    # shellcheck disable=SC2016 # the backticks are Markdown, not a command
    printf '| certbot (`certbot certonly` per name) | %s | %s | %sx |\n' \
        "$issue_certbot" "$(calc "$issue_certbot / $names")" "$r_issue_cb"
)
noop_table=$(
    printf '| tool | names | median (s) | ms per name | time / certctl | TCP connections |\n'
    printf '|---|---:|---:|---:|---:|---:|\n'
    # shellcheck disable=SC2016 # the backticks are Markdown, not a command
    printf '| `certctl download --all` (exit 10) | %d | %s | %s | 1x | %d |\n' \
        "$noop_names" "$(calc "$cc_s")" "$(calc "$cc_s * 1000 / $noop_names" 2)" "$conn_cc"
    # shellcheck disable=SC2016 # the backticks are Markdown, not a command
    printf '| `certbot -q renew` | %d | %s | %s | %sx | %d |\n' \
        "$noop_names" "$(calc "$cb_s")" "$(calc "$cb_s * 1000 / $noop_names" 2)" "$r_cb" "$conn_cb"
    # shellcheck disable=SC2016 # the backticks are Markdown, not a command
    printf '| lego (`lego ... renew` per name) | %d | %s | %s | %sx | %d |\n' \
        "$noop_names" "$(calc "$lego_s")" "$(calc "$lego_s * 1000 / $noop_names" 2)" \
        "$r_lego" "$conn_lego"
    # shellcheck disable=SC2016 # the backticks are Markdown, not a command
    printf '| `certctl download --all` (exit 10), mkcertdir certdir | %d | %s | %s | | %d |\n' \
        "$big" "$(calc "$big_s")" "$(calc "$big_s * 1000 / $big" 2)" "$conn_big"
)
targets=$(
    printf '| target | measured | |\n|---|---|---|\n'
    printf '| (a) issuing: at least 3x faster than the fastest peer (%s) | %sx | %s |\n' \
        "$fastest" "$r_issue" "$v_issue"
    # shellcheck disable=SC2016 # the backticks are Markdown, not a command
    printf '| (b) no-op: at least 20x faster than `certbot renew` | %sx | %s |\n' "$r_cb" "$v_cb"
    printf '| (b) no-op: under 0.2 s for 1,000 names | %s s per 1,000 names | %s |\n' \
        "$big_per_1000" "$v_big"
)
printf '\n(a) issuing %d new names\n\n%s\n\n(b) the daily run with nothing due\n\n%s\n\n%s\n\n' \
    "$names" "$issue_table" "$noop_table" "$targets"
printf 'load average: %s at the start, %s at the end; the whole bench took %s s\n' \
    "$load_start" "$load_end" "$bench_s"

[[ ${BENCH_NO_DOC-} == 1 ]] && exit 0

pkg_version() {
    dpkg-query -W -f='${Version}' "$1" 2>/dev/null || echo unknown
}

section=$work/section.md
cat >"$section" <<EOF
<!-- acme:begin -->
<!-- Generated by bench/acme.sh: do not edit by hand; rerun it to refresh. -->

## ACME: issuing $names new names, and the daily run with nothing due

Generated by \`bench/acme.sh\` on $(date -u '+%Y-%m-%d %H:%M UTC').

Each tool gets a Pebble of its own on loopback (Debian's \`pebble\`, started
fresh for it by \`tests/helpers/pebble.bash\`), with
\`PEBBLE_VA_NOSLEEP=1 PEBBLE_VA_ALWAYS_VALID=1\` (no challenge is really
validated, so the times are the clients' and the CA's, not a web server's)
and \`PEBBLE_WFE_NONCEREJECT=0\` (no random badNonce rejections). Each tool
is configured for http-01 into a webroot, makes its own new account and one
EC P-256 certificate per name. Same run, same machine.

### (a) Issuing $names new names

Wall time of the whole batch, one run:

- **certctl**: \`certctl download --all\` over a config naming the $names
  names (\`--jobs\` at its default), installing each as a new generation
  (section 3 of DESIGN.md, fsynced, verified first).
- **lego** $(pkg_version lego): as a user runs it, per name \`lego --server URL
  --accept-tos --email ... --path DIR --key-type ec256 --http --http.webroot
  DIR --domains NAME run\`, with \`LEGO_CA_CERTIFICATES\` naming Pebble's CA.
- **certbot** $(pkg_version certbot): per name \`certbot certonly
  --non-interactive --agree-tos --register-unsafely-without-email --server URL
  --key-type ecdsa --webroot -w DIR -d NAME\` (\`--config-dir\`,
  \`--work-dir\`, \`--logs-dir\` in scratch, \`REQUESTS_CA_BUNDLE\` naming
  Pebble's CA). certbot waits a fixed second before it polls the
  authorization and another before it polls the order, whatever the CA.

$issue_table

### (b) The daily run with nothing due

Each tool over the $noop_names names it installed itself (the $names of (a)
and $extra more, issued untimed), its CA still running, median of $runs
run(s):

- **certctl**: \`certctl download --all\`: exit 10, no output, no new
  generation, no connection.
- **certbot**: \`certbot -q renew --no-random-sleep-on-renew\` (what
  Debian's certbot.timer runs), nothing renewed.
- **lego**: it has no renew-everything command, so per name \`lego ...
  --domains NAME renew --days 30\` (it fetches the directory each time even
  when nothing is due).
- **certctl, $big names**: \`certctl download --all\` over a certdir made by
  \`bench/mkcertdir.c\` (90-day leaves) and a config naming all $big under
  the same Pebble source (default \`renew_before\`, nothing due).

TCP connections are counted once per tool outside the timed runs, with
\`strace -f -e trace=connect\`.

$noop_table

### Targets

$targets

### Machine

$(machine_rows)
| Pebble | $(pkg_version pebble) (Debian) |
| lego | $(pkg_version lego) (Debian) |
| certbot | $(pkg_version certbot) (Debian, Python $(python3 -c 'import platform; print(platform.python_version())')) |
| certctl | $certctl_build |
| scratch on | $(df --output=fstype "$work" | tail -1) ($(dirname -- "$work")) |
| load average (1, 5, 15 min) | $load_start at the start, $load_end at the end |
| the whole bench | $bench_s s |

Reproduce: \`bash bench/acme.sh\` (knobs: \`BENCH_NAMES\`, \`BENCH_NOOP_NAMES\`,
\`BENCH_BIG\`, \`BENCH_RUNS\`, \`BENCH_TMPDIR\`, \`BENCH_BUILD\`,
\`BENCH_CERTCTL\`, \`BENCH_KEEP=1\`, \`BENCH_NO_DOC=1\`). Run as root it
installs \`pebble\`, \`lego\`, \`certbot\` and \`strace\` with apt-get when
they are missing.
<!-- acme:end -->
EOF
doc_section "$doc" acme "$section" || die "cannot write $doc"
printf 'wrote the acme section of %s\n' "$doc"
