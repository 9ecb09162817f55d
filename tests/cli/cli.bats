#!/usr/bin/env bats
# The command line itself: help, version, usage errors.

bats_require_minimum_version 1.5.0

setup() {
    load ../helpers/common
}

teardown() {
    report_on_failure
}

# bats test_tags=memcheck
@test "--help lists every command and exits 0" {
    run "$CERTCTL" --help
    assert_success
    assert_output --partial "usage: certctl"
    assert_output --partial "check"
}

@test "--version names the version and OpenSSL" {
    run "$CERTCTL" --version
    assert_success
    assert_output --regexp '^certctl [0-9]+\.[0-9]+\.[0-9]+ \(OpenSSL 3'
}

# bats test_tags=memcheck
@test "help COMMAND and COMMAND --help print the command's usage" {
    run "$CERTCTL" help check
    assert_success
    assert_output --partial "usage: certctl check"
    run "$CERTCTL" check --help
    assert_success
    assert_output --partial "--format"
}

@test "--json with a command's --help prints the usage alone" {
    local c
    for c in rekey download import staple check; do
        run --separate-stderr "$CERTCTL" --json "$c" --help
        assert_success
        assert_line --index 0 --partial "usage: certctl $c"
        refute_output --partial '"command"'
        [ -z "$stderr" ]
    done
}

@test "no command is a usage error" {
    run "$CERTCTL"
    assert_failure 2
}

@test "an unknown command is a usage error naming it" {
    run "$CERTCTL" frobnicate
    assert_failure 2
    assert_output --partial "unknown command 'frobnicate'"
}

@test "an unknown global option is a usage error" {
    run "$CERTCTL" --frob check
    assert_failure 2
    assert_output --partial "unknown option '--frob'"
}

@test "help help prints the overview" {
    run "$CERTCTL" help help
    [ "$status" -eq 0 ]
    [[ $output == "usage: certctl "* ]]
    [[ $output == *"commands:"* ]]
}

@test "help for an unknown command is a usage error" {
    run "$CERTCTL" help frob
    assert_failure 2
}

# bats test_tags=memcheck
@test "a bad --lock-timeout is a usage error" {
    run "$CERTCTL" --lock-timeout soon check --all
    assert_failure 2
    assert_output --partial "--lock-timeout"
}

# Issue 16: strtol/strtod took "nan", "inf" (a lock wait without end),
# "0x10", "1e400", "-0", blanks and signs. Every numeric option now takes
# plain decimal digits within its documented range, and a bad value is a
# usage error (2, or 3 for check) that names the option and touches nothing.
@test "every numeric option refuses what is not plain decimal in its range" {
    common_setup
    mk www
    before=$(tree_sum "$CERTDIR")
    local bad=(nan NaN inf -inf infinity 0x10 0X1A 1e3 1e400 -0 +0 +5 -1 ' 5' '5 '
        $'5\n' '' 010 5x 5.5.5 '1,5' 99999999999999999999999999)
    # COMMAND OPTION EXIT ONE-PAST-THE-RANGE
    local specs=("check --warn 3 100001" "check --crit 3 100001" "check --timeout 3 3601"
        "check --jobs 3 65" "check --lock-timeout 3 86401" "download --splay 2 86401"
        "download --jobs 2 0" "rekey --bits 2 16385" "rekey --jobs 2 65"
        "staple --timeout 2 601" "staple --jobs 2 0" "rekey --lock-timeout 2 86401"
        "import --lock-timeout 2 86400.5")
    local spec cmd opt code past value
    for spec in "${specs[@]}"; do
        read -r cmd opt code past <<<"$spec"
        for value in "${bad[@]}" "$past"; do
            run "$CERTCTL" "$cmd" "$opt" "$value" www
            if [ "$status" -ne "$code" ] || [[ $output != *"$opt wants"* ]]; then
                echo "$cmd $opt '$value': exit $status: $output"
                return 1
            fi
        done
    done
    # Before the command, too; and a duration is no number of seconds.
    for value in "${bad[@]}" 5s 1m 86401; do
        run "$CERTCTL" --lock-timeout "$value" rekey www
        assert_failure 2
        assert_output --partial "--lock-timeout wants seconds from 0 to 86400"
    done
    [ "$(tree_sum "$CERTDIR")" = "$before" ]
}

@test "numeric options take their whole documented range" {
    common_setup
    mk www
    run "$CERTCTL" --lock-timeout 86400 check --warn 0 --crit 0 --timeout 3600 --jobs 64 www
    assert_success
    run "$CERTCTL" check --lock-timeout 0.5 --warn 100000 --crit 100000d --jobs 1 www
    assert_failure 2
    run "$CERTCTL" check --warn 36h --crit 1s --timeout 1 www
    assert_success
}

# Issue 16: a domain with '/', ';' or a blank went into CSRs and hooks, and
# a "\0" cut a value short without a word.
@test "a config with a bad domain or a NUL in a value is refused with its line" {
    common_setup
    mk www
    before=$(tree_sum "$CERTDIR")
    local d
    for d in 'www.example.com/x' 'a;b.example.com' 'a b.example.com' 'www.example.com.' \
        'w*.example.com' '*.192.0.2.1' 'www.example.com\0.evil.test'; do
        write_config "certificates:
  www:
    domains: [www.example.com, \"$d\"]"
        run "$CERTCTL" rekey www
        assert_failure 2
        assert_output --partial "$CONFIG:5:"
        run "$CERTCTL" check www
        assert_failure 3
        assert_output --partial "$CONFIG:5:"
    done
    [ "$(tree_sum "$CERTDIR")" = "$before" ]
    write_config "certificates:
  www:
    domains: [www.example.com, 192.0.2.1, \"2001:db8::1\", \"*.example.com\"]"
    run "$CERTCTL" check www
    refute_output --partial "$CONFIG"
}

# Issue 18: a config nested past 64 levels, or using YAML aliases (which
# let a small file stand for a huge one), is refused at the line where it
# does so, as a configuration error, before the certdir is touched.
@test "a config nested too deep or using aliases is refused with its line" {
    common_setup
    mk www
    local i deep=
    for ((i = 0; i < 20000; i++)); do deep+=$'[\n'; done
    write_config "certificates:
  www:
    domains: $deep"
    refused 2 "$CONFIG:66: nesting deeper than 64 levels" rekey www
    refused 2 "$CONFIG:66: nesting deeper than 64 levels" download --all
    refused 3 "$CONFIG:66: nesting deeper than 64 levels" check www
    write_config "defaults: &d {owner: root}
certificates:
  www: *d"
    refused 2 "$CONFIG:5: YAML aliases" staple www
    refused 3 "$CONFIG:5: YAML aliases" check --all
    write_config "certificates:
  www:
    domains: [[[www.example.com]]]"
    run "$CERTCTL" check www
    assert_failure 3
    refute_output --partial nesting
}

# Issue 15/16: output that never reached stdout exited 0. Now a failed
# write is an error on stderr: exit 1 where nothing changed, 3 for check,
# and 0 only where a set did change (it needs its reload all the same).
@test "a failed write to stdout is an error, not a silent exit 0" {
    common_setup
    mk www
    local m="cannot write to stdout: No space left on device"
    for args in --help --version "help check" "help" "rekey --help" "download --help" \
        "import --help" "staple --help"; do
        # shellcheck disable=SC2086 # the words are the arguments
        run --separate-stderr "$CERTCTL" $args
        assert_success
        run --separate-stderr sh -c "exec \"\$0\" $args >/dev/full" "$CERTCTL"
        [ "$status" -eq 1 ] && [ "$stderr" = "certctl: $m" ] ||
            { echo "$args: exit $status: $stderr"; return 1; }
    done
    for args in "check --help" "check www" "check --json www" "--json check www" \
        "check --format nagios www" "check --format prometheus www"; do
        run --separate-stderr sh -c "exec \"\$0\" $args >/dev/full" "$CERTCTL"
        [ "$status" -eq 3 ] && [[ $stderr == *"$m"* ]] ||
            { echo "$args: exit $status: $stderr"; return 1; }
    done
    # A closed stdout is the same failure, for another reason.
    # shellcheck disable=SC2016 # for that sh to expand
    run --separate-stderr sh -c 'exec "$0" check www >&-' "$CERTCTL"
    assert_equal "$status" 3
    [[ $stderr == *"cannot write to stdout: Bad file descriptor"* ]]
    "$CERTCTL" rekey www
    for args in "rekey --print-csr www" "rekey --print-tlsa www" "--json import www \
        --cert $PKI/www.crt --key $PKI/www.key --chain $PKI/www.chain.pem"; do
        run --separate-stderr sh -c "exec \"\$0\" $args >/dev/full" "$CERTCTL"
        [ "$status" -eq 1 ] && [[ $stderr == *"$m"* ]] ||
            { echo "$args: exit $status: $stderr"; return 1; }
    done
    # rekey made a pending key: it changed, so 0, with the error said.
    # shellcheck disable=SC2016 # for that sh to expand
    run --separate-stderr sh -c 'exec "$0" rekey -f www >/dev/full' "$CERTCTL"
    assert_success
    [[ $stderr == *"$m"* ]]
}

@test "--json keeps -v debug lines out of \"errors\"" {
    common_setup
    mk www
    run --separate-stderr "$CERTCTL" -vv --json import www --cert "$PKI/www.crt" \
        --key "$PKI/www.key" --chain "$PKI/www.chain.pem"
    assert_equal "$status" 10
    # The debug lines still reach stderr, for the operator who asked.
    [ -n "$stderr" ]
    [ "$(jq -c .errors <<<"$output")" = "[]" ]
    [ "$(jq -r .exit <<<"$output")" = 10 ]
    # An error is an error still.
    run --separate-stderr "$CERTCTL" -vv --json import www --cert "$PKI/www.crt" \
        --key /nonexistent
    assert_equal "$status" 1
    [ "$(jq '.errors | length' <<<"$output")" -eq 1 ]
    [[ $(jq -r '.errors[0]' <<<"$output") == *"/nonexistent"* ]]
}

# Issue 16: an unsafe certdir is the operator's setup, not a failed run:
# docs/certdir.md says 2 (check 3), and the writing commands exited 1.
@test "an unsafe certdir is a configuration error for every command" {
    common_setup
    mk www
    # download checks its NAMEs against the config before the certdir.
    write_config "sources:
  fleet: {type: http, url: 'file://$BATS_TEST_TMPDIR/store/{name}.pem'}
defaults: {source: fleet}
certificates:
  www: {}"
    local import="import www --cert $PKI/www.crt --key $PKI/www.key --chain $PKI/www.chain.pem"
    local cmds=("download www" "staple www" "$import" "rekey www" "rekey --print-csr www"
        "rekey --print-tlsa www" "import --from-certbot $BATS_TEST_TMPDIR/le" "check www")
    mkdir -p "$BATS_TEST_TMPDIR/le/live/www"
    cp "$PKI/www.crt" "$BATS_TEST_TMPDIR/le/live/www/cert.pem"
    cp "$PKI/www.key" "$BATS_TEST_TMPDIR/le/live/www/privkey.pem"
    cp "$PKI/www.chain.pem" "$BATS_TEST_TMPDIR/le/live/www/chain.pem"
    local how cmd want
    for how in group world owner live-link file; do
        case $how in
        group) chmod 0775 "$CERTDIR" ;;
        world) chmod 0757 "$CERTDIR" ;;
        owner) chown 65534 "$CERTDIR" ;;
        live-link) mv "$CERTDIR/.live" "$CERTDIR/.live.real"
            ln -s .live.real "$CERTDIR/.live" ;;
        file) mv "$CERTDIR" "$CERTDIR.dir"
            touch "$CERTDIR" ;;
        esac
        before=$(tree_sum "$BATS_TEST_TMPDIR")
        for cmd in "${cmds[@]}"; do
            want=2
            [[ $cmd == check* ]] && want=3
            # shellcheck disable=SC2086 # the words are the arguments
            run "$CERTCTL" $cmd
            if [ "$status" -ne "$want" ] || [[ $output != *"$CERTDIR"* ]]; then
                echo "$how: $cmd: exit $status: $output"
                return 1
            fi
        done
        [ "$(tree_sum "$BATS_TEST_TMPDIR")" = "$before" ]
        case $how in
        group | world) chmod 0755 "$CERTDIR" ;;
        owner) chown 0 "$CERTDIR" ;;
        live-link) rm "$CERTDIR/.live"
            mv "$CERTDIR/.live.real" "$CERTDIR/.live" ;;
        file) rm "$CERTDIR"
            mv "$CERTDIR.dir" "$CERTDIR" ;;
        esac
    done
}
