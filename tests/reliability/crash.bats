#!/usr/bin/env bats
# Crash consistency (issue 8): import, rekey, download and staple killed
# with SIGKILL before their file-system calls, one point per trial. After
# every kill the certdir must be sound for a server, and the next run must
# clean up and succeed. CRASH_LIMIT points per command (default 40; the
# bench runs every point).

setup() {
    load ../helpers/common
    load crash
    common_setup
    : "${CRASHPOINT:?the crashpoint interposer (built by meson) is needed}"
    LIMIT=${CRASH_LIMIT:-40}
    PRISTINE="$BATS_TEST_TMPDIR/pristine"
}

teardown() {
    if [ -n "${PEBBLE_PID:-}" ]; then
        pebble_stop
    fi
}

snapshot() { rm -rf "$PRISTINE"; cp -a "$CERTDIR" "$PRISTINE"; }
restore() { rm -rf "$CERTDIR"; cp -a "$PRISTINE" "$CERTDIR"; }

# run_trials TRUST CMD...: every sampled point, then the recovery run.
run_trials() {
    local trust=$1 total n kills=0 rc
    shift
    restore
    total=$(crash_points "$@")
    [ "$total" -gt 5 ]
    for n in $(crash_sample "$total" "$LIMIT"); do
        restore
        if crash_trial "$n" "$@"; then
            kills=$((kills + 1))
        fi
        certdir_sound "$CERTDIR" "$trust"
        rc=0
        "$@" >/dev/null 2>&1 || rc=$?
        [ "$rc" -eq 0 ] || [ "$rc" -eq 10 ] || { echo "recovery run exited $rc at point $n"; return 1; }
        certdir_sound "$CERTDIR" "$trust"
        [ -z "$(find "$CERTDIR" -name '*.tmp')" ] || { echo "leftovers after recovery at $n"; return 1; }
    done
    echo "# $kills kills over $total points" >&3
    [ "$kills" -gt 0 ]
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
