#!/usr/bin/env bats
# Concurrency (issue 8): many certctl runs at once on one certdir. Writing
# commands take the certdir's .lock (DESIGN.md section 3): a second run
# waits up to --lock-timeout and then exits 1 saying the certdir is locked;
# readers (check) take no lock and must still only ever see whole sets.
# After every storm the certdir is checked as crash.bats does: each live
# set complete and consistent, no temporary file left, check --all OK.

bats_require_minimum_version 1.5.0

setup() {
    load ../helpers/common
    load ../helpers/ocsp
    load crash
    common_setup
    ocsp_setup
    W=$BATS_TEST_TMPDIR
    DOCROOT=$W/store
    LOCKED="is locked by another certctl run"
}

teardown() {
    report_on_failure
    ocsp_stop
}

# spki_of KEYFILE: hex SHA-256 of the key's DER SubjectPublicKeyInfo (the
# {spki_sha256} of a store URL).
spki_of() {
    openssl pkey -in "$1" -pubout -outform DER | sha256sum | cut -d' ' -f1
}

# Three names, each with something to do:
#   www   imported again and again, alternating two sets with their own keys,
#         and rolled back
#   api   rekeyed (pending keys come and go) and stapled
#   web1  downloaded from a file:// store that holds a newer cert
# www and api carry the responder's URL; every cert is in its index.
populate() {
    local s
    write_config "defaults: {source: fleet}
sources:
  fleet:
    type: http
    url: file://$DOCROOT/{name}/{spki_sha256}.pem
certificates:
  web1: {domains: [web1]}"
    for s in wwwA wwwB; do
        pki_leaf "$PKI" "$s" --san www --ocsp "$OCSP_URL"
        ocsp_index_add "$OCSP_INDEX" V "$PKI/$s.crt"
    done
    "$CERTCTL" import www --cert "$PKI/wwwA.full.pem" --key "$PKI/wwwA.key"
    mk api --ocsp "$OCSP_URL"
    ocsp_index_add "$OCSP_INDEX" V "$PKI/api.crt"
    mk web1
    pki_leaf "$PKI" web1.next --key "$PKI/web1.key" --san web1 --days 120
    mkdir -p "$DOCROOT/web1"
    cat "$PKI/web1.next.crt" "$PKI/inter.pem" >"$DOCROOT/web1/$(spki_of "$PKI/web1.key").pem"
    ocsp_start "$OCSP_INDEX" "$PKI/inter.pem" "$PKI/inter.key" -ndays 7
}

# ocsp_requested: the responder has seen a request.
ocsp_requested() {
    [ -n "$(ocsp_requests)" ]
}

# storm_ready ROUND: all 16 runs of ROUND wait at the start line.
storm_ready() {
    local ready=("$W/runs/$1".*.ready)
    [ "${#ready[@]}" -eq 16 ] && [ -e "${ready[0]}" ]
}

# storm ROUND: 16 mixed runs started together (they wait for one file to
# appear), each one's exit code and output kept in $W/runs/ROUND.I.*.
storm() {
    local round=$1 i set pid
    local -a cmds=() pids=()
    for i in 0 1 2; do
        set=wwwA
        [ $((i % 2)) -eq 0 ] && set=wwwB
        cmds+=("import --force www --cert $PKI/$set.full.pem --key $PKI/$set.key")
    done
    cmds+=("rollback www")
    # Not web1: its pending key would make download ask the store for a
    # cert of that key (not published), and whether web1 got its newer
    # cert would depend on which run came first.
    cmds+=("rekey --force api" "rekey --force api" "rekey --force api")
    cmds+=("staple --force www api" "staple --force www api" "staple www api")
    cmds+=("download web1" "download web1" "download web1")
    cmds+=("check --all" "check --all" "check www api web1")
    [ "${#cmds[@]}" -eq 16 ]
    mkdir -p "$W/runs"
    rm -f "$W/go"
    for i in "${!cmds[@]}"; do
        echo "${cmds[$i]}" >"$W/runs/$round.$i.cmd"
        (
            touch "$W/runs/$round.$i.ready"
            while [ ! -e "$W/go" ]; do sleep 0.01; done
            rc=0
            # shellcheck disable=SC2086 # the command line is split on purpose
            "$CERTCTL" ${cmds[$i]} >"$W/runs/$round.$i.out" 2>"$W/runs/$round.$i.err" || rc=$?
            echo "$rc" >"$W/runs/$round.$i.rc"
        ) 3>&- &
        pids+=("$!")
    done
    # Every run is at the start line before any may go.
    wait_for 30 "16 runs at the start line" storm_ready "$round"
    touch "$W/go"
    for pid in "${pids[@]}"; do
        wait "$pid"
    done
}

# assert_storm ROUND: every run ended with a code its command documents:
# writers 0 (changed) or 10 (nothing to do), or 1 only for the lock; check
# 0 (all OK). A run that exits 1 says that the certdir is locked.
assert_storm() {
    local round=$1 f cmd rc
    for f in "$W/runs/$round".*.cmd; do
        cmd=$(cat "$f")
        rc=$(cat "${f%.cmd}.rc")
        case "$cmd:$rc" in
            check*:0) ;;
            check*) fail "'$cmd' exited $rc: $(cat "${f%.cmd}.out" "${f%.cmd}.err")" ;;
            # A rollback with nothing left to roll back to (it ran before
            # any import of round 1, or after earlier rollbacks) refuses.
            rollback*:1) grep -q -e "$LOCKED" -e "no generation before the live one" \
                "${f%.cmd}.err" || fail "'$cmd' exited 1: $(cat "${f%.cmd}.err")" ;;
            *:0 | *:10) ;;
            *:1) grep -q "$LOCKED" "${f%.cmd}.err" ||
                fail "'$cmd' exited 1 without a lock message: $(cat "${f%.cmd}.err")" ;;
            *) fail "'$cmd' exited $rc: $(cat "${f%.cmd}.err")" ;;
        esac
    done
}

# The certdir after a storm: whole sets, nothing temporary, every staple
# good for the cert it sits beside, and check --all OK.
assert_sound() {
    local name dir
    certdir_sound "$CERTDIR" "$PKI/trust.pem"
    run find "$CERTDIR" -name '*.tmp'
    assert_output ""
    for name in www api; do
        dir="$CERTDIR/$(readlink "$CERTDIR/$name")"
        [ -e "$dir/ocsp.der" ] || continue
        run openssl ocsp -respin "$dir/ocsp.der" -issuer "$PKI/inter.pem" \
            -VAfile "$PKI/inter.pem" -cert "$dir/cert.pem" -no_nonce
        assert_success
        assert_output --partial "Response verify OK"
        assert_output --partial ": good"
    done
    run "$CERTCTL" check --all
    assert_success
    refute_output --partial CRITICAL
}

@test "16 mixed runs at once, three times over: every set whole, every exit documented" {
    populate
    for round in 1 2 3; do
        storm "$round"
        assert_storm "$round"
        assert_sound
    done
    # Every writer got its turn: www is one of the two sets, web1 holds
    # the store's newer cert, and both names with a URL were stapled.
    live=$(openssl x509 -in "$CERTDIR/www/cert.pem" -noout -fingerprint)
    [ "$live" = "$(openssl x509 -in "$PKI/wwwA.crt" -noout -fingerprint)" ] ||
        [ "$live" = "$(openssl x509 -in "$PKI/wwwB.crt" -noout -fingerprint)" ]
    cmp <(openssl x509 -in "$CERTDIR/web1/cert.pem") <(openssl x509 -in "$PKI/web1.next.crt")
    [ -f "$CERTDIR/api/ocsp.der" ]
    [ -f "$CERTDIR/.pending/api/privkey.pem" ]
    [ "$(stat -c %a "$CERTDIR/.pending/api/privkey.pem")" = 600 ]
    # Nothing was refused for the lock: the default --lock-timeout (60 s)
    # outlasts a storm.
    run grep -l "$LOCKED" "$W"/runs/*.err
    assert_failure
}

@test "a writer that cannot wait (--lock-timeout 0) exits 1 at once naming the lock, and writes nothing" {
    populate
    # A staple stuck on a responder that never answers holds the lock
    # until the responder goes away (its --timeout is far longer).
    ocsp_stop
    ocsp_static_start hang
    "$CERTCTL" staple --timeout 600 www >"$W/holder.out" 2>&1 3>&- &
    holder=$!
    # The holder has the lock once its request reached the responder.
    wait_for 30 "the holder's OCSP request" ocsp_requested
    before=$(tree_sum "$CERTDIR")
    # Not waiting is not timed (no thresholds here): a loser that waited
    # would wait as long as the holder lives, and `timeout` ends it.
    run --separate-stderr timeout $((60 * SLOWDOWN)) "$CERTCTL" --lock-timeout 0 rekey --force api
    assert_failure 1
    assert_output ""
    # shellcheck disable=SC2154 # run --separate-stderr sets stderr{,_lines}
    [ "${#stderr_lines[@]}" -eq 1 ]
    # shellcheck disable=SC2154
    [[ $stderr == *"certdir '$CERTDIR' $LOCKED"*"--lock-timeout"* ]] || fail "stderr: $stderr"
    # Seven losers at once: the same, and still nothing written.
    pids=()
    for i in 1 2 3 4 5 6 7; do
        timeout $((60 * SLOWDOWN)) "$CERTCTL" --lock-timeout 0 import --force www --cert "$PKI/wwwB.full.pem" \
            --key "$PKI/wwwB.key" >"$W/loser.$i.out" 2>&1 3>&- &
        pids+=("$!")
    done
    for i in 1 2 3 4 5 6 7; do
        rc=0
        wait "${pids[$((i - 1))]}" || rc=$?
        [ "$rc" -eq 1 ] || fail "loser $i exited $rc: $(cat "$W/loser.$i.out")"
        grep -q "$LOCKED" "$W/loser.$i.out" || fail "loser $i: $(cat "$W/loser.$i.out")"
    done
    [ "$(tree_sum "$CERTDIR")" = "$before" ]
    kill -0 "$holder" || fail "the holder ended before the losers: $(cat "$W/holder.out")"
    # A writer that may wait long enough gets the lock once the holder
    # gives up (its responder gone), and does its work.
    ocsp_stop
    run "$CERTCTL" --lock-timeout $((60 * SLOWDOWN)) rekey --force api
    assert_success
    [ -f "$CERTDIR/.pending/api/privkey.pem" ]
    run wait "$holder"
    assert_failure 1
    certdir_sound "$CERTDIR" "$PKI/trust.pem"
}
