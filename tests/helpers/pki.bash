# shellcheck shell=bash
#
# tests/helpers/pki.bash - a throwaway PKI for certctl's tests.
#
# Source this from bats files or shell scripts. Every certificate and key is
# made at test time with the openssl CLI into a directory the caller names;
# nothing secret is ever committed.
#
#   pki_init     DIR                          root + intermediate (and an
#                                             unrelated pair), DIR/trust.pem
#   pki_leaf     DIR NAME [OPTIONS...]        DIR/NAME.key, .crt, .chain.pem,
#                                             .full.pem
#   pki_csr_sign DIR CSR OUTCERT [OPTIONS...] sign a CSR with the intermediate
#   pki_ca       DIR NAME CN [OPTIONS...]     one more CA (dates, parent, key)
#   pki_bad_key  IN OUT [PUBFROM]             a key whose halves disagree
#   pki_patch_cert DIR IN OUT FROM TO [ISSUER]  edit a cert's bytes, re-sign
#   certdir_put  CERTDIR NAME KEY CERT CHAIN [GEN]
#                                             hand-built certdir (DESIGN.md s.3)
#   tree_sum     DIR                          stable listing of a whole tree
#
# Conventions: nothing is printed on success; on failure one line goes to
# stderr and the function returns 1. The library is safe under `set -u` and
# does not rely on `set -e` either way: every public function runs in a
# subshell (so umask, traps and variables never leak into the caller) and
# checks each step itself.
#
# Needs bash >= 4.4, OpenSSL >= 3.0 and GNU coreutils/findutils (date -d @N,
# sha256sum -z, find -printf). faketime is not used: arbitrary validity
# windows come from `openssl ca -startdate/-enddate`, which OpenSSL 3.0 has
# while `openssl x509 -req` only knows "-days from now".

# ---------------------------------------------------------------- internals

# One-line error on stderr, prefixed with the public function's name
# (_pki_fn is set by each entry point and seen here through dynamic scope).
# Returns 0 so callers can write `_pki_err ...; return 1` without tripping
# an ERR trap (bats installs one) on the message itself.
_pki_err() {
    printf '%s: %s\n' "${_pki_fn:-pki}" "$*" >&2
}

# _pki_run WHAT CMD... - run CMD with its output captured. openssl talks on
# stderr even when it succeeds, so keep quiet unless it fails; then report the
# first error line (openssl's "...:error:..." or one starting with "error")
# or else the last line as the reason. Lines that merely contain the word
# (a path under a test named "error ...") must not win.
_pki_run() {
    local what=$1 out line first_err='' last=''
    shift
    if out=$("$@" 2>&1 </dev/null); then
        return 0
    fi
    while IFS= read -r line; do
        [[ -n $line ]] || continue
        last=$line
        if [[ -z $first_err &&
            ($line == *:error:* || ${line,,} == error*) ]]; then
            first_err=$line
        fi
    done <<<"$out"
    line=${first_err:-${last:-no output}}
    # Drop openssl's "<thread id>:error:<code>:" prefix; the rest is the news.
    if [[ $line =~ ^[0-9A-F]+:error:[0-9A-F]+:(.*)$ ]]; then
        line=${BASH_REMATCH[1]}
    fi
    _pki_err "$what failed: $line"
    return 1
}

# _pki_cnf_quote VAR STRING - set VAR to STRING escaped for an openssl config
# value. The config parser expands $var, strips "quotes" and # comments, so
# every non-alphanumeric character gets a backslash (letters never do: \n,
# \r, \t and \b mean something there).
_pki_cnf_quote() {
    local _s=$2 _o='' _c _i
    for ((_i = 0; _i < ${#_s}; _i++)); do
        _c=${_s:_i:1}
        [[ $_c == [A-Za-z0-9] ]] || _o+=\\
        _o+=$_c
    done
    printf -v "$1" '%s' "$_o"
}

# _pki_subj VAR CN - set VAR to a -subj argument carrying CN, escaping the
# characters the -subj parser treats specially.
_pki_subj() {
    local _cn=$2
    _cn=${_cn//\\/\\\\}
    _cn=${_cn//\//\\/}
    _cn=${_cn//+/\\+}
    printf -v "$1" '/CN=%s' "$_cn"
}

# _pki_date VAR EPOCH - set VAR to EPOCH as a UTC GeneralizedTime string for
# openssl ca (which re-encodes it as UTCTime before 2050, as RFC 5280 wants).
_pki_date() {
    local _d
    if ! _d=$(date -u -d "@$2" +%Y%m%d%H%M%SZ 2>/dev/null); then
        _pki_err "date -d @$2 failed (GNU date needed)"
        return 1
    fi
    printf -v "$1" '%s' "$_d"
}

# _pki_now VAR - current time in seconds since the epoch.
_pki_now() {
    local _n=${EPOCHSECONDS-}
    if [[ -z $_n ]] && ! _n=$(date +%s); then
        _pki_err "date failed"
        return 1
    fi
    printf -v "$1" '%s' "$_n"
}

# _pki_rand_serial VAR - 16 random bytes as hex: unique enough that tests never
# see two certs share an issuer and serial.
_pki_rand_serial() {
    local _s
    if ! _s=$(od -An -tx1 -N16 /dev/urandom); then
        _pki_err "cannot read /dev/urandom"
        return 1
    fi
    _s=${_s//[!0-9a-f]/}
    printf -v "$1" '%s' "$_s"
}

# _pki_genkey OUT TYPE [BITS] - new private key, PEM PKCS#8 (genpkey's form).
_pki_genkey() {
    local out=$1 type=$2 bits=${3-}
    case $type in
        ec)
            _pki_run "EC key generation" openssl genpkey -algorithm EC \
                -pkeyopt ec_paramgen_curve:P-256 -out "$out"
            ;;
        rsa)
            _pki_run "RSA-$bits key generation" openssl genpkey -algorithm RSA \
                -pkeyopt "rsa_keygen_bits:$bits" -out "$out"
            ;;
        ed25519)
            _pki_run "Ed25519 key generation" openssl genpkey \
                -algorithm ED25519 -out "$out"
            ;;
        *)
            _pki_err "unknown key type $type"
            return 1
            ;;
    esac
}

# _pki_req WORK KEY SUBJ OUT - a CSR for KEY. Our own tiny config keeps the
# system openssl.cnf (req_extensions and the like) out of the result.
_pki_req() {
    local work=$1 key=$2 subj=$3 out=$4
    if [[ ! -e $work/req.cnf ]] &&
        ! printf '[ req ]\ndistinguished_name = dn\n[ dn ]\n' \
            >"$work/req.cnf"; then
        _pki_err "cannot write $work/req.cnf"
        return 1
    fi
    _pki_run "openssl req" openssl req -new -config "$work/req.cnf" \
        -key "$key" -subj "$subj" -out "$out"
}

# _pki_ca WORK CSR OUT NOTBEFORE NOTAFTER DIGEST SERIAL COPYEXT EXTTEXT ARGS...
#
# Issue a certificate with `openssl ca`, the one CLI path in OpenSSL 3.0 that
# takes an arbitrary notBefore/notAfter. Each call gets a fresh database, so
# serials and subjects never clash between calls. NOTBEFORE/NOTAFTER are epoch
# seconds; EXTTEXT is the body of the [ ext ] section and may open further
# sections (SAN lists etc.) after it; COPYEXT is copy_extensions (none|copy).
# ARGS carry the issuer (-cert/-keyfile, or -selfsign -keyfile) and the DN
# handling (-subj or -preserveDN).
_pki_ca() {
    local work=$1 csr=$2 out=$3 nbe=$4 nae=$5 md=$6 serial=$7 copy=$8 ext=$9
    local db nb na q
    shift 9
    _pki_date nb "$nbe" || return 1
    _pki_date na "$nae" || return 1
    if ! db=$(mktemp -d "$work/ca.XXXXXX" 2>/dev/null); then
        _pki_err "mktemp in $work failed"
        return 1
    fi
    _pki_cnf_quote q "$db"
    if ! : >"$db/index.txt" || ! printf '%s\n' "$serial" >"$db/serial" ||
        ! cat >"$db/ca.cnf" <<EOF; then
[ ca ]
default_ca = test_ca

[ test_ca ]
database = $q/index.txt
new_certs_dir = $q
serial = $q/serial
unique_subject = no
email_in_dn = no
default_md = sha256
policy = policy_any
copy_extensions = $copy

[ policy_any ]
commonName = optional

[ ext ]
$ext
EOF
        _pki_err "cannot write the CA config in $db"
        return 1
    fi
    _pki_run "openssl ca" openssl ca -batch -notext -config "$db/ca.cnf" \
        -extensions ext -in "$csr" -out "$out" -startdate "$nb" -enddate "$na" \
        -md "$md" "$@"
}

# _pki_make_ca WORK NAME CN PARENT NOW - NAME.key/NAME.pem in WORK. Without a
# PARENT it is a self-signed root, else a pathlen:0 intermediate under it.
# CAs are backdated a year so that leaves with a past notBefore (--expired)
# still nest inside their issuer's validity and fail for one reason only.
_pki_make_ca() {
    local work=$1 name=$2 cn=$3 parent=$4 now=$5 subj serial ext
    _pki_subj subj "$cn"
    _pki_genkey "$work/$name.key" ec || return 1
    _pki_req "$work" "$work/$name.key" "$subj" "$work/$name.csr" || return 1
    _pki_rand_serial serial || return 1
    if [[ -z $parent ]]; then
        ext='basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash'
        _pki_ca "$work" "$work/$name.csr" "$work/$name.pem" \
            $((now - 365 * 86400)) $((now + 3650 * 86400)) sha256 "$serial" \
            none "$ext" -selfsign -keyfile "$work/$name.key" -subj "$subj"
    else
        ext='basicConstraints = critical, CA:TRUE, pathlen:0
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always'
        _pki_ca "$work" "$work/$name.csr" "$work/$name.pem" \
            $((now - 365 * 86400)) $((now + 3650 * 86400)) sha256 "$serial" \
            none "$ext" -cert "$work/$parent.pem" -keyfile "$work/$parent.key" \
            -subj "$subj"
    fi
}

# Options shared by pki_leaf and pki_csr_sign. _pki_opt "$@" looks at $1 (and
# its value) and sets the caller's option variables through dynamic scope;
# _pki_used says how many words it took (0: not one of ours).
# shellcheck disable=SC2154 # o_now comes from the caller
_pki_opt() {
    _pki_used=0
    case $1 in
        --days | --hours | --serial | --issuer | --ocsp | --ca-issuers | --crl)
            if (($# < 2)); then
                _pki_err "$1 needs a value"
                return 1
            fi
            ;;
    esac
    case $1 in
        --days | --hours)
            if [[ ! $2 =~ ^[0-9]+$ ]]; then
                _pki_err "$1 wants a whole number, got '$2'"
                return 1
            fi
            o_nb=$((o_now - 3600))
            if [[ $1 == --days ]]; then
                o_na=$((o_now + 10#$2 * 86400))
            else
                o_na=$((o_now + 10#$2 * 3600))
            fi
            _pki_used=2
            ;;
        --expired)
            o_nb=$((o_now - 100 * 86400)) o_na=$((o_now - 10 * 86400))
            _pki_used=1
            ;;
        --not-yet-valid)
            o_nb=$((o_now + 10 * 86400)) o_na=$((o_now + 100 * 86400))
            _pki_used=1
            ;;
        --sha1)
            o_md=sha1 _pki_used=1
            ;;
        --serial)
            if [[ ! $2 =~ ^[0-9A-Fa-f]+$ ]]; then
                _pki_err "--serial wants hex digits, got '$2'"
                return 1
            fi
            # openssl's serial file must hold whole bytes.
            o_serial=$2
            if ((${#o_serial} % 2)); then o_serial=0$o_serial; fi
            _pki_used=2
            ;;
        --issuer)
            # root, inter, other-root, other-inter or a pki_ca NAME.
            if [[ ! $2 =~ ^[A-Za-z0-9_-]+$ ]]; then
                _pki_err "--issuer wants a CA name, got '$2'"
                return 1
            fi
            o_issuer=$2 _pki_used=2
            ;;
        --must-staple)
            o_staple=1 _pki_used=1
            ;;
        --window)
            # --window FROM TO: seconds from now (negative: in the past).
            if (($# < 3)) || [[ ! $2 =~ ^-?[0-9]+$ || ! $3 =~ ^-?[0-9]+$ ]]; then
                _pki_err "--window wants two whole numbers of seconds from now"
                return 1
            fi
            o_nb=$((o_now + $2)) o_na=$((o_now + $3)) _pki_used=3
            ;;
        --ocsp) o_ocsp=$2 _pki_used=2 ;;
        --ca-issuers) o_cai=$2 _pki_used=2 ;;
        --crl) o_crl=$2 _pki_used=2 ;;
    esac
    return 0
}

# _pki_leaf_ext VAR - the leaf profile from the o_* option variables and the
# SAN list in o_san (comma separated; "IP:" marks an IP address, anything
# else is a DNS name; an empty list leaves the extension out).
_pki_leaf_ext() {
    local _e _sect='' _q _item _n=0 _items
    _e='basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always'
    if [[ -n ${o_san-} ]]; then
        IFS=, read -r -a _items <<<"$o_san"
        for _item in "${_items[@]}"; do
            _item=${_item#"${_item%%[![:space:]]*}"}
            _item=${_item%"${_item##*[![:space:]]}"}
            [[ -n $_item ]] || continue
            _n=$((_n + 1))
            if [[ $_item == IP:* ]]; then
                _pki_cnf_quote _q "${_item#IP:}"
                _sect+=$'\n'"IP.$_n = $_q"
            else
                _pki_cnf_quote _q "${_item#DNS:}"
                _sect+=$'\n'"DNS.$_n = $_q"
            fi
        done
        if ((_n > 0)); then
            _e+=$'\nsubjectAltName = @san'
            _sect=$'\n[ san ]'"$_sect"
        fi
    fi
    if [[ -n ${o_staple-} ]]; then
        # TLS Feature (RFC 7633) status_request: DER 30:03:02:01:05.
        _e+=$'\ntlsfeature = status_request'
    fi
    if [[ -n ${o_ocsp-}${o_cai-} ]]; then
        _e+=$'\nauthorityInfoAccess = @aia'
        _sect+=$'\n[ aia ]'
        if [[ -n ${o_ocsp-} ]]; then
            _pki_cnf_quote _q "$o_ocsp"
            _sect+=$'\n'"OCSP;URI.0 = $_q"
        fi
        if [[ -n ${o_cai-} ]]; then
            _pki_cnf_quote _q "$o_cai"
            _sect+=$'\n'"caIssuers;URI.0 = $_q"
        fi
    fi
    if [[ -n ${o_crl-} ]]; then
        _pki_cnf_quote _q "$o_crl"
        _e+=$'\ncrlDistributionPoints = @crldp'
        _sect+=$'\n[ crldp ]\n'"URI.0 = $_q"
    fi
    printf -v "$1" '%s%s' "$_e" "$_sect"
}

# _pki_tmp DIR - print the name of a new private scratch directory inside DIR
# (same filesystem, so results can be renamed into place).
_pki_tmp() {
    if ! mktemp -d "$1/.pki.XXXXXX" 2>/dev/null; then
        _pki_err "mktemp in $1 failed"
        return 1
    fi
}

# ---------------------------------------------------------------- public API

# pki_init DIR
#
# DIR/root.{pem,key}         "certctl Test Root", self-signed
# DIR/inter.{pem,key}        "certctl Test Intermediate", CA:TRUE pathlen:0
# DIR/other-root.{pem,key}   "certctl Other Root", unrelated to the first
# DIR/other-inter.{pem,key}  "certctl Other Intermediate", under other-root
# DIR/trust.pem              root.pem only: the trust file to give certctl
#
# EC P-256 keys, SHA-256 signatures, valid from a year ago for ten years.
# Does nothing when DIR/root.pem exists. root.pem is renamed into place last,
# so a half-finished run is redone rather than trusted.
pki_init() (
    _pki_fn=pki_init
    dir=${1-}
    if [[ -z $dir || $# -ne 1 ]]; then
        _pki_err "usage: pki_init DIR"
        return 1
    fi
    [[ ! -e $dir/root.pem ]] || return 0
    if ! mkdir -p -- "$dir" 2>/dev/null; then
        _pki_err "cannot create $dir"
        return 1
    fi
    # Parallel tests may share one DIR: serialise creators, then look again.
    if command -v flock >/dev/null; then
        if ! exec {lockfd}>"$dir/.pki.lock" ||
            ! flock "$lockfd" 2>/dev/null; then
            _pki_err "cannot lock $dir/.pki.lock"
            return 1
        fi
        [[ ! -e $dir/root.pem ]] || return 0
    fi
    umask 077
    tmp=$(_pki_tmp "$dir") || return 1
    printf -v qtmp '%q' "$tmp"
    # shellcheck disable=SC2064 # expand now: the path is fixed from here on
    trap "rm -rf -- $qtmp" EXIT
    _pki_now now || return 1
    _pki_make_ca "$tmp" root "certctl Test Root" "" "$now" || return 1
    _pki_make_ca "$tmp" inter "certctl Test Intermediate" root \
        "$now" || return 1
    _pki_make_ca "$tmp" other-root "certctl Other Root" "" "$now" || return 1
    _pki_make_ca "$tmp" other-inter "certctl Other Intermediate" other-root \
        "$now" || return 1
    if ! cp -- "$tmp/root.pem" "$tmp/trust.pem" 2>/dev/null ||
        ! chmod 0644 "$tmp"/*.pem 2>/dev/null; then
        _pki_err "cannot write $tmp/trust.pem"
        return 1
    fi
    for f in inter.key inter.pem other-root.key other-root.pem \
        other-inter.key other-inter.pem trust.pem root.key root.pem; do
        if ! mv -f -- "$tmp/$f" "$dir/$f" 2>/dev/null; then
            _pki_err "cannot move $f into $dir"
            return 1
        fi
    done
)

# pki_leaf DIR NAME [OPTIONS...]
#
# Writes DIR/NAME.key (PEM PKCS#8, mode 0600), DIR/NAME.crt (leaf only),
# DIR/NAME.chain.pem (the issuing intermediate; empty under a root) and
# DIR/NAME.full.pem (leaf + chain), replacing any earlier NAME.* set.
# Runs pki_init DIR first if needed.
#
# Default: EC P-256 key, issued by the intermediate with SHA-256, valid from
# now-1h to now+90d, CN=NAME, SAN DNS:NAME, keyUsage digitalSignature,
# extendedKeyUsage serverAuth, random 128-bit serial.
#
#   --san a,b,c       SAN list instead of NAME ("IP:1.2.3.4" for an address;
#                     --san '' leaves the SAN extension out altogether)
#   --cn CN           subject CN instead of NAME
#   --days N          valid now-1h .. now+N days
#   --hours N         valid now-1h .. now+N hours
#   --expired         valid now-100d .. now-10d
#   --not-yet-valid   valid now+10d .. now+100d
#   --window FROM TO  valid now+FROM .. now+TO (seconds, negative: past)
#   --sha1            SHA-1 signature (ecdsa-with-SHA1: the issuers are EC)
#   --rsa BITS        RSA key of BITS bits
#   --ed25519         Ed25519 key
#   --key FILE        reuse this private key (copied to DIR/NAME.key)
#   --must-staple     TLS Feature status_request (1.3.6.1.5.5.7.1.24)
#   --ocsp URL        authorityInfoAccess OCSP
#   --ca-issuers URL  authorityInfoAccess caIssuers
#   --crl URL         crlDistributionPoints
#   --issuer WHO      root, inter (default), other-root, other-inter or a
#                     CA made by pki_ca (its certificate is the chain)
#   --serial HEX      explicit serial
# Later validity options override earlier ones.
pki_leaf() (
    _pki_fn=pki_leaf
    dir=${1-} name=${2-}
    if [[ -z $dir || -z $name ]]; then
        _pki_err "usage: pki_leaf DIR NAME [OPTIONS...]"
        return 1
    fi
    if [[ $name == */* || $name == . || $name == .. ]]; then
        _pki_err "bad NAME '$name'"
        return 1
    fi
    shift 2
    _pki_now o_now || return 1
    o_nb=$((o_now - 3600)) o_na=$((o_now + 90 * 86400)) o_md=sha256
    o_serial='' o_issuer=inter o_staple='' o_ocsp='' o_cai='' o_crl=''
    o_san=$name
    cn=$name keytype=ec bits='' keyfile=''
    while (($#)); do
        _pki_opt "$@" || return 1
        if ((_pki_used)); then
            shift "$_pki_used"
            continue
        fi
        case $1 in
            --san | --cn | --rsa | --key)
                if (($# < 2)); then
                    _pki_err "$1 needs a value"
                    return 1
                fi
                ;;
        esac
        case $1 in
            --san) o_san=$2 && shift 2 ;;
            --cn) cn=$2 && shift 2 ;;
            --rsa)
                if [[ ! $2 =~ ^[1-9][0-9]*$ ]]; then
                    _pki_err "--rsa wants a bit count, got '$2'"
                    return 1
                fi
                keytype=rsa bits=$2
                shift 2
                ;;
            --ed25519) keytype=ed25519 && shift ;;
            --key) keyfile=$2 && shift 2 ;;
            *)
                _pki_err "unknown option '$1'"
                return 1
                ;;
        esac
    done
    if [[ -n $keyfile && ! ( -f $keyfile && -r $keyfile ) ]]; then
        _pki_err "cannot read key file $keyfile"
        return 1
    fi
    if [[ -n $keyfile && $keytype != ec ]]; then
        _pki_err "--key cannot be combined with --rsa or --ed25519"
        return 1
    fi
    pki_init "$dir" || return 1
    umask 077
    tmp=$(_pki_tmp "$dir") || return 1
    printf -v qtmp '%q' "$tmp"
    # shellcheck disable=SC2064 # expand now: the path is fixed from here on
    trap "rm -rf -- $qtmp" EXIT

    if [[ -n $keyfile ]]; then
        # Through `openssl pkey` so the copy is PKCS#8 PEM whatever came in.
        _pki_run "reading --key $keyfile" openssl pkey -in "$keyfile" \
            -out "$tmp/key.pem" || return 1
    else
        _pki_genkey "$tmp/key.pem" "$keytype" "$bits" || return 1
    fi
    _pki_subj subj "$cn"
    _pki_req "$tmp" "$tmp/key.pem" "$subj" "$tmp/req.pem" || return 1
    [[ -n $o_serial ]] || _pki_rand_serial o_serial || return 1
    _pki_leaf_ext ext
    _pki_ca "$tmp" "$tmp/req.pem" "$tmp/cert.pem" "$o_nb" "$o_na" "$o_md" \
        "$o_serial" none "$ext" -cert "$dir/$o_issuer.pem" \
        -keyfile "$dir/$o_issuer.key" -subj "$subj" || return 1

    case $o_issuer in
        root | other-root) chain=/dev/null ;;
        *) chain=$dir/$o_issuer.pem ;;
    esac
    if ! cat -- "$chain" >"$tmp/chain.pem" 2>/dev/null ||
        ! cat -- "$tmp/cert.pem" "$tmp/chain.pem" 2>/dev/null \
            >"$tmp/full.pem" ||
        ! chmod 0644 "$tmp/cert.pem" "$tmp/chain.pem" "$tmp/full.pem" \
            2>/dev/null; then
        _pki_err "cannot assemble the chain files in $tmp"
        return 1
    fi
    for pair in key.pem:key cert.pem:crt chain.pem:chain.pem \
        full.pem:full.pem; do
        if ! mv -f -- "$tmp/${pair%%:*}" "$dir/$name.${pair#*:}" \
            2>/dev/null; then
            _pki_err "cannot move $name.${pair#*:} into $dir"
            return 1
        fi
    done
)

# pki_csr_sign DIR CSRFILE OUTCERT [OPTIONS...]
#
# Signs CSRFILE with the intermediate into OUTCERT (leaf only): now-1h to
# now+90d, keyUsage digitalSignature, serverAuth, SHA-256, the CSR's subject
# kept as it is. Extensions the CSR asks for are copied unless the profile
# already sets them, so its SAN comes through (and so does a must-staple
# request, as with a real ACME CA), but it cannot make itself a CA.
# Options: --days N, --hours N, --expired, --not-yet-valid, --sha1,
# --serial HEX, --issuer WHO, --must-staple, --ocsp URL, --ca-issuers URL,
# --crl URL, as for pki_leaf. Runs pki_init DIR first if needed.
pki_csr_sign() (
    _pki_fn=pki_csr_sign
    dir=${1-} csr=${2-} out=${3-}
    if [[ -z $dir || -z $csr || -z $out ]]; then
        _pki_err "usage: pki_csr_sign DIR CSRFILE OUTCERT [--days N]"
        return 1
    fi
    shift 3
    if [[ ! -f $csr || ! -r $csr ]]; then
        _pki_err "cannot read CSR file $csr"
        return 1
    fi
    _pki_now o_now || return 1
    o_nb=$((o_now - 3600)) o_na=$((o_now + 90 * 86400)) o_md=sha256
    o_serial='' o_issuer=inter o_staple='' o_ocsp='' o_cai='' o_crl='' o_san=''
    while (($#)); do
        _pki_opt "$@" || return 1
        if ((_pki_used == 0)); then
            _pki_err "unknown option '$1'"
            return 1
        fi
        shift "$_pki_used"
    done
    pki_init "$dir" || return 1
    tmp=$(_pki_tmp "$dir") || return 1
    printf -v qtmp '%q' "$tmp"
    # shellcheck disable=SC2064 # expand now: the path is fixed from here on
    trap "rm -rf -- $qtmp" EXIT
    [[ -n $o_serial ]] || _pki_rand_serial o_serial || return 1
    _pki_leaf_ext ext
    _pki_ca "$tmp" "$csr" "$tmp/cert.pem" "$o_nb" "$o_na" "$o_md" \
        "$o_serial" copy "$ext" -cert "$dir/$o_issuer.pem" \
        -keyfile "$dir/$o_issuer.key" -preserveDN || return 1
    if ! chmod 0644 "$tmp/cert.pem" 2>/dev/null ||
        ! mv -f -- "$tmp/cert.pem" "$out" 2>/dev/null; then
        _pki_err "cannot write $out"
        return 1
    fi
)

# pki_ca DIR NAME CN [OPTIONS...]
#
# DIR/NAME.{pem,key}: a CA certificate (CA:TRUE without a path length, so
# it may stand in a cross-signed path), valid from a year ago for ten years.
#   --parent WHO      issued by DIR/WHO.{pem,key} (default: self-signed)
#   --key FILE        reuse this key: a renewed or cross-signed copy of a CA
#                     has the same name and key
#   --days N, --expired, --not-yet-valid   validity, as for pki_leaf
# Runs pki_init DIR first if needed.
pki_ca() (
    _pki_fn=pki_ca
    dir=${1-} name=${2-} cn=${3-}
    if [[ -z $dir || ! $name =~ ^[A-Za-z0-9_-]+$ || -z $cn ]]; then
        _pki_err "usage: pki_ca DIR NAME CN [OPTIONS...]"
        return 1
    fi
    shift 3
    _pki_now o_now || return 1
    o_nb=$((o_now - 365 * 86400)) o_na=$((o_now + 3650 * 86400))
    parent='' keyfile=''
    while (($#)); do
        _pki_opt "$@" || return 1
        if ((_pki_used)); then
            shift "$_pki_used"
            continue
        fi
        case $1 in
            --parent | --key)
                if (($# < 2)); then
                    _pki_err "$1 needs a value"
                    return 1
                fi
                [[ $1 == --parent ]] && parent=$2 || keyfile=$2
                shift 2
                ;;
            *)
                _pki_err "unknown option '$1'"
                return 1
                ;;
        esac
    done
    pki_init "$dir" || return 1
    umask 077
    tmp=$(_pki_tmp "$dir") || return 1
    printf -v qtmp '%q' "$tmp"
    # shellcheck disable=SC2064 # expand now: the path is fixed from here on
    trap "rm -rf -- $qtmp" EXIT
    if [[ -n $keyfile ]]; then
        cp -- "$keyfile" "$tmp/key.pem" 2>/dev/null || {
            _pki_err "cannot read key file $keyfile"
            return 1
        }
    else
        _pki_genkey "$tmp/key.pem" ec || return 1
    fi
    _pki_subj subj "$cn"
    _pki_req "$tmp" "$tmp/key.pem" "$subj" "$tmp/req.pem" || return 1
    _pki_rand_serial serial || return 1
    ext='basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash'
    if [[ -z $parent ]]; then
        signer=(-selfsign -keyfile "$tmp/key.pem")
    else
        ext+=$'\nauthorityKeyIdentifier = keyid:always'
        signer=(-cert "$dir/$parent.pem" -keyfile "$dir/$parent.key")
    fi
    _pki_ca "$tmp" "$tmp/req.pem" "$tmp/cert.pem" "$o_nb" "$o_na" sha256 \
        "$serial" none "$ext" "${signer[@]}" -subj "$subj" || return 1
    if ! chmod 0644 "$tmp/cert.pem" 2>/dev/null ||
        ! mv -f -- "$tmp/key.pem" "$dir/$name.key" 2>/dev/null ||
        ! mv -f -- "$tmp/cert.pem" "$dir/$name.pem" 2>/dev/null; then
        _pki_err "cannot move $name into $dir"
        return 1
    fi
)

# pki_bad_key IN OUT [PUBFROM]
#
# OUT: the PKCS#8 PEM key IN with its halves out of step, as a corrupted or
# forged file has them. EC: the private scalar of IN with the public point
# of PUBFROM (a key on the same curve), so that OUT still "matches" a
# certificate for PUBFROM. RSA: IN with one bit of its CRT coefficient
# (qInv, the last field of the DER) flipped.
pki_bad_key() (
    _pki_fn=pki_bad_key
    in=${1-} out=${2-} from=${3-}
    if [[ -z $in || -z $out ]]; then
        _pki_err "usage: pki_bad_key IN OUT [PUBFROM]"
        return 1
    fi
    tmp=$(mktemp -d "${TMPDIR:-/tmp}/pki_bad_key.XXXXXX") || return 1
    printf -v qtmp '%q' "$tmp"
    # shellcheck disable=SC2064 # expand now: the path is fixed from here on
    trap "rm -rf -- $qtmp" EXIT
    _pki_run "reading $in" openssl pkcs8 -topk8 -nocrypt -in "$in" \
        -outform DER -out "$tmp/key.der" || return 1
    : >"$tmp/pub.der"
    if [[ -n $from ]]; then
        _pki_run "reading $from" openssl pkey -in "$from" -pubout \
            -outform DER -out "$tmp/pub.der" || return 1
    fi
    # The EC point ends both DERs (SubjectPublicKeyInfo, and the
    # ECPrivateKey's [1] publicKey inside the PKCS#8 key).
    _pki_run "patching $in" python3 -c '
import base64, sys
key = bytearray(open(sys.argv[1], "rb").read())
pub = open(sys.argv[2], "rb").read()
if pub:
    n = {91: 65, 120: 97}[len(pub)]
    key[-n:] = pub[-n:]
else:
    key[-1] ^= 1
b64 = base64.encodebytes(bytes(key)).decode().replace("\n", "")
lines = [b64[i:i + 64] for i in range(0, len(b64), 64)]
open(sys.argv[3], "w").write("-----BEGIN PRIVATE KEY-----\n" + "\n".join(lines) +
                             "\n-----END PRIVATE KEY-----\n")
' "$tmp/key.der" "$tmp/pub.der" "$out"
)

# pki_patch_cert DIR IN OUT FROM TO [ISSUER]
#
# OUT: the PEM certificate IN with the bytes FROM replaced by TO (python3
# bytes literals, same length: b"www.example.comX" b"www.example.com\x00")
# inside the signed part, signed again by DIR/ISSUER (default inter), so
# that it verifies: certificates no openssl config can write.
pki_patch_cert() (
    _pki_fn=pki_patch_cert
    dir=${1-} in=${2-} out=${3-} from=${4-} to=${5-} issuer=${6-inter}
    if [[ -z $dir || -z $in || -z $out || -z $from || -z $to ]]; then
        _pki_err "usage: pki_patch_cert DIR IN OUT FROM TO [ISSUER]"
        return 1
    fi
    tmp=$(mktemp -d "${TMPDIR:-/tmp}/pki_patch.XXXXXX") || return 1
    printf -v qtmp '%q' "$tmp"
    # shellcheck disable=SC2064 # expand now: the path is fixed from here on
    trap "rm -rf -- $qtmp" EXIT
    _pki_run "reading $in" openssl x509 -in "$in" -outform DER \
        -out "$tmp/in.der" || return 1
    # DER: Certificate = SEQUENCE { tbs, signatureAlgorithm, BIT STRING }.
    cat >"$tmp/der.py" <<'PY'
import sys
def elem(b, i):
    n = b[i + 1]; h = 2
    if n & 0x80:
        k = n & 0x7f; n = int.from_bytes(b[i + 2:i + 2 + k], "big"); h += k
    return i + h, i + h + n
def hdr(tag, n):
    if n < 0x80:
        return bytes([tag, n])
    k = (n.bit_length() + 7) // 8
    return bytes([tag, 0x80 | k]) + n.to_bytes(k, "big")
PY
    _pki_run "patching $in" python3 -c '
import sys; exec(open(sys.argv[1]).read())
cert = open(sys.argv[2], "rb").read()
frm, to = eval(sys.argv[3]), eval(sys.argv[4])
assert len(frm) == len(to) and frm in cert
body, _ = elem(cert, 0)
_, tbs_end = elem(cert, body)
_, alg_end = elem(cert, tbs_end)
open(sys.argv[5], "wb").write(cert[body:tbs_end].replace(frm, to))
open(sys.argv[6], "wb").write(cert[tbs_end:alg_end])
' "$tmp/der.py" "$tmp/in.der" "$from" "$to" "$tmp/tbs.der" "$tmp/alg.der" ||
        return 1
    _pki_run "signing" openssl dgst -sha256 -sign "$dir/$issuer.key" \
        -out "$tmp/sig.der" "$tmp/tbs.der" || return 1
    _pki_run "assembling $out" python3 -c '
import sys, base64; exec(open(sys.argv[1]).read())
tbs, alg, sig = (open(f, "rb").read() for f in sys.argv[2:5])
inner = tbs + alg + hdr(0x03, len(sig) + 1) + b"\0" + sig
der = hdr(0x30, len(inner)) + inner
b64 = base64.encodebytes(der).decode().replace("\n", "")
open(sys.argv[5], "w").write("-----BEGIN CERTIFICATE-----\n" +
    "\n".join(b64[i:i + 64] for i in range(0, len(b64), 64)) +
    "\n-----END CERTIFICATE-----\n")
' "$tmp/der.py" "$tmp/tbs.der" "$tmp/alg.der" "$tmp/sig.der" "$out"
)

# certdir_put CERTDIR NAME KEY CERT CHAIN [GEN]
#
# Builds by hand what an install leaves behind (DESIGN.md section 3):
#   CERTDIR/                        0755
#   CERTDIR/.live/NAME.gNNNN/       privkey.pem 0600; cert.pem, chain.pem,
#                                   fullchain.pem (cert + chain) 0644
#   CERTDIR/NAME -> .live/NAME.gNNNN
#   CERTDIR/NAME.key, .crt, .chain.crt, .chained.crt, .ocsp -> into NAME/
# GEN defaults to 1 and is zero-padded to four digits. CHAIN "" gives an
# empty chain.pem. No ocsp.der is written, so NAME.ocsp dangles until a
# test puts one there. Existing links are replaced; an existing generation
# directory is an error (generations are never rewritten).
certdir_put() (
    _pki_fn=certdir_put
    if (($# < 5 || $# > 6)); then
        _pki_err "usage: certdir_put CERTDIR NAME KEY CERT CHAIN [GEN]"
        return 1
    fi
    certdir=$1 name=$2 key=$3 cert=$4 chain=$5 gen=${6-1}
    if [[ -z $certdir || -z $name || $name == */* || $name == . ||
        $name == .. ]]; then
        _pki_err "bad CERTDIR or NAME '$name'"
        return 1
    fi
    if [[ ! $gen =~ ^[0-9]{1,4}$ ]]; then
        _pki_err "GEN must be 0..9999, got '$gen'"
        return 1
    fi
    printf -v g '%04d' "$((10#$gen))"
    live=.live/$name.g$g
    gdir=$certdir/$live
    if [[ -e $gdir || -L $gdir ]]; then
        _pki_err "$gdir already exists"
        return 1
    fi
    if [[ -e $certdir/$name && ! -L $certdir/$name ]]; then
        _pki_err "$certdir/$name exists and is not a symlink"
        return 1
    fi
    for f in "$key" "$cert" ${chain:+"$chain"}; do
        if [[ ! -r $f || -d $f ]]; then
            _pki_err "cannot read $f"
            return 1
        fi
    done
    umask 022
    if ! mkdir -p -- "$certdir/.live" 2>/dev/null ||
        ! chmod 0755 "$certdir" "$certdir/.live" 2>/dev/null ||
        ! mkdir -m 0755 -- "$gdir" 2>/dev/null; then
        _pki_err "cannot create $gdir"
        return 1
    fi
    # The key gets its final mode from the umask before any byte lands.
    if ! (umask 077 && cp -- "$key" "$gdir/privkey.pem") 2>/dev/null ||
        ! chmod 0600 "$gdir/privkey.pem" 2>/dev/null; then
        _pki_err "cannot copy key $key"
        return 1
    fi
    if ! cp -- "$cert" "$gdir/cert.pem" 2>/dev/null; then
        _pki_err "cannot copy cert $cert"
        return 1
    fi
    if [[ -z $chain ]]; then
        chain=/dev/null
    fi
    if ! cat -- "$chain" >"$gdir/chain.pem" 2>/dev/null; then
        _pki_err "cannot copy chain $chain"
        return 1
    fi
    if ! cat -- "$gdir/cert.pem" "$gdir/chain.pem" 2>/dev/null \
        >"$gdir/fullchain.pem" ||
        ! chmod 0644 "$gdir/cert.pem" "$gdir/chain.pem" \
            "$gdir/fullchain.pem" 2>/dev/null; then
        _pki_err "cannot write $gdir/fullchain.pem"
        return 1
    fi
    # -n: replace a NAME link to a directory instead of descending into it.
    for link in "$name:$live" "$name.key:$name/privkey.pem" \
        "$name.crt:$name/cert.pem" "$name.chain.crt:$name/chain.pem" \
        "$name.chained.crt:$name/fullchain.pem" "$name.ocsp:$name/ocsp.der"; do
        if ! ln -sfn -- "${link#*:}" "$certdir/${link%%:*}" 2>/dev/null; then
            _pki_err "cannot link $certdir/${link%%:*}"
            return 1
        fi
    done
)

# tree_sum DIR
#
# Prints one line per entry under DIR (DIR itself is "."), sorted:
#   PATH TYPE MODE UID:GID CONTENT
# TYPE is find's %y letter (f, d, l, ...), MODE octal permission bits,
# CONTENT "sha256:HEX" for regular files ("unreadable" if it cannot be read),
# "-> TARGET" for symlinks and "-" otherwise. Paths and targets are %q-quoted
# so odd names stay on one line. Nothing is excluded and mtimes are left out,
# so two listings are equal exactly when names, kinds, modes, owners, link
# targets and file contents all are.
tree_sum() (
    _pki_fn=tree_sum
    dir=${1-}
    if [[ -z $dir || ! -d $dir ]]; then
        _pki_err "usage: tree_sum DIR (an existing directory)"
        return 1
    fi
    # Scratch space outside DIR: writing inside would change what we list.
    if ! t=$(mktemp -d "${TMPDIR:-/tmp}/tree_sum.XXXXXX" 2>/dev/null); then
        _pki_err "mktemp failed"
        return 1
    fi
    printf -v qt '%q' "$t"
    # shellcheck disable=SC2064 # expand now: the path is fixed from here on
    trap "rm -rf -- $qt" EXIT
    # -H: a DIR given as a symlink is listed through, like [[ -d ]] saw it.
    if ! find -H "$dir" -printf '%P\0%y\0%m\0%U:%G\0%l\0' 2>/dev/null \
        >"$t/meta"; then
        _pki_err "find $dir failed"
        return 1
    fi
    # One sha256sum for all files; -z output is "HEX  PATH\0" with no
    # escaping of the name. A file it cannot read just has no entry.
    (cd -- "$dir" && find -H . -type f -printf '%P\0' |
        xargs -0r sha256sum -z -- 2>/dev/null) >"$t/sums" || :
    declare -A sum=()
    while IFS= read -r -d '' rec; do
        sum[${rec#*  }]=${rec%%  *}
    done <"$t/sums"
    while IFS= read -r -d '' p && IFS= read -r -d '' y &&
        IFS= read -r -d '' m && IFS= read -r -d '' o &&
        IFS= read -r -d '' l; do
        case $y in
            f) c=${sum[$p]+sha256:${sum[$p]}} c=${c:-unreadable} ;;
            l) printf -v c -- '-> %q' "$l" ;;
            *) c=- ;;
        esac
        if [[ -z $p ]]; then qp=. ; else printf -v qp '%q' "$p"; fi
        printf '%s %s %s %s %s\n' "$qp" "$y" "$m" "$o" "$c"
    done <"$t/meta" | LC_ALL=C sort
)
