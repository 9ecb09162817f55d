#!/usr/bin/env bats
# Crash consistency (issue 8): import, rekey, download, staple and rollback killed
# with SIGKILL before their file-system calls, one point per trial. After
# every kill the certdir must be sound for a server, and the next run must
# clean up and succeed. CRASH_LIMIT points per command (default 40; the
# bench runs every point), then CRASH_RANDOM kills at random times (default
# 4), CRASH_NAMES names for the commands run on many names at once
# (default 2).

setup() {
    load ../helpers/common
    load crash
    common_setup
    : "${CRASHPOINT:?the crashpoint interposer (built by meson) is needed}"
    LIMIT=${CRASH_LIMIT:-40}
    NAMES=${CRASH_NAMES:-2}
    RANDOM_TRIALS=${CRASH_RANDOM:-4}
    PRISTINE="$BATS_TEST_TMPDIR/pristine"
}

teardown() {
    report_on_failure
    if [ -n "${PEBBLE_PID:-}" ]; then
        pebble_stop
    fi
    if declare -F ocsp_stop >/dev/null; then
        ocsp_stop
    fi
}

snapshot() { rm -rf "$PRISTINE"; cp -a "$CERTDIR" "$PRISTINE"; }
restore() { rm -rf "$CERTDIR"; cp -a "$PRISTINE" "$CERTDIR"; }

# run_trials TRUST CMD...: every sampled point, then RANDOM_TRIALS kills at
# random times; after each, the recovery run. AFTER_KILL, if set, names a
# function that checks more after each kill and after each recovery run;
# AFTER_RECOVERY one for after the recovery run only; BEFORE_RECOVERY one to
# run between the kill and the recovery.
run_trials() {
    local trust=$1 total n us= i kills=0 trials=0 random_kills=0
    shift
    restore
    total=$(crash_points "$@")
    [ "$total" -gt 5 ]
    for n in $(crash_sample "$total" "$LIMIT"); do
        restore
        trials=$((trials + 1))
        if crash_trial "$n" "$@"; then
            kills=$((kills + 1))
        fi
        recover "point $n" "$trust" "$@"
    done
    # The shortest of three runs from the same start, so that most random
    # kills land before the end.
    for i in 1 2 3; do
        restore
        n=$(crash_run_us "$@")
        [ -n "$us" ] && [ "$us" -le "$n" ] || us=$n
    done
    for ((i = 1; i <= RANDOM_TRIALS; i++)); do
        restore
        if crash_at_random "$us" "$@"; then
            random_kills=$((random_kills + 1))
        fi
        recover "random kill $i" "$trust" "$@"
    done
    echo "# $kills kills in $trials trials over $total points;" \
        "$random_kills kills in $RANDOM_TRIALS trials at random times under $((us / 1000)) ms" >&3
    [ $((kills + random_kills)) -gt 0 ]
}

# recover WHAT TRUST CMD...: after the kill at WHAT, the certdir is sound;
# CMD run again succeeds, leaves it sound and cleans every leftover.
recover() {
    local what=$1 trust=$2 rc=0
    shift 2
    certdir_sound "$CERTDIR" "$trust"
    ${AFTER_KILL:-:} || { echo "after the kill at $what"; return 1; }
    ${BEFORE_RECOVERY:-:}
    "$@" >/dev/null 2>&1 || rc=$?
    [ "$rc" -eq 0 ] || [ "$rc" -eq 10 ] || { echo "recovery run exited $rc after $what"; return 1; }
    certdir_sound "$CERTDIR" "$trust"
    [ -z "$(find "$CERTDIR" -name '*.tmp')" ] || { echo "leftovers after recovery from $what"; return 1; }
    ${AFTER_KILL:-:} || { echo "after the recovery run from $what"; return 1; }
    ${AFTER_RECOVERY:-:} || { echo "after the recovery run from $what"; return 1; }
}

@test "import killed at any point leaves the old or the new set live" {
    mk www
    pki_leaf "$PKI" renewed --key "$PKI/www.key" --san www --days 120
    snapshot
    run_trials "$PKI/trust.pem" "$CERTCTL" import www --cert "$PKI/renewed.full.pem"
}

@test "rekey killed at any point never touches the live set" {
    mk www
    snapshot
    before=$(tree_sum "$CERTDIR/.live")
    run_trials "$PKI/trust.pem" "$CERTCTL" rekey --force www
    [ "$(tree_sum "$CERTDIR/.live")" = "$before" ]
}

@test "download from Pebble killed at any point" {
    load ../helpers/pebble
    pebble_start "$BATS_TEST_TMPDIR/pebble"
    mk www.example.com
    cat > "$CONFIG" <<YAML
certdir: $CERTDIR
trust: $PEBBLE_ROOTS
defaults: {source: pebble, renew_before: 100000d}
sources:
$(pebble_source pebble "{type: http-01, listen: \"127.0.0.1:$PEBBLE_HTTP_PORT\"}")
certificates:
  www.example.com:
YAML
    snapshot
    # The set made by the test PKI chains to another root: check each
    # generation against both.
    cat "$PKI/trust.pem" "$PEBBLE_ROOTS" > "$BATS_TEST_TMPDIR/both.pem"
    run_trials "$BATS_TEST_TMPDIR/both.pem" "$CERTCTL" download --all
}

# staples_sound: for every name of STAPLED, each live staple (ocsp.der,
# combined.pem.ocsp) is the one in the snapshot, or absent when the
# snapshot had none, or a complete response that verifies and says good
# for the live cert; NAME.ocsp reads as ocsp.der. Responses found good are
# remembered with the cert they were checked against; files are hashed in
# one process for all names.
declare -gA GOOD_STAPLE=()
staples_sound() {
    local name dir rel file sum out
    local -a files=()
    live_links "$CERTDIR"
    for name in "${STAPLED[@]}"; do
        dir=${LIVE_LINK[$name]}
        files+=("$CERTDIR/$dir/cert.pem" "$CERTDIR/$name.ocsp")
        for rel in "$dir/ocsp.der" "$dir/combined.pem.ocsp"; do
            files+=("$CERTDIR/$rel" "$PRISTINE/$rel")
        done
    done
    file_hashes "${files[@]}"
    for name in "${STAPLED[@]}"; do
        dir=${LIVE_LINK[$name]}
        for rel in "$dir/ocsp.der" "$dir/combined.pem.ocsp"; do
            file=$CERTDIR/$rel
            if [ ! -e "$file" ]; then
                [ ! -e "$PRISTINE/$rel" ] || { echo "$name: $rel vanished"; return 1; }
                continue
            fi
            if [ ! -f "$file" ] || [ -L "$file" ]; then
                echo "$name: $rel is not a file"
                return 1
            fi
            [ -n "${HASH_OF[$file]:-}" ] || { echo "$name: $rel unreadable"; return 1; }
            [ "${HASH_OF[$file]}" != "${HASH_OF[$PRISTINE/$rel]:-}" ] || continue
            sum="${HASH_OF[$file]} ${HASH_OF[$CERTDIR/$dir/cert.pem]}"
            [ -z "${GOOD_STAPLE[$sum]:-}" ] || continue
            if ! out=$(openssl ocsp -respin "$file" -issuer "$PKI/inter.pem" \
                -VAfile "$PKI/inter.pem" -cert "$CERTDIR/$dir/cert.pem" -no_nonce 2>&1) ||
                ! grep -q "Response verify OK" <<<"$out" || ! grep -q ": good" <<<"$out"; then
                echo "$name: $rel is neither the old staple nor a good one: $out"
                return 1
            fi
            GOOD_STAPLE[$sum]=1
        done
        if [ -e "$CERTDIR/$dir/ocsp.der" ] &&
            [ "${HASH_OF[$CERTDIR/$name.ocsp]:-}" != "${HASH_OF[$CERTDIR/$dir/ocsp.der]}" ]; then
            echo "$name: $name.ocsp is not ocsp.der"
            return 1
        fi
    done
}

# responder: the test OCSP responder (the issuing intermediate signs, a
# week of validity), started again before each recovery run: a client
# killed in the middle of a request leaves `openssl ocsp` (one process, no
# timeout) waiting on that connection for good.
responder() {
    ocsp_stop
    ocsp_start "$OCSP_INDEX" "$PKI/inter.pem" "$PKI/inter.key" -ndays 7
}

# live_sum: the live sets without their staples (the one thing staple
# changes) and without temporary files.
live_sum() {
    tree_sum "$CERTDIR/.live" | grep -v -e 'ocsp\.der' -e 'combined\.pem\.ocsp' -e '\.tmp '
}

@test "staple killed at any point leaves the old staple or a whole good one" {
    load ../helpers/ocsp
    ocsp_setup
    # combined.pem.ocsp too: two staple files replaced in place per name.
    write_config "defaults: {files: [combined]}"
    STAPLED=(www api)
    for name in "${STAPLED[@]}"; do
        pki_leaf "$PKI" "$name" --ocsp "$OCSP_URL"
        ocsp_index_add "$OCSP_INDEX" V "$PKI/$name.crt"
        "$CERTCTL" import "$name" --cert "$PKI/$name.full.pem" --key "$PKI/$name.key"
    done
    responder
    # www has a staple to lose, api has none yet.
    "$CERTCTL" staple www
    [ -f "$CERTDIR/www/ocsp.der" ]
    [ ! -e "$CERTDIR/api/ocsp.der" ]
    snapshot
    before=$(live_sum)
    AFTER_KILL=staples_sound BEFORE_RECOVERY=responder \
        run_trials "$PKI/trust.pem" "$CERTCTL" staple --force --all
    # Only the staples changed, never the sets they belong to.
    [ "$(live_sum)" = "$before" ]
    # and the last recovery run stapled both.
    staples_sound
    [ -f "$CERTDIR/api/ocsp.der" ]
    run cmp -s "$CERTDIR/www/ocsp.der" "$PRISTINE/www/ocsp.der"
    assert_failure
}

# promoted: the pending key is the live one, and no longer pending.
promoted() {
    [ "$(openssl pkey -in "$CERTDIR/www/privkey.pem" -pubout)" = \
      "$(openssl pkey -in "$BATS_TEST_TMPDIR/pending.key" -pubout)" ] ||
        { echo "the pending key is not live"; return 1; }
    [ ! -e "$CERTDIR/.pending/www" ] || { echo "the live key is still pending"; return 1; }
}

@test "import of the pending key's cert, pruning the oldest generation, killed at any point" {
    mk www
    for g in 2 3; do
        pki_leaf "$PKI" "renewed$g" --key "$PKI/www.key" --san www --days $((90 + g))
        "$CERTCTL" import www --cert "$PKI/renewed$g.full.pem"
    done
    [ "$(readlink "$CERTDIR/www")" = .live/www.g0003 ]
    "$CERTCTL" rekey www
    cp "$CERTDIR/.pending/www/privkey.pem" "$BATS_TEST_TMPDIR/pending.key"
    "$CERTCTL" rekey --print-csr www >"$BATS_TEST_TMPDIR/www.csr"
    pki_csr_sign "$PKI" "$BATS_TEST_TMPDIR/www.csr" "$BATS_TEST_TMPDIR/new.crt" --days 120
    snapshot
    AFTER_RECOVERY=promoted run_trials "$PKI/trust.pem" "$CERTCTL" import www \
        --cert "$BATS_TEST_TMPDIR/new.crt" \
        --chain "$PKI/inter.pem"
    # One more run from the snapshot, not killed: the pending key is live
    # in generation 4, the first generation pruned (three kept). (After a
    # kill between recording generation 4 as possibly live and the swap,
    # the recovery run installs generation 5 and keeps 4, which clean-up
    # cannot prove was never live.)
    restore
    "$CERTCTL" import www --cert "$BATS_TEST_TMPDIR/new.crt" --chain "$PKI/inter.pem"
    [ "$(readlink "$CERTDIR/www")" = .live/www.g0004 ]
    [ "$(openssl pkey -in "$CERTDIR/www/privkey.pem" -pubout)" = \
      "$(openssl pkey -in "$BATS_TEST_TMPDIR/pending.key" -pubout)" ]
    [ ! -e "$CERTDIR/.live/www.g0001" ]
    [ -d "$CERTDIR/.live/www.g0002" ]
}

@test "rekey --all of many names killed at any point never touches the live sets" {
    for i in $(seq 1 "$NAMES"); do
        mk "n$i"
    done
    snapshot
    before=$(tree_sum "$CERTDIR/.live")
    run_trials "$PKI/trust.pem" "$CERTCTL" rekey --force --all
    [ "$(tree_sum "$CERTDIR/.live")" = "$before" ]
    for i in $(seq 1 "$NAMES"); do
        [ "$(stat -c %a "$CERTDIR/.pending/n$i/privkey.pem")" = 600 ]
    done
}

@test "staple --all of many names killed at any point" {
    load ../helpers/ocsp
    ocsp_setup
    STAPLED=()
    for i in $(seq 1 "$NAMES"); do
        mk "n$i" --ocsp "$OCSP_URL"
        ocsp_index_add "$OCSP_INDEX" V "$PKI/n$i.crt"
        STAPLED+=("n$i")
    done
    responder
    snapshot
    before=$(live_sum)
    AFTER_KILL=staples_sound BEFORE_RECOVERY=responder \
        run_trials "$PKI/trust.pem" "$CERTCTL" staple --all
    [ "$(live_sum)" = "$before" ]
    for name in "${STAPLED[@]}"; do
        [ -f "$CERTDIR/$name/ocsp.der" ]
    done
}

# every_key: the generations of www made before the trials are all there
# with their keys, whatever was killed where.
every_key() {
    local g
    for g in 1 2 3; do
        [ -s "$CERTDIR/.live/www.g000$g/privkey.pem" ] ||
            { echo "generation $g of www lost its key"; return 1; }
    done
}

# rolled_back: generation 2 is live and the rollback is on record.
rolled_back() {
    [ "$(readlink "$CERTDIR/www")" = .live/www.g0002 ] ||
        { echo "www is not at generation 2"; return 1; }
    jq -e '.rollback.from == 3 and .rollback.to == 2' "$CERTDIR/.state/www.json" >/dev/null ||
        { echo "the rollback is not recorded"; return 1; }
}

@test "rollback from a hand-made link, killed at any point, never loses a generation" {
    # Generation 1 from before made_live was recorded, 2 and 3 imported;
    # the live link rewritten by hand with a trailing slash.
    mk www
    for g in 2 3; do
        pki_leaf "$PKI" "renewed$g" --key "$PKI/www.key" --san www --days $((90 + g))
        "$CERTCTL" import www --cert "$PKI/renewed$g.full.pem"
    done
    ln -sfn .live/www.g0003/ "$CERTDIR/www"
    snapshot
    AFTER_KILL=every_key AFTER_RECOVERY=rolled_back \
        run_trials "$PKI/trust.pem" "$CERTCTL" rollback www --to 2
    rolled_back
}
