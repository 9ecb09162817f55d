# shellcheck shell=bash
# Shared setup for certctl's bats files: the binary, bats libraries, the
# test PKI and loopback helpers.

: "${CERTCTL:=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/build/certctl}"
HELPERS="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# Elapsed-time bounds in the tests are multiplied by this: 1 natively, more
# under `meson test --setup valgrind`, where each certctl run is many times
# slower (tests/meson.build).
# shellcheck disable=SC2034 # used by the .bats files
SLOWDOWN=${CERTCTL_SLOWDOWN:-1}

bats_load_library bats-support
bats_load_library bats-assert
# shellcheck source=tests/helpers/pki.bash
source "$HELPERS/pki.bash"

# shellcheck source=tests/helpers/net.bash
source "$HELPERS/net.bash"

# A certdir with one healthy set, made from the test PKI: mk NAME [pki_leaf options]
mk() {
    local name=$1
    shift
    pki_leaf "$PKI" "$name" "$@"
    certdir_put "$CERTDIR" "$name" "$PKI/$name.key" "$PKI/$name.crt" "$PKI/$name.chain.pem"
}

# Point certctl at the test PKI's root through a config file; the optional
# argument is more YAML for the top level.
# shellcheck disable=SC2120
write_config() {
    cat > "$CONFIG" <<YAML
certdir: $CERTDIR
trust: $PKI/trust.pem
${1:-}
YAML
}

# refused CODE TEXT ARGS...: `certctl ARGS` exits CODE with exactly one
# line of output containing TEXT, and the certdir is byte-for-byte as it was.
refused() {
    local code=$1 text=$2 before
    shift 2
    before=$(tree_sum "$CERTDIR")
    run "$CERTCTL" "$@"
    assert_failure "$code"
    assert_equal "${#lines[@]}" 1
    assert_output --partial "$text"
    assert_equal "$(tree_sum "$CERTDIR")" "$before"
}

# report_on_failure: first thing in every teardown. When the test failed,
# show what it saw (bats prints it with the failure): the last command
# `run` ran, and the tail of each server log the test or its file keeps
# under its temporary directories (Pebble, challtestsrv, nginx, the OCSP
# responders, the hostile servers). bats' --print-output-on-failure
# (tests/meson.build) adds the last output and stderr.
report_on_failure() {
    local log
    [ -z "${BATS_TEST_COMPLETED:-}" ] || return 0
    echo "# last command run: ${BATS_RUN_COMMAND:-none}"
    while IFS= read -r log; do
        echo "# --- last lines of $log"
        tail -n 20 "$log"
    done < <(find "$BATS_TEST_TMPDIR" "${BATS_FILE_TMPDIR:-$BATS_TEST_TMPDIR}" \
        -type f \( -name '*.log' -o -name 'stdout' \) -size +0 2>/dev/null | sort -u)
}

common_setup() {
    PKI="$BATS_FILE_TMPDIR/pki"
    CERTDIR="$BATS_TEST_TMPDIR/certdir"
    CONFIG="$BATS_TEST_TMPDIR/certctl.conf"
    export CERTCTL_CONFIG="$CONFIG" CERTCTL_CERTDIR="$CERTDIR"
    pki_init "$PKI"
    mkdir -p "$CERTDIR"
    chmod 0755 "$CERTDIR"
    write_config
}
