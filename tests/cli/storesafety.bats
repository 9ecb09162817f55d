#!/usr/bin/env bats
# The safety promise of the certdir under what operators really do (issue
# 15): names that would collide with flat links, re-imports that repair a
# damaged set, directory modes under a tight umask, failures after the
# commit point, and owners resolved from many download threads at once.
#
# The fleet store here is a file:// URL (the same code path as https, minus
# the conditional GET); the one case about a 304 uses nginx on loopback.
# The umask, reader and owner cases need root (setpriv, chgrp, groupadd)
# and skip otherwise.
#
# Duration: the fault-injection cases run certctl once per file-system call
# they fail (a few dozen runs each); everything else takes seconds.

bats_require_minimum_version 1.5.0

setup() {
    load ../helpers/common
    load ../helpers/httpd
    common_setup
    W=$BATS_TEST_TMPDIR
    U=''
    GROUPS_MADE=()
}

teardown() {
    httpd_stop
    local g
    for g in "${GROUPS_MADE[@]}"; do
        groupdel "$g" 2>/dev/null || true
    done
    if [ -n "$U" ]; then
        rm -rf "$U"
    fi
}

# ------------------------------------------------------------------ helpers

need_root() {
    [ "$(id -u)" -eq 0 ] || skip "needs root (setpriv, chgrp, groupadd)"
}

# seed NAME: a first import of NAME from the test PKI (generation 1); its
# key stays in $W/NAME.key.
seed() {
    pki_leaf "$PKI" "$1"
    cp "$PKI/$1.key" "$W/$1.key"
    run "$CERTCTL" import "$1" --cert "$PKI/$1.full.pem" --key "$W/$1.key"
    assert_success
}

# reimport NAME: import NAME's own certificate and key again.
reimport() {
    run --separate-stderr "$CERTCTL" import "$1" --cert "$PKI/$1.full.pem" --key "$W/$1.key" \
        "${@:2}"
}

# public_dir: a directory that users other than root can enter (the bats
# temporary directories are root's and 0700), made the caller's $U.
public_dir() {
    U=$(mktemp -d /tmp/certctl-storesafety.XXXXXX)
    chmod 0755 "$U"
}

# as USER GROUP CMD...: run CMD as USER with GROUP as its only group.
as() {
    setpriv --reuid="$1" --regid="$2" --clear-groups -- "${@:3}"
}

# fleet_config CERTDIR [MORE]: a config for a file:// store under $W/store
# ({name}/{spki_sha256}.pem), MORE lines of YAML under defaults:, and no
# names yet (add_name adds them).
fleet_config() {
    mkdir -p "$W/store"
    cat >"$CONFIG" <<YAML
certdir: $1
trust: $PKI/trust.pem
defaults:
  source: fleet
${2:-}
sources:
  fleet: {type: http, url: "file://$W/store/{name}/{spki_sha256}.pem"}
certificates:
YAML
}

# add_name NAME [YAML]: NAME in the config with domains [NAME] and YAML
# more keys of its entry.
add_name() {
    printf '  %s: {domains: [%s]%s}\n' "$1" "$1" "${2:+, $2}" >>"$CONFIG"
}

# enroll NAME [UMASK]: rekey NAME (under UMASK), sign its CSR and publish
# the certificate in the file store for the pending key (as a publisher
# would).
enroll() {
    local hash
    run bash -c 'umask "$1" && exec "$2" rekey "$3"' _ "${2:-$(umask)}" "$CERTCTL" "$1"
    assert_success
    run "$CERTCTL" rekey --print-csr "$1"
    assert_success
    printf '%s\n' "$output" >"$W/$1.csr"
    pki_csr_sign "$PKI" "$W/$1.csr" "$W/$1.crt"
    hash=$(openssl req -in "$W/$1.csr" -noout -pubkey | openssl pkey -pubin -outform DER |
        sha256sum | cut -d' ' -f1)
    mkdir -p "$W/store/$1"
    cat "$W/$1.crt" "$PKI/inter.pem" >"$W/store/$1/$hash.pem"
}

# modes DIR: "MODE PATH" for every directory and file below DIR (links
# left out), sorted.
modes() {
    (cd "$1" && find . ! -type l -printf '%m %p\n' | sort -k2)
}

# ------------------------------------------- 3. names that are flat links

# bats test_tags=memcheck
@test "a name ending in a flat-link suffix is refused by import, rekey and the config (exit 2)" {
    local name
    seed www.example.com
    before=$(tree_sum "$CERTDIR")
    for name in www.example.com.crt www.example.com.key www.example.com.chain.crt \
        www.example.com.chained.crt www.example.com.ocsp; do
        run "$CERTCTL" import "$name" --cert "$PKI/www.example.com.full.pem" \
            --key "$W/www.example.com.key"
        assert_failure 2
        assert_output "certctl: invalid name '$name': it ends in '${name#www.example.com}', the flat link of 'www.example.com'"
        run "$CERTCTL" rekey "$name"
        assert_failure 2
        assert_output --partial "the flat link of 'www.example.com'"
    done
    write_config "certificates:
  foo.key: {domains: [foo.example]}"
    run "$CERTCTL" rekey --all
    assert_failure 2
    assert_output --partial "'foo.key' is not a valid name"
    assert_equal "$(tree_sum "$CERTDIR")" "$before"
    # Names that merely contain the suffix are fine.
    write_config
    seed www.keyserver.example
    seed crt.example
}

@test "an older certdir's set named NAME.crt: installing NAME leaves it alone, check says CRITICAL" {
    # What an older certctl allowed: a set called www.example.com.crt.
    pki_leaf "$PKI" other
    certdir_put "$CERTDIR" www.example.com.crt "$PKI/other.key" "$PKI/other.crt" "$PKI/inter.pem"
    other_gen=$(tree_sum "$CERTDIR/.live/www.example.com.crt.g0001")
    pki_leaf "$PKI" www.example.com
    cp "$PKI/www.example.com.key" "$W/"
    run --separate-stderr "$CERTCTL" import www.example.com --cert "$PKI/www.example.com.full.pem" \
        --key "$W/www.example.com.key"
    assert_success
    [[ $stderr == *"warning: www.example.com is live: '$CERTDIR/www.example.com.crt' is a symlink that is not www.example.com's; left alone"* ]] ||
        fail "stderr: $stderr"
    # Its live link is its own, and the other flat links are made.
    assert_equal "$(readlink "$CERTDIR/www.example.com.crt")" ".live/www.example.com.crt.g0001"
    assert_equal "$(readlink "$CERTDIR/www.example.com.key")" "www.example.com/privkey.pem"
    # The next writers (another import, a rekey of another name) delete nothing.
    seed unrelated
    run "$CERTCTL" rekey unrelated
    assert_success
    assert_equal "$(tree_sum "$CERTDIR/.live/www.example.com.crt.g0001")" "$other_gen"
    # check --all names it CRITICAL; writers refuse it by name.
    run "$CERTCTL" check --all
    assert_failure 2
    assert_output --regexp "CRITICAL +www\.example\.com\.crt .*ends in '\.crt', the flat link of 'www\.example\.com'"
    # The name whose flat link is taken says so until its next install.
    run "$CERTCTL" check www.example.com
    assert_failure 1
    assert_output --partial "last import installed with a warning: www.example.com is live: '$CERTDIR/www.example.com.crt' is a symlink that is not www.example.com's"
    run "$CERTCTL" import www.example.com.crt --cert "$PKI/other.full.pem" --key "$PKI/other.key"
    assert_failure 2
    assert_equal "$(tree_sum "$CERTDIR/.live/www.example.com.crt.g0001")" "$other_gen"
}

@test "a set whose link an older certctl already replaced by a flat link is still reported" {
    pki_leaf "$PKI" other
    certdir_put "$CERTDIR" www.example.com.crt "$PKI/other.key" "$PKI/other.crt" "$PKI/inter.pem"
    ln -sfn www.example.com/cert.pem "$CERTDIR/www.example.com.crt"
    seed www.example.com
    [ -d "$CERTDIR/.live/www.example.com.crt.g0001" ]
    run "$CERTCTL" check --all
    assert_failure 2
    assert_output --partial "www.example.com.crt"
    assert_output --partial "the flat link of 'www.example.com'"
}

@test "a flat link that points anywhere but into NAME/ is left alone, with a warning" {
    seed www
    ln -sfn /etc/hostname "$CERTDIR/www.chain.crt"
    ln -sfn www/privkey.pem "$CERTDIR/www.crt"      # into www/, wrong file: repaired
    pki_leaf "$PKI" renewed --key "$W/www.key" --san www --days 100
    run --separate-stderr "$CERTCTL" import www --cert "$PKI/renewed.full.pem"
    assert_success
    [[ $stderr == *"'$CERTDIR/www.chain.crt' is a symlink that is not www's; left alone"* ]] ||
        fail "stderr: $stderr"
    assert_equal "$(readlink "$CERTDIR/www.chain.crt")" /etc/hostname
    assert_equal "$(readlink "$CERTDIR/www.crt")" www/cert.pem
    jq -e '.import.last_warning | contains("www.chain.crt")' "$CERTDIR/.state/www.json"
    run "$CERTCTL" check www
    assert_failure 1
    assert_output --partial "last import installed with a warning"
}

# ------------------------------------ 4. a damaged set is never identical

# damage NAME HOW: break NAME's live set the way HOW says.
damage() {
    local g=$CERTDIR/$1
    case $2 in
    truncated-key) : >"$g/privkey.pem" ;;
    deleted-key) rm "$g/privkey.pem" ;;
    loose-key) chmod 0644 "$g/privkey.pem" ;;
    swapped-key) pki_leaf "$PKI" stranger && cp "$PKI/stranger.key" "$g/privkey.pem" ;;
    truncated-cert) head -c 100 "$PKI/$1.crt" >"$g/cert.pem" ;;
    deleted-fullchain) rm "$g/fullchain.pem" ;;
    symlinked-csr) ln -s /etc/hostname "$g/csr.pem" ;;
    closed-dir) chmod 0700 "$(readlink -f "$g")" ;;
    esac
}

# bats test_tags=memcheck
@test "re-import of the same cert and key repairs every kind of damage (exit 0), then exit 10" {
    local how
    for how in truncated-key deleted-key loose-key swapped-key truncated-cert \
        deleted-fullchain symlinked-csr closed-dir; do
        rm -rf "$CERTDIR" && mkdir -m 0755 "$CERTDIR"
        seed www
        damage www "$how"
        # check calls it broken (or at least not OK)...
        run "$CERTCTL" check www
        assert [ "$status" -ne 0 ]
        # ...so it is not "identical": it installs again, even with --force.
        reimport www --force
        [ "$status" -eq 0 ] || fail "$how: import exited $status: $stderr"
        assert_equal "$(readlink "$CERTDIR/www")" ".live/www.g0002"
        run "$CERTCTL" check www
        assert_success
        assert_equal "$(stat -c %a "$CERTDIR/www/privkey.pem")" 600
        cmp "$CERTDIR/www/privkey.pem" "$CERTDIR/.live/www.g0002/privkey.pem"
        # Now it is identical.
        reimport www
        assert_failure 10
    done
}

@test "re-import with the key's configured group and mode repairs a key of another group" {
    need_root
    write_config "defaults: {group: daemon, key_mode: \"0640\"}"
    seed www
    assert_equal "$(stat -c '%a %G' "$CERTDIR/www/privkey.pem")" "640 daemon"
    chgrp root "$CERTDIR/www/privkey.pem"
    reimport www
    assert_success
    assert_equal "$(stat -c '%a %G' "$CERTDIR/www/privkey.pem")" "640 daemon"
    reimport www
    assert_failure 10
}

@test "download of the same cert from the store repairs a damaged live set, even past a 304" {
    fleet_config "$CERTDIR"
    add_name web1
    enroll web1
    run "$CERTCTL" download web1
    assert_success
    # A store answering 304 to what the state remembers: nginx.
    [ -e "$PKI/store.full.pem" ] || pki_leaf "$PKI" store --san localhost,IP:127.0.0.1
    mkdir -p "$W/docroot"
    cp -r "$W/store/web1" "$W/docroot/"
    httpd_nginx_tls_start "$W/docroot" "$PKI/store.full.pem" "$PKI/store.key"
    sed -i "s|url: .*|url: \"https://127.0.0.1:$HTTPD_PORT/{name}/{spki_sha256}.pem\", ca_file: $PKI/root.pem}|" "$CONFIG"
    # The same certificate: nothing to do, but the validators are kept...
    run "$CERTCTL" download --force web1
    assert_failure 10
    jq -e '.http.etag | length > 0' "$CERTDIR/.state/web1.json"
    # ...and the next run is a 304.
    run "$CERTCTL" download web1
    assert_failure 10
    assert_equal "$(awk '{ print $9 }' "$HTTPD_ACCESS_LOG" | tail -1)" 304
    chmod 0644 "$CERTDIR/web1/privkey.pem"
    rm "$CERTDIR/web1/fullchain.pem"
    run "$CERTCTL" check web1
    assert_failure 2
    run "$CERTCTL" download web1
    assert_success
    run "$CERTCTL" check web1
    assert_success
    assert_equal "$(stat -c %a "$CERTDIR/web1/privkey.pem")" 600
    run "$CERTCTL" download web1
    assert_failure 10
}

# ---------------------------------------------- 5. modes under any umask

# expect_modes CERTDIR NAME KEYMODE: every directory and file of the
# certdir has the mode the docs give, whatever the umask was.
expect_modes() {
    local gen
    gen=$(readlink "$1/$2")
    run modes "$1"
    assert_line "755 ."
    assert_line "755 ./.live"
    assert_line "755 ./$gen"
    assert_line "755 ./.state"
    assert_line "700 ./.pending"
    assert_line "$3 ./$gen/privkey.pem"
    assert_line "644 ./$gen/cert.pem"
    assert_line "644 ./$gen/chain.pem"
    assert_line "644 ./$gen/fullchain.pem"
    # Nothing else is closed to its readers.
    refute_line --regexp '^7[0-4]0 \./\.(live|state)'
}

# readers CERTDIR NAME: nobody reads cert.pem; nobody in the key's group
# (nogroup) reads privkey.pem; daemon (another group) cannot.
readers() {
    as nobody nogroup cat "$1/$2/cert.pem" >/dev/null || fail "nobody cannot read cert.pem"
    as nobody nogroup cat "$1/$2.crt" >/dev/null || fail "nobody cannot read $2.crt"
    as nobody nogroup cat "$1/$2/privkey.pem" >/dev/null ||
        fail "the key's group cannot read privkey.pem"
    run as daemon daemon cat "$1/$2/privkey.pem"
    assert_failure
}

@test "import, rekey and download under umask 027 and 077: every mode as documented, readers reach their files" {
    need_root
    getent group nogroup >/dev/null || skip "no group 'nogroup'"
    local mask
    for mask in 027 077; do
        public_dir
        local d=$U/certdir
        export CERTCTL_CERTDIR=$d
        fleet_config "$d" '  group: nogroup
  key_mode: "0640"'
        add_name web1
        add_name imp
        pki_leaf "$PKI" imp
        (umask "$mask" && "$CERTCTL" import imp --cert "$PKI/imp.full.pem" --key "$PKI/imp.key") ||
            fail "import under umask $mask"
        expect_modes "$d" imp 640
        readers "$d" imp
        enroll web1 "$mask"
        assert_equal "$(stat -c %a "$d/.pending/web1")" 700
        (umask "$mask" && "$CERTCTL" download web1) || fail "download under umask $mask"
        expect_modes "$d" web1 640
        readers "$d" web1
        run "$CERTCTL" check --all
        assert_success
        rm -rf "$U" "$W/store"
        U=''
    done
}

@test "check: a generation its readers cannot enter is WARNING, CRITICAL when the key's group cannot" {
    need_root
    getent group nogroup >/dev/null || skip "no group 'nogroup'"
    write_config "defaults: {group: nogroup, key_mode: \"0640\"}"
    seed www
    run "$CERTCTL" check www
    assert_success
    gen=$(readlink -f "$CERTDIR/www")
    chmod 0750 "$gen"               # the key's group is not the directory's
    run "$CERTCTL" check -v www
    assert_failure 2
    assert_output --partial "privkey.pem is out of reach of its group 'nogroup': '$gen' is mode 0750"
    assert_output --partial "cert.pem cannot be read by other users"
    chgrp nogroup "$gen"            # now the group passes, others still not
    run "$CERTCTL" check www
    assert_failure 1
    assert_output --partial "cert.pem cannot be read by other users: '$gen' is mode 0750"
    chmod 0700 "$CERTDIR/.live"
    run "$CERTCTL" check www
    assert_failure 2
    assert_output --partial "'$CERTDIR/.live' is mode 0700"
}

# ------------------------------------- 7. failures after the commit point

# fault_loop FUNC CMD...: run CMD (from a fresh copy of $W/pristine as the
# certdir) with call N of FUNC failing, for N = 0, 1, ... until no call
# fails. After each run: the new set is live exactly when the run exited 0,
# and then the deploy_hook ran; else the old set is live and it exited 1.
# Counts in POST the runs where the set went live despite the failure.
fault_loop() {
    local func=$1 n=0 rc live
    shift
    POST=0
    while :; do
        rm -rf "$CERTDIR" "$W/failed" "$W/hook.ran"
        cp -a "$W/pristine" "$CERTDIR"
        rc=0
        env LD_PRELOAD="$CRASHPOINT" ASAN_OPTIONS="${ASAN_OPTIONS:-}:verify_asan_link_order=0" \
            CRASHPOINT_FAIL="$func:$n" CRASHPOINT_FAILED="$W/failed" "$@" \
            >"$W/out" 2>"$W/err" || rc=$?
        [ -e "$W/failed" ] || break
        live=$(readlink "$CERTDIR/$NAME" || true)
        if [ "$live" = "$NEW_GEN" ]; then
            [ "$rc" -eq 0 ] || fail "$func:$n: new set live, exit $rc: $(cat "$W/err")"
            [ -z "${HOOK:-}" ] || [ -e "$W/hook.ran" ] || fail "$func:$n: live, hook not run"
            if [ -s "$W/err" ]; then
                grep -q "^certctl: $NAME: warning: " "$W/err" ||
                    fail "$func:$n: stderr: $(cat "$W/err")"
                jq -e ".$OP.last_warning | length > 0" "$CERTDIR/.state/$NAME.json" >/dev/null ||
                    fail "$func:$n: no warning in .state"
                POST=$((POST + 1))
            fi
        else
            [ "$rc" -eq 1 ] || fail "$func:$n: old set live, exit $rc"
            [ ! -e "$W/hook.ran" ] || fail "$func:$n: hook ran for nothing"
        fi
        n=$((n + 1))
    done
    [ "$n" -gt 0 ] || fail "no call of $func was made"
}

@test "import: an fsync, rename or symlink failing after the swap is a warning, not a failure" {
    [ -n "${CRASHPOINT:-}" ] || skip "CRASHPOINT (the interposer) is not built"
    seed www
    cp -a "$CERTDIR" "$W/pristine"
    pki_leaf "$PKI" renewed --key "$W/www.key" --san www --days 100
    NAME=www NEW_GEN=.live/www.g0002 OP=import HOOK=
    for func in fsync renameat symlinkat; do
        fault_loop "$func" "$CERTCTL" import www --cert "$PKI/renewed.full.pem"
        # The flat links are there already: only fsync comes after the swap.
        [ "$func" != fsync ] || [ "$POST" -gt 0 ] || fail "$func: never failed after the swap"
    done
}

@test "download: a failure after the swap exits 0, runs the deploy_hook, warns on stderr and in .state" {
    [ -n "${CRASHPOINT:-}" ] || skip "CRASHPOINT (the interposer) is not built"
    fleet_config "$CERTDIR"
    add_name web1 "deploy_hook: \"touch $W/hook.ran\""
    enroll web1
    cp -a "$CERTDIR" "$W/pristine"
    NAME=web1 NEW_GEN=.live/web1.g0001 OP=download HOOK=1
    for func in fsync renameat symlinkat unlinkat; do
        fault_loop "$func" "$CERTCTL" download web1
        # The certdir's fsync, the flat links and the pending key's fsync
        # come after the swap (a failed unlink of the pending key is left
        # for the next run to finish, silently).
        case $func in
        fsync | symlinkat) [ "$POST" -gt 0 ] || fail "$func: never failed after the swap" ;;
        esac
    done
    # The run after a warning: check reports it until the next success.
    rm -rf "$CERTDIR" && cp -a "$W/pristine" "$CERTDIR"
    rm -f "$W/failed"
    env LD_PRELOAD="$CRASHPOINT" ASAN_OPTIONS="${ASAN_OPTIONS:-}:verify_asan_link_order=0" \
        CRASHPOINT_FAIL="symlinkat:1" CRASHPOINT_FAILED="$W/failed" \
        "$CERTCTL" download web1 || fail "exit $?"
    [ -e "$W/failed" ]
    run "$CERTCTL" check web1
    assert_failure 1
    assert_output --partial "last download installed with a warning: web1 is live: cannot link"
}

# ------------------------------------------- 8. owners from many threads

@test "download --jobs 4: keys of names with different groups each get their own group" {
    need_root
    command -v groupadd >/dev/null || skip "no groupadd"
    local g1=cctest-a$$ g2=cctest-b$$ i name
    groupadd "$g1" && GROUPS_MADE+=("$g1")
    groupadd "$g2" && GROUPS_MADE+=("$g2")
    fleet_config "$CERTDIR" '  key_mode: "0640"'
    for i in $(seq 1 16); do
        add_name "n$i" "group: $([ $((i % 2)) -eq 0 ] && echo "$g1" || echo "$g2")"
    done
    for i in $(seq 1 16); do
        enroll "n$i"
    done
    # The interposer (when built) makes getgrnam slow, so that threads
    # sharing its static result would see each other's group.
    run env ${CRASHPOINT:+LD_PRELOAD="$CRASHPOINT" CRASHPOINT_SLOW_NSS=20000} \
        ASAN_OPTIONS="${ASAN_OPTIONS:-}:verify_asan_link_order=0" \
        "$CERTCTL" download --jobs 4 --all
    assert_success
    for i in $(seq 1 16); do
        name=n$i
        assert_equal "$(stat -c '%a %G' "$CERTDIR/$name/privkey.pem")" \
            "640 $([ $((i % 2)) -eq 0 ] && echo "$g1" || echo "$g2")"
    done
}
