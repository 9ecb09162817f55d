#!/usr/bin/env bash
# Build and run every test twice: a normal build, then one with
# AddressSanitizer + UndefinedBehaviorSanitizer (leaks count); a short run of
# every fuzz target; then the unit and cli tests once more under valgrind
# memcheck (leaks count; VALGRIND=0 leaves that out of a local run). Ends
# with one line "N passed, N failed, N skipped" over all of them.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1

export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
jobs=$(nproc)
status=0
start=$(date +%s)
logs=()

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

suite build "" || status=1
suite build-asan "" -Db_sanitize=address,undefined -Db_lundef=false || status=1

# The fuzz targets, briefly (bench runs them longer: bash fuzz/run.sh 600).
bash fuzz/run.sh "${FUZZ_SECONDS:-15}" > build-fuzz.tap 2>&1 || status=1
cat build-fuzz.tap
logs+=("build-fuzz.tap")

# valgrind memcheck, in a plain debug build (the sanitizers and valgrind do
# not mix): tests/meson.build's 'valgrind' setup runs each unit test, and
# each certctl the cli bats files start, through tests/helpers/valgrind-memcheck,
# so a memory error or a definite/indirect leak fails that test (which suites
# it leaves out, and why, is written there). Every report is also kept in
# build-valgrind/valgrind-logs; any report there fails the line added below,
# even one from a run whose exit status its test ignored. One process more
# than cores: the bats files spend much of their time waiting on peers.
#
# It comes last and takes 25-30 minutes on two cores. CI allows 90 in all:
# if the run so far (from CERTCTL_CI_START, set by .ci/run) has already
# taken more than VALGRIND_LATEST_START seconds (default 50 minutes), the
# step is reported as skipped rather than let the whole run time out.
valgrind_step() {
    local started=${CERTCTL_CI_START:-$start} latest=${VALGRIND_LATEST_START:-3000}
    local elapsed=$(($(date +%s) - started)) reports jobs=$((jobs + 1))
    mkdir -p build-valgrind
    if [ "$elapsed" -gt "$latest" ]; then
        printf '1..1\nok 1 # SKIP valgrind: %s s gone before the step, more than %s\n' \
            "$elapsed" "$latest" > build-valgrind/memcheck.tap
        cat build-valgrind/memcheck.tap
        logs+=("build-valgrind/memcheck.tap")
        return 0
    fi
    rm -rf build-valgrind/valgrind-logs
    suite build-valgrind valgrind -Dbuildtype=debug || status=1
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
    valgrind_step
fi

if [ ${#logs[@]} -eq 0 ]; then
    echo "0 passed, 1 failed"
    exit 1
fi
python3 scripts/count-tap.py "${logs[@]}" || status=1
exit "$status"
