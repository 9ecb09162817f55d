#!/usr/bin/env bats
# certctl rekey: new keys and CSRs kept pending until their certificate
# arrives (DESIGN.md sections 2 and 3), the defaults they follow, the
# TLSA/CSR printers, the import that makes a pending key live, and that bad
# input and --dry-run leave the certdir alone.

bats_require_minimum_version 1.5.0

setup() {
    load ../helpers/common
    common_setup
}

teardown() {
    report_on_failure
}

# ------------------------------------------------------------------ helpers

# What a certdir looks like once any writing certctl command has run in it
# (the lock file and the empty .pending and .state directories, which every
# writing command creates when it opens the certdir). Tests that compare
# tree_sum before and after a failing run start from this, so that the
# comparison is about the sets and pending keys, not about the skeleton.
skeleton() {
    mkdir -p -m 0755 "$CERTDIR/.live" "$CERTDIR/.state"
    mkdir -p -m 0700 "$CERTDIR/.pending"
    : >"$CERTDIR/.lock"
    chmod 0600 "$CERTDIR/.lock"
}

# tree_sum of everything but .pending: the live sets, links, state, lock.
live_sum() {
    tree_sum "$CERTDIR" | grep -v '^\.pending[ /]'
}

# spki FILE: hex SHA-256 of the DER SubjectPublicKeyInfo of a private key,
# computed by openssl alone (what TLSA 3 1 1 publishes).
spki() {
    openssl pkey -in "$1" -pubout -outform DER | sha256sum | cut -d' ' -f1
}

# csr_spki FILE: the same hash for the public key inside a CSR.
csr_spki() {
    openssl req -in "$1" -noout -pubkey | openssl pkey -pubin -outform DER |
        sha256sum | cut -d' ' -f1
}

# cert_spki FILE: the same hash for the public key of a certificate.
cert_spki() {
    openssl x509 -in "$1" -noout -pubkey | openssl pkey -pubin -outform DER |
        sha256sum | cut -d' ' -f1
}

# key_desc FILE: "RSA 2048", "EC P-256", "EC P-384", "ED25519", from
# openssl's own text dump of the private key.
key_desc() {
    local t
    t=$(openssl pkey -in "$1" -noout -text 2>/dev/null) || {
        echo unreadable
        return 0
    }
    if [[ $t == ED25519* ]]; then
        echo ED25519
    elif [[ $t =~ NIST\ CURVE:\ (P-[0-9]+) ]]; then
        echo "EC ${BASH_REMATCH[1]}"
    elif [[ $t == *modulus:* && $t =~ \(([0-9]+)\ bit ]]; then
        echo "RSA ${BASH_REMATCH[1]}"
    else
        echo other
    fi
}

# csr_subject FILE: "CN=www.example.com"
csr_subject() {
    local s
    s=$(openssl req -in "$1" -noout -subject -nameopt RFC2253) || return 1
    echo "${s#subject=}"
}

# csr_sans FILE: the SAN list sorted, one per line ("DNS:x", "IP Address:y").
csr_sans() {
    openssl req -in "$1" -noout -text |
        grep -A1 'X509v3 Subject Alternative Name' | tail -n 1 |
        tr ',' '\n' | sed 's/^ *//' | LC_ALL=C sort
}

# csr_sig FILE: the CSR's signature algorithm as openssl names it.
csr_sig() {
    openssl req -in "$1" -noout -text |
        awk '/Signature Algorithm:/ { print $3; exit }'
}

# pending NAME: the pending directory of NAME
pending() {
    echo "$CERTDIR/.pending/$1"
}

# assert_pending NAME: a well-formed pending set (dir 0700, key 0600 unless
# KEY_MODE is set, CSR signed by the pending key and for it).
assert_pending() {
    local d
    d=$(pending "$1")
    [ -d "$d" ] || fail "no pending directory $d"
    [ "$(stat -c %a "$d")" = 700 ] || fail "$d has mode $(stat -c %a "$d")"
    [ -f "$d/privkey.pem" ] || fail "no $d/privkey.pem"
    [ -f "$d/csr.pem" ] || fail "no $d/csr.pem"
    [ "$(stat -c %a "$d/privkey.pem")" = "${KEY_MODE:-600}" ] ||
        fail "$d/privkey.pem has mode $(stat -c %a "$d/privkey.pem")"
    openssl req -in "$d/csr.pem" -noout -verify 2>/dev/null ||
        fail "the CSR's self-signature does not verify"
    [ "$(csr_spki "$d/csr.pem")" = "$(spki "$d/privkey.pem")" ] ||
        fail "the CSR is not for the pending key"
}

# issue NAME OUT: a certificate for NAME's pending CSR from the test CA.
issue() {
    pki_csr_sign "$PKI" "$(pending "$1")/csr.pem" "$2"
}

# ------------------------------------------------------------------ making pending keys

# bats test_tags=memcheck
@test "rekey makes a pending key and CSR and leaves the live set alone" {
    mk www.example.com --san www.example.com,example.com
    skeleton
    before=$(live_sum)
    old=$(spki "$CERTDIR/www.example.com/privkey.pem")
    run "$CERTCTL" rekey www.example.com
    assert_success
    assert_output "rekeyed www.example.com (EC P-256 key pending until its certificate arrives)"
    assert_pending www.example.com
    d=$(pending www.example.com)
    [ "$(spki "$d/privkey.pem")" != "$old" ]
    [ "$(stat -c %a "$CERTDIR/.pending")" = 700 ]
    # Only the two files, and no temporary leftovers next to the set.
    [ "$(ls -A "$d" | LC_ALL=C sort | tr '\n' ' ')" = "csr.pem privkey.pem " ]
    [ "$(ls -A "$CERTDIR/.pending")" = www.example.com ]
    [ "$(live_sum)" = "$before" ]
    [ "$(spki "$CERTDIR/www.example.com/privkey.pem")" = "$old" ]
}

@test "the CSR carries the cert's CN first and every SAN, signed with SHA-256" {
    mk www.example.com --cn www.example.com --rsa 2048 \
        --san example.com,www.example.com,IP:192.0.2.7
    run "$CERTCTL" rekey www.example.com
    assert_success
    csr=$(pending www.example.com)/csr.pem
    [ "$(csr_subject "$csr")" = CN=www.example.com ]
    run csr_sans "$csr"
    assert_output "$(printf '%s\n' 'DNS:example.com' 'DNS:www.example.com' 'IP Address:192.0.2.7')"
    [ "$(csr_sig "$csr")" = sha256WithRSAEncryption ]
}

@test "default: the same algorithm and size as the current key" {
    mk rsa.example --rsa 4096
    openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-384 \
        -out "$BATS_TEST_TMPDIR/p384.key" 2>/dev/null
    mk p384.example --key "$BATS_TEST_TMPDIR/p384.key"
    mk ed.example --ed25519
    mk p256.example
    # The config's default must not win over the current key.
    write_config "defaults: {key: {type: rsa, bits: 2048}}"
    run "$CERTCTL" rekey rsa.example p384.example ed.example p256.example
    assert_success
    assert_line "rekeyed rsa.example (RSA 4096 key pending until its certificate arrives)"
    assert_line "rekeyed p384.example (EC P-384 key pending until its certificate arrives)"
    assert_line "rekeyed ed.example (ED25519 key pending until its certificate arrives)"
    assert_line "rekeyed p256.example (EC P-256 key pending until its certificate arrives)"
    [ "$(key_desc "$(pending rsa.example)/privkey.pem")" = "RSA 4096" ]
    [ "$(key_desc "$(pending p384.example)/privkey.pem")" = "EC P-384" ]
    [ "$(key_desc "$(pending ed.example)/privkey.pem")" = ED25519 ]
    [ "$(key_desc "$(pending p256.example)/privkey.pem")" = "EC P-256" ]
    for n in rsa.example p384.example ed.example p256.example; do
        assert_pending "$n"
    done
    [ "$(csr_sig "$(pending rsa.example)/csr.pem")" = sha256WithRSAEncryption ]
    [ "$(csr_sig "$(pending p384.example)/csr.pem")" = ecdsa-with-SHA256 ]
    [ "$(csr_sig "$(pending p256.example)/csr.pem")" = ecdsa-with-SHA256 ]
    # Ed25519 signs the message itself (pure EdDSA, no digest).
    [ "$(csr_sig "$(pending ed.example)/csr.pem")" = ED25519 ]
}

@test "--key-type, --bits and --curve override the current key" {
    mk www --rsa 2048
    run "$CERTCTL" rekey --key-type ec www
    assert_success
    [ "$(key_desc "$(pending www)/privkey.pem")" = "EC P-256" ]
    run "$CERTCTL" rekey --force --curve P-384 www
    assert_success
    [ "$(key_desc "$(pending www)/privkey.pem")" = "EC P-384" ]
    run "$CERTCTL" rekey --force --key-type ed25519 www
    assert_success
    [ "$(key_desc "$(pending www)/privkey.pem")" = ED25519 ]
    [ "$(csr_sig "$(pending www)/csr.pem")" = ED25519 ]
    mk ec
    run "$CERTCTL" rekey --bits 3072 ec
    assert_success
    [ "$(key_desc "$(pending ec)/privkey.pem")" = "RSA 3072" ]
    run "$CERTCTL" rekey -f --key-type rsa --bits 2048 ec
    assert_success
    assert_output --partial "RSA 2048"
    [ "$(key_desc "$(pending ec)/privkey.pem")" = "RSA 2048" ]
    assert_pending www
    assert_pending ec
}

@test "a live key of a kind certctl cannot make is never swapped silently for another" {
    openssl genpkey -algorithm ED448 -out "$BATS_TEST_TMPDIR/ed448.key"
    openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:secp256k1 \
        -out "$BATS_TEST_TMPDIR/k1.key"
    mk ed448.example --key "$BATS_TEST_TMPDIR/ed448.key"
    mk k1.example --key "$BATS_TEST_TMPDIR/k1.key"
    skeleton
    for n in ed448.example k1.example; do
        before=$(tree_sum "$CERTDIR")
        run "$CERTCTL" rekey "$n"
        assert_failure 1
        assert_equal "${#lines[@]}" 1
        assert_output --partial "keys are not supported"
        assert_output --partial "--key-type"
        assert_equal "$(tree_sum "$CERTDIR")" "$before"
    done
    # An explicit choice is no silent change: options, or the config's key.
    run "$CERTCTL" rekey --key-type rsa --bits 2048 ed448.example
    assert_success
    [ "$(key_desc "$(pending ed448.example)/privkey.pem")" = "RSA 2048" ]
    write_config "certificates: {k1.example: {key: {type: ec, curve: P-384}}}"
    run "$CERTCTL" rekey k1.example
    assert_success
    [ "$(key_desc "$(pending k1.example)/privkey.pem")" = "EC P-384" ]
    assert_pending ed448.example
    assert_pending k1.example
}

@test "a configured name with no cert gets the configured key: defaults, then its own entry" {
    write_config "defaults: {key: {type: rsa, bits: 3072}}
certificates:
  new.example: {domains: [new.example, www.new.example]}
  plain.example:
  p384.example: {key: {type: ec, curve: P-384}}"
    run "$CERTCTL" rekey new.example plain.example p384.example
    assert_success
    [ "$(key_desc "$(pending new.example)/privkey.pem")" = "RSA 3072" ]
    [ "$(key_desc "$(pending plain.example)/privkey.pem")" = "RSA 3072" ]
    [ "$(key_desc "$(pending p384.example)/privkey.pem")" = "EC P-384" ]
    [ "$(csr_subject "$(pending new.example)/csr.pem")" = CN=new.example ]
    run csr_sans "$(pending new.example)/csr.pem"
    assert_output "$(printf '%s\n' DNS:new.example DNS:www.new.example)"
    [ "$(csr_subject "$(pending plain.example)/csr.pem")" = CN=plain.example ]
    run csr_sans "$(pending plain.example)/csr.pem"
    assert_output DNS:plain.example
    for n in new.example plain.example p384.example; do
        assert_pending "$n"
        [ ! -e "$CERTDIR/$n" ]
    done
}

@test "without any key setting a first key is EC P-256" {
    write_config "certificates: {new.example: }"
    run "$CERTCTL" rekey new.example
    assert_success
    [ "$(key_desc "$(pending new.example)/privkey.pem")" = "EC P-256" ]
}

@test "the configured domains win over the cert's names" {
    mk www.example.com --rsa 2048
    write_config "certificates:
  www.example.com: {domains: [www.example.com, example.com, static.example.com]}"
    run "$CERTCTL" rekey www.example.com
    assert_success
    csr=$(pending www.example.com)/csr.pem
    [ "$(csr_subject "$csr")" = CN=www.example.com ]
    run csr_sans "$csr"
    assert_output "$(printf '%s\n' DNS:example.com DNS:static.example.com DNS:www.example.com)"
    # ... while the key still follows the current one.
    [ "$(key_desc "$(pending www.example.com)/privkey.pem")" = "RSA 2048" ]
}

@test "a wildcard name is rekeyed for its wildcard" {
    mk _.example.com --cn '*.example.com' --san '*.example.com,example.com'
    run "$CERTCTL" rekey '*.example.com'
    assert_success
    csr=$(pending _.example.com)/csr.pem
    [ "$(csr_subject "$csr")" = 'CN=*.example.com' ]
    run csr_sans "$csr"
    assert_output "$(printf '%s\n' 'DNS:*.example.com' DNS:example.com)"
}

@test "a CN-only certificate (no SAN extension) is rekeyed for its CN" {
    mk legacy.example --san ''
    run "$CERTCTL" rekey legacy.example
    assert_success
    csr=$(pending legacy.example)/csr.pem
    [ "$(csr_subject "$csr")" = CN=legacy.example ]
    run csr_sans "$csr"
    assert_output DNS:legacy.example
}

@test "a CN that the SANs do not list is still carried by the CSR" {
    mk www.example.com --cn www.example.com --san example.com,api.example.com
    run "$CERTCTL" rekey www.example.com
    assert_success
    csr=$(pending www.example.com)/csr.pem
    [ "$(csr_subject "$csr")" = CN=www.example.com ]
    run csr_sans "$csr"
    assert_output --partial DNS:example.com
    assert_output --partial DNS:api.example.com
    assert_output --partial DNS:www.example.com
}

@test "a pending key is kept (exit 10, silent) unless --force" {
    mk www
    run "$CERTCTL" rekey www
    assert_success
    first=$(tree_sum "$CERTDIR")
    key1=$(spki "$(pending www)/privkey.pem")
    run "$CERTCTL" rekey www
    assert_failure 10
    assert_output ""
    [ "$(tree_sum "$CERTDIR")" = "$first" ]
    run "$CERTCTL" rekey --key-type ed25519 www
    assert_failure 10
    [ "$(tree_sum "$CERTDIR")" = "$first" ]
    run "$CERTCTL" rekey --force www
    assert_success
    assert_output --partial "rekeyed www"
    assert_pending www
    [ "$(spki "$(pending www)/privkey.pem")" != "$key1" ]
    [ "$(ls -A "$CERTDIR/.pending")" = www ]
    run "$CERTCTL" rekey -f www
    assert_success
}

# bats test_tags=memcheck
@test "--all rekeys every name of the certdir and the config, then has nothing to do" {
    mk a.example
    mk b.example --rsa 2048
    write_config "certificates: {c.example: , a.example: }"
    run "$CERTCTL" rekey --all
    assert_success
    assert_line --partial "rekeyed a.example"
    assert_line --partial "rekeyed b.example (RSA 2048"
    assert_line --partial "rekeyed c.example"
    [ "${#lines[@]}" -eq 3 ]
    for n in a.example b.example c.example; do
        assert_pending "$n"
    done
    run "$CERTCTL" rekey --all
    assert_failure 10
    assert_output ""
    run "$CERTCTL" rekey -a --force --jobs 1
    assert_success
    [ "${#lines[@]}" -eq 3 ]
}

@test "--jobs N makes the same keys; a bad --jobs is a usage error" {
    write_config "certificates: {a.example: , b.example: , c.example: , d.example: , e.example: }"
    run "$CERTCTL" rekey --jobs 3 --all
    assert_success
    [ "${#lines[@]}" -eq 5 ]
    for n in a b c d e; do
        assert_pending "$n.example"
    done
    # Five different keys, not one shared.
    keys=$(for n in a b c d e; do spki "$(pending $n.example)/privkey.pem"; done | sort -u | wc -l)
    [ "$keys" -eq 5 ]
    for j in 0 65 x ''; do
        run "$CERTCTL" rekey --jobs "$j" --all
        assert_failure 2
        assert_output --partial -- "--jobs"
    done
}

@test "--all with no names anywhere fails (exit 1)" {
    run "$CERTCTL" rekey --all
    assert_failure 1
    assert_output --partial "no names"
}

@test "one name failing and another succeeding exits 0, the failure on stderr" {
    mk www
    run --separate-stderr "$CERTCTL" rekey nosuch.example www
    assert_success
    assert_output --partial "rekeyed www"
    [[ $stderr == *nosuch.example* ]]
    [ "$(printf '%s\n' "$stderr" | wc -l)" -eq 1 ]
    assert_pending www
    [ ! -e "$(pending nosuch.example)" ]
}

@test "a kept pending key and a failure: nothing changed, exit 1" {
    mk www
    run "$CERTCTL" rekey www
    assert_success
    run "$CERTCTL" rekey www nosuch.example
    assert_failure 1
    assert_output --partial nosuch.example
}

# ------------------------------------------------------------------ modes

@test "keys are created 0600 and the pending dir 0700 whatever the umask" {
    mk www
    write_config "certificates: {new.example: }"
    umask 000
    run "$CERTCTL" rekey www new.example
    umask 022
    assert_success
    assert_pending www
    assert_pending new.example
    for n in www new.example; do
        [ "$(stat -c %a "$(pending $n)/csr.pem")" = 644 ]
    done
    [ "$(stat -c %a "$CERTDIR/.pending")" = 700 ]
}

@test "keys get the configured key_mode (0640) whatever the umask" {
    mk www
    write_config 'defaults: {key_mode: "0640"}
certificates:
  strict.example: {key_mode: "0600"}
  new.example:'
    umask 000
    run "$CERTCTL" rekey www new.example strict.example
    umask 022
    assert_success
    KEY_MODE=640 assert_pending www
    KEY_MODE=640 assert_pending new.example
    KEY_MODE=600 assert_pending strict.example
    umask 077
    run "$CERTCTL" rekey --force www
    umask 022
    assert_success
    KEY_MODE=640 assert_pending www
}

# ------------------------------------------------------------------ printers

# bats test_tags=memcheck
@test "--print-csr prints the pending CSR as PEM" {
    mk www
    run "$CERTCTL" rekey --print-csr www
    assert_failure 1
    assert_output --partial "no pending CSR"
    run "$CERTCTL" rekey www
    assert_success
    run "$CERTCTL" rekey --print-csr www
    assert_success
    assert_line --index 0 -- "-----BEGIN CERTIFICATE REQUEST-----"
    [ "$output" = "$(cat "$(pending www)/csr.pem")" ]
    "$CERTCTL" rekey --print-csr www | openssl req -noout -verify 2>/dev/null
    run "$CERTCTL" rekey --print-csr www other
    assert_failure 2
    run "$CERTCTL" rekey --print-csr ../etc
    assert_failure 2
}

# bats test_tags=memcheck
@test "--print-tlsa prints 3 1 1 records of the live and the pending key" {
    mk www.example.com
    live=$(spki "$CERTDIR/www.example.com/privkey.pem")
    run "$CERTCTL" rekey --print-tlsa www.example.com
    assert_success
    assert_output "_443._tcp.www.example.com. IN TLSA 3 1 1 $live ; live key"
    run "$CERTCTL" rekey www.example.com
    assert_success
    new=$(spki "$(pending www.example.com)/privkey.pem")
    [ "$new" != "$live" ]
    run "$CERTCTL" rekey --print-tlsa www.example.com
    assert_success
    assert_line --index 0 "_443._tcp.www.example.com. IN TLSA 3 1 1 $live ; live key"
    assert_line --index 1 "_443._tcp.www.example.com. IN TLSA 3 1 1 $new ; pending key"
    [ "${#lines[@]}" -eq 2 ]
    # The hashes also match what the certificate itself carries.
    [ "$(cert_spki "$CERTDIR/www.example.com/cert.pem")" = "$live" ]
}

@test "--print-tlsa of a configured name with only a pending key; none at all fails" {
    write_config "certificates: {new.example: {domains: [www.new.example, new.example]}}"
    run "$CERTCTL" rekey --print-tlsa new.example
    assert_failure 1
    assert_output --partial "neither a live nor a pending key"
    run "$CERTCTL" rekey new.example
    assert_success
    new=$(spki "$(pending new.example)/privkey.pem")
    run "$CERTCTL" rekey --print-tlsa new.example
    assert_success
    # The records go on the first configured domain.
    assert_output "_443._tcp.www.new.example. IN TLSA 3 1 1 $new ; pending key"
}

@test "--print-tlsa of an RSA and an Ed25519 key hash the whole SPKI" {
    mk rsa.example --rsa 2048
    mk ed.example --ed25519
    for n in rsa.example ed.example; do
        run "$CERTCTL" rekey --print-tlsa "$n"
        assert_success
        assert_output "_443._tcp.$n. IN TLSA 3 1 1 $(spki "$CERTDIR/$n/privkey.pem") ; live key"
    done
}

@test "--print-tlsa of a wildcard name without config goes on the parent domain" {
    mk _.example.com --cn '*.example.com' --san '*.example.com'
    run "$CERTCTL" rekey --print-tlsa '*.example.com'
    assert_success
    # A certdir name "_.example.com" is not a DNS owner name.
    refute_output --partial "._.example.com."
    assert_output "_443._tcp.example.com. IN TLSA 3 1 1 $(spki "$CERTDIR/_.example.com/privkey.pem") ; live key"
}

# ------------------------------------------------------------------ going live

# bats test_tags=memcheck
@test "import of a cert issued for the CSR makes key and cert live together" {
    mk www.example.com --san www.example.com,example.com
    old_target=$(readlink "$CERTDIR/www.example.com")
    old_key=$(spki "$CERTDIR/www.example.com/privkey.pem")
    run "$CERTCTL" rekey www.example.com
    assert_success
    new_key=$(spki "$(pending www.example.com)/privkey.pem")
    csr_copy=$(cat "$(pending www.example.com)/csr.pem")
    issue www.example.com "$BATS_TEST_TMPDIR/new.crt"
    # Still the old set until the import.
    [ "$(readlink "$CERTDIR/www.example.com")" = "$old_target" ]
    run "$CERTCTL" import www.example.com --cert "$BATS_TEST_TMPDIR/new.crt" \
        --chain "$PKI/inter.pem"
    assert_success
    assert_output --partial "installed www.example.com"
    new_target=$(readlink "$CERTDIR/www.example.com")
    [ "$new_target" = .live/www.example.com.g0002 ]
    # Key and cert went live together and match (openssl's word for it).
    [ "$(spki "$CERTDIR/www.example.com/privkey.pem")" = "$new_key" ]
    [ "$(cert_spki "$CERTDIR/www.example.com/cert.pem")" = "$new_key" ]
    [ "$(cert_spki "$CERTDIR/www.example.com.crt")" = "$(spki "$CERTDIR/www.example.com.key")" ]
    cmp "$CERTDIR/www.example.com/cert.pem" "$BATS_TEST_TMPDIR/new.crt"
    openssl verify -CAfile "$PKI/trust.pem" -untrusted "$CERTDIR/www.example.com/chain.pem" \
        "$CERTDIR/www.example.com/cert.pem"
    [ "$(stat -c %a "$CERTDIR/www.example.com/privkey.pem")" = 600 ]
    [ "$(cat "$CERTDIR/www.example.com/csr.pem")" = "$csr_copy" ]
    # The pending set is gone; the old generation is still on disk.
    [ ! -e "$(pending www.example.com)" ]
    [ "$(spki "$CERTDIR/$old_target/privkey.pem")" = "$old_key" ]
    run "$CERTCTL" rekey --print-tlsa www.example.com
    assert_output "_443._tcp.www.example.com. IN TLSA 3 1 1 $new_key ; live key"
    run "$CERTCTL" check www.example.com
    assert_success
    # A new rekey starts from the new key, and the cycle can repeat.
    run "$CERTCTL" rekey www.example.com
    assert_success
    [ "$(spki "$(pending www.example.com)/privkey.pem")" != "$new_key" ]
}

@test "a configured name's first key goes live with its first certificate" {
    write_config "certificates: {new.example: {domains: [new.example, www.new.example]}}"
    run "$CERTCTL" rekey new.example
    assert_success
    key=$(spki "$(pending new.example)/privkey.pem")
    issue new.example "$BATS_TEST_TMPDIR/new.crt"
    run "$CERTCTL" import new.example --cert "$BATS_TEST_TMPDIR/new.crt" --chain "$PKI/inter.pem"
    assert_success
    [ "$(readlink "$CERTDIR/new.example")" = .live/new.example.g0001 ]
    [ "$(cert_spki "$CERTDIR/new.example/cert.pem")" = "$key" ]
    [ "$(spki "$CERTDIR/new.example/privkey.pem")" = "$key" ]
    [ ! -e "$(pending new.example)" ]
    run "$CERTCTL" check new.example
    assert_success
}

@test "a certificate for another key does not consume the pending key" {
    mk www
    run "$CERTCTL" rekey www
    assert_success
    before=$(tree_sum "$CERTDIR/.pending")
    pki_leaf "$PKI" stray --san www --cn www
    run "$CERTCTL" import www --cert "$PKI/stray.crt" --chain "$PKI/inter.pem"
    assert_failure 1
    [ "$(tree_sum "$CERTDIR/.pending")" = "$before" ]
}

# ------------------------------------------------------------------ dry run

@test "--dry-run (-n) decides and reports but writes nothing" {
    mk www
    write_config "certificates: {new.example: }"
    before=$(tree_sum "$CERTDIR")
    run "$CERTCTL" -n rekey www new.example
    assert_success
    assert_line "would rekey www (EC P-256)"
    assert_line "would rekey new.example (EC P-256)"
    run "$CERTCTL" rekey --dry-run --all
    assert_success
    run "$CERTCTL" rekey -n --key-type rsa --bits 2048 www
    assert_success
    assert_output "would rekey www (RSA 2048)"
    [ "$(tree_sum "$CERTDIR")" = "$before" ]
    # With a pending key: nothing to do, and --force changes nothing either.
    run "$CERTCTL" rekey www
    assert_success
    before=$(tree_sum "$CERTDIR")
    run "$CERTCTL" -n rekey www
    assert_failure 10
    run "$CERTCTL" -n rekey --force www
    assert_success
    assert_output --partial "would rekey www"
    [ "$(tree_sum "$CERTDIR")" = "$before" ]
}

# ------------------------------------------------------------------ bad input

# bats test_tags=memcheck
@test "bad options are usage errors (exit 2) with one line, nothing written" {
    mk www
    before=$(tree_sum "$CERTDIR")
    bad=(
        "--key-type dsa|unknown key type 'dsa'"
        "--key-type|"
        "--bits 2047|--bits"
        "--bits 1024|--bits"
        "--bits 16385|--bits"
        "--bits many|--bits"
        "--key-type rsa --bits 1000|--bits"
        "--curve P-521|unknown curve 'P-521'"
        "--key-type ec --curve secp256k1|unknown curve"
        "--key-type ec --bits 4096|bits"
        "--key-type ed25519 --bits 2048|ed25519"
        "--key-type ed25519 --curve P-256|ed25519"
        "--key-type rsa --curve P-256|curve"
    )
    for b in "${bad[@]}"; do
        read -r -a args <<<"${b%%|*}"
        run "$CERTCTL" rekey "${args[@]}" www
        assert_failure 2
        assert_output --partial -- "${b#*|}"
        [ "${#lines[@]}" -eq 1 ] || fail "'${b%%|*}' printed ${#lines[@]} lines: $output"
        [ "$(tree_sum "$CERTDIR")" = "$before" ] || fail "'${b%%|*}' wrote to the certdir"
    done
    run "$CERTCTL" rekey --frob www
    assert_failure 2
    [ "$(tree_sum "$CERTDIR")" = "$before" ]
}

@test "bad NAME arguments are usage errors (exit 2), found before the certdir is touched" {
    mk www
    before=$(tree_sum "$CERTDIR")
    for args in "../etc" "www ../etc" "" "--all www" "-a www"; do
        read -r -a argv <<<"$args"
        run "$CERTCTL" rekey "${argv[@]}"
        assert_failure 2
        [ "${#lines[@]}" -eq 1 ] || fail "'$args' printed ${#lines[@]} lines: $output"
        [ "$(tree_sum "$CERTDIR")" = "$before" ] || fail "'$args' wrote to the certdir"
    done
    run "$CERTCTL" rekey ../etc
    assert_output --partial "invalid name '../etc'"
    # Exit 2 means nothing was attempted: no waiting for another run's lock
    # (which would end in exit 1 after --lock-timeout).
    skeleton
    # One process holds the lock (exec: killing it releases the lock).
    (exec 9>>"$CERTDIR/.lock" && flock 9 && exec sleep 10) >/dev/null 2>&1 3>&- &
    holder=$!
    wait_for 30 "the lock holder" lock_held "$CERTDIR/.lock"
    run "$CERTCTL" --lock-timeout 1 rekey ../etc
    kill "$holder" 2>/dev/null || true
    wait "$holder" 2>/dev/null || true
    assert_failure 2
    assert_output --partial "invalid name"
}

@test "a bad configured key is a configuration error (exit 2), nothing written" {
    mk www
    before=$(tree_sum "$CERTDIR")
    for key in "{type: rsa, bits: 1024}" "{type: rsa, bits: 32768}" "{type: dsa}" \
        "{type: ec, curve: P-521}"; do
        write_config "defaults: {key: $key}"
        run "$CERTCTL" rekey www
        assert_failure 2
        assert_output --partial "$CONFIG:"
        [ "${#lines[@]}" -eq 1 ]
        [ "$(tree_sum "$CERTDIR")" = "$before" ]
    done
}

@test "a name with no certificate and no config entry fails (exit 1), nothing written" {
    mk www
    skeleton
    before=$(tree_sum "$CERTDIR")
    run "$CERTCTL" rekey nosuch.example
    assert_failure 1
    assert_output --partial "nosuch.example"
    assert_output --partial "no certificate and no entry in the config"
    [ "${#lines[@]}" -eq 1 ]
    [ "$(tree_sum "$CERTDIR")" = "$before" ]
}

# bats test_tags=memcheck
@test "an unreadable or garbage current certificate fails (exit 1), one line, nothing written" {
    for n in garbage truncated missing symlink directory; do
        mk "$n.example"
    done
    echo "hello" >"$CERTDIR/.live/garbage.example.g0001/cert.pem"
    head -c 300 "$PKI/truncated.example.crt" >"$CERTDIR/.live/truncated.example.g0001/cert.pem"
    rm "$CERTDIR/.live/missing.example.g0001/cert.pem"
    ln -sf "$PKI/symlink.example.crt" "$CERTDIR/.live/symlink.example.g0001/cert.pem"
    rm "$CERTDIR/.live/directory.example.g0001/cert.pem"
    mkdir "$CERTDIR/.live/directory.example.g0001/cert.pem"
    skeleton
    before=$(tree_sum "$CERTDIR")
    for n in garbage truncated missing symlink directory; do
        run "$CERTCTL" rekey "$n.example"
        assert_failure 1
        assert_output --partial "$n.example"
        [ "${#lines[@]}" -eq 1 ] || fail "$n: ${#lines[@]} lines: $output"
        [ "$(tree_sum "$CERTDIR")" = "$before" ] || fail "$n: the certdir changed"
    done
    # And --all: every one fails, nothing was made, exit 1.
    run "$CERTCTL" rekey --all
    assert_failure 1
    [ "${#lines[@]}" -eq 5 ]
    [ "$(tree_sum "$CERTDIR")" = "$before" ]
}
