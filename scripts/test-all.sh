#!/usr/bin/env bash
# Build and run every test twice: a normal build, then one with
# AddressSanitizer + UndefinedBehaviorSanitizer (leaks count); then the unit
# and cli tests once more under valgrind memcheck (leaks count; VALGRIND=0
# leaves that out of a local run). Ends with one line "N passed, N failed,
# N skipped" over all of them and a short run of every fuzz target.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1

export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
jobs=$(nproc)
status=0
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

# valgrind memcheck, in a plain debug build (the sanitizers and valgrind do
# not mix): tests/meson.build's 'valgrind' setup runs each unit test, and
# each certctl the cli bats files start, through tests/helpers/valgrind-memcheck,
# so a memory error or a definite/indirect leak fails that test (which suites
# it leaves out, and why, is written there). Every report is also kept in
# build-valgrind/valgrind-logs; any report there fails the line added below,
# even one from a run whose exit status its test ignored.
if [ "${VALGRIND:-1}" != 0 ]; then
    rm -rf build-valgrind/valgrind-logs
    suite build-valgrind valgrind -Dbuildtype=debug || status=1
    mkdir -p build-valgrind
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
fi

# The fuzz targets, briefly (bench runs them longer: bash fuzz/run.sh 600).
bash fuzz/run.sh "${FUZZ_SECONDS:-15}" > build-fuzz.tap 2>&1 || status=1
cat build-fuzz.tap
logs+=("build-fuzz.tap")

if [ ${#logs[@]} -eq 0 ]; then
    echo "0 passed, 1 failed"
    exit 1
fi
python3 scripts/count-tap.py "${logs[@]}" || status=1
exit "$status"
