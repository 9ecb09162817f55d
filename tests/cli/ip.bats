#!/usr/bin/env bats
# IP-address certificates (RFC 8738): IPv4 and IPv6 identifiers issued by
# a real Pebble over http-01 on certctl's own listener (Pebble's validator
# connects to the address itself, [::1] included), and SANs compared by
# kind everywhere: an iPAddress SAN for an address, a dNSName for a name,
# never one for the other (install, import, check, check --connect).

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
    PEBBLE_PID='' PEBBLE_CHALL_PID='' SERVER_PID=''
}

teardown() {
    report_on_failure
    [ -z "${SERVER_PID:-}" ] || stop_pids "$SERVER_PID"
    pebble_stop # only a Pebble this test started itself
}

# write_ip_config LISTEN CERTIFICATES: one source, http-01 on certctl's
# listener at LISTEN (Pebble's http-01 port).
write_ip_config() {
    cat > "$CONFIG" <<YAML
certdir: $CERTDIR
trust: $PEBBLE_ROOTS
defaults: {source: pebble}
sources:
$(pebble_source pebble "{type: http-01, listen: \"$1:$PEBBLE_HTTP_PORT\"}")
certificates:
$2
YAML
}

# sans NAME: the live certificate's SANs as openssl prints them.
sans() {
    openssl x509 -in "$CERTDIR/$1/cert.pem" -noout -ext subjectAltName | tail -n +2 |
        sed 's/^ *//'
}

# bats test_tags=memcheck
@test "IPv4: 127.0.0.1 is issued as an iPAddress SAN over http-01 on the loopback listener" {
    write_ip_config 127.0.0.1 "  127.0.0.1:"
    run "$CERTCTL" download 127.0.0.1
    assert_success
    assert_output --partial "installed 127.0.0.1"
    assert_equal "$(sans 127.0.0.1)" "IP Address:127.0.0.1"
    # No address in the CSR's CN (Let's Encrypt refuses one): no CN at all.
    assert_equal "$(openssl req -in "$CERTDIR/127.0.0.1/csr.pem" -noout -subject)" "subject="
    run "$CERTCTL" check 127.0.0.1
    refute_output --partial "not covered"
    # Nothing due: the IP SAN counts as the configured address.
    run "$CERTCTL" download 127.0.0.1
    assert_failure 10
}

@test "IPv6: ::1 is issued over http-01; Pebble's validator reaches the listener at [::1]" {
    write_ip_config "[::1]" '  loopback6: {domains: ["::1"]}'
    run "$CERTCTL" download loopback6
    assert_success
    assert_equal "$(sans loopback6)" "IP Address:0:0:0:0:0:0:0:1"
    run "$CERTCTL" check loopback6
    refute_output --partial "not covered"
}

@test "one certificate for a DNS name, an IPv4 and an IPv6 address (spelt loosely)" {
    write_ip_config "[::]" '  mixed: {domains: [127.0.0.1, www.example.com, "0:0::1"]}'
    run "$CERTCTL" download mixed
    assert_success
    run sans mixed
    assert_output --partial "DNS:www.example.com"
    assert_output --partial "IP Address:127.0.0.1"
    assert_output --partial "IP Address:0:0:0:0:0:0:0:1"
    assert_equal "$(openssl req -in "$CERTDIR/mixed/csr.pem" -noout -subject)" \
        "subject=CN = www.example.com"
    run "$CERTCTL" download mixed
    assert_failure 10
}

@test "a dNSName that reads like an address covers no IP identifier: import refused, check CRITICAL" {
    write_config "certificates:
  lookalike: {domains: [127.0.0.1]}
  v6: {domains: [\"::1\"]}
  wild: {domains: [127.0.0.1]}"
    pki_leaf "$PKI" lookalike --san 127.0.0.1
    pki_leaf "$PKI" v6 --san '::1'
    pki_leaf "$PKI" wild --san '*.0.0.1'
    for n in lookalike v6 wild; do
        refused 1 "certificate does not cover configured domain" \
            import "$n" --cert "$PKI/$n.full.pem" --key "$PKI/$n.key"
        certdir_put "$CERTDIR" "$n" "$PKI/$n.key" "$PKI/$n.crt" "$PKI/$n.chain.pem"
        run "$CERTCTL" check "$n"
        assert_failure 2
        assert_output --partial "is not covered by the certificate"
    done
    # The same address as an iPAddress SAN is fine.
    pki_leaf "$PKI" real --san 'IP:127.0.0.1'
    run "$CERTCTL" import lookalike --cert "$PKI/real.full.pem" --key "$PKI/real.key"
    assert_success
}

@test "check --connect to an IP-address certificate sends no SNI (RFC 6066)" {
    write_ip_config 127.0.0.1 "  127.0.0.1:"
    "$CERTCTL" download 127.0.0.1
    PORT=$(free_port)
    # A server that ends any handshake whose SNI is not 'only.test'
    # (one without SNI goes through).
    openssl s_server -quiet -accept "127.0.0.1:$PORT" -cert "$CERTDIR/127.0.0.1/cert.pem" \
        -key "$CERTDIR/127.0.0.1/privkey.pem" -cert2 "$CERTDIR/127.0.0.1/cert.pem" \
        -key2 "$CERTDIR/127.0.0.1/privkey.pem" -servername only.test -servername_fatal \
        -www >/dev/null 2>&1 &
    SERVER_PID=$!
    wait_port "$PORT"
    run "$CERTCTL" check --connect "127.0.0.1:$PORT" 127.0.0.1
    refute_output --partial "127.0.0.1:$PORT"
    refute_output --partial "handshake"
}

@test "an IP address with a dns-01 source is a configuration error (RFC 8738)" {
    pebble_dns_config '  lo: {domains: [www.example.com, 127.0.0.1]}'
    refused 2 "certificate 'lo': '127.0.0.1' is an IP address, which dns-01 (source 'pebble') cannot prove" \
        download lo
    # The same address from an http-01 source is fine.
    write_ip_config 127.0.0.1 '  lo: {domains: [www.example.com, 127.0.0.1]}'
    run "$CERTCTL" -n download lo
    assert_success
}
