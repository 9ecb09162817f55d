#!/usr/bin/env bats
# Key safety for a non-root user (issue 8): certctl works on a certdir that
# user owns, and every private key it writes is theirs and 0600 whatever the
# umask (docs/certdir.md: keys get their final mode before the first byte,
# so the umask can neither loosen nor tighten them). The user is nobody,
# reached with setpriv, so root is needed to run these; as root the modes
# themselves are covered by tests/cli/rekey.bats.

bats_require_minimum_version 1.5.0

setup() {
    load ../helpers/common
    load crash
    if [ "$(id -u)" -ne 0 ]; then
        skip "needs root to run certctl as another user (setpriv)"
    fi
    common_setup
    USER_NAME=nobody
    GROUP_NAME=$(id -gn "$USER_NAME")
    # The user's own corner of /tmp (the bats temporary directories are
    # root's and 0700): inputs they may read, and where their certdir goes.
    U=$(mktemp -d /tmp/certctl-keysafety.XXXXXX)
    chmod 0755 "$U"
    mkdir "$U/in"
    D=$U/certdir
    cat >"$U/certctl.conf" <<YAML
certdir: $D
trust: $U/in/trust.pem
defaults: {files: [combined]}
YAML
    cp "$PKI/trust.pem" "$PKI/inter.pem" "$U/in/"
    chown -R "$USER_NAME:$GROUP_NAME" "$U"
}

teardown() {
    report_on_failure
    if [ -n "${U:-}" ]; then
        rm -rf "$U"
    fi
}

# as_user [UMASK] -- CMD...: CMD as the user, with UMASK (default 022), the
# user's config and certdir, no supplementary groups.
as_user() {
    local mask=022
    if [ "$1" != -- ]; then
        mask=$1
        shift
    fi
    shift
    # shellcheck disable=SC2016 # expanded by that sh
    setpriv --reuid="$USER_NAME" --regid="$GROUP_NAME" --clear-groups \
        env CERTCTL_CONFIG="$U/certctl.conf" CERTCTL_CERTDIR="$D" \
        sh -c 'umask "$1"; shift; exec "$@"' sh "$mask" "$@"
}

# give NAME: a set from the test PKI, readable by the user as in/NAME.*.
give() {
    pki_leaf "$PKI" "$1"
    cp "$PKI/$1.key" "$PKI/$1.full.pem" "$U/in/"
    chown "$USER_NAME:$GROUP_NAME" "$U/in/$1.key" "$U/in/$1.full.pem"
    chmod 0600 "$U/in/$1.key"
}

# assert_key FILE: a private key of the user's, mode exactly 0600.
assert_key() {
    if [ ! -f "$1" ] || [ -L "$1" ]; then
        fail "$1 is not a file"
    fi
    assert_equal "$(stat -c '%a %U:%G' "$1")" "600 $USER_NAME:$GROUP_NAME"
}

# assert_private: every key in the certdir (live, kept, pending, combined)
# is the user's and 0600; nothing is group or world writable; .pending is
# 0700 and .lock 0600; every entry belongs to the user.
assert_private() {
    local f n=0
    while IFS= read -r f; do
        assert_key "$f"
        n=$((n + 1))
    done < <(find "$D" \( -name privkey.pem -o -name combined.pem \) -type f)
    [ "$n" -ge 2 ] || fail "only $n keys found"
    run find "$D" ! -type l -perm /022
    assert_output ""
    run find "$D" ! -user "$USER_NAME"
    assert_output ""
    assert_equal "$(stat -c %a "$D/.pending")" 700
    assert_equal "$(stat -c %a "$D/.lock")" 600
}

@test "a non-root user runs import, rekey and check on a certdir they own; keys are theirs, 0600" {
    give www
    run as_user -- "$CERTCTL" import www --cert "$U/in/www.full.pem" --key "$U/in/www.key"
    assert_success
    assert_output --partial "installed www"
    assert_equal "$(stat -c '%a %U' "$D")" "755 $USER_NAME"
    assert_key "$D/www/privkey.pem"
    assert_key "$D/www/combined.pem"
    assert_equal "$(openssl pkey -in "$D/www/privkey.pem" -pubout)" \
        "$(openssl pkey -in "$PKI/www.key" -pubout)"
    # A new key, pending; its cert, signed from the CSR, makes it live.
    run as_user -- "$CERTCTL" rekey www
    assert_success
    assert_key "$D/.pending/www/privkey.pem"
    run --separate-stderr as_user -- "$CERTCTL" rekey --print-csr www
    assert_success
    printf '%s\n' "$output" >"$U/in/www.csr"
    pki_csr_sign "$PKI" "$U/in/www.csr" "$U/in/next.crt" --days 120
    chown "$USER_NAME" "$U/in/next.crt"
    pending=$(openssl pkey -in "$D/.pending/www/privkey.pem" -pubout)
    run as_user -- "$CERTCTL" import www --cert "$U/in/next.crt" --chain "$U/in/inter.pem"
    assert_success
    assert_output --partial "pending key now live"
    assert_equal "$(openssl pkey -in "$D/www/privkey.pem" -pubout)" "$pending"
    [ "$(readlink "$D/www")" = .live/www.g0002 ]
    assert_private
    certdir_sound "$D" "$PKI/trust.pem"
    run as_user -- "$CERTCTL" check www
    assert_success
    assert_output --partial "OK"
    # The user reads their own keys; nobody else but root could.
    run as_user -- cat "$D/www/privkey.pem"
    assert_success
    assert_output --partial "PRIVATE KEY"
}

@test "under umask 000 and 077 the user's keys are exactly 0600 and nothing is group or world writable" {
    give www
    give api
    run as_user 000 -- "$CERTCTL" import www --cert "$U/in/www.full.pem" --key "$U/in/www.key"
    assert_success
    run as_user 000 -- "$CERTCTL" rekey www
    assert_success
    run as_user 000 -- "$CERTCTL" rekey --force www
    assert_success
    run as_user 077 -- "$CERTCTL" import api --cert "$U/in/api.full.pem" --key "$U/in/api.key"
    assert_success
    run as_user 077 -- "$CERTCTL" rekey api
    assert_success
    assert_private
    assert_key "$D/.pending/www/privkey.pem"
    assert_key "$D/.pending/api/privkey.pem"
    # Everything else stays readable for the servers that use it.
    for f in cert.pem chain.pem fullchain.pem; do
        assert_equal "$(stat -c %a "$D/www/$f")" 644
        assert_equal "$(stat -c %a "$D/api/$f")" 644
    done
    certdir_sound "$D" "$PKI/trust.pem"
    # check (as the user, under umask 000) finds nothing to complain about.
    run as_user 000 -- "$CERTCTL" check --all
    assert_success
    refute_output --partial CRITICAL
    refute_output --partial WARNING
}
