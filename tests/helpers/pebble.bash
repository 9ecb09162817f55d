# shellcheck shell=bash
# A local ACME CA for tests and the demo: Pebble and pebble-challtestsrv
# (Debian packages) on loopback ports picked at run time.
#
#   pebble_start DIR [ENV=VALUE...]   start both (with PEBBLE_OCSP_URL set, its
#                                     certificates name that OCSP responder);
#                                     sets PEBBLE_DIR, PEBBLE_URL,
#                                     PEBBLE_CA (trust for its HTTPS),
#                                     PEBBLE_ROOTS (trust for what it issues),
#                                     PEBBLE_HTTP_PORT (http-01 port),
#                                     PEBBLE_TLS_PORT (tls-alpn-01 port),
#                                     CHALLTESTSRV (its management URL),
#                                     PEBBLE_MGMT (Pebble's management URL)
#   pebble_stop                       stop both
#   pebble_share_start, pebble_share_stop
#                                     one Pebble for a whole bats file (from
#                                     setup_file and teardown_file)
#   pebble_dns_config CERTIFICATES [DIRECTORY-URL]
#                                     a certctl config at $CONFIG: source
#                                     'pebble' over dns-01, 'files' an http store
#   pebble_source NAME CHALLENGE-YAML prints a sources: entry for certctl.conf
#   pebble_next                       use the Pebble of Debian's next release
#                                     (2.6: renewalInfo) for the next start
#
# PEBBLE_BIN names the pebble to run (default: the installed one);
# PEBBLE_VALIDITY, when set, is the lifetime in seconds of what it issues;
# PEBBLE_EAB=KID:HMAC makes it require that external account binding.
#
# Needs tests/helpers/pki.bash and common.bash (free_port, wait_port).

pebble_start() {
    local dir=$1 port mgmt dns chall eab=false extra=
    shift
    if [ -n "${PEBBLE_VALIDITY:-}" ]; then
        extra=", \"certificateValidityPeriod\": $PEBBLE_VALIDITY"
    fi
    if [ -n "${PEBBLE_EAB:-}" ]; then
        eab=true
        extra+=", \"externalAccountMACKeys\": {\"${PEBBLE_EAB%%:*}\": \"${PEBBLE_EAB#*:}\"}"
    fi
    mkdir -p "$dir"
    pki_init "$dir/pki" || return 1
    pki_leaf "$dir/pki" localhost --san localhost,IP:127.0.0.1 || return 1
    port=$(free_port)
    mgmt=$(free_port)
    dns=$(free_port)
    chall=$(free_port)
    PEBBLE_HTTP_PORT=$(free_port)
    PEBBLE_TLS_PORT=$(free_port)
    cat > "$dir/pebble.json" <<JSON
{"pebble": {"listenAddress": "127.0.0.1:$port", "managementListenAddress": "127.0.0.1:$mgmt",
  "certificate": "$dir/pki/localhost.full.pem", "privateKey": "$dir/pki/localhost.key",
  "httpPort": $PEBBLE_HTTP_PORT, "tlsPort": $PEBBLE_TLS_PORT, "ocspResponderURL": "${PEBBLE_OCSP_URL:-}",
  "externalAccountBindingRequired": $eab$extra}}
JSON
    # Every name resolves to 127.0.0.1 (and only IPv4, so that validation
    # reaches listeners bound to 127.0.0.1).
    pebble-challtestsrv -dns01 "127.0.0.1:$dns" -http01 "" -https01 "" -tlsalpn01 "" \
        -management "127.0.0.1:$chall" -defaultIPv6 "" >"$dir/challtestsrv.log" 2>&1 &
    PEBBLE_CHALL_PID=$!
    env PEBBLE_VA_NOSLEEP=1 "$@" "${PEBBLE_BIN:-pebble}" -config "$dir/pebble.json" \
        -dnsserver "127.0.0.1:$dns" >"$dir/pebble.log" 2>&1 &
    PEBBLE_PID=$!
    wait_port "$port" && wait_port "$mgmt" && wait_port "$chall" || return 1
    PEBBLE_DIR=$dir
    PEBBLE_URL="https://127.0.0.1:$port/dir"
    PEBBLE_CA="$dir/pki/root.pem"
    PEBBLE_ROOTS="$dir/pebble-roots.pem"
    CHALLTESTSRV="http://127.0.0.1:$chall"
    PEBBLE_MGMT="https://127.0.0.1:$mgmt"
    # The CA's own root is made anew at every start.
    curl -sf --cacert "$PEBBLE_CA" "https://127.0.0.1:$mgmt/roots/0" >"$PEBBLE_ROOTS" ||
        return 1
    export PEBBLE_DIR PEBBLE_URL PEBBLE_CA PEBBLE_ROOTS PEBBLE_HTTP_PORT PEBBLE_TLS_PORT CHALLTESTSRV \
        PEBBLE_MGMT
}

pebble_stop() {
    # shellcheck disable=SC2086 # empty when not started
    stop_pids ${PEBBLE_PID:-} ${PEBBLE_CHALL_PID:-}
    PEBBLE_PID=
    PEBBLE_CHALL_PID=
}

# A test's own pebble_stop (in its teardown) stops only a Pebble that
# test started: the shared one's pids stay in this file-level shell (a
# test sees only what is exported).
pebble_share_start() {
    pebble_start "$BATS_FILE_TMPDIR/pebble" || return 1
    SHARED_PEBBLE_PID=$PEBBLE_PID SHARED_CHALL_PID=$PEBBLE_CHALL_PID
}

pebble_share_stop() {
    PEBBLE_PID=${SHARED_PEBBLE_PID:-} PEBBLE_CHALL_PID=${SHARED_CHALL_PID:-}
    pebble_stop
}

# pebble_dns_config CERTIFICATES [DIRECTORY-URL]: $CONFIG for $CERTDIR with
# source 'pebble' (the default; dns-01 through pebble-challtestsrv, or
# DIRECTORY-URL instead of Pebble's) and 'files' (an http store: no
# ACME), and CERTIFICATES as the body of certificates:.
pebble_dns_config() {
    cat > "$CONFIG" <<YAML
certdir: $CERTDIR
trust: $PEBBLE_ROOTS
defaults: {source: pebble}
sources:
$(pebble_source pebble "{type: dns-01, hook: $HELPERS/challtestsrv-hook}")
  files:
    type: http
    url: file://$BATS_TEST_TMPDIR/store/{name}.pem
certificates:
$1
YAML
    if [ -n "${2:-}" ]; then
        sed -i "s|directory: .*|directory: $2|" "$CONFIG"
    fi
}

# pebble_cert_status SERIAL: Pebble's word on a certificate it issued
# (SERIAL as openssl prints it): JSON {"Status": "Valid" | "Revoked",
# "Reason": N, ...}, from its management interface.
pebble_cert_status() {
    curl -sf --cacert "$PEBBLE_CA" "$PEBBLE_MGMT/cert-status-by-serial/${1//:/}"
}

# pebble_source NAME 'CHALLENGE' - a certctl sources: entry for this Pebble.
pebble_source() {
    cat <<YAML
  $1:
    type: acme
    directory: $PEBBLE_URL
    ca_file: $PEBBLE_CA
    agree_tos: true
    contact: [mailto:hostmaster@example.com]
    challenge: $2
YAML
}

# pebble_next: the Pebble that tests/helpers/get-pebble-next.sh fetched
# (scripts/install-deps.sh runs it); a failure, not a skip, without it.
pebble_next() {
    local cache=${CERTCTL_PEBBLE_NEXT:-${XDG_CACHE_HOME:-$HOME/.cache}/certctl/pebble-next}
    PEBBLE_BIN=$cache/root/usr/bin/pebble
    [ -x "$PEBBLE_BIN" ] ||
        fail "no $PEBBLE_BIN: run tests/helpers/get-pebble-next.sh (scripts/install-deps.sh does)"
}
