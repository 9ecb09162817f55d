#!/usr/bin/env bats
# tls-alpn-01 (RFC 8737) against Pebble's real validator (no
# PEBBLE_VA_ALWAYS_VALID): certctl's built-in TLS listener on Pebble's
# tlsPort answers for DNS names, IPv4 and IPv6 addresses (by their
# reverse-DNS names, RFC 8738 section 6); the config checks. What the
# responder refuses (other ALPN, no SNI, unknown names) is in
# tests/unit/test_alpn.c, where the handshakes are driven directly.

bats_require_minimum_version 1.5.0

setup_file() {
    load ../helpers/common
    load ../helpers/pebble
    pebble_share_start
}

teardown_file() {
    pebble_share_stop
}

setup() {
    load ../helpers/common
    load ../helpers/pebble
    common_setup
    PEBBLE_PID='' PEBBLE_CHALL_PID=''
}

teardown() {
    report_on_failure
    pebble_stop # only a Pebble this test started itself
}

# write_alpn_config LISTEN CERTIFICATES: source 'pebble' answering
# tls-alpn-01 on LISTEN.
write_alpn_config() {
    cat > "$CONFIG" <<YAML
certdir: $CERTDIR
trust: $PEBBLE_ROOTS
defaults: {source: pebble}
sources:
$(pebble_source pebble "{type: tls-alpn-01, listen: \"$1\"}")
certificates:
$2
YAML
}

sans() {
    openssl x509 -in "$CERTDIR/$1/cert.pem" -noout -ext subjectAltName | tail -n +2 |
        sed 's/^ *//'
}

# bats test_tags=memcheck
@test "a DNS name is validated by Pebble over tls-alpn-01 on the built-in listener" {
    write_alpn_config "127.0.0.1:$PEBBLE_TLS_PORT" "  www.example.com:"
    run "$CERTCTL" download www.example.com
    assert_success
    assert_output --partial "installed www.example.com"
    assert_equal "$(sans www.example.com)" "DNS:www.example.com"
    # The listener is gone with the run.
    port_closed "$PEBBLE_TLS_PORT"
}

@test "IPv4 and IPv6 addresses over tls-alpn-01 (SNI: the reverse-DNS name)" {
    write_alpn_config "[::]:$PEBBLE_TLS_PORT" '  addrs: {domains: [127.0.0.1, "::1"]}'
    run "$CERTCTL" download addrs
    assert_success
    run sans addrs
    assert_output --partial "IP Address:127.0.0.1"
    assert_output --partial "IP Address:0:0:0:0:0:0:0:1"
}

@test "the validation is real: a listener where Pebble does not look fails the order" {
    write_alpn_config "127.0.0.1:$(free_port)" "  www.example.com:"
    run "$CERTCTL" download www.example.com
    assert_failure 1
    assert_output --partial "the challenge for 'www.example.com' failed"
    assert_output --partial "tls-alpn-01"
    [ ! -e "$CERTDIR/www.example.com" ]
}

@test "tls-alpn-01 wants 'listen' and nothing else" {
    write_alpn_config "127.0.0.1:1" "  www.example.com:"
    sed -i 's|challenge: {type: tls-alpn-01, listen: "127.0.0.1:1"}|challenge: {type: tls-alpn-01, webroot: /tmp}|' "$CONFIG"
    run "$CERTCTL" download www.example.com
    assert_failure 2
    assert_output --partial "a tls-alpn-01 challenge needs 'listen' (and nothing else)"
    sed -i 's|challenge: {type: tls-alpn-01, webroot: /tmp}|challenge: {type: tls-alpn-02, listen: ":1"}|' "$CONFIG"
    run "$CERTCTL" download www.example.com
    assert_failure 2
    assert_output --partial "challenge type must be http-01, dns-01 or tls-alpn-01, not 'tls-alpn-02'"
}
