# bash completion for certctl(1)                           -*- shell-script -*-
#
# Commands, options, option values and the NAMEs of the certdir: the live
# sets (symlinks into .live/) and the pending keys (.pending/NAME/). The
# certdir is the one given with -d/--certdir on the command line, else
# $CERTCTL_CERTDIR, else /etc/certdir. Works without the bash-completion
# package; uses nothing but bash itself.

_certctl_global_opts='-c --config -d --certdir -q --quiet -v --verbose --json
    -n --dry-run --lock-timeout -h --help'

# _certctl_names CERTDIR: the names of CERTDIR, one a line.
_certctl_names()
{
    local dir=${1:-/etc/certdir} f target
    for f in "$dir"/*; do
        [[ -L $f ]] || continue
        target=$(readlink -- "$f" 2>/dev/null) || continue
        if [[ $target == .live/* ]]; then
            printf '%s\n' "${f##*/}"
        fi
    done
    for f in "$dir"/.pending/*/; do
        [[ -d $f ]] || continue
        f=${f%/}
        printf '%s\n' "${f##*/}"
    done
    return 0
}

# _certctl_sources CERTDIR: the ACME sources with an account there
# (.acme/SOURCE/), one a line.
_certctl_sources()
{
    local f
    for f in "${1:-/etc/certdir}"/.acme/*/; do
        [[ -d $f ]] || continue
        f=${f%/}
        printf '%s\n' "${f##*/}"
    done
    return 0
}

# _certctl_add ARGS...: add what `compgen ARGS` prints, one a line.
_certctl_add()
{
    local line
    while IFS= read -r line; do
        COMPREPLY+=("$line")
    done < <(compgen "$@" 2>/dev/null)
    return 0
}

# _certctl_words WORDLIST CUR: the words of WORDLIST that start with CUR.
_certctl_words()
{
    _certctl_add -W "$1" -- "$2"
}

_certctl_files()
{
    compopt -o filenames 2>/dev/null
    _certctl_add -f -- "$1"
}

_certctl_dirs()
{
    compopt -o filenames 2>/dev/null
    _certctl_add -d -- "$1"
}

# _certctl_value OPTION CUR CERTDIR: complete the value of OPTION. Returns 1
# when OPTION takes no value.
_certctl_value()
{
    local cur=$2 certdir=$3
    case $1 in
        -c | --config | --cert | --key | --chain | --pkcs12 | --password-file | --output)
            _certctl_files "$cur"
            ;;
        -d | --certdir | --from-certbot)
            _certctl_dirs "$cur"
            ;;
        --key-type)
            _certctl_words 'rsa ec ed25519' "$cur"
            ;;
        --curve)
            _certctl_words 'P-256 P-384' "$cur"
            ;;
        --bits)
            _certctl_words '2048 3072 4096' "$cur"
            ;;
        --format)
            _certctl_words 'text json nagios prometheus' "$cur"
            ;;
        --reason)
            _certctl_words 'unspecified keyCompromise superseded cessationOfOperation
                affiliationChanged' "$cur"
            ;;
        --print-csr | --print-tlsa)
            _certctl_words "$(_certctl_names "$certdir")" "$cur"
            ;;
        --lock-timeout | --splay | --jobs | --timeout | --warn | --crit | --connect | --to)
            # a number, a duration, HOST:PORT or a generation: nothing to offer
            ;;
        *) return 1 ;;
    esac
    return 0
}

_certctl()
{
    local cur prev words cword
    COMPREPLY=()
    words=("${COMP_WORDS[@]}")
    cword=$COMP_CWORD
    cur=${words[cword]}
    prev=${words[cword - 1]}

    # "--opt=value": bash splits it at '=' (COMP_WORDBREAKS) into three
    # words; without '=' in COMP_WORDBREAKS it stays one, and the value
    # completions get the "--opt=" prefix back.
    local prefix=
    if [[ $cur == = && $prev == --* ]]; then
        cur=
    elif [[ $prev == = && ${words[cword - 2]} == --* ]]; then
        prev=${words[cword - 2]}
    elif [[ $cur == --*=* ]]; then
        prev=${cur%%=*}
        prefix=$prev=
        cur=${cur#*=}
    fi

    # Find the command and the certdir, skipping global options and their
    # arguments.
    local certdir=${CERTCTL_CERTDIR:-/etc/certdir} command='' i w arg
    for ((i = 1; i < cword; i++)); do
        w=${words[i]}
        arg=
        case $w in
            -d | --certdir | -c | --config | --lock-timeout)
                if [[ ${words[i + 1]} == = ]]; then
                    i=$((i + 1))
                fi
                i=$((i + 1))
                if ((i < cword)); then
                    arg=${words[i]}
                fi
                ;;
            --certdir=* | --config=* | --lock-timeout=*) arg=${w#*=} ;;
            -d?* | -c?*) arg=${w:2} ;;
        esac
        case $w in
            -d | --certdir | --certdir=* | -d?*)
                if [[ -n $arg ]]; then
                    certdir=$arg
                fi
                ;;
            -*) ;;
            *)
                if [[ -z $command ]]; then
                    command=$w
                fi
                ;;
        esac
    done
    # A certdir typed with a leading ~.
    if [[ $certdir == '~'* ]]; then
        certdir=$HOME${certdir:1}
    fi

    # Option values.
    if _certctl_value "$prev" "$cur" "$certdir"; then
        if [[ -n $prefix ]]; then
            COMPREPLY=("${COMPREPLY[@]/#/$prefix}")
        fi
        return 0
    fi

    local opts
    case $command in
        '')
            if [[ $cur == -* ]]; then
                _certctl_words "$_certctl_global_opts --version" "$cur"
            else
                _certctl_words 'download import rekey staple rollback check revoke account
                    help' "$cur"
            fi
            return 0
            ;;
        help)
            _certctl_words 'download import rekey staple rollback check revoke account' "$cur"
            return 0
            ;;
        account)
            # account show|rollover SOURCE
            local n=0
            for ((i = i - 1; i > 0; i--)); do
                [[ ${words[i]} == account ]] && break
            done
            for ((i = i + 1; i < cword; i++)); do
                [[ ${words[i]} == -* ]] || n=$((n + 1))
            done
            if [[ $cur == -* ]]; then
                _certctl_words "$_certctl_global_opts" "$cur"
            elif ((n == 0)); then
                _certctl_words 'show rollover' "$cur"
            elif ((n == 1)); then
                _certctl_words "$(_certctl_sources "$certdir")" "$cur"
            fi
            return 0
            ;;
        download) opts='-a --all -f --force --jobs --splay' ;;
        import)
            opts='--cert --key --chain --pkcs12 --password-file --from-certbot --print-config
                --no-fetch -f --force'
            ;;
        rekey)
            opts='-a --all --key-type --bits --curve -f --force --jobs
                --print-csr --print-tlsa'
            ;;
        staple) opts='-a --all -f --force --nonce --timeout --jobs' ;;
        rollback) opts='--to' ;;
        revoke) opts='--reason --by-cert-key' ;;
        check)
            opts='-a --all --warn --crit --format --output --connect --revocation
                --timeout --jobs'
            ;;
        *) return 0 ;;
    esac
    if [[ $cur == -* ]]; then
        _certctl_words "$opts $_certctl_global_opts" "$cur"
    else
        _certctl_words "$(_certctl_names "$certdir")" "$cur"
    fi
    return 0
}

complete -F _certctl certctl
