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
