#!/usr/bin/env bash
# Build and run every test twice: a normal build, then one with
# AddressSanitizer + UndefinedBehaviorSanitizer (leaks count). Ends with
# one line "N passed, N failed, N skipped" over both runs and a short
# run of every fuzz target.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1

export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
jobs=$(nproc)
status=0
logs=()

suite() { # BUILDDIR MESON-OPTIONS...
    local dir=$1
    shift
    if [ ! -f "$dir/build.ninja" ]; then
        meson setup "$dir" "$@" || return 1
    fi
    meson compile -C "$dir" || return 1
    meson test -C "$dir" --num-processes "$jobs" --print-errorlogs || status=1
    logs+=("$dir/meson-logs/testlog.json")
}

suite build || status=1
suite build-asan -Db_sanitize=address,undefined -Db_lundef=false || status=1

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
