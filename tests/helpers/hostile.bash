# shellcheck shell=bash
# tests/helpers/hostile-acme.py on a loopback port, for a whole bats file.
#
#   hostile_start     in setup_file: a test PKI in $BATS_FILE_TMPDIR/pki
#                     (PKI), the server's STATE directory, its PORT and
#                     SERVER_PID (exported for the tests)
#   hostile_source NAME [DIRECTORY]
#                     prints a sources: entry for it (DIRECTORY: another
#                     URL, such as a port where nothing listens)
#
# Needs tests/helpers/common.bash.

hostile_start() {
    PKI="$BATS_FILE_TMPDIR/pki"
    pki_init "$PKI"
    pki_leaf "$PKI" localhost --san localhost,IP:127.0.0.1
    STATE="$BATS_FILE_TMPDIR/state"
    mkdir -p "$STATE"
    PORT=$(free_port)
    python3 "$CERTCTL_SRC/tests/helpers/hostile-acme.py" "$PORT" \
        "$PKI/localhost.full.pem" "$PKI/localhost.key" "$PKI" "$STATE" \
        >"$STATE/log" 2>&1 3>&- &
    # shellcheck disable=SC2034 # for teardown_file
    SERVER_PID=$!
    wait_port "$PORT"
    export PORT STATE
}

hostile_source() {
    cat <<YAML
  $1:
    type: acme
    directory: ${2:-https://127.0.0.1:$PORT/dir}
    ca_file: $PKI/trust.pem
    agree_tos: true
    timeout: {connect: 2s, total: 5s}
    challenge: {type: dns-01, hook: /bin/true}
YAML
}
