# shellcheck shell=bash
# Shared setup for certctl's bats files: the binary, bats libraries, the
# test PKI and loopback helpers.

: "${CERTCTL:=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/build/certctl}"
HELPERS="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

bats_load_library bats-support
bats_load_library bats-assert
# shellcheck source=tests/helpers/pki.bash
source "$HELPERS/pki.bash"

# A free TCP port on loopback (the kernel picks it).
free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# wait_port PORT: until something accepts on 127.0.0.1:PORT (10 s at most).
wait_port() {
    local _
    for _ in $(seq 1 100); do
        if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then
            return 0
        fi
        sleep 0.1
    done
    echo "nothing listens on port $1" >&2
    return 1
}

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
