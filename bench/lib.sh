# shellcheck shell=bash
# Shared by the bench/*.sh scripts.

# doc_section DOC NAME SECTIONFILE: replace the part of DOC between
# "<!-- NAME:begin -->" and "<!-- NAME:end -->" (SECTIONFILE carries both
# markers); append it when DOC has none, create DOC when missing. Written
# next to DOC and renamed over it, so a reader never sees half a file.
doc_section() {
    local doc=$1 name=$2 section=$3 tmpdoc
    local begin="<!-- $name:begin -->" end="<!-- $name:end -->"
    mkdir -p -- "$(dirname -- "$doc")"
    tmpdoc=$(mktemp "$doc.XXXXXX") || return 1
    if [[ -f $doc ]] && grep -qxF -- "$begin" "$doc" && grep -qxF -- "$end" "$doc"; then
        awk -v b="$begin" -v e="$end" -v f="$section" '
            $0 == b { while ((getline line < f) > 0) print line; skip = 1; next }
            skip && $0 == e { skip = 0; next }
            !skip { print }
        ' "$doc" >"$tmpdoc" || return 1
    elif [[ -f $doc ]]; then
        { cat -- "$doc" && printf '\n' && cat -- "$section"; } >"$tmpdoc" || return 1
    else
        { printf '# Benchmarks\n\nEach section is written by the bench script it names;\n'
          printf 'rerun a script to refresh its section.\n\n'
          cat -- "$section"; } >"$tmpdoc" || return 1
    fi
    chmod 0644 "$tmpdoc"
    mv -f -- "$tmpdoc" "$doc"
}

# die MESSAGE...: print "SCRIPT: MESSAGE" and exit 1.
die() {
    printf '%s: %s\n' "$(basename -- "$0")" "$*" >&2
    exit 1
}

# median NUMBER...: the median of the numbers.
median() {
    printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 }
        END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# calc EXPR [DECIMALS]: floating point arithmetic (bash has none).
calc() {
    awk "BEGIN { printf \"%.${2:-3}f\", $1 }"
}

# verdict AWK-CONDITION: "met" or "MISSED".
verdict() {
    if awk "BEGIN { exit !($1) }"; then echo met; else echo MISSED; fi
}

# need TOOL...: die unless every TOOL is on PATH.
need() {
    local tool
    for tool in "$@"; do
        command -v "$tool" >/dev/null || die "$tool is needed"
    done
}

# need_pkg TOOL PACKAGE: like need, but when TOOL is missing and this runs
# as root with apt-get around, install Debian's PACKAGE first.
need_pkg() {
    command -v "$1" >/dev/null && return 0
    if ((EUID == 0)) && command -v apt-get >/dev/null; then
        printf 'installing %s (for %s)\n' "$2" "$1" >&2
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$2" \
            >/dev/null || die "apt-get install $2 failed"
    fi
    command -v "$1" >/dev/null || die "$1 is needed (apt-get install $2)"
}

# release_build DIR TOP: a release build of certctl of its own in DIR, so
# the numbers never come from a debug or sanitizer build someone else
# configured (ninja rebuilds only what changed). Sets CERTCTL.
release_build() {
    if [[ ! -f $1/build.ninja ]]; then
        meson setup "$1" "$2" -Dtests=false -Dbuildtype=release >/dev/null ||
            die "meson setup $1 failed"
    fi
    ninja -C "$1" certctl >/dev/null || die "building certctl failed"
    # shellcheck disable=SC2034 # for the script that sourced this file
    CERTCTL=$1/certctl
}

# scratch_dir PREFIX: a new directory on tmpfs when there is one (the data
# is throwaway, and mass file creation on disk skews timings), removed on
# exit unless BENCH_KEEP=1. Sets WORK.
scratch_dir() {
    local base=${BENCH_TMPDIR-}
    if [[ -z $base ]]; then
        if [[ -d /dev/shm && -w /dev/shm ]]; then base=/dev/shm; else base=${TMPDIR:-/tmp}; fi
    fi
    WORK=$(mktemp -d "$base/$1.XXXXXX") || die "mktemp failed"
    chmod 0755 "$WORK"
    # shellcheck disable=SC2064 # expand WORK now
    trap "scratch_cleanup '$WORK'" EXIT
}

scratch_cleanup() {
    if [[ ${BENCH_KEEP-} == 1 ]]; then
        printf 'kept %s\n' "$1" >&2
    else
        rm -rf -- "$1"
    fi
}

# source_state TOP: "COMMIT" or "COMMIT + uncommitted changes in src/cmd",
# for the report.
source_state() {
    local commit
    commit=$(git -C "$1" rev-parse --short HEAD 2>/dev/null || echo unknown)
    if [[ $commit != unknown &&
        -n $(git -C "$1" status --porcelain -- src cmd include meson.build 2>/dev/null) ]]; then
        commit="$commit + uncommitted changes in src/cmd"
    fi
    printf '%s\n' "$commit"
}

# machine_rows: the start of a section's "Machine" table (the header, CPU,
# cores, OpenSSL); the bench appends its own rows.
machine_rows() {
    printf '| | |\n|---|---|\n'
    printf '| CPU | %s |\n' "$(awk -F': *' '/^model name/ { print $2; exit }' /proc/cpuinfo)"
    printf '| cores (nproc) | %s |\n' "$(nproc)"
    printf '| OpenSSL | %s |\n' "$(openssl version)"
}

# bench_certctl BUILD TOP: the certctl to measure, BENCH_CERTCTL when set,
# else a release build of TOP in BUILD (release_build). Sets CERTCTL and
# CERTCTL_BUILD (what the report says it measured).
# shellcheck disable=SC2034 # for the script that sourced this file
bench_certctl() {
    if [[ -n ${BENCH_CERTCTL-} ]]; then
        [[ -x $BENCH_CERTCTL ]] || die "BENCH_CERTCTL=$BENCH_CERTCTL is not executable"
        CERTCTL=$BENCH_CERTCTL
        CERTCTL_BUILD="$BENCH_CERTCTL (BENCH_CERTCTL)"
    else
        release_build "$1" "$2"
        CERTCTL_BUILD="$(source_state "$2"), meson release build"
    fi
}

# ocsp_responder_start DIR PORT: `openssl ocsp` on PORT answering for the
# leaves of the certdir bench/mkcertdir.c made in DIR (every one good), with
# four processes so that the responder is not what limits a run. Sets
# RESPONDER_PID; ocsp_responder_stop ends it.
ocsp_responder_start() {
    local i
    printf 'unique_subject = no\n' >"$1/index.txt.attr"
    openssl ocsp -index "$1/index.txt" -port "$2" -CA "$1/inter.pem" \
        -rsigner "$1/inter.pem" -rkey "$1/inter.key" -ndays 7 -multi 4 \
        </dev/null >"$1/responder.log" 2>&1 &
    RESPONDER_PID=$!
    # Not wait_port: OpenSSL 3.0's -multi responder child that gets a
    # connection without a request spins at 100% CPU for good. It says
    # ACCEPT once it listens.
    for ((i = 0; i < 100; i++)); do
        grep -q ACCEPT "$1/responder.log" && return 0
        sleep 0.1
    done
    die "the OCSP responder did not start: $(cat "$1/responder.log")"
}

ocsp_responder_stop() {
    if [[ -n ${RESPONDER_PID-} ]]; then
        # Its children too: the -multi parent waits for children that a
        # TERM to it alone leaves running.
        kill "$RESPONDER_PID" 2>/dev/null || true
        pkill -P "$RESPONDER_PID" 2>/dev/null || true
        wait "$RESPONDER_PID" 2>/dev/null || true
        RESPONDER_PID=
    fi
}

# bench_programs BUILD PROG...: compile bench/PROG.c into BUILD/PROG. The
# bench programs are single files: plain cc, no meson.build change.
bench_programs() {
    local build=$1 prog ssl_flags
    shift
    read -r -a ssl_flags <<<"$(pkg-config --cflags --libs openssl)"
    for prog; do
        cc -O2 -Wall -Wextra -o "$build/$prog" "$(dirname -- "${BASH_SOURCE[0]}")/$prog.c" "${ssl_flags[@]}" ||
            die "cc $prog.c failed"
    done
}
