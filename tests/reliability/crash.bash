# shellcheck shell=bash
# Crash-consistency harness: run a certctl command under the crashpoint
# interposer, killed with SIGKILL before its Nth file-system call, and
# check what a server would see afterwards.
#
#   crash_points CMD...            how many points CMD has (it runs once)
#   crash_trial N CMD...           run CMD killed at point N; 0 if it died
#   crash_at_random US CMD...      run CMD killed after a random time under
#                                  US microseconds; 0 if it died
#   crash_run_us CMD...            how long CMD takes, in microseconds
#   certdir_sound CERTDIR TRUST    every live set complete and consistent
#   live_links CERTDIR             LIVE_LINK[NAME]=.live/NAME.gNNNN
#   file_hashes FILE...            HASH_OF[FILE]=SHA-256 of FILE
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

# Between the counted calls too: in the middle of a write, a TLS handshake,
# a key generation, wherever the clock says.
crash_at_random() {
    local us=$1 delay rc=0
    shift
    delay=$(((RANDOM * 32768 + RANDOM) % (us > 0 ? us : 1)))
    crash_env CRASHPOINT_AFTER_US="$delay" "$@" >/dev/null 2>&1 || rc=$?
    [ "$rc" -eq 137 ]
}

crash_run_us() {
    local time="$BATS_TEST_TMPDIR/run-us"
    crash_env CRASHPOINT_TIME="$time" "$@" >/dev/null 2>&1 || true
    cat "$time"
}

# live_links CERTDIR: LIVE_LINK[NAME]=TARGET for every live link of
# CERTDIR (a symlink NAME -> .live/...), read in one process.
live_links() {
    local name target
    declare -gA LIVE_LINK=()
    while IFS=$'\t' read -r name target; do
        case $target in .live/*) LIVE_LINK[$name]=$target ;; esac
    done < <(find "$1" -mindepth 1 -maxdepth 1 -type l ! -name '.*' -printf '%f\t%l\n')
}

# file_hashes FILE...: HASH_OF[FILE]=its SHA-256, for those that exist,
# in one process.
file_hashes() {
    local sum f
    declare -gA HASH_OF=()
    while read -r sum f; do
        HASH_OF[$f]=$sum
    done < <(sha256sum -- "$@" 2>/dev/null)
}

# What a server reading the certdir would see must be a whole set: every
# file there, key matching cert, chain verifying, fullchain = cert + chain,
# no temporary file under a live path. The openssl checks of a set already
# found sound (same bytes, same trust) are not repeated: trials restore the
# same sets again and again, and a set never changes once installed. A
# handful of processes per call, however many names: trials over many
# names would otherwise spend their time starting them.
declare -gA CRASH_SOUND=()
certdir_sound() {
    local certdir=$1 trust=$2 name gen f rel sum
    local -A owner=()
    local -a files=("$trust")
    live_links "$certdir"
    for name in "${!LIVE_LINK[@]}"; do
        gen="$certdir/${LIVE_LINK[$name]}"
        [ -d "$gen" ] || { echo "$name: live link dangles"; return 1; }
        case $gen in *.tmp) echo "$name: temporary file under the live path"; return 1 ;; esac
        for f in privkey.pem cert.pem chain.pem fullchain.pem; do
            [ -s "$gen/$f" ] || [ "$f" = chain.pem ] || { echo "$name: $f missing"; return 1; }
            files+=("$gen/$f")
        done
        owner[${LIVE_LINK[$name]#.live/}]=$name
    done
    while IFS= read -r rel; do
        name=${owner[${rel%%/*}]:-}
        [ -z "$name" ] || { echo "$name: temporary file under the live path"; return 1; }
    done < <(find "$certdir/.live" -mindepth 2 -name '*.tmp' -printf '%P\n' 2>/dev/null)
    file_hashes "${files[@]}"
    for name in "${!LIVE_LINK[@]}"; do
        gen="$certdir/${LIVE_LINK[$name]}"
        sum="${HASH_OF[$trust]:-}"
        for f in privkey.pem cert.pem chain.pem fullchain.pem; do
            sum+=" ${HASH_OF[$gen/$f]:-none}"
        done
        [ -z "${CRASH_SOUND[$sum]:-}" ] || continue
        [ "$(cat "$gen/cert.pem" "$gen/chain.pem")" = "$(cat "$gen/fullchain.pem")" ] ||
            { echo "$name: fullchain.pem is not cert + chain"; return 1; }
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
