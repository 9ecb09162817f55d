# shellcheck shell=bash
# Crash-consistency harness: run a certctl command under the crashpoint
# interposer, killed with SIGKILL before its Nth file-system call, and
# check what a server would see afterwards.
#
#   crash_points CMD...            how many points CMD has (it runs once)
#   crash_trial N CMD...           run CMD killed at point N; 0 if it died
#   certdir_sound CERTDIR TRUST    every live set complete and consistent
#
# Needs $CRASHPOINT (the interposer .so) and $CERTDIR.

crash_env() {
    # An ASan build must tolerate a preloaded library ahead of its runtime.
    env LD_PRELOAD="$CRASHPOINT" ASAN_OPTIONS="${ASAN_OPTIONS:-}:verify_asan_link_order=0" "$@"
}

crash_points() {
    local count="$BATS_TEST_TMPDIR/points"
    crash_env CRASHPOINT_COUNT="$count" "$@" >/dev/null 2>&1 || true
    cat "$count"
}

crash_trial() {
    local n=$1 rc=0
    shift
    crash_env CRASHPOINT_AT="$n" "$@" >/dev/null 2>&1 || rc=$?
    [ "$rc" -eq 137 ]
}

# What a server reading the certdir would see must be a whole set: every
# file there, key matching cert, chain verifying, fullchain = cert + chain,
# no temporary file under a live path. The openssl checks of a set already
# found sound (same bytes, same trust) are not repeated: trials restore the
# same sets again and again, and a set never changes once installed.
declare -gA CRASH_SOUND=()
certdir_sound() {
    local certdir=$1 trust=$2 link name gen sum
    for link in "$certdir"/*; do
        [ -L "$link" ] || continue
        case $(readlink "$link") in .live/*) ;; *) continue ;; esac
        name=$(basename "$link")
        gen="$certdir/$(readlink "$link")"
        [ -d "$gen" ] || { echo "$name: live link dangles"; return 1; }
        for f in privkey.pem cert.pem chain.pem fullchain.pem; do
            [ -s "$gen/$f" ] || [ "$f" = chain.pem ] || { echo "$name: $f missing"; return 1; }
        done
        if find "$gen" -name '*.tmp' | grep -q .; then
            echo "$name: temporary file under the live path"
            return 1
        fi
        [ "$(cat "$gen/cert.pem" "$gen/chain.pem")" = "$(cat "$gen/fullchain.pem")" ] ||
            { echo "$name: fullchain.pem is not cert + chain"; return 1; }
        sum=$(sha256sum "$trust" "$gen/privkey.pem" "$gen/cert.pem" "$gen/chain.pem" \
            2>/dev/null | cut -d' ' -f1)
        [ -z "${CRASH_SOUND[$sum]:-}" ] || continue
        [ "$(openssl pkey -in "$gen/privkey.pem" -pubout 2>/dev/null)" = \
          "$(openssl x509 -in "$gen/cert.pem" -noout -pubkey 2>/dev/null)" ] ||
            { echo "$name: key does not match cert"; return 1; }
        openssl verify -CAfile "$trust" -untrusted "$gen/chain.pem" "$gen/cert.pem" \
            >/dev/null 2>&1 || { echo "$name: chain does not verify"; return 1; }
        CRASH_SOUND[$sum]=1
    done
}

# The points to try: all of them up to LIMIT, else LIMIT spread evenly.
crash_sample() {
    local total=$1 limit=$2 i
    if [ "$total" -le "$limit" ]; then
        seq 0 $((total - 1))
    else
        for i in $(seq 0 $((limit - 1))); do
            echo $((i * total / limit))
        done
    fi
}
