#!/usr/bin/env bats
# certctl rollback, and the clean-up every writing command does when it
# opens the certdir (issue 15): a live link an operator pointed back by
# hand, in any shape, never costs a generation or a key; a rollback makes
# an earlier kept generation live only after verifying it like an install,
# records it in .state, and a later download does not undo it.

bats_require_minimum_version 1.5.0

setup() {
    load ../helpers/common
    common_setup
    W=$BATS_TEST_TMPDIR
}

# ------------------------------------------------------------------ helpers

# gens NAME [N]: generations 1..N (default 3) of NAME, imported with one key,
# each expiring a day after the one before. The key is $PKI/NAME.1.key.
gens() {
    local name=$1 n=${2:-3} g
    pki_leaf "$PKI" "$name.1" --san "$name" --days 90
    "$CERTCTL" import "$name" --cert "$PKI/$name.1.full.pem" --key "$PKI/$name.1.key"
    for ((g = 2; g <= n; g++)); do
        pki_leaf "$PKI" "$name.$g" --key "$PKI/$name.1.key" --san "$name" --days $((89 + g))
        "$CERTCTL" import "$name" --cert "$PKI/$name.$g.full.pem"
    done
    [ "$(readlink "$CERTDIR/$name")" = ".live/$name.g$(printf %04d "$n")" ]
}

# keys_sum NAME: every generation directory of NAME with its key's hash.
keys_sum() {
    local d
    for d in "$CERTDIR/.live/$1".g*; do
        printf '%s %s\n' "${d##*/}" "$(sha256sum <"$d/privkey.pem" | cut -d' ' -f1)"
    done
}

# live_serial NAME: the serial of NAME's live certificate.
live_serial() {
    openssl x509 -in "$CERTDIR/$1/cert.pem" -noout -serial | cut -d= -f2
}

serial_of() {
    openssl x509 -in "$1" -noout -serial | cut -d= -f2
}

# hand_link TARGET: www has generations 1-3 (3 live) and api one; the admin
# points www at TARGET by hand. Then writing commands on api, and on www
# itself, must leave every generation of www and its key in place.
hand_link() {
    gens www
    mk api
    before=$(keys_sum www)
    ln -sfn "$1" "$CERTDIR/www"
    run "$CERTCTL" rekey api
    assert_success
    assert_equal "$(keys_sum www)" "$before"
    run "$CERTCTL" import api --cert "$PKI/api.full.pem" --key "$PKI/api.key"
    assert_equal "$(keys_sum www)" "$before"
    run "$CERTCTL" rekey www
    assert_equal "$(keys_sum www)" "$before"
}

# ------------------------------------------------- hand-made links (item 1)

@test "hand rollback with a trailing slash: a valid link, check OK, no generation lost" {
    hand_link .live/www.g0001/
    run "$CERTCTL" check www
    assert_success
    [ "$(live_serial www)" = "$(serial_of "$PKI/www.1.crt")" ]
}

@test "hand rollback through ./.live/: a valid link, no generation lost" {
    hand_link ./.live/www.g0002
    run "$CERTCTL" check www
    assert_success
}

@test "hand rollback with an absolute target into this certdir: a valid link, no generation lost" {
    hand_link "$CERTDIR/.live/www.g0001/"
    run "$CERTCTL" check www
    assert_success
}

@test "hand rollback of a certdir without .state records: no generation lost" {
    gens www
    mk api
    rm -f "$CERTDIR/.state/www.json"
    before=$(keys_sum www)
    ln -sfn .live/www.g0001 "$CERTDIR/www"
    run "$CERTCTL" rekey api
    assert_success
    assert_equal "$(keys_sum www)" "$before"
}

@test "a link to a missing generation: CRITICAL, yet nothing of its name is removed" {
    hand_link .live/www.g0009
    run "$CERTCTL" check www
    assert_failure 2
}

@test "a link pointing outside the certdir: CRITICAL, yet nothing of its name is removed" {
    mkdir -p "$W/elsewhere/.live/www.g0001"
    hand_link "$W/elsewhere/.live/www.g0001"
    run "$CERTCTL" check www
    assert_failure 2
    assert_output --partial "not to one of its generations"
}

@test "a link into another name's generation: nothing of either name is removed" {
    hand_link .live/api.g0001
    run "$CERTCTL" check www
    assert_failure 2
}

@test "clean-up still removes what is provably a leftover, and nothing else" {
    gens www
    mk api
    # A generation above every one ever made live (a killed install), and
    # a temporary directory.
    cp -a "$CERTDIR/.live/www.g0003" "$CERTDIR/.live/www.g0004"
    mkdir "$CERTDIR/.live/www.g0005.tmp"
    run "$CERTCTL" rekey api
    assert_success
    [ ! -e "$CERTDIR/.live/www.g0004" ]
    [ ! -e "$CERTDIR/.live/www.g0005.tmp" ]
    for g in 1 2 3; do
        [ -f "$CERTDIR/.live/www.g000$g/privkey.pem" ]
    done
}
