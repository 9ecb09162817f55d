# fish completion for certctl(1): commands, options, option values and the
# NAMEs of the certdir (symlinks into .live/ and the keys in .pending/). The
# certdir is the one given with -d/--certdir, else $CERTCTL_CERTDIR, else
# /etc/certdir.

# The certdir in use on the command line being completed.
function __certctl_certdir
    set -l dir /etc/certdir
    if set -q CERTCTL_CERTDIR; and test -n "$CERTCTL_CERTDIR"
        set dir $CERTCTL_CERTDIR
    end
    set -l words (commandline -opc)
    set -l i 2
    while test $i -le (count $words)
        switch $words[$i]
            case -d --certdir
                set i (math $i + 1)
                if test $i -le (count $words)
                    set dir $words[$i]
                end
            case '--certdir=*'
                set dir (string replace -- --certdir= '' $words[$i])
            case '-d?*'
                set dir (string sub -s 3 -- $words[$i])
        end
        set i (math $i + 1)
    end
    printf '%s\n' $dir
end

# The names of a certdir: live sets (symlinks into .live/) and pending keys.
function __certctl_names
    set -l dir (__certctl_certdir)
    for f in $dir/*
        if test -L $f
            set -l target (readlink -- $f)
            if string match -q -- '.live/*' $target
                basename -- $f
            end
        end
    end
    for f in $dir/.pending/*/
        basename -- $f
    end
end

# Has the command line a certctl command yet?
function __certctl_no_command
    set -l words (commandline -opc)
    set -e words[1]
    set -l skip 0
    for w in $words
        if test $skip -eq 1
            set skip 0
            continue
        end
        switch $w
            case -c --config -d --certdir --lock-timeout
                set skip 1
            case '-*'
            case '*'
                return 1
        end
    end
    return 0
end

# Is the command COMMAND?
function __certctl_command_is
    set -l words (commandline -opc)
    set -e words[1]
    set -l skip 0
    for w in $words
        if test $skip -eq 1
            set skip 0
            continue
        end
        switch $w
            case -c --config -d --certdir --lock-timeout
                set skip 1
            case '-*'
            case '*'
                test "$w" = "$argv[1]"
                return
        end
    end
    return 1
end

complete -c certctl -f

# Global options: before the command and after it.
complete -c certctl -s c -l config -r -F -d 'Config file'
complete -c certctl -s d -l certdir -r -f -a '(__fish_complete_directories)' -d 'Certificate directory'
complete -c certctl -s q -l quiet -d 'Print errors only'
complete -c certctl -s v -l verbose -d 'Say more (repeatable)'
complete -c certctl -l json -d 'One JSON document on stdout'
complete -c certctl -s n -l dry-run -d 'Decide and report, write nothing'
complete -c certctl -l lock-timeout -x -d 'Wait at most S seconds for the certdir lock'
complete -c certctl -s h -l help -d 'Print the usage'
complete -c certctl -n __certctl_no_command -l version -d 'Print the version'

# Commands.
complete -c certctl -n __certctl_no_command -a download -d 'Obtain and install certificates that are due'
complete -c certctl -n __certctl_no_command -a import -d 'Bring an existing key and certificate under management'
complete -c certctl -n __certctl_no_command -a rekey -d 'Make new keys and CSRs, pending until their certificate arrives'
complete -c certctl -n __certctl_no_command -a staple -d 'Keep an OCSP response per certificate fresh for stapling'
complete -c certctl -n __certctl_no_command -a rollback -d 'Make an earlier kept generation live again, verified first'
complete -c certctl -n __certctl_no_command -a check -d 'Inspect installed sets and report their health'
complete -c certctl -n __certctl_no_command -a revoke -d "Revoke a name's certificate at its ACME CA"
complete -c certctl -n __certctl_no_command -a account -d 'Show an ACME account, or roll its key over'
complete -c certctl -n __certctl_no_command -a help -d 'Print the usage of a command'
complete -c certctl -n '__certctl_command_is help' -a 'download import rekey staple rollback check revoke account'

# NAMEs.
for cmd in download import rekey staple rollback check revoke
    complete -c certctl -n "__certctl_command_is $cmd" -a '(__certctl_names)'
end

# -a/--all and -f/--force.
for cmd in download rekey staple check
    complete -c certctl -n "__certctl_command_is $cmd" -s a -l all -d 'Every name in the certdir and the config'
end
complete -c certctl -n '__certctl_command_is download' -s f -l force -d 'Renew even when not due'
complete -c certctl -n '__certctl_command_is import' -s f -l force -d 'Install even when it expires before the live one'
complete -c certctl -n '__certctl_command_is rekey' -s f -l force -d 'Replace an existing pending key'
complete -c certctl -n '__certctl_command_is staple' -s f -l force -d 'Fetch even when the staple is fresh'

# download
complete -c certctl -n '__certctl_command_is download' -l splay -x -d 'Wait a random time up to SECONDS first'
complete -c certctl -n '__certctl_command_is download' -l jobs -x -d 'Names worked on at once'

# import
complete -c certctl -n '__certctl_command_is import' -l cert -r -F -d 'Certificate or bundle (PEM/DER)'
complete -c certctl -n '__certctl_command_is import' -l key -r -F -d 'Private key (PEM or DER)'
complete -c certctl -n '__certctl_command_is import' -l chain -r -F -d 'Intermediates (PEM/DER)'
complete -c certctl -n '__certctl_command_is import' -l pkcs12 -r -F -d 'Key and certificates from a PKCS#12 file'
complete -c certctl -n '__certctl_command_is import' -l password-file -r -F -d 'Password of an encrypted key or PKCS#12 file'
complete -c certctl -n '__certctl_command_is import' -l from-certbot -f -a '(__fish_complete_directories)' -d 'Import every lineage of DIR/live'
complete -c certctl -n '__certctl_command_is import' -l no-fetch -d 'Never fetch missing intermediates'
complete -c certctl -n '__certctl_command_is import' -l print-config -d 'With --from-certbot: print the certificates: entries'

# revoke
complete -c certctl -n '__certctl_command_is revoke' -l reason -x -a 'unspecified keyCompromise superseded cessationOfOperation affiliationChanged' -d 'Why'
complete -c certctl -n '__certctl_command_is revoke' -l by-cert-key -d "Sign with the certificate's key, not the account's"

# account show|rollover SOURCE (the sources with an account in the certdir)
function __certctl_sources
    for f in (__certctl_certdir)/.acme/*/
        basename -- $f
    end
end
complete -c certctl -n '__certctl_command_is account; and __fish_is_nth_token 2' -a 'show rollover'
complete -c certctl -n '__certctl_command_is account; and __fish_is_nth_token 3' -a '(__certctl_sources)'

# rollback
complete -c certctl -n '__certctl_command_is rollback' -l to -x -d 'The generation to make live'

# rekey
complete -c certctl -n '__certctl_command_is rekey' -l key-type -x -a 'rsa ec ed25519' -d 'Key type'
complete -c certctl -n '__certctl_command_is rekey' -l bits -x -a '2048 3072 4096' -d 'RSA key size'
complete -c certctl -n '__certctl_command_is rekey' -l curve -x -a 'P-256 P-384' -d 'EC curve'
complete -c certctl -n '__certctl_command_is rekey' -l jobs -x -d 'Keys generated in parallel'
complete -c certctl -n '__certctl_command_is rekey' -l print-csr -x -a '(__certctl_names)' -d 'Print the pending CSR of NAME'
complete -c certctl -n '__certctl_command_is rekey' -l print-tlsa -x -a '(__certctl_names)' -d 'Print DANE TLSA records of NAME'

# staple
complete -c certctl -n '__certctl_command_is staple' -l nonce -d 'Send a nonce and require it in the response'
complete -c certctl -n '__certctl_command_is staple' -l timeout -x -d 'Seconds per request'
complete -c certctl -n '__certctl_command_is staple' -l jobs -x -d 'Names in flight at once'

# check
complete -c certctl -n '__certctl_command_is check' -l warn -x -d 'WARNING when expiring within DAYS'
complete -c certctl -n '__certctl_command_is check' -l crit -x -d 'CRITICAL when expiring within DAYS'
complete -c certctl -n '__certctl_command_is check' -l format -x -a 'text json nagios prometheus' -d 'Report format'
complete -c certctl -n '__certctl_command_is check' -l output -r -F -d 'Write the report to FILE atomically'
complete -c certctl -n '__certctl_command_is check' -l connect -x -d 'Also compare with what a TLS server serves (HOST:PORT)'
complete -c certctl -n '__certctl_command_is check' -l revocation -d 'Also ask OCSP or the CRL whether it is revoked'
complete -c certctl -n '__certctl_command_is check' -l timeout -x -d 'Seconds for --connect and --revocation'
complete -c certctl -n '__certctl_command_is check' -l jobs -x -d 'Names checked in parallel'
