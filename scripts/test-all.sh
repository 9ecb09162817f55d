#!/usr/bin/env bash
# shellcheck disable=SC2317 # the functions below run through step()
# Build and run every kind of test certctl has. Two depths:
#
#   scripts/test-all.sh          the CI gate (.ci/run), about 20 minutes on
#                                two cores: the whole suite on a normal build
#                                and again under AddressSanitizer +
#                                UndefinedBehaviorSanitizer (leaks count),
#                                with a sample of the crash trials; each fuzz
#                                target briefly; valgrind memcheck over the
#                                unit tests and the "memcheck" slice of the
#                                cli tests.
#   scripts/test-all.sh --full   the release check (hours): the same, plus
#                                every crash point of every scenario and 50
#                                random-time kills each, fuzzing for a fixed
#                                time per target, and valgrind over every cli
#                                test.
#
# Either ends with one line "N passed, N failed, N skipped" over all of
# them and exits non-zero on any failure. VALGRIND=0 leaves valgrind out of
# a local run; FUZZ_SECONDS sets the time per fuzz target.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1

full=0
case "${1:-}" in
    --full) full=1 ;;
    "") ;;
    *)
        echo "usage: scripts/test-all.sh [--full]" >&2
        exit 2
        ;;
esac

export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
# One meson process more than cores: the bats files spend part of their
# time waiting on the peers they start.
jobs=$(($(nproc) + 1))
status=0
start=$(date +%s)
logs=()
timings=()

if [ "$full" = 1 ]; then
    # Every point of every scenario (docs/RELIABILITY.md's table).
    crash_plain=(CRASH_LIMIT=500 CRASH_NAMES=36 CRASH_RANDOM=50)
    crash_asan=(CRASH_LIMIT=500 CRASH_RANDOM=10)
    fuzz_seconds=${FUZZ_SECONDS:-60}
    memcheck_tags=
else
    # A sample: the first 40 points and 4 random kills per scenario in the
    # normal build, a few under the sanitizers (crash.bats).
    crash_plain=(CRASH_LIMIT=40 CRASH_RANDOM=4)
    crash_asan=(CRASH_LIMIT=8 CRASH_RANDOM=1)
    fuzz_seconds=${FUZZ_SECONDS:-5}
    memcheck_tags=memcheck
fi

# step NAME COMMAND...: run COMMAND, note how long it took.
step() {
    local name=$1 t0=$SECONDS rc=0
    shift
    "$@" || rc=$?
    timings+=("$(printf '%-28s %5d s' "$name" $((SECONDS - t0)))")
    return "$rc"
}

suite() { # BUILDDIR TEST-SETUP MESON-OPTIONS... (TEST-SETUP "": meson's default)
    local dir=$1 setup=$2 log=testlog.json args=()
    shift 2
    if [ -n "$setup" ]; then
        # meson names the log after the setup.
        args=(--setup "$setup")
        log=testlog-$setup.json
    fi
    if [ ! -f "$dir/build.ninja" ]; then
        meson setup "$dir" "$@" || return 1
    fi
    meson compile -C "$dir" || return 1
    meson test -C "$dir" "${args[@]}" --num-processes "$jobs" --print-errorlogs || status=1
    logs+=("$dir/meson-logs/$log")
}

# The crash sample size reaches crash.bats through the environment.
plain_pass() {
    export "${crash_plain[@]}"
    suite build ""
}
sanitizer_pass() {
    export "${crash_asan[@]}"
    suite build-asan "" -Db_sanitize=address,undefined -Db_lundef=false
}
step "normal build" plain_pass || status=1
step "ASan+UBSan build" sanitizer_pass || status=1

fuzz_step() {
    bash fuzz/run.sh "$fuzz_seconds" > build-fuzz.tap 2>&1 || status=1
    cat build-fuzz.tap
    logs+=("build-fuzz.tap")
}
step "fuzz (${fuzz_seconds} s a target)" fuzz_step

# valgrind memcheck, in a plain debug build (the sanitizers and valgrind do
# not mix): tests/meson.build's 'valgrind' setup runs each unit test, and
# each certctl the cli bats files start, through tests/helpers/valgrind-memcheck,
# so a memory error or a definite/indirect leak fails that test (which suites
# it leaves out, and why, is written there). In the CI gate only the cli
# tests tagged "memcheck" run (VALGRIND_BATS_TAGS). Every report is also
# kept in build-valgrind/valgrind-logs; any report there fails the line
# added below, even one from a run whose exit status its test ignored.
#
# A guard for CI's 90 minutes: if the run so far (from CERTCTL_CI_START,
# set by .ci/run) has already taken more than VALGRIND_LATEST_START seconds
# (default 50 minutes), the step is reported as skipped.
valgrind_step() {
    local started=${CERTCTL_CI_START:-$start} latest=${VALGRIND_LATEST_START:-3000}
    local elapsed=$(($(date +%s) - started)) reports
    mkdir -p build-valgrind
    if [ "$full" = 0 ] && [ "$elapsed" -gt "$latest" ]; then
        printf '1..1\nok 1 # SKIP valgrind: %s s gone before the step, more than %s\n' \
            "$elapsed" "$latest" > build-valgrind/memcheck.tap
        cat build-valgrind/memcheck.tap
        logs+=("build-valgrind/memcheck.tap")
        return 0
    fi
    rm -rf build-valgrind/valgrind-logs
    VALGRIND_BATS_TAGS=$memcheck_tags suite build-valgrind valgrind -Dbuildtype=debug || status=1
    mapfile -t reports < <(find build-valgrind/valgrind-logs -type f -size +0 2>/dev/null | sort)
    {
        echo "1..1"
        if ! command -v valgrind >/dev/null; then
            echo "not ok 1 - valgrind: not installed (scripts/install-deps.sh)"
        elif [ ${#reports[@]} -gt 0 ]; then
            echo "not ok 1 - valgrind: ${#reports[@]} report(s) of errors or leaks"
            printf '# %s\n' "${reports[@]}"
        else
            echo "ok 1 - valgrind: no run reported an error or a leak"
        fi
    } > build-valgrind/memcheck.tap
    cat build-valgrind/memcheck.tap
    logs+=("build-valgrind/memcheck.tap")
}
if [ "${VALGRIND:-1}" != 0 ]; then
    step "valgrind memcheck${memcheck_tags:+ (slice)}" valgrind_step
fi

echo "# time per step (total $(($(date +%s) - start)) s):"
printf '#   %s\n' "${timings[@]}"
if [ ${#logs[@]} -eq 0 ]; then
    echo "0 passed, 1 failed"
    exit 1
fi
python3 scripts/count-tap.py "${logs[@]}" || status=1
exit "$status"
