# shellcheck shell=bash
# Shared by the fleet-store tests (httpstore.bats, s3.bats): what a
# server checks about the name web1 it pulls from a store.

# spki_of KEYFILE: hex SHA-256 of the key's DER SubjectPublicKeyInfo (the
# {spki_sha256} of a store URL).
spki_of() {
    openssl pkey -in "$1" -pubout -outform DER | sha256sum | cut -d' ' -f1
}

# Everything but .state (where a failed attempt is recorded).
live_sum() {
    tree_sum "$CERTDIR" | grep -Ev '^\.state(/| )'
}

# rejected TEXT [ARGS...]: `certctl download web1` (with ARGS before it)
# exits 1 with nothing on stdout and one line on stderr naming web1 and
# containing TEXT; nothing but .state changes.
# shellcheck disable=SC2154 # stderr: set by bats' run --separate-stderr
rejected() {
    local text=$1 before
    shift
    before=$(live_sum)
    run --separate-stderr "$CERTCTL" "$@" download web1
    assert_failure 1
    assert_output ""
    assert_equal "$(printf '%s\n' "$stderr" | wc -l)" 1
    [[ $stderr == *web1:* ]] || fail "stderr does not name web1: $stderr"
    [[ $stderr == *"$text"* ]] || fail "stderr lacks '$text': $stderr"
    assert_equal "$(live_sum)" "$before"
}

# unchanged [ARGS...]: `certctl ARGS download web1` exits 10, silent on
# both streams, and writes not one byte of the certdir.
unchanged() {
    local before
    before=$(tree_sum "$CERTDIR")
    run --separate-stderr "$CERTCTL" "$@" download web1
    assert_failure 10
    assert_output ""
    [ -z "$stderr" ] || fail "stderr: $stderr"
    assert_equal "$(tree_sum "$CERTDIR")" "$before"
}
