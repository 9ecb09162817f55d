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

teardown() {
    if declare -F pebble_stop >/dev/null; then
        pebble_stop
    fi
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

# bats test_tags=memcheck
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
    # --all finds it too.
    run "$CERTCTL" check --all
    assert_success
    assert_output --partial "www"
}

@test "an absolute target through a symlinked certdir path is valid too" {
    ln -s "$CERTDIR" "$W/alias"
    hand_link "$W/alias/.live/www.g0002"
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

# bats test_tags=memcheck
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

# ----------------------------------------------------------- rollback (item 2)

# bats test_tags=memcheck
@test "rollback NAME: the generation before the live one goes live (exit 0, one line), recorded" {
    gens www
    before=$(keys_sum www)
    t0=$(date +%s)
    run "$CERTCTL" rollback www
    assert_success
    assert_equal "${#lines[@]}" 1
    assert_output --regexp "^rolled back www from generation 3 to 2 \(expires [0-9-]{10}, serial [0-9a-f:]+\)$"
    assert_equal "$(readlink "$CERTDIR/www")" ".live/www.g0002"
    assert_equal "$(live_serial www)" "$(serial_of "$PKI/www.2.crt")"
    # The flat links lead to the rolled-back-to set; nothing was pruned.
    cmp "$CERTDIR/www.crt" "$CERTDIR/.live/www.g0002/cert.pem"
    cmp "$CERTDIR/www.key" "$CERTDIR/.live/www.g0002/privkey.pem"
    assert_equal "$(keys_sum www)" "$before"
    # .state: from, to, when, and the certificate rolled back from.
    jq -e --argjson t0 "$t0" '.rollback.from == 3 and .rollback.to == 2 and
        .rollback.at >= $t0 and (.rollback.from_sha256 | length) == 64 and
        .made_live == 3' "$CERTDIR/.state/www.json"
    run "$CERTCTL" check www
    assert_success
    # Later writers keep generation 3, rolled back from.
    run "$CERTCTL" rekey www
    assert_success
    assert_equal "$(keys_sum www)" "$before"
    # Again: generation 1.
    run "$CERTCTL" rollback www
    assert_success
    assert_output --partial "from generation 2 to 1"
    # Nothing older: exit 1, nothing changed.
    refused 1 "no generation before the live one (1) is kept" rollback www
}

@test "rollback in a certdir without .state records keeps the generations above the live one" {
    gens www
    mk api
    # An older certctl, and a hand rollback to 2: generation 3 may have
    # been live, and nothing records it.
    rm -f "$CERTDIR/.state/www.json"
    ln -sfn .live/www.g0002/ "$CERTDIR/www"
    before=$(keys_sum www)
    run "$CERTCTL" rollback www --to 1
    assert_success
    run "$CERTCTL" rekey api
    assert_success
    assert_equal "$(keys_sum www)" "$before"
    jq -e '.made_live == 3' "$CERTDIR/.state/www.json"
}

@test "rollback --to GENERATION (7, g7, g0007); exit 10 when it is already live" {
    gens www
    run "$CERTCTL" rollback www --to 1
    assert_success
    assert_output --partial "from generation 3 to 1"
    assert_equal "$(readlink "$CERTDIR/www")" ".live/www.g0001"
    # Already there: silent, exit 10, nothing written.
    before=$(tree_sum "$CERTDIR")
    run "$CERTCTL" rollback --to g0001 www
    assert_failure 10
    assert_output ""
    assert_equal "$(tree_sum "$CERTDIR")" "$before"
    # Forward again, to the newest.
    run "$CERTCTL" rollback www --to g3
    assert_success
    assert_equal "$(readlink "$CERTDIR/www")" ".live/www.g0003"
    assert_equal "$(live_serial www)" "$(serial_of "$PKI/www.3.crt")"
}

@test "the default skips a generation identical to the live set" {
    gens www 2
    # What an install killed just before its swap leaves, once a later
    # run made the same set live again.
    cp -a "$CERTDIR/.live/www.g0002" "$CERTDIR/.live/www.g0003"
    ln -sfn .live/www.g0003 "$CERTDIR/www"
    run "$CERTCTL" rollback www
    assert_success
    assert_output --partial "from generation 3 to 1"
}

# bats test_tags=memcheck
@test "rollback failures exit 1 with one line and change nothing" {
    gens www 2
    refused 1 "www: generation 7 is not kept (kept: 2, 1)" rollback www --to 7
    refused 1 "api: no live set to roll back" rollback api
    ln -sfn /etc "$CERTDIR/odd"
    refused 1 "not to one of its generations" rollback odd --to 1
    # The lock: another writer holds it.
    flock "$CERTDIR/.lock" sleep 30 3>&- &
    holder=$!
    while ! flock -n "$CERTDIR/.lock" true 2>/dev/null; do break; done
    for _ in $(seq 1 100); do
        flock -n "$CERTDIR/.lock" true 2>/dev/null || break
        sleep 0.05
    done
    refused 1 "is locked by another certctl run" --lock-timeout 0 rollback www
    kill "$holder"
}

# bats test_tags=memcheck
@test "usage errors exit 2 and touch nothing" {
    gens www 2
    refused 2 "exactly one NAME" rollback
    refused 2 "exactly one NAME" rollback www api
    refused 2 "--to wants a generation" rollback www --to two
    refused 2 "--to wants a generation" rollback www --to 0
    refused 2 "--to wants a generation" rollback www --to -1
    refused 2 "invalid name '../www'" rollback ../www
    run "$CERTCTL" rollback --all
    assert_failure 2
    run "$CERTCTL" rollback --frob www
    assert_failure 2
    assert_output --partial "unknown option '--frob'"
}

# damaged_previous HOW...: www has generations 1 and 2 (live) sharing one
# key; then HOW... is run to damage generation 1. A rollback to it must be
# refused naming the reason, exit 1, certdir unchanged.
damaged_previous() {
    local g1=$CERTDIR/.live/www.g0001
    gens www 2
    "$@"
}

@test "a kept generation whose key was deleted is refused" {
    g1=$CERTDIR/.live/www.g0001
    damaged_previous rm "$g1/privkey.pem"
    refused 1 "www: generation 1: cannot read '$g1/privkey.pem'" rollback www
}

@test "a kept generation whose key is mode 0644 is refused" {
    g1=$CERTDIR/.live/www.g0001
    damaged_previous chmod 0644 "$g1/privkey.pem"
    refused 1 "privkey.pem' has mode 0644, looser than key_mode 0600" rollback www
}

@test "a kept generation whose key does not match its certificate is refused" {
    g1=$CERTDIR/.live/www.g0001
    pki_leaf "$PKI" stranger --san www
    damaged_previous cp "$PKI/stranger.key" "$g1/privkey.pem"
    refused 1 "privkey.pem does not match cert.pem" rollback www
}

@test "a kept generation whose fullchain.pem is not cert + chain is refused" {
    g1=$CERTDIR/.live/www.g0001
    damaged_previous cp "$g1/cert.pem" "$g1/fullchain.pem"
    refused 1 "fullchain.pem is not cert.pem followed by chain.pem" rollback www --to 1
}

@test "a kept generation with a symlink where a file belongs is refused" {
    g1=$CERTDIR/.live/www.g0001
    damaged_previous ln -sf /etc/passwd "$g1/chain.pem"
    refused 1 "cannot read '$g1/chain.pem'" rollback www
}

# hand_gen1 PKI_LEAF_OPTIONS...: generation 1 of www made by hand from a
# leaf with those options, then a good generation 2 imported over it.
hand_gen1() {
    pki_leaf "$PKI" www.old --san www "$@"
    certdir_put "$CERTDIR" www "$PKI/www.old.key" "$PKI/www.old.crt" "$PKI/www.old.chain.pem" 1
    pki_leaf "$PKI" www.new --san www
    run "$CERTCTL" import --force www --cert "$PKI/www.new.full.pem" --key "$PKI/www.new.key"
    assert_success
    assert_equal "$(readlink "$CERTDIR/www")" ".live/www.g0002"
}

@test "a kept generation whose certificate has expired is refused" {
    hand_gen1 --expired
    refused 1 "www: generation 1: certificate expired on" rollback www
}

@test "a kept generation whose certificate is not yet valid is refused" {
    hand_gen1 --not-yet-valid
    refused 1 "certificate is not yet valid" rollback www
}

# bats test_tags=memcheck
@test "a kept generation whose chain does not verify is refused" {
    hand_gen1 --issuer other-root
    refused 1 "www: generation 1:" rollback www
    run "$CERTCTL" rollback www
    refute_output --partial "rolled back"
}

@test "a kept generation that no longer covers a configured domain is refused" {
    gens www 2
    write_config "certificates:
  www: {domains: [www, www2]}"
    refused 1 "does not cover configured domain 'www2'" rollback www
}

@test "--dry-run says what it would do and writes nothing, not even the lock" {
    gens www
    rm -f "$CERTDIR/.lock"
    before=$(tree_sum "$CERTDIR")
    run "$CERTCTL" -n rollback www
    assert_success
    assert_output --regexp "^would roll back www from generation 3 to 2 \(expires "
    assert_equal "$(tree_sum "$CERTDIR")" "$before"
    [ ! -e "$CERTDIR/.lock" ]
    # A refusal is the same in a dry run.
    chmod 0644 "$CERTDIR/.live/www.g0002/privkey.pem"
    before=$(tree_sum "$CERTDIR")
    refused 1 "looser than key_mode" rollback --dry-run www
}

# bats test_tags=memcheck
@test "--json: one document with the exit code, the change and the errors" {
    gens www 2
    run --separate-stderr "$CERTCTL" --json rollback www
    assert_success
    jq -e '.command == "rollback" and .exit == 0 and .changed == true and
        (.messages | length) == 1 and (.messages[0] | startswith("rolled back www"))' <<<"$output"
    run --separate-stderr "$CERTCTL" rollback --json www --to 9
    assert_failure 1
    jq -e '.exit == 1 and .changed == false and (.errors[0] | contains("not kept"))' <<<"$output"
}

@test "key_mode from the config: a group-readable key rolls back when the config allows it" {
    gens www 2
    write_config "certificates:
  www: {key_mode: \"0640\"}"
    chmod 0640 "$CERTDIR/.live/www.g0001/privkey.pem"
    run "$CERTCTL" rollback www
    assert_success
    write_config
    run "$CERTCTL" rollback www --to 2
    assert_success
    refused 1 "looser than key_mode 0600" rollback www --to 1
}

@test "deploy_hook runs after a rollback, once the lock is released; not after a refusal" {
    gens www
    mark=$W/deployed
    write_config "certificates:
  www: {deploy_hook: 'echo \"\$CERTCTL_NAME\" >> $mark && $CERTCTL --lock-timeout 0 rekey \$CERTCTL_NAME >> $mark 2>&1'}"
    run "$CERTCTL" rollback www
    assert_success
    assert_line --index 0 --partial "rolled back www"
    assert_equal "$(head -n 1 "$mark")" "www"
    [ -f "$CERTDIR/.pending/www/privkey.pem" ] || fail "the hook could not take the lock: $(cat "$mark")"
    rm "$mark"
    run "$CERTCTL" rollback www --to 1
    assert_success
    [ -e "$mark" ]
    rm "$mark"
    run "$CERTCTL" rollback www --to 1
    assert_failure 10
    [ ! -e "$mark" ]
    rm "$CERTDIR/.live/www.g0003/cert.pem"
    run "$CERTCTL" rollback www --to 3
    assert_failure 1
    [ ! -e "$mark" ]
    # A failing hook is reported; the rollback stands (exit 0).
    write_config "certificates:
  www: {deploy_hook: 'exit 3'}"
    run --separate-stderr "$CERTCTL" rollback www --to 2
    assert_success
    [[ $stderr == *"deploy_hook 'exit 3' failed (exit 3)"* ]] || fail "stderr: $stderr"
    assert_equal "$(readlink "$CERTDIR/www")" ".live/www.g0002"
}

# ---------------------------------------------------- download after rollback

# spki_of KEYFILE: hex SHA-256 of the key's DER SubjectPublicKeyInfo.
spki_of() {
    openssl pkey -in "$1" -pubout -outform DER | sha256sum | cut -d' ' -f1
}

# fleet_config [RENEW_BEFORE]: www pulls from a file:// store.
fleet_config() {
    write_config "defaults: {source: fleet, renew_before: ${1:-33%}}
sources:
  fleet:
    type: http
    url: file://$W/store/{name}/{spki_sha256}.pem
certificates:
  www: {domains: [www]}"
}

# publish CERT: the store's answer for www's key.
publish() {
    mkdir -p "$W/store/www"
    cat "$1" "$PKI/inter.pem" >"$W/store/www/$(spki_of "$PKI/www.1.key").pem"
}

# bats test_tags=memcheck
@test "download from a store does not undo a rollback until the live certificate is due" {
    gens www
    fleet_config
    publish "$PKI/www.3.crt"
    run "$CERTCTL" download www
    assert_failure 10
    run "$CERTCTL" rollback www
    assert_success
    # The store still offers generation 3's certificate: not taken again
    # (the first run caches the facts of the new live generation).
    run --separate-stderr "$CERTCTL" download www
    assert_failure 10
    assert_output ""
    assert_equal "$(readlink "$CERTDIR/www")" ".live/www.g0002"
    before=$(tree_sum "$CERTDIR")
    run "$CERTCTL" download --all
    assert_failure 10
    assert_equal "$(tree_sum "$CERTDIR")" "$before"
    # -v says why.
    run "$CERTCTL" -v download www
    assert_output --partial "rolled back from the certificate the store offers"
    # Once the live one is due, the store's certificate goes live again.
    fleet_config 95d
    run "$CERTCTL" download www
    assert_success
    assert_output --partial "installed www"
    assert_equal "$(readlink "$CERTDIR/www")" ".live/www.g0004"
    assert_equal "$(live_serial www)" "$(serial_of "$PKI/www.3.crt")"
}

@test "after a rollback, --force or a new certificate from the store goes live" {
    gens www
    fleet_config
    publish "$PKI/www.3.crt"
    run "$CERTCTL" rollback www
    assert_success
    run "$CERTCTL" download --force www
    assert_success
    assert_equal "$(live_serial www)" "$(serial_of "$PKI/www.3.crt")"
    run "$CERTCTL" rollback www
    assert_success
    pki_leaf "$PKI" www.5 --key "$PKI/www.1.key" --san www --days 120
    publish "$PKI/www.5.crt"
    run "$CERTCTL" download www
    assert_success
    assert_equal "$(live_serial www)" "$(serial_of "$PKI/www.5.crt")"
}

@test "after a rollback, the next install prunes as usual: the live one and two before it" {
    gens www
    run "$CERTCTL" rollback www --to 1
    assert_success
    pki_leaf "$PKI" www.4 --key "$PKI/www.1.key" --san www --days 120
    run "$CERTCTL" import www --cert "$PKI/www.4.full.pem"
    assert_success
    assert_equal "$(readlink "$CERTDIR/www")" ".live/www.g0004"
    [ ! -e "$CERTDIR/.live/www.g0001" ]
    for g in 2 3 4; do
        [ -f "$CERTDIR/.live/www.g000$g/privkey.pem" ]
    done
}

@test "download from an ACME CA does not undo a rollback: the live certificate alone decides" {
    load ../helpers/pebble
    pebble_start "$W/pebble"
    cat >"$CONFIG" <<YAML
certdir: $CERTDIR
trust: $PEBBLE_ROOTS
defaults: {source: pebble}
sources:
$(pebble_source pebble "{type: http-01, listen: \"127.0.0.1:$PEBBLE_HTTP_PORT\"}")
certificates:
  www.example.com:
YAML
    run "$CERTCTL" download www.example.com
    assert_success
    run "$CERTCTL" download --force www.example.com
    assert_success
    assert_equal "$(readlink "$CERTDIR/www.example.com")" ".live/www.example.com.g0002"
    run "$CERTCTL" rollback www.example.com
    assert_success
    assert_equal "$(readlink "$CERTDIR/www.example.com")" ".live/www.example.com.g0001"
    run "$CERTCTL" download --all
    assert_failure 10
    assert_equal "$(readlink "$CERTDIR/www.example.com")" ".live/www.example.com.g0001"
}
