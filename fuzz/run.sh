#!/usr/bin/env bash
# Build the libFuzzer targets with clang (ASan + UBSan) and run each for
# SECONDS (default 60) on a copy of its seed corpus; key seeds are made at
# run time, since no private key is committed. Prints TAP; a crash is a
# failure, its input is kept in fuzz/crashes/ for a regression test.
#   bash fuzz/run.sh [SECONDS] [TARGET...]
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
seconds=${1:-60}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(certs chain key config state ocsp ari acme)
build=${FUZZ_BUILD:-build-fuzz}

if [ ! -f "$build/build.ninja" ]; then
    CC=clang meson setup "$build" -Dfuzz=true -Dtests=false \
        -Db_sanitize=address,undefined -Db_lundef=false >/dev/null || exit 1
fi
ninja -C "$build" >/dev/null || exit 1

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/seeds/key" fuzz/crashes
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$work/seeds/key/ec.pem" 2>/dev/null
openssl genpkey -algorithm ED25519 -outform DER -out "$work/seeds/key/ed.der" 2>/dev/null
openssl pkey -in "$work/seeds/key/ec.pem" -traditional -out "$work/seeds/key/trad.pem" 2>/dev/null
openssl pkcs8 -topk8 -in "$work/seeds/key/ec.pem" -passout pass:fuzz -out "$work/seeds/key/enc.pem" 2>/dev/null

echo "1..${#targets[@]}"
n=0
status=0
export ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
for t in "${targets[@]}"; do
    n=$((n + 1))
    corpus=$work/corpus-$t
    mkdir -p "$corpus"
    seeds=fuzz/corpus/$t
    [ "$t" = key ] && seeds=$work/seeds/key
    log=$work/$t.log
    if "$build/fuzz/fuzz_$t" -max_total_time="$seconds" -max_len=65536 -timeout=10 \
        -artifact_prefix="fuzz/crashes/$t-" "$corpus" "$seeds" >"$log" 2>&1; then
        runs=$(grep -Eo 'Done [0-9]+ runs' "$log" | grep -Eo '[0-9]+' || echo '?')
        echo "ok $n - fuzz_$t: $runs runs in ${seconds} s, no crash"
    else
        echo "not ok $n - fuzz_$t crashed; input saved in fuzz/crashes/"
        grep -E 'ERROR|SUMMARY|runtime error' "$log" | head -5 | sed 's/^/# /'
        status=1
    fi
done
exit "$status"
