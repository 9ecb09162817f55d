#!/usr/bin/env bats
# certctl import: every input form (PEM, DER, bundles, PKCS#12, encrypted
# and traditional keys, certbot's live/), key promotion, chain completion
# over caIssuers against real HTTP servers on loopback, the failsafe of
# DESIGN.md section 4, and the reload exit codes of section 2.
#
# Duration: the caIssuers timeout case waits for certctl's 15 s total
# timeout; everything else takes a few seconds at most.

bats_require_minimum_version 1.5.0

setup() {
    load ../helpers/common
    load ../helpers/httpd
    common_setup
    W=$BATS_TEST_TMPDIR
}

teardown() {
    report_on_failure
    httpd_stop
}

# ------------------------------------------------------------------ helpers

# seed NAME [PKI_LEAF_OPTIONS...]: a first, good import of NAME
# (generation 1), so that the certdir has a live set to protect. The key
# stays in $W/NAME.key. (--issuer root: a live chain.pem that is empty, so
# it cannot complete a later import.)
seed() {
    pki_leaf "$PKI" "$@"
    cp "$PKI/$1.key" "$W/$1.key"
    run "$CERTCTL" import "$1" --cert "$PKI/$1.full.pem" --key "$W/$1.key"
    assert_success
    assert_equal "$(readlink "$CERTDIR/$1")" ".live/$1.g0001"
}

# split_pem FILE: each certificate of a PEM file into its own file in a new
# directory under $W, named 0001.pem, 0002.pem...; prints the directory.
split_pem() {
    local d
    d=$(mktemp -d "$W/split.XXXXXX")
    awk -v d="$d" '/-----BEGIN CERTIFICATE-----/ { f = sprintf("%s/%04d.pem", d, ++n) }
        f { print > f }
        /-----END CERTIFICATE-----/ { close(f); f = "" }' "$1"
    echo "$d"
}

# fps FILE: the SHA-256 fingerprint of every certificate in a PEM file, in
# order, one per line (nothing for a file without certificates).
fps() {
    local d c
    d=$(split_pem "$1")
    for c in "$d"/*.pem; do
        [ -e "$c" ] || continue
        openssl x509 -in "$c" -noout -fingerprint -sha256 | cut -d= -f2
    done
}

# assert_live NAME GEN KEY LEAF [CHAIN_CERT...]: NAME's live set is
# generation GEN, privkey.pem (0600, unencrypted) holds KEY's key, cert.pem
# is LEAF alone, chain.pem is exactly the CHAIN_CERTs in that order (leaf's
# issuer first, no root), fullchain.pem is cert + chain, and the flat links
# point into NAME/.
assert_live() {
    local name=$1 gen dir want=''
    printf -v gen 'g%04d' "$2"
    local key=$3 leaf=$4 c
    shift 4
    dir=$CERTDIR/.live/$name.$gen
    assert_equal "$(readlink "$CERTDIR/$name")" ".live/$name.$gen"
    [ -d "$dir" ]
    assert_equal "$(stat -c %a "$dir/privkey.pem")" 600
    # The live cert's public key is the key's, and the stored key is usable
    # without a password.
    assert_equal "$(openssl x509 -in "$dir/cert.pem" -noout -pubkey)" \
        "$(openssl pkey -in "$key" -pubout)"
    assert_equal "$(openssl pkey -in "$dir/privkey.pem" -passin pass: -pubout)" \
        "$(openssl pkey -in "$key" -pubout)"
    assert_equal "$(fps "$dir/cert.pem")" "$(fps "$leaf")"
    for c in "$@"; do
        want+=$(fps "$c")$'\n'
    done
    assert_equal "$(fps "$dir/chain.pem")" "${want%$'\n'}"
    assert_equal "$(cat "$dir/cert.pem" "$dir/chain.pem")" "$(cat "$dir/fullchain.pem")"
    # No self-issued certificate (a root) in chain.pem.
    for c in "$(split_pem "$dir/chain.pem")"/*.pem; do
        [ -e "$c" ] || continue
        [ "$(openssl x509 -in "$c" -noout -subject)" != \
            "$(openssl x509 -in "$c" -noout -issuer | sed 's/^issuer=/subject=/')" ]
    done
    assert_equal "$(readlink "$CERTDIR/$name.key")" "$name/privkey.pem"
    assert_equal "$(readlink "$CERTDIR/$name.crt")" "$name/cert.pem"
    assert_equal "$(readlink "$CERTDIR/$name.chain.crt")" "$name/chain.pem"
    assert_equal "$(readlink "$CERTDIR/$name.chained.crt")" "$name/fullchain.pem"
}

# mkcert NAME ISSUER KIND [CAISSUERS_URL]: $W/NAME.key and $W/NAME.pem, an
# EC certificate issued by ISSUER (a path without .pem/.key) that is a CA
# (KIND ca, no path length limit) or a server leaf for DNS:NAME (KIND leaf),
# valid for a year, with a caIssuers URL when one is given. An existing
# $W/NAME.key is reused.
mkcert() {
    local name=$1 issuer=$2 kind=$3 url=${4-}
    [ -e "$W/req.cnf" ] || printf '[ req ]\ndistinguished_name = dn\n[ dn ]\n' >"$W/req.cnf"
    [ -e "$W/$name.key" ] ||
        openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$W/$name.key" 2>/dev/null
    openssl req -new -config "$W/req.cnf" -key "$W/$name.key" -subj "/CN=$name" \
        -out "$W/$name.csr" 2>/dev/null
    if [ "$kind" = ca ]; then
        printf '%s\n' "basicConstraints = critical, CA:TRUE" \
            "keyUsage = critical, keyCertSign, cRLSign" >"$W/$name.ext"
    else
        printf '%s\n' "basicConstraints = critical, CA:FALSE" \
            "keyUsage = critical, digitalSignature" "extendedKeyUsage = serverAuth" \
            "subjectAltName = DNS:$name" >"$W/$name.ext"
    fi
    printf '%s\n' "subjectKeyIdentifier = hash" "authorityKeyIdentifier = keyid:always" \
        >>"$W/$name.ext"
    [ -z "$url" ] || echo "authorityInfoAccess = caIssuers;URI:$url" >>"$W/$name.ext"
    openssl x509 -req -in "$W/$name.csr" -CA "$issuer.pem" -CAkey "$issuer.key" \
        -set_serial "0x$(openssl rand -hex 16)" -days 365 -sha256 \
        -extfile "$W/$name.ext" -out "$W/$name.pem" 2>/dev/null
}

der() { # der IN.pem OUT.der: the first certificate of IN as DER
    openssl x509 -in "$1" -outform DER -out "$2"
}

# ------------------------------------------------------------- good input

# bats test_tags=memcheck
@test "PEM cert, key and chain: generation 1 goes live (exit 0, one line)" {
    pki_leaf "$PKI" www.example.com
    run "$CERTCTL" import www.example.com --cert "$PKI/www.example.com.crt" \
        --key "$PKI/www.example.com.key" --chain "$PKI/www.example.com.chain.pem"
    assert_success
    assert_output --regexp '^installed www\.example\.com \(expires [0-9]{4}-[0-9]{2}-[0-9]{2}, serial [0-9a-f:]+\)$'
    assert_live www.example.com 1 "$PKI/www.example.com.key" \
        "$PKI/www.example.com.crt" "$PKI/inter.pem"
    assert_equal "$(stat -c %a "$CERTDIR/.pending")" 700
    run "$CERTCTL" check www.example.com
    assert_success
}

# bats test_tags=memcheck
@test "a whole bundle in any order, CRLF, with root and strays: chain ordered, root and strays dropped" {
    # root -> ca1 -> ca2 -> leaf, plus certificates of another hierarchy.
    mkcert ca1 "$PKI/root" ca
    mkcert ca2 "$W/ca1" ca
    mkcert www "$W/ca2" leaf
    cat "$W/ca1.pem" "$PKI/other-inter.pem" "$W/www.pem" "$PKI/root.pem" \
        "$W/ca2.pem" "$PKI/other-root.pem" | sed 's/$/\r/' >"$W/bundle.pem"
    grep -q $'\r$' "$W/bundle.pem"
    run "$CERTCTL" import www --cert "$W/bundle.pem" --key "$W/www.key"
    assert_success
    assert_output --partial "installed www"
    assert_live www 1 "$W/www.key" "$W/www.pem" "$W/ca2.pem" "$W/ca1.pem"
}

# bats test_tags=memcheck
@test "DER cert, DER chain and DER key" {
    pki_leaf "$PKI" www
    der "$PKI/www.crt" "$W/www.der"
    der "$PKI/inter.pem" "$W/inter.der"
    openssl pkey -in "$PKI/www.key" -outform DER -out "$W/www.key.der"
    run "$CERTCTL" import www --cert "$W/www.der" --chain "$W/inter.der" --key "$W/www.key.der"
    assert_success
    assert_live www 1 "$PKI/www.key" "$PKI/www.crt" "$PKI/inter.pem"
    grep -q -- '-----BEGIN CERTIFICATE-----' "$CERTDIR/www/cert.pem"
}

@test "a DER bundle (leaf and intermediate concatenated) as --cert" {
    pki_leaf "$PKI" www
    der "$PKI/inter.pem" "$W/inter.der"
    der "$PKI/www.crt" "$W/www.der"
    cat "$W/inter.der" "$W/www.der" >"$W/bundle.der"
    run "$CERTCTL" import www --cert "$W/bundle.der" --key "$PKI/www.key"
    assert_success
    assert_live www 1 "$PKI/www.key" "$PKI/www.crt" "$PKI/inter.pem"
}

@test "an RSA key in traditional (PKCS#1) form" {
    pki_leaf "$PKI" rsa --rsa 2048
    openssl pkey -in "$PKI/rsa.key" -traditional -out "$W/rsa.key"
    grep -q -- '-----BEGIN RSA PRIVATE KEY-----' "$W/rsa.key"
    run "$CERTCTL" import rsa --cert "$PKI/rsa.full.pem" --key "$W/rsa.key"
    assert_success
    assert_live rsa 1 "$PKI/rsa.key" "$PKI/rsa.crt" "$PKI/inter.pem"
}

@test "an EC key in traditional (SEC1) form, with EC PARAMETERS before it" {
    pki_leaf "$PKI" ec
    { openssl ecparam -name prime256v1; openssl pkey -in "$PKI/ec.key" -traditional; } >"$W/ec.key"
    grep -q -- '-----BEGIN EC PRIVATE KEY-----' "$W/ec.key"
    run "$CERTCTL" import ec --cert "$PKI/ec.full.pem" --key "$W/ec.key"
    assert_success
    assert_live ec 1 "$PKI/ec.key" "$PKI/ec.crt" "$PKI/inter.pem"
}

@test "an Ed25519 key (PKCS#8)" {
    pki_leaf "$PKI" ed --ed25519
    run "$CERTCTL" import ed --cert "$PKI/ed.full.pem" --key "$PKI/ed.key"
    assert_success
    assert_live ed 1 "$PKI/ed.key" "$PKI/ed.crt" "$PKI/inter.pem"
    run "$CERTCTL" check ed
    assert_success
}

# bats test_tags=memcheck
@test "an encrypted PKCS#8 key with --password-file is stored decrypted, 0600" {
    pki_leaf "$PKI" www
    printf 's3cret pass\n' >"$W/pw"
    openssl pkcs8 -topk8 -v2 aes-256-cbc -passout "file:$W/pw" -in "$PKI/www.key" \
        -out "$W/enc.key"
    grep -q -- '-----BEGIN ENCRYPTED PRIVATE KEY-----' "$W/enc.key"
    run "$CERTCTL" import www --cert "$PKI/www.full.pem" --key "$W/enc.key" \
        --password-file "$W/pw"
    assert_success
    assert_live www 1 "$PKI/www.key" "$PKI/www.crt" "$PKI/inter.pem"
    run grep -c ENCRYPTED "$CERTDIR/www/privkey.pem"
    assert_output 0
}

@test "an encrypted DER PKCS#8 key with --password-file" {
    pki_leaf "$PKI" www
    printf 'pw\n' >"$W/pw"
    openssl pkcs8 -topk8 -v2 aes-256-cbc -passout "file:$W/pw" -in "$PKI/www.key" \
        -outform DER -out "$W/enc.der"
    run "$CERTCTL" import www --cert "$PKI/www.full.pem" --key "$W/enc.der" \
        --password-file "$W/pw"
    assert_success
    assert_live www 1 "$PKI/www.key" "$PKI/www.crt" "$PKI/inter.pem"
}

@test "an encrypted traditional PEM key (Proc-Type: 4,ENCRYPTED) with --password-file" {
    pki_leaf "$PKI" www
    printf 'trad\r\n' >"$W/pw"
    openssl pkey -in "$PKI/www.key" -traditional -aes256 -passout pass:trad -out "$W/enc.key"
    grep -q 'Proc-Type: 4,ENCRYPTED' "$W/enc.key"
    run "$CERTCTL" import www --cert "$PKI/www.full.pem" --key "$W/enc.key" \
        --password-file "$W/pw"
    assert_success
    assert_live www 1 "$PKI/www.key" "$PKI/www.crt" "$PKI/inter.pem"
}

@test "one combined PEM (key, leaf, chain) as both --cert and --key" {
    pki_leaf "$PKI" www
    cat "$PKI/www.key" "$PKI/www.full.pem" >"$W/combined.pem"
    run "$CERTCTL" import www --cert "$W/combined.pem" --key "$W/combined.pem"
    assert_success
    assert_live www 1 "$PKI/www.key" "$PKI/www.crt" "$PKI/inter.pem"
}

# bats test_tags=memcheck
@test "PKCS#12 (AES, OpenSSL 3 default) with --password-file" {
    pki_leaf "$PKI" www
    printf 'p12pass\n' >"$W/pw"
    openssl pkcs12 -export -inkey "$PKI/www.key" -in "$PKI/www.crt" \
        -certfile "$PKI/inter.pem" -passout "file:$W/pw" -out "$W/www.p12"
    run "$CERTCTL" import www --pkcs12 "$W/www.p12" --password-file "$W/pw"
    assert_success
    assert_output --partial "installed www"
    assert_live www 1 "$PKI/www.key" "$PKI/www.crt" "$PKI/inter.pem"
}

@test "legacy PKCS#12 (RC2/3DES, -legacy) with the root inside" {
    pki_leaf "$PKI" www
    printf 'legacy\n' >"$W/pw"
    cat "$PKI/root.pem" "$PKI/inter.pem" >"$W/cas.pem"
    openssl pkcs12 -export -legacy -inkey "$PKI/www.key" -in "$PKI/www.crt" \
        -certfile "$W/cas.pem" -passout "file:$W/pw" -out "$W/www.p12"
    # Prove the file really uses the legacy algorithms.
    openssl pkcs12 -info -legacy -noout -in "$W/www.p12" -passin "file:$W/pw" 2>&1 |
        grep -Eq 'RC2|3DES|des-ede3'
    run "$CERTCTL" import www --pkcs12 "$W/www.p12" --password-file "$W/pw"
    assert_success
    assert_live www 1 "$PKI/www.key" "$PKI/www.crt" "$PKI/inter.pem"
}

# certbot_tree DIR NAME...: DIR laid out as certbot 2.x does it: for each
# NAME (a fresh pki_leaf; any name certbot's --cert-name takes, spaces
# too) archive/NAME/{cert,chain,fullchain,privkey}1.pem, live/NAME/*.pem
# as relative symlinks into ../../archive/NAME/, live/NAME/README, and
# renewal/NAME.conf (which names no domains); plus live/README.
certbot_tree() {
    local cb=$1 n f
    shift
    for n in "$@"; do
        pki_leaf "$PKI" "$n" --san "${CERTBOT_SANS:-${n// /-}}"
        mkdir -p "$cb/archive/$n" "$cb/live/$n" "$cb/renewal"
        cp "$PKI/$n.crt" "$cb/archive/$n/cert1.pem"
        cp "$PKI/$n.key" "$cb/archive/$n/privkey1.pem"
        cp "$PKI/$n.chain.pem" "$cb/archive/$n/chain1.pem"
        cp "$PKI/$n.full.pem" "$cb/archive/$n/fullchain1.pem"
        for f in cert privkey chain fullchain; do
            ln -s "../../archive/$n/${f}1.pem" "$cb/live/$n/$f.pem"
        done
        echo "This directory contains your keys and certificates." >"$cb/live/$n/README"
        cat >"$cb/renewal/$n.conf" <<CONF
# renew_before_expiry = 30 days
version = 2.1.0
archive_dir = $cb/archive/$n
cert = $cb/live/$n/cert.pem
privkey = $cb/live/$n/privkey.pem
chain = $cb/live/$n/chain.pem
fullchain = $cb/live/$n/fullchain.pem

# Options used in the renewal process
[renewalparams]
account = 0123456789abcdef0123456789abcdef
authenticator = nginx
installer = nginx
server = https://acme-v02.api.letsencrypt.org/directory
key_type = ecdsa
CONF
    done
    echo "This directory contains your keys and certificates." >"$cb/live/README"
}

# without_dac CMD...: CMD without root's power to read any file, so that a
# mode 0000 file is unreadable to it as to anyone (when not root, as is).
without_dac() {
    if [ "$(id -u)" = 0 ]; then
        setpriv --bounding-set=-dac_override,-dac_read_search "$@"
    else
        "$@"
    fi
}

# bats test_tags=memcheck
@test "--from-certbot=DIR imports every lineage of DIR/live (symlinks into archive/)" {
    certbot_tree "$W/letsencrypt" a.example b.example
    run "$CERTCTL" import --from-certbot="$W/letsencrypt"
    assert_success
    assert_line --index 0 --partial "installed a.example"
    assert_line --index 1 --partial "installed b.example"
    assert_equal "${#lines[@]}" 2
    assert_live a.example 1 "$PKI/a.example.key" "$PKI/a.example.crt" "$PKI/inter.pem"
    assert_live b.example 1 "$PKI/b.example.key" "$PKI/b.example.crt" "$PKI/inter.pem"
    [ ! -e "$CERTDIR/README" ]
    # Run again: nothing to do, nothing printed.
    before=$(tree_sum "$CERTDIR")
    run "$CERTCTL" import --from-certbot="$W/letsencrypt"
    assert_failure 10
    assert_output ""
    assert_equal "$(tree_sum "$CERTDIR")" "$before"
}

@test "--from-certbot DIR (DIR as its own word, as documented) imports DIR" {
    certbot_tree "$W/letsencrypt" a.example
    run "$CERTCTL" import --from-certbot "$W/letsencrypt"
    assert_success
    assert_output --partial "installed a.example"
    assert_live a.example 1 "$PKI/a.example.key" "$PKI/a.example.crt" "$PKI/inter.pem"
}

@test "--from-certbot: one bad lineage is reported, the others still go live (exit 0)" {
    certbot_tree "$W/letsencrypt" a.example b.example c.example
    # b.example's key does not belong to its cert.
    pki_leaf "$PKI" intruder
    rm "$W/letsencrypt/archive/b.example/privkey1.pem"
    cp "$PKI/intruder.key" "$W/letsencrypt/archive/b.example/privkey1.pem"
    run "$CERTCTL" import --from-certbot="$W/letsencrypt"
    assert_success
    assert_line --partial "installed a.example"
    assert_line --partial "installed c.example"
    assert_line --regexp "b\.example: .*key does not match"
    assert_equal "${#lines[@]}" 3
    [ ! -e "$CERTDIR/b.example" ]
    assert_live c.example 1 "$PKI/c.example.key" "$PKI/c.example.crt" "$PKI/inter.pem"
    # Only the bad one left: exit 1, nothing written.
    before=$(tree_sum "$CERTDIR")
    run "$CERTCTL" import --from-certbot="$W/letsencrypt"
    assert_failure 1
    assert_line --regexp "b\.example: .*key does not match"
    assert_equal "$(tree_sum "$CERTDIR")" "$before"
}

@test "--from-certbot: each lineage stands on its own, every failure one line naming it and why" {
    local cb=$W/letsencrypt
    certbot_tree "$cb" good.example dangling.example nokey.example "odd name" \
        unreadable.example linked.example
    # cert.pem points at a version certbot never wrote.
    ln -sfn ../../archive/dangling.example/cert2.pem "$cb/live/dangling.example/cert.pem"
    rm "$cb/live/nokey.example/privkey.pem"
    chmod 0000 "$cb/archive/unreadable.example/privkey1.pem"
    # A lineage directory that is a symlink (kept elsewhere) is followed...
    mkdir -p "$cb/elsewhere"
    mv "$cb/live/linked.example" "$cb/elsewhere/linked.example"
    ln -s ../elsewhere/linked.example "$cb/live/linked.example"
    # ... one that leads nowhere is reported.
    ln -s ../nowhere/gone.example "$cb/live/gone.example"
    run --separate-stderr without_dac "$CERTCTL" import --from-certbot "$cb"
    assert_success
    assert_equal "${#lines[@]}" 2
    assert_line --index 0 --partial "installed good.example "
    assert_line --index 1 --partial "installed linked.example "
    assert_equal "$stderr" "certctl: $cb/live/dangling.example: 'cert.pem' is a dangling link to '../../archive/dangling.example/cert2.pem'
certctl: $cb/live/gone.example: the lineage directory is a dangling link to '../nowhere/gone.example'
certctl: $cb/live/nokey.example: 'privkey.pem' is missing
certctl: $cb/live/odd name: 'odd name' is not a name certctl can use (names match [A-Za-z0-9][A-Za-z0-9._-]*): import it as another NAME with --cert and --key
certctl: $cb/live/unreadable.example: cannot read '$cb/live/unreadable.example/privkey.pem': Permission denied"
    assert_live good.example 1 "$PKI/good.example.key" "$PKI/good.example.crt" "$PKI/inter.pem"
    assert_live linked.example 1 "$PKI/linked.example.key" "$PKI/linked.example.crt" "$PKI/inter.pem"
    run ls "$CERTDIR/.live"
    assert_output "good.example.g0001
linked.example.g0001"
    # Again: nothing changes and the failures remain: exit 1, nothing written.
    before=$(tree_sum "$CERTDIR")
    run --separate-stderr without_dac "$CERTCTL" import --from-certbot "$cb"
    assert_failure 1
    assert_output ""
    assert_equal "$(printf '%s\n' "$stderr" | wc -l)" 5
    assert_equal "$(tree_sum "$CERTDIR")" "$before"
    # The odd lineage, imported by hand under a usable name, and the rest
    # gone: nothing needed changing and nothing failed: exit 10.
    run "$CERTCTL" import odd-name --cert "$cb/live/odd name/fullchain.pem" \
        --key "$cb/live/odd name/privkey.pem"
    assert_success
    rm -r "$cb/live/dangling.example" "$cb/live/gone.example" "$cb/live/nokey.example" \
        "$cb/live/odd name" "$cb/live/unreadable.example"
    before=$(tree_sum "$CERTDIR")
    run --separate-stderr "$CERTCTL" import --from-certbot "$cb"
    assert_failure 10
    assert_output ""
    [ -z "$stderr" ] || fail "stderr: $stderr"
    assert_equal "$(tree_sum "$CERTDIR")" "$before"
}

@test "--from-certbot: a lineage without chain.pem fails alone, and imports once cert.pem carries the chain" {
    local cb=$W/letsencrypt
    certbot_tree "$cb" a.example b.example
    rm "$cb/live/a.example/chain.pem"
    # a.example's cert.pem alone has no way to its root: that lineage fails.
    run --separate-stderr "$CERTCTL" import --from-certbot "$cb"
    assert_success
    assert_output --partial "installed b.example"
    [[ $stderr == "certctl: $cb/live/a.example: chain does not verify"* ]] || fail "stderr: $stderr"
    [ ! -e "$CERTDIR/a.example" ]
    # With its fullchain as the cert (a bundle), it is fine.
    ln -sfn ../../archive/a.example/fullchain1.pem "$cb/live/a.example/cert.pem"
    run "$CERTCTL" import --from-certbot "$cb"
    assert_success
    assert_live a.example 1 "$PKI/a.example.key" "$PKI/a.example.crt" "$PKI/inter.pem"
}

@test "--from-certbot --print-config: the certificates: entries, domains from each certificate's SANs" {
    local cb=$W/letsencrypt
    CERTBOT_SANS="a.example,www.a.example" certbot_tree "$cb" a.example
    CERTBOT_SANS="b.example,*.b.example" certbot_tree "$cb" b.example
    certbot_tree "$cb" broken.example
    rm "$cb/live/broken.example/privkey.pem"
    # b.example is live already: it is in the config all the same.
    run "$CERTCTL" import b.example --cert "$PKI/b.example.full.pem" --key "$PKI/b.example.key"
    assert_success
    run --separate-stderr "$CERTCTL" import --from-certbot "$cb" --print-config
    assert_success
    [[ $stderr == *"live/broken.example: 'privkey.pem' is missing" ]] || fail "stderr: $stderr"
    assert_equal "$output" "installed a.example ${lines[0]#installed a.example }
certificates:
  a.example:
    domains: [a.example, www.a.example]
    # source: SOURCE   (a source for certbot's server https://acme-v02.api.letsencrypt.org/directory)
  b.example:
    domains: [b.example, \"*.b.example\"]
    # source: SOURCE   (a source for certbot's server https://acme-v02.api.letsencrypt.org/directory)"
    # -q leaves the YAML alone on stdout, and it is a config certctl
    # takes: check finds every configured domain covered.
    rm "$cb/renewal/a.example.conf"
    rm -r "$cb/live/broken.example"
    run --separate-stderr "$CERTCTL" -q import --from-certbot "$cb" --print-config
    assert_failure 10
    printf '%s\n' "$output" >"$W/entries.yaml"
    grep -q "^    # source: SOURCE   (a name under sources:; else defaults.source)$" "$W/entries.yaml"
    { printf 'certdir: %s\ntrust: %s\n' "$CERTDIR" "$PKI/trust.pem"; cat "$W/entries.yaml"; } \
        >"$CONFIG"
    run "$CERTCTL" check a.example b.example
    assert_success
    # A domain the certificate lacks would have been CRITICAL: the check looks.
    sed -i 's/www.a.example/ftp.a.example/' "$CONFIG"
    run "$CERTCTL" check a.example
    assert_failure 2
}

@test "--print-config needs --from-certbot, and does not go with --json" {
    certbot_tree "$W/letsencrypt" a.example
    before=$(tree_sum "$CERTDIR")
    run "$CERTCTL" import a.example --cert "$PKI/a.example.full.pem" --key "$PKI/a.example.key" \
        --print-config
    assert_failure 2
    assert_output --partial "--print-config"
    run "$CERTCTL" --json import --from-certbot "$W/letsencrypt" --print-config
    assert_failure 2
    assert_equal "$(tree_sum "$CERTDIR")" "$before"
}

@test "without --key, a new cert for the live key installs generation 2 and keeps generation 1" {
    seed www
    g1=$(tree_sum "$CERTDIR/.live/www.g0001")
    pki_leaf "$PKI" renewed --key "$W/www.key" --san www --days 120
    run "$CERTCTL" import www --cert "$PKI/renewed.full.pem"
    assert_success
    assert_output --partial "installed www"
    assert_live www 2 "$W/www.key" "$PKI/renewed.crt" "$PKI/inter.pem"
    assert_equal "$(tree_sum "$CERTDIR/.live/www.g0001")" "$g1"
    # A third import: generation 3, the two before still there.
    pki_leaf "$PKI" renewed2 --key "$W/www.key" --san www --days 150
    run "$CERTCTL" import www --cert "$PKI/renewed2.crt" --chain "$PKI/inter.pem"
    assert_success
    assert_live www 3 "$W/www.key" "$PKI/renewed2.crt" "$PKI/inter.pem"
    [ -d "$CERTDIR/.live/www.g0001" ]
    [ -d "$CERTDIR/.live/www.g0002" ]
}

# ------------------------------------------- a renewal that comes alone

@test "a renewal alone (no --key, no --chain, no caIssuers) takes its intermediate from the live chain" {
    seed www
    pki_leaf "$PKI" renewed --key "$W/www.key" --san www --days 120
    # No network is needed for it: --no-fetch makes the same import.
    run --separate-stderr "$CERTCTL" import www --no-fetch --cert "$PKI/renewed.crt"
    assert_success
    assert_output --partial "installed www"
    assert_live www 2 "$W/www.key" "$PKI/renewed.crt" "$PKI/inter.pem"
    run "$CERTCTL" check www
    assert_success
    openssl verify -CAfile "$PKI/root.pem" -untrusted "$CERTDIR/www/chain.pem" \
        "$CERTDIR/www/cert.pem"
}

@test "a renewal alone: what goes into chain.pem is the path that verifies, not the whole live chain" {
    pki_leaf "$PKI" www
    cp "$PKI/www.key" "$W/www.key"
    # A hand-made live set whose chain.pem carries a stray before the
    # intermediate.
    cat "$PKI/other-inter.pem" "$PKI/inter.pem" >"$W/messy-chain.pem"
    certdir_put "$CERTDIR" www "$PKI/www.key" "$PKI/www.crt" "$W/messy-chain.pem"
    pki_leaf "$PKI" renewed --key "$W/www.key" --san www --days 120
    run "$CERTCTL" import www --cert "$PKI/renewed.crt"
    assert_success
    assert_live www 2 "$W/www.key" "$PKI/renewed.crt" "$PKI/inter.pem"
}

@test "a renewal alone whose issuer the live chain does not hold: one line naming that issuer, nothing written" {
    # The live chain holds an unrelated intermediate.
    pki_leaf "$PKI" www
    cp "$PKI/www.key" "$W/www.key"
    certdir_put "$CERTDIR" www "$PKI/www.key" "$PKI/www.crt" "$PKI/other-inter.pem"
    pki_leaf "$PKI" renewed --key "$W/www.key" --san www --days 120
    refused 1 "its issuer 'certctl Test Intermediate' is neither among the certificates given nor in the live chain" \
        import www --cert "$PKI/renewed.crt"
    assert_output --partial "chain does not verify"
}

@test "a renewal alone from a new intermediate (not in the live chain, no caIssuers): the error names it" {
    seed www
    # A second intermediate under the trusted root, as when a CA rotates.
    mkcert "Intermediate R2" "$PKI/root" ca
    cp "$W/www.key" "$W/www2.key"
    mkcert www2 "$W/Intermediate R2" leaf
    refused 1 "its issuer 'Intermediate R2' is neither among the certificates given nor in the live chain" \
        import www --cert "$W/www2.pem"
    # Given the new intermediate, it goes live with it.
    run "$CERTCTL" import www --cert "$W/www2.pem" --chain "$W/Intermediate R2.pem"
    assert_success
    assert_live www 2 "$W/www.key" "$W/www2.pem" "$W/Intermediate R2.pem"
}

@test "--json: one JSON document on stdout with the exit code, the changes and the errors" {
    seed www
    pki_leaf "$PKI" renewed --key "$W/www.key" --san www --days 120
    run --separate-stderr "$CERTCTL" --json import www --cert "$PKI/renewed.full.pem"
    assert_success
    [ "$(jq -r .command <<<"$output")" = import ]
    [ "$(jq -r .exit <<<"$output")" = 0 ]
    [ "$(jq -r .changed <<<"$output")" = true ]
    [[ "$(jq -r '.messages[0]' <<<"$output")" == "installed www (expires "* ]]
    [ "$(jq '.errors | length' <<<"$output")" = 0 ]
    # An error: on stderr as always, and in the document.
    run --separate-stderr "$CERTCTL" import www --json --cert /nonexistent.pem
    assert_failure 1
    [ "$(jq -r .exit <<<"$output")" = 1 ]
    [ "$(jq '.messages | length' <<<"$output")" = 0 ]
    [[ "$(jq -r '.errors[0]' <<<"$output")" == *"/nonexistent.pem"* ]]
    [[ $stderr == "certctl: "*"/nonexistent.pem"* ]]
}

@test "keep_generations: 2 keeps the live generation and one before it" {
    write_config "defaults: {keep_generations: 2}"
    seed www
    for n in 2 3 4; do
        pki_leaf "$PKI" "renewed$n" --key "$W/www.key" --san www --days $((100 + n))
        run "$CERTCTL" import www --cert "$PKI/renewed$n.full.pem"
        assert_success
    done
    assert_live www 4 "$W/www.key" "$PKI/renewed4.crt" "$PKI/inter.pem"
    [ "$(find "$CERTDIR/.live" -mindepth 1 -maxdepth 1 -name 'www.g*' -printf '%f\n' | sort)" = \
        "$(printf 'www.g0003\nwww.g0004')" ]
}

@test "without --key, a bundle with an unrelated leaf first still finds the leaf for the live key" {
    seed www
    pki_leaf "$PKI" stray
    pki_leaf "$PKI" renewed --key "$W/www.key" --san www --days 120
    cat "$PKI/stray.crt" "$PKI/inter.pem" "$PKI/renewed.crt" >"$W/bundle.pem"
    run "$CERTCTL" import www --cert "$W/bundle.pem"
    assert_success
    assert_live www 2 "$W/www.key" "$PKI/renewed.crt" "$PKI/inter.pem"
}

# bats test_tags=memcheck
@test "a cert for the pending key (rekey, print-csr, sign) promotes that key" {
    seed www
    run "$CERTCTL" rekey www
    assert_success
    [ -f "$CERTDIR/.pending/www/privkey.pem" ]
    cp "$CERTDIR/.pending/www/privkey.pem" "$W/pending.key"
    run "$CERTCTL" rekey --print-csr www
    assert_success
    printf '%s\n' "$output" >"$W/www.csr"
    openssl req -in "$W/www.csr" -noout -verify 2>/dev/null
    pki_csr_sign "$PKI" "$W/www.csr" "$W/new.crt" --days 120
    run "$CERTCTL" import www --cert "$W/new.crt" --chain "$PKI/inter.pem"
    assert_success
    assert_output --partial "installed www"
    assert_output --partial "pending key now live"
    assert_live www 2 "$W/pending.key" "$W/new.crt" "$PKI/inter.pem"
    [ ! -e "$CERTDIR/.pending/www" ]
    # The CSR the cert was issued for is kept with the generation.
    assert_equal "$(cat "$CERTDIR/www/csr.pem")" "$(cat "$W/www.csr")"
    # The old key is still in generation 1, untouched.
    assert_equal "$(cat "$CERTDIR/.live/www.g0001/privkey.pem")" "$(cat "$W/www.key")"
}

# bats test_tags=memcheck
@test "the identical set again is exit 10, silent, and writes nothing (whatever the form)" {
    seed www
    before=$(tree_sum "$CERTDIR")
    run "$CERTCTL" import www --cert "$PKI/www.full.pem" --key "$W/www.key"
    assert_failure 10
    assert_output ""
    # The same set as DER pieces, without --key (the live key), and as a
    # bundle in another order carrying the root.
    der "$PKI/www.crt" "$W/www.der"
    der "$PKI/inter.pem" "$W/inter.der"
    run "$CERTCTL" import www --cert "$W/www.der" --chain "$W/inter.der"
    assert_failure 10
    assert_output ""
    cat "$PKI/root.pem" "$PKI/inter.pem" "$PKI/www.crt" >"$W/bundle.pem"
    run "$CERTCTL" import www --cert "$W/bundle.pem"
    assert_failure 10
    assert_equal "$(tree_sum "$CERTDIR")" "$before"
}

@test "a cert expiring before the installed one is refused; --force installs it" {
    seed www
    pki_leaf "$PKI" short --key "$W/www.key" --san www --days 30
    refused 1 "expires before the installed one" \
        import www --cert "$PKI/short.full.pem" --key "$W/www.key"
    run "$CERTCTL" import --force www --cert "$PKI/short.full.pem" --key "$W/www.key"
    assert_success
    assert_live www 2 "$W/www.key" "$PKI/short.crt" "$PKI/inter.pem"
    [ -d "$CERTDIR/.live/www.g0001" ]
}

# bats test_tags=memcheck
@test "--dry-run reports what it would install and writes nothing" {
    seed www
    pki_leaf "$PKI" renewed --key "$W/www.key" --san www --days 120
    before=$(tree_sum "$CERTDIR")
    run "$CERTCTL" --dry-run import www --cert "$PKI/renewed.full.pem"
    assert_success
    assert_output --partial "would install www"
    assert_equal "$(tree_sum "$CERTDIR")" "$before"
}

# ---------------------------------------------------- chain completion (AIA)

# aia_fixture FORMAT: a leaf whose caIssuers URL on nginx serves the
# intermediate as FORMAT (der, pem or p7c); nginx is started.
aia_fixture() {
    local port
    port=$(free_port)
    mkdir -p "$W/www-root"
    pki_leaf "$PKI" www --ca-issuers "http://127.0.0.1:$port/inter.$1"
    case $1 in
        der) der "$PKI/inter.pem" "$W/www-root/inter.der" ;;
        pem) cp "$PKI/inter.pem" "$W/www-root/inter.pem" ;;
        p7c) openssl crl2pkcs7 -nocrl -certfile "$PKI/inter.pem" -outform DER \
            -out "$W/www-root/inter.p7c" ;;
    esac
    httpd_nginx_start "$W/www-root" "$port"
}

# bats test_tags=memcheck
@test "a missing intermediate is fetched from caIssuers (DER, nginx)" {
    aia_fixture der
    run "$CERTCTL" import www --cert "$PKI/www.crt" --key "$PKI/www.key"
    assert_success
    assert_live www 1 "$PKI/www.key" "$PKI/www.crt" "$PKI/inter.pem"
    grep -q 'GET /inter.der ' "$HTTPD_ACCESS_LOG"
}

@test "a missing intermediate is fetched from caIssuers (PEM, nginx)" {
    aia_fixture pem
    run "$CERTCTL" import www --cert "$PKI/www.crt" --key "$PKI/www.key"
    assert_success
    assert_live www 1 "$PKI/www.key" "$PKI/www.crt" "$PKI/inter.pem"
}

@test "a missing intermediate is fetched from caIssuers (PKCS#7, nginx)" {
    aia_fixture p7c
    run "$CERTCTL" import www --cert "$PKI/www.crt" --key "$PKI/www.key"
    assert_success
    assert_live www 1 "$PKI/www.key" "$PKI/www.crt" "$PKI/inter.pem"
}

@test "caIssuers is followed over several hops until a trusted root" {
    local port
    port=$(free_port)
    mkdir -p "$W/www-root"
    mkcert ca1 "$PKI/root" ca "http://127.0.0.1:$port/root.der"
    mkcert ca2 "$W/ca1" ca "http://127.0.0.1:$port/ca1.der"
    mkcert www "$W/ca2" leaf "http://127.0.0.1:$port/ca2.der"
    der "$W/ca1.pem" "$W/www-root/ca1.der"
    der "$W/ca2.pem" "$W/www-root/ca2.der"
    der "$PKI/root.pem" "$W/www-root/root.der"
    httpd_nginx_start "$W/www-root" "$port"
    run "$CERTCTL" import www --cert "$W/www.pem" --key "$W/www.key"
    assert_success
    assert_live www 1 "$W/www.key" "$W/www.pem" "$W/ca2.pem" "$W/ca1.pem"
    grep -q 'GET /ca2.der ' "$HTTPD_ACCESS_LOG"
    grep -q 'GET /ca1.der ' "$HTTPD_ACCESS_LOG"
}

@test "a chain given in part is completed from the top certificate's caIssuers" {
    local port
    port=$(free_port)
    mkdir -p "$W/www-root"
    mkcert ca1 "$PKI/root" ca
    mkcert ca2 "$W/ca1" ca "http://127.0.0.1:$port/ca1.der"
    mkcert www "$W/ca2" leaf
    der "$W/ca1.pem" "$W/www-root/ca1.der"
    httpd_nginx_start "$W/www-root" "$port"
    run "$CERTCTL" import www --cert "$W/www.pem" --chain "$W/ca2.pem" --key "$W/www.key"
    assert_success
    assert_live www 1 "$W/www.key" "$W/www.pem" "$W/ca2.pem" "$W/ca1.pem"
}

@test "--no-fetch never touches the network" {
    aia_fixture der
    refused 1 "www" import www --no-fetch --cert "$PKI/www.crt" --key "$PKI/www.key"
    assert_output --partial "chain does not verify"
    [ ! -s "$HTTPD_ACCESS_LOG" ]
    # The same import with fetching allowed works (the server was there).
    run "$CERTCTL" import www --cert "$PKI/www.crt" --key "$PKI/www.key"
    assert_success
    [ -s "$HTTPD_ACCESS_LOG" ]
}

# ---------------------------------------------------------------- bad input
# Each: exit 1 (2 for usage), one line, the certdir exactly as it was.

# bats test_tags=memcheck
@test "bad input: key does not match the cert" {
    seed www
    pki_leaf "$PKI" other
    refused 1 "key does not match" import www --cert "$PKI/www.full.pem" --key "$PKI/other.key"
}

@test "bad input: without --key, a cert matching neither the live nor a pending key" {
    seed www
    pki_leaf "$PKI" stranger --san www --days 120
    refused 1 "matches neither the live nor a pending key" \
        import www --cert "$PKI/stranger.full.pem"
    # A name with nothing installed has no key to match either.
    refused 1 "matches neither" import fresh --cert "$PKI/stranger.full.pem"
}

@test "bad input: expired certificate" {
    seed www
    pki_leaf "$PKI" old --key "$W/www.key" --san www --expired
    refused 1 "expired" import www --cert "$PKI/old.full.pem" --key "$W/www.key"
    refused 1 "expired" import --force www --cert "$PKI/old.full.pem" --key "$W/www.key"
}

@test "bad input: certificate not yet valid" {
    seed www
    pki_leaf "$PKI" future --key "$W/www.key" --san www --not-yet-valid
    refused 1 "not yet valid" import www --cert "$PKI/future.full.pem" --key "$W/www.key"
}

@test "bad input: a chain to an untrusted root does not verify (--no-fetch)" {
    seed www
    pki_leaf "$PKI" untrusted --issuer other-inter --san www --days 120
    cat "$PKI/untrusted.full.pem" "$PKI/other-root.pem" >"$W/bundle.pem"
    refused 1 "chain does not verify" \
        import www --no-fetch --cert "$W/bundle.pem" --key "$PKI/untrusted.key"
}

@test "bad input: a complete chain to an untrusted root is reported as not verifying" {
    # Fetching is allowed but there is nothing to fetch: the reason must
    # still be that the chain does not verify, not that it is incomplete.
    seed www
    pki_leaf "$PKI" untrusted --issuer other-inter --san www --days 120
    cat "$PKI/untrusted.full.pem" "$PKI/other-root.pem" >"$W/bundle.pem"
    refused 1 "chain does not verify" \
        import www --cert "$W/bundle.pem" --key "$PKI/untrusted.key"
}

@test "bad input: a leaf alone with no caIssuers URL names the certificate" {
    # A new name: no live chain to complete it from.
    pki_leaf "$PKI" alone --san www --cn alone.example --days 120
    refused 1 "chain does not verify: unable to get local issuer certificate (at '/CN=alone.example')" \
        import www --cert "$PKI/alone.crt" --key "$PKI/alone.key"
}

# bats test_tags=memcheck
@test "bad input: truncated PEM" {
    seed www
    head -c 400 "$PKI/www.full.pem" >"$W/trunc.pem"
    refused 1 "truncated" import www --cert "$W/trunc.pem" --key "$W/www.key"
    # Cut inside the second certificate: the leaf alone must not slip through.
    head -c 1000 "$PKI/www.full.pem" >"$W/trunc2.pem"
    refused 1 "truncated" import www --cert "$W/trunc2.pem" --key "$W/www.key"
    head -c 100 "$W/www.key" >"$W/trunc.key"
    refused 1 "trunc.key" import www --cert "$PKI/www.full.pem" --key "$W/trunc.key"
}

# bats test_tags=memcheck
@test "bad input: garbage PEM" {
    seed www
    printf -- '-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n' \
        >"$W/garbage.pem"
    refused 1 "garbage.pem" import www --cert "$W/garbage.pem" --key "$W/www.key"
    echo "hello, world" >"$W/text.pem"
    refused 1 "text.pem" import www --cert "$W/text.pem" --key "$W/www.key"
    : >"$W/empty.pem"
    refused 1 "empty.pem" import www --cert "$W/empty.pem" --key "$W/www.key"
    # A garbage chain next to a good cert is refused too.
    refused 1 "garbage.pem" import www --cert "$PKI/www.crt" --chain "$W/garbage.pem" \
        --key "$W/www.key"
}

@test "bad input: a DER file that is not a certificate" {
    seed www
    openssl pkey -in "$W/www.key" -outform DER -out "$W/key.der"
    refused 1 "key.der" import www --cert "$W/key.der" --key "$W/www.key"
    head -c 2048 /dev/urandom >"$W/random.der"
    refused 1 "random.der" import www --cert "$W/random.der" --key "$W/www.key"
    # A DER cert followed by junk.
    der "$PKI/www.crt" "$W/www.der"
    { cat "$W/www.der"; printf 'trailing junk'; } >"$W/junk.der"
    refused 1 "junk.der" import www --cert "$W/junk.der" --key "$W/www.key"
}

# bats test_tags=memcheck
@test "bad input: wrong PKCS#12 password, or none" {
    seed www
    printf 'right\n' >"$W/pw"
    printf 'wrong\n' >"$W/bad"
    openssl pkcs12 -export -inkey "$W/www.key" -in "$PKI/www.crt" \
        -certfile "$PKI/inter.pem" -passout "file:$W/pw" -out "$W/www.p12"
    refused 1 "wrong PKCS#12 password" import www --pkcs12 "$W/www.p12" --password-file "$W/bad"
    refused 1 "password" import www --pkcs12 "$W/www.p12"
    # A cert file is not a PKCS#12 file.
    refused 1 "PKCS#12" import www --pkcs12 "$PKI/www.crt" --password-file "$W/pw"
}

@test "bad input: a PKCS#12 asking for 2^31-1 MAC or encryption iterations is refused at once" {
    seed www
    printf 'right\n' >"$W/pw"
    # AES/PBKDF2 (the default) and PKCS#12 PBE (-legacy) files; the count
    # is patched in afterwards (making them with it would take as long).
    openssl pkcs12 -export -inkey "$W/www.key" -in "$PKI/www.crt" \
        -certfile "$PKI/inter.pem" -passout "file:$W/pw" -out "$W/aes.p12"
    openssl pkcs12 -export -legacy -inkey "$W/www.key" -in "$PKI/www.crt" \
        -certfile "$PKI/inter.pem" -passout "file:$W/pw" -out "$W/legacy.p12"
    before=$(tree_sum "$CERTDIR")
    for kind in aes legacy; do
        for what in mac certs key; do
            python3 "$HELPERS/p12-iter.py" "$W/$kind.p12" "$W/evil.p12" \
                right "$what" 2147483647
            # The bound only stops a hanging test (before: many minutes).
            run timeout $((60 * SLOWDOWN)) "$CERTCTL" import www --pkcs12 "$W/evil.p12" \
                --password-file "$W/pw"
            assert_failure 1
            assert_equal "${#lines[@]}" 1
            assert_output --partial "asks for 2147483647 iterations (at most 10000000 accepted)"
            assert_equal "$(tree_sum "$CERTDIR")" "$before"
        done
    done
    # The control: a count under the cap, rewritten the same way, is read
    # (and is the live set already: exit 10, no error).
    python3 "$HELPERS/p12-iter.py" "$W/aes.p12" "$W/ok.p12" right mac 100000
    run "$CERTCTL" import www --pkcs12 "$W/ok.p12" --password-file "$W/pw"
    assert_failure 10
    assert_output ""
}

@test "bad input: encrypted PEM key without a password, or with the wrong one" {
    seed www
    printf 'right\n' >"$W/pw"
    printf 'wrong\n' >"$W/bad"
    openssl pkcs8 -topk8 -v2 aes-256-cbc -passout "file:$W/pw" -in "$W/www.key" \
        -out "$W/enc.key"
    refused 1 "encrypted and no password" \
        import www --cert "$PKI/www.full.pem" --key "$W/enc.key"
    refused 1 "wrong password" \
        import www --cert "$PKI/www.full.pem" --key "$W/enc.key" --password-file "$W/bad"
}

@test "bad input: encrypted DER key without a password says it is encrypted" {
    seed www
    printf 'right\n' >"$W/pw"
    openssl pkcs8 -topk8 -v2 aes-256-cbc -passout "file:$W/pw" -in "$W/www.key" \
        -outform DER -out "$W/enc.der"
    refused 1 "encrypted" import www --cert "$PKI/www.full.pem" --key "$W/enc.der"
}

@test "bad input: caIssuers URL that never answers (timeout, ~15 s)" {
    seed www --issuer root   # nothing in the live chain to help
    httpd_py_start hang
    pki_leaf "$PKI" slow --key "$W/www.key" --san www --days 120 \
        --ca-issuers "http://127.0.0.1:$HTTPD_PORT/inter.der"
    start=$SECONDS
    refused 1 "127.0.0.1:$HTTPD_PORT" import www --cert "$PKI/slow.crt" --key "$W/www.key"
    assert_output --regexp '[Tt]ime(d)? ?out'
    # certctl's total timeout is 15 s: it gives up on its own, well before bats would.
    [ $((SECONDS - start)) -le $((40 * SLOWDOWN)) ]
}

@test "bad input: caIssuers URL that returns HTML (nginx)" {
    local port
    port=$(free_port)
    mkdir -p "$W/www-root"
    printf '<!doctype html>\n<html><body><h1>Welcome to nginx!</h1></body></html>\n' \
        >"$W/www-root/index.html"
    httpd_nginx_start "$W/www-root" "$port"
    seed www --issuer root   # nothing in the live chain to help
    pki_leaf "$PKI" html --key "$W/www.key" --san www --days 120 \
        --ca-issuers "http://127.0.0.1:$port/index.html"
    refused 1 "caIssuers" import www --cert "$PKI/html.crt" --key "$W/www.key"
    grep -q 'GET /index.html ' "$HTTPD_ACCESS_LOG"
    # A 404 is refused too.
    pki_leaf "$PKI" gone --key "$W/www.key" --san www --days 120 \
        --ca-issuers "http://127.0.0.1:$port/missing.der"
    refused 1 "404" import www --cert "$PKI/gone.crt" --key "$W/www.key"
}

@test "bad input: caIssuers URL that redirects to itself (nginx)" {
    local port
    port=$(free_port)
    mkdir -p "$W/www-root"
    httpd_nginx_start "$W/www-root" "$port"
    seed www --issuer root   # nothing in the live chain to help
    pki_leaf "$PKI" loop --key "$W/www.key" --san www --days 120 \
        --ca-issuers "http://127.0.0.1:$port/loop"
    start=$SECONDS
    refused 1 "127.0.0.1:$port/loop" import www --cert "$PKI/loop.crt" --key "$W/www.key"
    [ $((SECONDS - start)) -le $((10 * SLOWDOWN)) ]
    grep -q 'GET /loop ' "$HTTPD_ACCESS_LOG"
}

@test "bad input: caIssuers URLs that loop between two cross-signed CAs (nginx)" {
    local port
    seed www --issuer root   # nothing in the live chain to help
    port=$(free_port)
    mkdir -p "$W/www-root"
    # A and B each sign the other and name the other's URL as caIssuers.
    # Bootstrap: B's key signs A through a throwaway self-signed "B".
    openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$W/B.key" 2>/dev/null
    cp "$W/B.key" "$W/b0.key"
    printf '%s\n' '[ req ]' 'distinguished_name = dn' 'x509_extensions = v3' '[ dn ]' '[ v3 ]' \
        'basicConstraints = critical, CA:TRUE' 'keyUsage = critical, keyCertSign' \
        'subjectKeyIdentifier = hash' >"$W/self.cnf"
    openssl req -new -x509 -config "$W/self.cnf" -key "$W/b0.key" -subj /CN=B -days 30 \
        -out "$W/b0.pem" 2>/dev/null
    mkcert A "$W/b0" ca "http://127.0.0.1:$port/b.der"
    mkcert B "$W/A" ca "http://127.0.0.1:$port/a.der"
    openssl verify -partial_chain -CAfile "$W/B.pem" "$W/A.pem" >/dev/null
    openssl verify -partial_chain -CAfile "$W/A.pem" "$W/B.pem" >/dev/null
    mkcert looped "$W/A" leaf "http://127.0.0.1:$port/a.der"
    der "$W/A.pem" "$W/www-root/a.der"
    der "$W/B.pem" "$W/www-root/b.der"
    httpd_nginx_start "$W/www-root" "$port"
    start=$SECONDS
    refused 1 "www" import www --cert "$W/looped.pem" --key "$W/looped.key"
    [ $((SECONDS - start)) -le $((20 * SLOWDOWN)) ]
    # It did follow the URLs, and stopped after a handful of fetches.
    grep -q 'GET /a.der ' "$HTTPD_ACCESS_LOG"
    grep -q 'GET /b.der ' "$HTTPD_ACCESS_LOG"
    n=$(grep -c 'GET /' "$HTTPD_ACCESS_LOG" || true)
    [ "$n" -ge 2 ] && [ "$n" -le 10 ]
}

# bats test_tags=memcheck
@test "bad input: caIssuers URL that streams 100 MB (capped, not buffered)" {
    seed www --issuer root   # nothing in the live chain to help
    httpd_py_start zeros
    pki_leaf "$PKI" big --key "$W/www.key" --san www --days 120 \
        --ca-issuers "http://127.0.0.1:$HTTPD_PORT/big.der"
    start=$SECONDS
    refused 1 "larger than" import www --cert "$PKI/big.crt" --key "$W/www.key"
    # The cap stops it, not the 15 s timeout.
    [ $((SECONDS - start)) -le $((10 * SLOWDOWN)) ]
}

@test "bad input: caIssuers URL that announces 100 MB (Content-Length)" {
    seed www --issuer root   # nothing in the live chain to help
    httpd_py_start huge
    pki_leaf "$PKI" big --key "$W/www.key" --san www --days 120 \
        --ca-issuers "http://127.0.0.1:$HTTPD_PORT/big.der"
    start=$SECONDS
    refused 1 "larger than" import www --cert "$PKI/big.crt" --key "$W/www.key"
    [ $((SECONDS - start)) -le $((10 * SLOWDOWN)) ]
}

@test "bad input: NAME with / or .. is a usage error (exit 2)" {
    seed www
    local n
    for n in ../www a/b /etc/passwd .. . www/.. ../../tmp/x .hidden; do
        refused 2 "invalid name" import "$n" --cert "$PKI/www.full.pem" --key "$W/www.key"
    done
}

@test "bad usage: missing NAME, both --cert and --pkcs12, unknown option (exit 2)" {
    seed www
    refused 2 "NAME" import --cert "$PKI/www.full.pem" --key "$W/www.key"
    refused 2 "--pkcs12" import www --cert "$PKI/www.full.pem" --pkcs12 "$PKI/www.crt"
    refused 2 "--cert" import www --key "$W/www.key"
    refused 2 "--from-certbot" import www --from-certbot="$W"
    run "$CERTCTL" import www --frob
    assert_failure 2
    assert_output --partial "unknown option '--frob'"
    assert_equal "$(readlink "$CERTDIR/www")" ".live/www.g0001"
}

@test "bad input: --cert pointing at a directory" {
    seed www
    mkdir "$W/dir"
    refused 1 "not a regular file" import www --cert "$W/dir" --key "$W/www.key"
    refused 1 "not a regular file" import www --cert "$PKI/www.full.pem" --key "$W/dir"
}

@test "bad input: --cert pointing at a FIFO does not hang" {
    seed www
    mkfifo "$W/fifo"
    before=$(tree_sum "$CERTDIR")
    start=$SECONDS
    run timeout 30 "$CERTCTL" import www --cert "$W/fifo" --key "$W/www.key"
    assert_failure 1
    assert_equal "${#lines[@]}" 1
    assert_output --partial "not a regular file"
    assert_equal "$(tree_sum "$CERTDIR")" "$before"
    [ $((SECONDS - start)) -le $((10 * SLOWDOWN)) ]
}

@test "bad input: --cert missing or unreadable names the file" {
    seed www
    refused 1 "$W/nope.pem" import www --cert "$W/nope.pem" --key "$W/www.key"
}

@test "a certdir locked by another run: import waits --lock-timeout, exits 1, writes nothing" {
    seed www
    pki_leaf "$PKI" renewed --key "$W/www.key" --san www --days 120
    exec {lockfd}>>"$CERTDIR/.lock"
    flock -n "$lockfd"
    start=$SECONDS
    refused 1 "locked" --lock-timeout 1 import www --cert "$PKI/renewed.full.pem"
    [ $((SECONDS - start)) -le $((10 * SLOWDOWN)) ]
    exec {lockfd}>&-
    run "$CERTCTL" --lock-timeout 1 import www --cert "$PKI/renewed.full.pem"
    assert_success
    assert_live www 2 "$W/www.key" "$PKI/renewed.crt" "$PKI/inter.pem"
}

@test "a rejected first import leaves an empty certdir empty" {
    echo garbage >"$W/garbage.pem"
    pki_leaf "$PKI" www
    refused 1 "garbage.pem" import www --cert "$W/garbage.pem" --key "$PKI/www.key"
    run ls -A "$CERTDIR"
    assert_output ""
}

@test "the first import into a certdir that does not exist yet creates it (--dry-run does not)" {
    pki_leaf "$PKI" www
    rmdir "$CERTDIR"
    # With nothing live to compare against, import once freed an
    # uninitialised set here and crashed.
    run "$CERTCTL" --dry-run import www --cert "$PKI/www.full.pem" --key "$PKI/www.key"
    assert_success
    assert_output --partial "would install www"
    [ ! -e "$CERTDIR" ]
    run "$CERTCTL" import www --cert "$PKI/www.full.pem" --key "$PKI/www.key"
    assert_success
    assert_output --partial "installed www"
    assert_equal "$(stat -c %a "$CERTDIR")" 755
    assert_equal "$(readlink "$CERTDIR/www")" ".live/www.g0001"
    assert_equal "$(stat -c %a "$CERTDIR/www/privkey.pem")" 600
}

@test "the identical set again still clears what a killed run left (exit 10)" {
    seed www
    before=$(tree_sum "$CERTDIR")
    # What a run killed half-way leaves: a state file, a link and a
    # generation being written.
    echo '{}' >"$CERTDIR/.state/www.json.tmp"
    ln -s .live/www.g0002 "$CERTDIR/.www.link.tmp"
    mkdir "$CERTDIR/.live/www.g0002.tmp"
    run "$CERTCTL" import www --cert "$PKI/www.full.pem" --key "$W/www.key"
    assert_failure 10
    assert_output ""
    assert_equal "$(tree_sum "$CERTDIR")" "$before"
    # --dry-run leaves them alone.
    echo '{}' >"$CERTDIR/.state/www.json.tmp"
    run "$CERTCTL" --dry-run import www --cert "$PKI/www.full.pem" --key "$W/www.key"
    assert_failure 10
    [ -e "$CERTDIR/.state/www.json.tmp" ]
}

# ------------------------------------------- chains and keys (issue 16)

# verifies TRUST NAME: openssl, on its own, accepts NAME's live cert.pem
# with its chain.pem as the only untrusted certs and TRUST as the anchors.
verifies() {
    run openssl verify -purpose sslserver -CAfile "$1" \
        -untrusted "$CERTDIR/$2/chain.pem" "$CERTDIR/$2/cert.pem"
    assert_success
}

# trust_config FILE: certctl trusts FILE only.
trust_config() {
    printf 'certdir: %s\ntrust: %s\n' "$CERTDIR" "$1" >"$CONFIG"
}

@test "chains: of an expired and a renewed copy of the intermediate, the valid one goes live" {
    pki_ca "$PKI" inter-expired "certctl Test Intermediate" --parent root --expired \
        --key "$PKI/inter.key"
    pki_ca "$PKI" inter-future "certctl Test Intermediate" --parent root --not-yet-valid \
        --key "$PKI/inter.key"
    pki_leaf "$PKI" www
    # Whatever the order, dates decide; the stale copies are strays.
    cat "$PKI/www.crt" "$PKI/inter-expired.pem" "$PKI/inter-future.pem" "$PKI/inter.pem" \
        >"$W/stale-first.pem"
    run "$CERTCTL" import www --cert "$W/stale-first.pem" --key "$PKI/www.key"
    assert_success
    assert_live www 1 "$PKI/www.key" "$PKI/www.crt" "$PKI/inter.pem"
    verifies "$PKI/root.pem" www
    run "$CERTCTL" check www
    assert_success
}

@test "chains: an expired or not yet valid intermediate alone is refused" {
    # A first import: no live chain.pem holds a good copy of the issuer
    # (a renewal of a live set would take that one, which is right).
    pki_ca "$PKI" inter-expired2 "certctl Test Intermediate" --parent root --expired \
        --key "$PKI/inter.key"
    pki_ca "$PKI" inter-future2 "certctl Test Intermediate" --parent root --not-yet-valid \
        --key "$PKI/inter.key"
    pki_leaf "$PKI" renewed --san www --days 120
    cat "$PKI/renewed.crt" "$PKI/inter-expired2.pem" >"$W/expired.pem"
    cat "$PKI/renewed.crt" "$PKI/inter-future2.pem" >"$W/future.pem"
    refused 1 "expired on" import www --no-fetch --cert "$W/expired.pem" --key "$PKI/renewed.key"
    refused 1 "not yet valid" import www --no-fetch --cert "$W/future.pem" --key "$PKI/renewed.key"
    refused 1 "not yet valid" import --force www --no-fetch --cert "$W/future.pem" \
        --key "$PKI/renewed.key"
}

@test "chains: a cross-signed root: trusting the old root or the new one, the chain verifies" {
    # R1 is the test root; R2 a newer root that R1 cross-signs (R2x: same
    # name and key); I2 issues under R2.
    pki_ca "$PKI" r2 "certctl Cross Root"
    pki_ca "$PKI" r2x "certctl Cross Root" --parent root --key "$PKI/r2.key"
    pki_ca "$PKI" i2 "certctl Cross Intermediate" --parent r2
    pki_leaf "$PKI" www --issuer i2
    cat "$PKI/www.crt" "$PKI/i2.pem" "$PKI/r2x.pem" >"$W/cross.pem"
    # The bare R2 first must not hide the cross-sign from an R1-only client.
    cat "$PKI/www.crt" "$PKI/r2.pem" "$PKI/i2.pem" "$PKI/r2x.pem" >"$W/both.pem"
    for bundle in cross both; do
        for anchor in root r2; do
            rm -rf "$CERTDIR"
            mkdir -m 0755 "$CERTDIR"
            trust_config "$PKI/$anchor.pem"
            run "$CERTCTL" import www --no-fetch --cert "$W/$bundle.pem" --key "$PKI/www.key"
            assert_success
            verifies "$PKI/$anchor.pem" www
        done
    done
}

@test "chains: an expired cross-sign is dropped when the root it vouches for is trusted" {
    pki_ca "$PKI" r3 "certctl Cross Root 3"
    pki_ca "$PKI" r3x "certctl Cross Root 3" --parent root --key "$PKI/r3.key" --expired
    pki_ca "$PKI" i3 "certctl Cross Intermediate 3" --parent r3
    pki_leaf "$PKI" www --issuer i3
    cat "$PKI/root.pem" "$PKI/r3.pem" >"$W/anchors.pem"
    trust_config "$W/anchors.pem"
    cat "$PKI/www.crt" "$PKI/i3.pem" "$PKI/r3x.pem" >"$W/bundle.pem"
    run "$CERTCTL" import www --no-fetch --cert "$W/bundle.pem" --key "$PKI/www.key"
    assert_success
    assert_live www 1 "$PKI/www.key" "$PKI/www.crt" "$PKI/i3.pem"
    verifies "$PKI/r3.pem" www
    # With only the old root, nothing valid is left: refused.
    rm -rf "$CERTDIR"
    mkdir -m 0755 "$CERTDIR"
    trust_config "$PKI/root.pem"
    refused 1 "expired on" import www --no-fetch --cert "$W/bundle.pem" --key "$PKI/www.key"
}

@test "bad input: a key whose public half is not its private half's (EC P-256, P-384, RSA)" {
    local curve t
    for curve in P-256 P-384; do
        t=ec${curve#P-}
        openssl genpkey -algorithm EC -pkeyopt "ec_paramgen_curve:$curve" -out "$W/$t-a.key"
        openssl genpkey -algorithm EC -pkeyopt "ec_paramgen_curve:$curve" -out "$W/$t-b.key"
        # B's certificate; A's scalar with B's point "matches" it.
        pki_leaf "$PKI" "$t" --key "$W/$t-b.key"
        pki_bad_key "$W/$t-a.key" "$W/$t-bad.key" "$W/$t-b.key"
        run ! openssl pkey -in "$W/$t-bad.key" -check -noout
        refused 1 "inconsistent" import "$t" --cert "$PKI/$t.full.pem" --key "$W/$t-bad.key"
        # The same key in traditional (SEC1) form.
        openssl pkey -in "$W/$t-bad.key" -traditional -out "$W/$t-trad.key"
        refused 1 "inconsistent" import "$t" --cert "$PKI/$t.full.pem" --key "$W/$t-trad.key"
    done
    pki_leaf "$PKI" rsa --rsa 2048
    pki_bad_key "$PKI/rsa.key" "$W/rsa-bad.key"
    run ! openssl pkey -in "$W/rsa-bad.key" -check -noout
    refused 1 "inconsistent" import rsa --cert "$PKI/rsa.full.pem" --key "$W/rsa-bad.key"
    # A good key of each kind still goes live.
    run "$CERTCTL" import rsa --cert "$PKI/rsa.full.pem" --key "$PKI/rsa.key"
    assert_success
}

@test "bad input: keys certctl cannot make again are refused (Ed448, other curves, DSA, RSA-PSS, small RSA)" {
    local t
    openssl genpkey -algorithm ED448 -out "$W/ed448.key"
    openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:secp256k1 -out "$W/k1.key"
    openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:brainpoolP256r1 -out "$W/bp.key"
    openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-521 -out "$W/p521.key"
    openssl genpkey -algorithm RSA-PSS -pkeyopt rsa_keygen_bits:2048 -out "$W/pss.key"
    openssl genpkey -genparam -algorithm DSA -pkeyopt dsa_paramgen_bits:2048 -out "$W/dsa.param"
    openssl genpkey -paramfile "$W/dsa.param" -out "$W/dsa.key"
    for t in ed448 k1 bp p521 pss dsa; do
        pki_leaf "$PKI" "kt-$t" --key "$W/$t.key"
        refused 1 "keys are not supported" \
            import "kt-$t" --cert "$PKI/kt-$t.full.pem" --key "$W/$t.key"
    done
    pki_leaf "$PKI" kt-rsa1024 --rsa 1024
    refused 1 "at least 2048" import kt-rsa1024 --cert "$PKI/kt-rsa1024.full.pem" \
        --key "$PKI/kt-rsa1024.key"
}

@test "bad input: a DNS name with a NUL byte inside covers nothing and is refused" {
    write_config "certificates: {www: {domains: [www.example.com]}}"
    pki_leaf "$PKI" nul --san 'www.example.comX.evil.test'
    pki_patch_cert "$PKI" "$PKI/nul.crt" "$W/nul.crt" 'b"comX.evil"' 'b"com\x00.evil"'
    cat "$W/nul.crt" "$PKI/inter.pem" >"$W/nul.full.pem"
    run openssl verify -CAfile "$PKI/root.pem" -untrusted "$PKI/inter.pem" "$W/nul.crt"
    assert_success
    refused 1 "malformed DNS or IP name" import www --cert "$W/nul.full.pem" --key "$PKI/nul.key"
    # An iPAddress of 7 bytes likewise: it swallows the DNS name "a" after
    # it, so that no length around it changes.
    pki_leaf "$PKI" ip5 --san 'www.example.com,IP:192.0.2.1,a'
    pki_patch_cert "$PKI" "$PKI/ip5.crt" "$W/ip5.crt" 'b"\x87\x04\xc0\x00\x02\x01\x82\x01a"' \
        'b"\x87\x07\xc0\x00\x02\x01\x82\x01a"'
    cat "$W/ip5.crt" "$PKI/inter.pem" >"$W/ip5.full.pem"
    refused 1 "malformed DNS or IP name" import www --cert "$W/ip5.full.pem" --key "$PKI/ip5.key"
}
