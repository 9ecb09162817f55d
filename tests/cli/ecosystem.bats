#!/usr/bin/env bats
# certctl among the tools around it: man pages, shell completions, systemd
# units, cron and Ansible examples, server recipes (docs/recipes.md, with a
# real nginx), and what `meson install` puts where.

setup() {
    load ../helpers/common
    common_setup
    SRC=${CERTCTL_SRC:-$(cd "$BATS_TEST_DIRNAME/../.." && pwd)}
    PIDS=()
}

teardown() {
    report_on_failure
    stop_pids "${PIDS[@]}"
}

# need PROGRAM...: fail (not skip) when a tool the test needs is missing;
# scripts/install-deps.sh installs every one of them.
need() {
    local p
    for p in "$@"; do
        command -v "$p" >/dev/null ||
            fail "$p is not installed (scripts/install-deps.sh installs it)"
    done
}

# ------------------------------------------------------------- meson install

# installed: configure a build of the source tree for prefix /usr, install
# it into $DEST with `meson install --destdir` (once per file).
installed() {
    DEST=$BATS_FILE_TMPDIR/dest
    [[ -e $BATS_FILE_TMPDIR/installed ]] && return 0
    need meson ninja scdoc
    local build=$BATS_FILE_TMPDIR/build log=$BATS_FILE_TMPDIR/install.log
    rm -rf "$build" "$DEST"
    if ! { meson setup --prefix=/usr -Dtests=false -Dbuildtype=plain "$build" "$SRC" &&
        meson install -C "$build" --destdir "$DEST"; } >"$log" 2>&1; then
        tail -n 30 "$log" >&2
        fail "meson setup/install failed (log above)"
    fi
    touch "$BATS_FILE_TMPDIR/installed"
}

@test "meson install --destdir puts binary, man pages, completions, units and examples in place" {
    installed
    local f
    for f in usr/bin/certctl \
        usr/share/man/man1/certctl.1 \
        usr/share/man/man5/certctl.conf.5 \
        usr/share/bash-completion/completions/certctl \
        usr/share/zsh/site-functions/_certctl \
        usr/share/fish/vendor_completions.d/certctl.fish \
        usr/lib/systemd/system/certctl-download.service \
        usr/lib/systemd/system/certctl-download.timer \
        usr/lib/systemd/system/certctl-staple.service \
        usr/lib/systemd/system/certctl-staple.timer \
        usr/share/doc/certctl/certbotctl.conf.example \
        usr/share/doc/certctl/recipes.md \
        usr/share/doc/certctl/examples/certctl.default \
        usr/share/doc/certctl/examples/cron.daily/certctl \
        usr/share/doc/certctl/examples/ansible/certctl.yml; do
        [[ -f $DEST/$f && -s $DEST/$f ]] || fail "meson install did not install /$f"
    done
    [[ -x $DEST/usr/bin/certctl ]]
    [[ -x $DEST/usr/share/doc/certctl/examples/cron.daily/certctl ]]
    run "$DEST/usr/bin/certctl" --version
    assert_success
    # The installed copies are the files of the tree.
    cmp "$SRC/completions/certctl.bash" "$DEST/usr/share/bash-completion/completions/certctl"
    cmp "$SRC/contrib/systemd/certctl-download.service" \
        "$DEST/usr/lib/systemd/system/certctl-download.service"
    # Nothing lands outside the prefix.
    run find "$DEST" -mindepth 1 -maxdepth 1
    assert_output "$DEST/usr"
}

@test "meson dist makes a tarball that builds and passes the unit tests" {
    need meson ninja git tar
    git -C "$SRC" rev-parse --git-dir >/dev/null 2>&1 ||
        skip "not a git checkout: meson dist archives git's HEAD"
    local build=$BATS_TEST_TMPDIR/distbuild x=$BATS_TEST_TMPDIR/unpacked log
    log=$BATS_TEST_TMPDIR/dist.log
    if ! { meson setup -Dtests=false "$build" "$SRC" &&
        meson dist -C "$build" --no-tests --allow-dirty --formats xztar; } >"$log" 2>&1; then
        tail -n 30 "$log" >&2
        fail "meson dist failed (log above)"
    fi
    run find "$build/meson-dist" -name 'certctl-*.tar.xz'
    assert_success
    [[ $(wc -l <<<"$output") == 1 && -s $output ]] || fail "no single tarball: $output"
    mkdir "$x"
    tar -C "$x" -xJf "$output"
    # The tarball holds the sources, not the build or git's files.
    [[ -f $(echo "$x"/certctl-*/meson.build) && -f $(echo "$x"/certctl-*/src/store.c) ]]
    run find "$x" -name .git -o -name build.ninja
    assert_output ""
    if ! { meson setup "$x/build" "$x"/certctl-* && meson compile -C "$x/build" &&
        meson test -C "$x/build" --suite unit; } >"$log" 2>&1; then
        tail -n 30 "$log" >&2
        fail "the unpacked tarball does not build and test (log above)"
    fi
    "$x/build/certctl" --version
}

# ------------------------------------------------------------------ man pages

# man_text PAGE: the page rendered as plain text, wide enough that no
# option is broken across lines.
man_text() {
    mandoc -T ascii -O width=250 "$1" | sed 's/.\x08//g'
}

# long_options: the long options in the text on stdin, one a line.
long_options() {
    grep -oE -- '--[a-z][a-z0-9-]*[a-z0-9]' | sort -u
}

# has_option OPTION: the text on stdin names OPTION as a whole word.
has_option() {
    grep -qE -- "(^|[^A-Za-z0-9-])$1([^A-Za-z0-9-]|\$)"
}

# global_options: the block of global options of `certctl --help` on stdin.
global_options() {
    sed -n '/^global options:/,/^$/p'
}

# man_section TITLE [SUBSECTION]: that part of the rendered page on stdin.
man_section() {
    awk -v sec="$1" -v subsec="${2-}" '
        /^[^ ]/ { in_sec = ($0 == sec); in_sub = 0; next }
        in_sec && /^   [^ ]/ { in_sub = ($0 == "   " subsec) }
        in_sec && (subsec == "" || in_sub)'
}

@test "the man pages pass mandoc -T lint" {
    installed
    need mandoc
    run mandoc -T lint "$DEST/usr/share/man/man1/certctl.1" \
        "$DEST/usr/share/man/man5/certctl.conf.5"
    assert_success
    assert_output ""
    run man_text "$DEST/usr/share/man/man1/certctl.1"
    local s
    for s in NAME SYNOPSIS DESCRIPTION "GLOBAL OPTIONS" COMMANDS "EXIT STATUS" \
        ENVIRONMENT FILES EXAMPLES "SEE ALSO"; do
        assert_line "$s"
    done
    run man_text "$DEST/usr/share/man/man5/certctl.conf.5"
    assert_line "NAME"
    assert_line "TOP LEVEL"
    assert_line "POLICY KEYS"
    assert_line "SOURCES"
    assert_line "CERTIFICATES"
}

@test "certctl(1) documents every option that --help and 'help COMMAND' print" {
    installed
    need mandoc
    local page commands cmd opt missing=()
    page=$(man_text "$DEST/usr/share/man/man1/certctl.1")
    # Global options, in GLOBAL OPTIONS; any other option --help names, anywhere.
    run "$CERTCTL" --help
    assert_success
    for opt in $(global_options <<<"$output" | long_options); do
        man_section "GLOBAL OPTIONS" <<<"$page" | has_option "$opt" ||
            missing+=("global $opt")
    done
    [[ -n $(global_options <<<"$output") ]] || fail "no global options in --help: $output"
    for opt in $(long_options <<<"$output"); do
        has_option "$opt" <<<"$page" || missing+=("$opt")
    done
    # Every command --help lists has its subsection under COMMANDS, naming
    # each of its options.
    commands=$(sed -n '/^commands:/,/^$/s/^  \([a-z][a-z-]*\) .*/\1/p' <<<"$output")
    [[ $(wc -w <<<"$commands") -ge 5 ]] || fail "no commands in --help: $output"
    for cmd in $commands; do
        run "$CERTCTL" help "$cmd"
        assert_success
        [[ -n $(man_section COMMANDS "$cmd" <<<"$page") ]] ||
            missing+=("the subsection of $cmd")
        for opt in $(long_options <<<"$output"); do
            man_section COMMANDS "$cmd" <<<"$page" | has_option "$opt" ||
                missing+=("$cmd $opt")
        done
    done
    # Exit codes and environment.
    for opt in CERTCTL_CONFIG CERTCTL_CERTDIR; do
        man_section ENVIRONMENT <<<"$page" | grep -qF "$opt" || missing+=("env $opt")
    done
    for opt in 0 1 2 3 10; do
        man_section "EXIT STATUS" <<<"$page" | grep -qE "^       $opt\$" ||
            missing+=("exit status $opt")
    done
    if ((${#missing[@]})); then
        fail "missing from certctl.1: ${missing[*]}"
    fi
}

@test "certctl.conf(5) documents every key that src/config.c knows" {
    installed
    need mandoc
    local page keys key missing=()
    page=$(man_text "$DEST/usr/share/man/man5/certctl.conf.5")
    # The key lists of the parser: every `..._keys[] = { ... }` array and
    # the POLICY_KEYS macro.
    keys=$(awk '/keys\[\] = \{/ { arr = 1 }
        /^#define POLICY_KEYS/ { def = 1 }
        arr || def { print }
        arr && /NULL \};/ { arr = 0 }
        def && !/\\$/ { def = 0 }' "$SRC/src/config.c" |
        grep -oE '"[a-z_]+"' | tr -d '"' | sort -u)
    [[ $(wc -w <<<"$keys") -ge 20 ]] || fail "found too few keys in src/config.c: $keys"
    for key in $keys; do
        grep -qE "(^|[ {])$key:" <<<"$page" || missing+=("$key")
    done
    if ((${#missing[@]})); then
        fail "keys missing from certctl.conf.5: ${missing[*]}"
    fi
    # Built-in defaults.
    for key in /etc/certdir "P-256" 3072 "0600" 3d 42.8 21d 7d; do
        grep -qF -- "$key" <<<"$page" || fail "certctl.conf.5 does not give the default $key"
    done
}

@test "the example configurations of certctl.conf(5) are valid" {
    local n=0 f
    mkdir -p "$BATS_TEST_TMPDIR/ex"
    awk -v dir="$BATS_TEST_TMPDIR/ex" '/^```/ { n++; next }
        n % 2 == 1 { print > (dir "/" int((n + 1) / 2) ".conf") }' \
        "$SRC/man/certctl.conf.5.scd"
    for f in "$BATS_TEST_TMPDIR"/ex/*.conf; do
        n=$((n + 1))
        # CRITICAL (2) for names without certificates; a bad config is 3.
        run "$CERTCTL" -c "$f" -d "$CERTDIR" check --all
        assert_failure 2
        assert_output --partial "no certificate installed"
    done
    ((n >= 2)) || fail "no examples found in certctl.conf.5.scd"
}

# ---------------------------------------------------------------- completions

# A certdir for completion: two live names, one pending name, and things
# that are not names (a flat link, a foreign symlink, a file, the dirs).
completion_certdir() {
    local d=$1
    mkdir -p "$d/.live/www.example.com.g0001" "$d/.live/mail.example.com.g0003" \
        "$d/.pending/next.example.com" "$d/.state"
    ln -s .live/www.example.com.g0001 "$d/www.example.com"
    ln -s .live/mail.example.com.g0003 "$d/mail.example.com"
    ln -s www.example.com/privkey.pem "$d/www.example.com.key"
    ln -s /etc "$d/foreign"
    touch "$d/plain-file"
}

# complete_bash WORD...: what the bash completion offers for the command
# line WORD... (the last one is being completed), sorted, one a line. The
# file is sourced in a clean bash, COMP_WORDS/COMP_CWORD are set and the
# function `complete -p certctl` names is called.
complete_bash() {
    bash --norc --noprofile -c '
        set -u
        source "$1" || exit 1
        shift
        fn=$(complete -p certctl) || exit 1
        fn=${fn#*-F }
        fn=${fn%% *}
        COMP_WORDS=("$@")
        COMP_CWORD=$(($# - 1))
        COMP_LINE="$*"
        COMP_POINT=${#COMP_LINE}
        COMPREPLY=()
        "$fn" certctl "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}"
        printf "%s\n" "${COMPREPLY[@]}"' \
        bash "$SRC/completions/certctl.bash" "$@" | sed '/^$/d' | LC_ALL=C sort
}

@test "bash completion: commands, options and option values" {
    run complete_bash certctl ""
    assert_success
    assert_output "$(printf '%s\n' account check download help import rekey revoke rollback staple)"
    run complete_bash certctl re
    assert_output "$(printf '%s\n' rekey revoke)"
    run complete_bash certctl rekey --key-type ""
    assert_output "$(printf '%s\n' ec ed25519 rsa)"
    run complete_bash certctl rekey --curve P
    assert_output "$(printf '%s\n' P-256 P-384)"
    run complete_bash certctl check --format ""
    assert_output "$(printf '%s\n' json nagios prometheus text)"
    # --format=VALUE: bash splits the word at '='.
    run complete_bash certctl check --format = na
    assert_output "nagios"
    run complete_bash certctl -c /etc/certctl.conf check --format j
    assert_output "json"
    run complete_bash certctl help st
    assert_output "staple"
    run complete_bash certctl revoke --reason key
    assert_output "keyCompromise"
    run complete_bash certctl account ""
    assert_output "$(printf '%s\n' rollover show)"
    mkdir -p "$BATS_TEST_TMPDIR/cd/.acme/pebble" "$BATS_TEST_TMPDIR/cd/.acme/other"
    run complete_bash certctl -d "$BATS_TEST_TMPDIR/cd" account rollover p
    assert_output "pebble"
    # Files for file options.
    touch "$BATS_TEST_TMPDIR/bundle.pem"
    run complete_bash certctl import --cert "$BATS_TEST_TMPDIR/bun"
    assert_output "$BATS_TEST_TMPDIR/bundle.pem"
}

@test "bash completion offers every option of --help and 'help COMMAND'" {
    local cmd opt missing=()
    run "$CERTCTL" --help
    assert_success
    local global=$output offered
    offered=$(complete_bash certctl --)
    for opt in $(global_options <<<"$global" | long_options); do
        grep -qxF -- "$opt" <<<"$offered" || missing+=("global $opt")
    done
    for cmd in account check download import rekey revoke rollback staple; do
        run "$CERTCTL" help "$cmd"
        assert_success
        offered=$(complete_bash certctl "$cmd" --)
        for opt in $(long_options <<<"$output"); do
            grep -qxF -- "$opt" <<<"$offered" || missing+=("$cmd $opt")
        done
        # Global options work after the command too.
        grep -qxF -- "--certdir" <<<"$offered" || missing+=("$cmd --certdir")
    done
    if ((${#missing[@]})); then
        fail "bash completion misses: ${missing[*]}"
    fi
}

@test "bash completion: NAMEs are the live links and pending keys of the certdir" {
    local d=$BATS_TEST_TMPDIR/cd other=$BATS_TEST_TMPDIR/other
    completion_certdir "$d"
    mkdir -p "$other/.live/only-here.g0001"
    ln -s .live/only-here.g0001 "$other/only-here"
    export CERTCTL_CERTDIR=$d
    run complete_bash certctl check ""
    assert_success
    assert_output "$(printf '%s\n' mail.example.com next.example.com www.example.com)"
    run complete_bash certctl staple -a w
    assert_output "www.example.com"
    run complete_bash certctl rekey --print-csr n
    assert_output "next.example.com"
    # -d/--certdir on the command line wins over $CERTCTL_CERTDIR.
    run complete_bash certctl -d "$other" check ""
    assert_output "only-here"
    run complete_bash certctl --certdir = "$other" download ""
    assert_output "only-here"
    run complete_bash certctl check --certdir "$other" o
    assert_output "only-here"
    # The default is /etc/certdir.
    unset CERTCTL_CERTDIR
    run complete_bash certctl -d "$BATS_TEST_TMPDIR/none" check ""
    assert_output ""
}

@test "zsh completion parses and completes commands, values and NAMEs" {
    need zsh
    run zsh -n "$SRC/completions/_certctl"
    assert_success
    head -n 1 "$SRC/completions/_certctl" | grep -qx '#compdef certctl'
    zsh -fc 'zmodload zsh/zpty' || fail "zsh has no zpty module"
    # Drive a real interactive zsh with compinit through a pty and capture
    # what compadd is given.
    cat >"$BATS_TEST_TMPDIR/capture.zsh" <<'EOF'
zmodload zsh/zpty
zpty z zsh -f -i
zpty -w z "PROMPT= ; fpath=(${(q)1} \$fpath); autoload -U compinit; compinit -u -D"
zpty -w z "zstyle ':completion:*' list-grouped false; zstyle ':completion:*' insert-tab false"
zpty -w z 'compadd() { if [[ ${@[1,(i)(-|--)]} == *-(O|A|D)\ * ]]; then builtin compadd "$@"; return; fi; local -a __h; builtin compadd -A __h "$@"; (( $#__h )) && print -rl -- $'"'\\002'"'${^__h}; builtin compadd "$@"; }'
zpty -w z "comppostfuncs=(exit)"
zpty -w z "bindkey '^I' complete-word"
zpty -w z "$2"$'\t'
local line
while zpty -r z line; do
  line=${line//$'\r'/}
  [[ $line == *$'\002'* ]] && print -r -- ${line#*$'\002'}
done
zpty -d z 2>/dev/null
EOF
    complete_zsh() {
        timeout 20 zsh -f "$BATS_TEST_TMPDIR/capture.zsh" "$SRC/completions" "$1" |
            sed '/^$/d' | LC_ALL=C sort -u
    }
    local d=$BATS_TEST_TMPDIR/cd other=$BATS_TEST_TMPDIR/other
    completion_certdir "$d"
    mkdir -p "$other/.live/only-here.g0001"
    ln -s .live/only-here.g0001 "$other/only-here"
    export CERTCTL_CERTDIR=$d
    run complete_zsh 'certctl '
    assert_output "$(printf '%s\n' account check download help import rekey revoke rollback staple)"
    run complete_zsh 'certctl check --format '
    assert_output "$(printf '%s\n' json nagios prometheus text)"
    run complete_zsh 'certctl rekey --key-type '
    assert_output "$(printf '%s\n' ec ed25519 rsa)"
    run complete_zsh 'certctl rekey --curve '
    assert_output "$(printf '%s\n' P-256 P-384)"
    run complete_zsh 'certctl check '
    assert_output "$(printf '%s\n' mail.example.com next.example.com www.example.com)"
    run complete_zsh "certctl -d $other staple "
    assert_output "only-here"
}

@test "fish completion parses and completes commands, options, values and NAMEs" {
    need fish
    run fish --no-config -n "$SRC/completions/certctl.fish"
    assert_success
    complete_fish() {
        fish --no-config -c 'source $argv[1]; and complete -C $argv[2]' \
            "$SRC/completions/certctl.fish" "$1" | cut -f1 | LC_ALL=C sort -u
    }
    local d=$BATS_TEST_TMPDIR/cd other=$BATS_TEST_TMPDIR/other cmd opt missing=()
    completion_certdir "$d"
    mkdir -p "$other/.live/only-here.g0001"
    ln -s .live/only-here.g0001 "$other/only-here"
    export CERTCTL_CERTDIR=$d
    run complete_fish 'certctl '
    assert_output "$(printf '%s\n' account check download help import rekey revoke rollback staple)"
    run complete_fish 'certctl check --format '
    assert_output "$(printf '%s\n' json nagios prometheus text)"
    run complete_fish 'certctl rekey --key-type '
    assert_output "$(printf '%s\n' ec ed25519 rsa)"
    run complete_fish 'certctl rekey --curve '
    assert_output "$(printf '%s\n' P-256 P-384)"
    run complete_fish 'certctl check '
    assert_output "$(printf '%s\n' mail.example.com next.example.com www.example.com)"
    run complete_fish "certctl -d $other staple "
    assert_output "only-here"
    for cmd in account check download import rekey revoke rollback staple; do
        run "$CERTCTL" help "$cmd"
        local offered
        offered=$(complete_fish "certctl $cmd --")
        for opt in $(long_options <<<"$output"); do
            grep -qxF -- "$opt" <<<"$offered" || missing+=("$cmd $opt")
        done
    done
    if ((${#missing[@]})); then
        fail "fish completion misses: ${missing[*]}"
    fi
}

# --------------------------------------------------------- units, cron, ansible

# fake_tools: $FAKE/certctl exits $FAKE_RC_<command> (default 10) and logs
# its arguments to $FAKE/log; $FAKE/systemctl logs and exits
# $FAKE_SYSTEMCTL_RC (default 0).
fake_tools() {
    FAKE=$BATS_TEST_TMPDIR/fake
    mkdir -p "$FAKE"
    cat >"$FAKE/certctl" <<'EOF'
#!/bin/sh
echo "certctl $*" >>"${0%/*}/log"
for a in "$@"; do
    case $a in
        download) exit "${FAKE_RC_download:-10}" ;;
        staple) exit "${FAKE_RC_staple:-10}" ;;
        check) echo "CERTCTL OK - 0 critical, 0 warning, 1 ok"; exit 0 ;;
    esac
done
exit 2
EOF
    cat >"$FAKE/systemctl" <<'EOF'
#!/bin/sh
echo "systemctl $*" >>"${0%/*}/log"
case $1 in is-enabled | is-active) exit 1 ;; esac
exit "${FAKE_SYSTEMCTL_RC:-0}"
EOF
    chmod +x "$FAKE/certctl" "$FAKE/systemctl"
    : >"$FAKE/log"
}

# unit_value FILE KEY: the value of KEY= in a unit file.
unit_value() {
    sed -n "s/^$2=//p" "$1"
}

@test "systemd units pass systemd-analyze verify" {
    if ! command -v systemd-analyze >/dev/null; then
        skip "systemd-analyze is not installed (package systemd)"
    fi
    local dir=$BATS_TEST_TMPDIR/units out
    mkdir -p "$dir/probe"
    cp "$SRC"/contrib/systemd/*.service "$SRC"/contrib/systemd/*.timer "$dir/"
    # Can systemd-analyze verify anything at all in this container?
    printf '[Unit]\nDescription=probe\n[Service]\nType=oneshot\nExecStart=/bin/true\n' \
        >"$dir/probe/probe.service"
    if ! out=$(systemd-analyze verify --man=no "$dir/probe/probe.service" 2>&1) ||
        [[ -n $out ]]; then
        skip "systemd-analyze verify does not work here: ${out:-no reason given}"
    fi
    run systemd-analyze verify --man=no "$dir"/certctl-download.service \
        "$dir"/certctl-download.timer "$dir"/certctl-staple.service "$dir"/certctl-staple.timer
    assert_success
    refute_output --partial "certctl-"
}

@test "systemd timers: download twice a day, staple hourly, randomized and persistent" {
    local t=$SRC/contrib/systemd
    # Twice a day, for short-lived certificates (#19).
    [[ $(unit_value "$t/certctl-download.timer" OnCalendar) == "*-*-* 00,12:00:00" ]]
    if command -v systemd-analyze >/dev/null; then
        run systemd-analyze calendar --iterations 2 "*-*-* 00,12:00:00"
        assert_success
        assert_output --regexp "Next elapse: .* (00|12):00:00"
    fi
    [[ $(unit_value "$t/certctl-staple.timer" OnCalendar) == hourly ]]
    for f in "$t/certctl-download.timer" "$t/certctl-staple.timer"; do
        [[ -n $(unit_value "$f" RandomizedDelaySec) ]] || fail "$f: no RandomizedDelaySec"
        [[ $(unit_value "$f" Persistent) == true ]] || fail "$f: not Persistent"
        [[ $(unit_value "$f" WantedBy) == timers.target ]] || fail "$f: not WantedBy=timers.target"
    done
    for f in "$t/certctl-download.service" "$t/certctl-staple.service"; do
        [[ $(unit_value "$f" Type) == oneshot ]] || fail "$f: not Type=oneshot"
        # 10 (nothing to do) is a success for systemd, 1 and 2 are not.
        [[ $(unit_value "$f" SuccessExitStatus) == 10 ]] || fail "$f: no SuccessExitStatus=10"
        [[ $(unit_value "$f" EnvironmentFile) == -/etc/default/certctl ]] ||
            fail "$f: no optional EnvironmentFile=-/etc/default/certctl"
    done
}

# exec_start UNIT: the shell script of the unit's ExecStart=/bin/sh -c '...',
# as sh sees it after systemd's $$ -> $. It runs in $(...), where errexit is
# off, so every failure returns.
exec_start() {
    local line
    line=$(unit_value "$1" ExecStart)
    if [[ $line != "/bin/sh -c '"*"'" ]]; then
        echo "$1: ExecStart is not /bin/sh -c '...': $line" >&2
        return 1
    fi
    line=${line#"/bin/sh -c '"}
    line=${line%"'"}
    # systemd would expand a lone $VAR or %x itself.
    if [[ ${line//'$$'/} == *'$'* || $line == *%* || $line == *\'* ]]; then
        echo "$1: ExecStart has a \$ or % that systemd would expand: $line" >&2
        return 1
    fi
    printf '%s\n' "${line//'$$'/'$'}"
}

@test "systemd services reload RELOAD_UNITS only when certctl exits 0" {
    fake_tools
    local unit cmd script
    for cmd in download staple; do
        unit=$SRC/contrib/systemd/certctl-$cmd.service
        script=$(exec_start "$unit") || fail "no usable ExecStart in $unit"
        # 0: changed, reload.
        : >"$FAKE/log"
        run env PATH="$FAKE:$PATH" RELOAD_UNITS="nginx.service haproxy.service" \
            CERTCTL_ARGS="-c /etc/certctl.conf" "FAKE_RC_$cmd=0" sh -c "$script"
        assert_success
        run cat "$FAKE/log"
        assert_output "$(printf '%s\n' "certctl -c /etc/certctl.conf $cmd --all" \
            "systemctl reload-or-restart nginx.service haproxy.service")"
        # 10: nothing to do, no reload, exit 10 (SuccessExitStatus=10).
        : >"$FAKE/log"
        run env PATH="$FAKE:$PATH" RELOAD_UNITS=nginx.service CERTCTL_ARGS= \
            "FAKE_RC_$cmd=10" sh -c "$script"
        assert_failure 10
        run cat "$FAKE/log"
        assert_output "certctl $cmd --all"
        # 1 and 2: failed, no reload, the unit fails.
        for rc in 1 2; do
            : >"$FAKE/log"
            run env PATH="$FAKE:$PATH" RELOAD_UNITS=nginx.service CERTCTL_ARGS= \
                "FAKE_RC_$cmd=$rc" sh -c "$script"
            assert_failure "$rc"
            refute_output --partial systemctl
            run cat "$FAKE/log"
            refute_output --partial systemctl
        done
        # 0 with no units to reload; 0 with a reload that fails.
        run env PATH="$FAKE:$PATH" RELOAD_UNITS= CERTCTL_ARGS= "FAKE_RC_$cmd=0" sh -c "$script"
        assert_success
        run env PATH="$FAKE:$PATH" RELOAD_UNITS=nginx.service CERTCTL_ARGS= \
            FAKE_SYSTEMCTL_RC=1 "FAKE_RC_$cmd=0" sh -c "$script"
        assert_failure 1
    done
}

@test "cron.daily: reload only after a run that exited 0" {
    fake_tools
    local job=$SRC/contrib/cron.daily/certctl
    [[ -x $job ]] || fail "$job is not executable"
    grep -qE '^[[:space:]]*if certctl .*; then$' "$job" || fail "$job does not test certctl's exit code"
    printf 'RELOAD_UNITS="nginx.service"\nCERTCTL_ARGS=""\n' >"$BATS_TEST_TMPDIR/defaults"
    cron() { # DOWNLOAD_RC STAPLE_RC
        : >"$FAKE/log"
        env PATH="$FAKE:$PATH" CERTCTL_DEFAULTS="$BATS_TEST_TMPDIR/defaults" \
            FAKE_RC_download="$1" FAKE_RC_staple="$2" "$job"
    }
    run cron 0 10
    assert_success
    run grep -c "reload-or-restart nginx.service" "$FAKE/log"
    assert_output 1
    run cron 10 0
    assert_success
    run grep -c "reload-or-restart nginx.service" "$FAKE/log"
    assert_output 1
    run cron 10 10
    assert_success
    run grep -c reload "$FAKE/log"
    assert_output 0
    grep -qx "certctl download --all" "$FAKE/log"
    grep -qx "certctl staple --all" "$FAKE/log"
    # A failure is no reason to reload, and is reported through the exit code.
    run cron 1 10
    assert_failure 1
    run grep -c reload "$FAKE/log"
    assert_output 0
    run cron 1 0
    assert_failure 1
    run grep -c reload "$FAKE/log"
    assert_output 1
}

@test "ansible: rc 0 is changed and notifies the reload, rc 10 is ok, others fail" {
    need ansible-playbook
    fake_tools
    local book=$SRC/contrib/ansible/certctl.yml
    grep -qF 'changed_when: certctl_download.rc == 0' "$book"
    grep -qF 'failed_when: certctl_download.rc not in [0, 10]' "$book"
    play() { # DOWNLOAD_RC STAPLE_RC
        env PATH="$FAKE:$PATH" LC_ALL=C.UTF-8 ANSIBLE_HOME="$BATS_TEST_TMPDIR/ansible" \
            ANSIBLE_LOCAL_TEMP="$BATS_TEST_TMPDIR/ansible/tmp" ANSIBLE_NOCOLOR=1 \
            ANSIBLE_LOCALHOST_WARNING=false ANSIBLE_RETRY_FILES_ENABLED=false \
            FAKE_RC_download="$1" FAKE_RC_staple="$2" \
            ansible-playbook -i localhost, -c local -e certctl_hosts=localhost \
            -e ansible_become=false -e ansible_python_interpreter=/usr/bin/python3 \
            -e '{"certctl_reload": []}' "$book"
    }
    run play 0 10
    assert_success
    assert_output --regexp 'localhost +: ok=[0-9]+ +changed=1 +unreachable=0 +failed=0'
    assert_output --partial "RUNNING HANDLER [Reload TLS services]"
    run play 10 10
    assert_success
    assert_output --regexp 'localhost +: ok=[0-9]+ +changed=0 +unreachable=0 +failed=0'
    refute_output --partial "RUNNING HANDLER"
    run play 1 10
    assert_failure
    assert_output --regexp 'localhost +: ok=[0-9]+ +changed=0 +unreachable=0 +failed=1'
    run play 10 2
    assert_failure
    assert_output --regexp 'failed=1'
}

# ------------------------------------------------------- recipes, with nginx

# ocsp_responder_start PORT NAME: an OCSP responder on 127.0.0.1:PORT that
# answers "good" for NAME's certificate from the test PKI, signed by the
# intermediate (openssl ocsp as the responder, behind a tiny HTTP server).
ocsp_responder_start() {
    local port=$1 name=$2 serial exp dir=$BATS_TEST_TMPDIR/ocsp
    mkdir -p "$dir"
    serial=$(openssl x509 -in "$PKI/$name.crt" -noout -serial)
    exp=$(date -u -d '+90 days' +%y%m%d%H%M%SZ)
    printf 'V\t%s\t\t%s\tunknown\t/CN=%s\n' "$exp" "${serial#serial=}" "$name" >"$dir/index.txt"
    cat >"$dir/responder.py" <<'EOF'
import base64, subprocess, sys, tempfile, urllib.parse
from http.server import BaseHTTPRequestHandler, HTTPServer

port, index, signer, key = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]

class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        self.answer(base64.b64decode(urllib.parse.unquote(self.path[1:])))

    def do_POST(self):
        self.answer(self.rfile.read(int(self.headers.get("Content-Length", 0))))

    def answer(self, request):
        with tempfile.TemporaryDirectory() as d:
            with open(d + "/req", "wb") as f:
                f.write(request)
            subprocess.run(["openssl", "ocsp", "-index", index, "-rsigner", signer,
                            "-rkey", key, "-CA", signer, "-ndays", "7",
                            "-reqin", d + "/req", "-respout", d + "/resp"],
                           check=True, capture_output=True)
            with open(d + "/resp", "rb") as f:
                body = f.read()
        self.send_response(200)
        self.send_header("Content-Type", "application/ocsp-response")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass

HTTPServer(("127.0.0.1", port), Handler).serve_forever()
EOF
    python3 "$dir/responder.py" "$port" "$dir/index.txt" "$PKI/inter.pem" "$PKI/inter.key" \
        >"$dir/log" 2>&1 &
    PIDS+=("$!")
    wait_port "$port"
}

# stapled_set NAME: NAME imported into $CERTDIR (with combined.pem) from the
# test PKI, and stapled by `certctl staple` from a local responder.
stapled_set() {
    local name=$1 ocsp_port
    ocsp_port=$(free_port)
    pki_leaf "$PKI" "$name" --ocsp "http://127.0.0.1:$ocsp_port"
    write_config 'defaults: {files: [combined]}'
    run "$CERTCTL" import "$name" --cert "$PKI/$name.crt" --key "$PKI/$name.key" \
        --chain "$PKI/$name.chain.pem" --no-fetch
    assert_success
    ocsp_responder_start "$ocsp_port" "$name"
    run "$CERTCTL" staple "$name"
    assert_success
    assert_output --partial "stapled $name"
}

@test "docs/recipes.md covers nginx, Apache, haproxy, Postfix, Dovecot and Exim with paths certctl makes" {
    local r=$SRC/docs/recipes.md name=recipe.example.test p file missing=()
    for p in '^## nginx( |$)' '^## Apache( |$)' '^## haproxy( |$)' '^## Postfix( |$)' \
        '^## Dovecot( |$)' '^## Exim( |$)' \
        'ssl_certificate +/etc/certdir/[^/]+/fullchain\.pem' \
        'ssl_certificate_key +/etc/certdir/[^/]+/privkey\.pem' \
        'ssl_stapling +on' 'ssl_stapling_file +/etc/certdir/[^/]+/ocsp\.der' \
        'SSLCertificateFile +/etc/certdir/[^/]+/fullchain\.pem' \
        'SSLCertificateKeyFile +/etc/certdir/[^/]+/privkey\.pem' \
        'crt /etc/certdir/[^/]+/combined\.pem' 'combined\.pem\.ocsp' \
        'smtpd_tls_chain_files' 'ssl_cert = </etc/certdir/[^/]+/fullchain\.pem' \
        'ssl_key = </etc/certdir/[^/]+/privkey\.pem' \
        'tls_certificate = /etc/certdir/[^/]+/fullchain\.pem' \
        'tls_privatekey = /etc/certdir/[^/]+/privkey\.pem'; do
        grep -qE -- "$p" "$r" || missing+=("$p")
    done
    if ((${#missing[@]})); then
        fail "docs/recipes.md lacks: ${missing[*]}"
    fi
    # Every /etc/certdir/NAME/FILE the recipes name exists in a real set.
    stapled_set "$name"
    for file in $(grep -oE '/etc/certdir/[A-Za-z0-9._-]+/[A-Za-z0-9._-]*[A-Za-z0-9]' "$r" |
        sed 's#^/etc/certdir/[^/]*/##' | sort -u); do
        [[ -f $CERTDIR/$name/$file ]] || missing+=("$file")
    done
    if ((${#missing[@]})); then
        fail "recipes name files a certdir does not have: ${missing[*]}"
    fi
}

@test "nginx with the recipe serves the imported certificate and the staple" {
    [[ -x /usr/sbin/nginx ]] || fail "/usr/sbin/nginx is missing (scripts/install-deps.sh installs nginx-light)"
    local name=www.example.test port dir=$BATS_TEST_TMPDIR/nginx recipe served installed
    stapled_set "$name"
    # The ssl_ lines of the nginx recipe, pointed at this certdir and name.
    recipe=$(awk '/^```nginx/ { on = 1; next } on && /^```/ { exit }
        on && /^[[:space:]]*ssl_/' "$SRC/docs/recipes.md" |
        sed "s#/etc/certdir/#$CERTDIR/#g; s#www\.example\.com#$name#g")
    [[ $recipe == *ssl_certificate_key* && $recipe == *ssl_stapling_file* ]] ||
        fail "no nginx recipe in docs/recipes.md: $recipe"
    port=$(free_port)
    mkdir -p "$dir/tmp"
    cat >"$dir/nginx.conf" <<EOF
daemon off;
master_process off;
worker_processes 1;
pid $dir/nginx.pid;
error_log $dir/error.log;
events { worker_connections 64; }
http {
    access_log off;
    client_body_temp_path $dir/tmp/body;
    proxy_temp_path $dir/tmp/proxy;
    fastcgi_temp_path $dir/tmp/fastcgi;
    uwsgi_temp_path $dir/tmp/uwsgi;
    scgi_temp_path $dir/tmp/scgi;
    server {
        listen 127.0.0.1:$port ssl;
        server_name $name;
$recipe
        location / { return 200 "ok\n"; }
    }
}
EOF
    /usr/sbin/nginx -e "$dir/error.log" -p "$dir" -c "$dir/nginx.conf" \
        </dev/null >"$dir/stdout.log" 2>&1 &
    PIDS+=("$!")
    if ! wait_port "$port"; then
        cat "$dir/error.log" "$dir/stdout.log" >&2
        fail "nginx did not start"
    fi
    run openssl s_client -connect "127.0.0.1:$port" -servername "$name" -status \
        -CAfile "$PKI/trust.pem" -verify_return_error </dev/null
    assert_success
    assert_output --partial "OCSP Response Status: successful"
    assert_output --partial "Cert Status: good"
    assert_output --partial "Verify return code: 0 (ok)"
    served=$(openssl s_client -connect "127.0.0.1:$port" -servername "$name" </dev/null 2>/dev/null |
        openssl x509 -noout -fingerprint -sha256)
    installed=$(openssl x509 -in "$CERTDIR/$name/cert.pem" -noout -fingerprint -sha256)
    [[ -n $served && $served == "$installed" ]] ||
        fail "nginx serves '$served', the certdir has '$installed'"
    # And certctl agrees: what is served is what is installed.
    run "$CERTCTL" check --connect "127.0.0.1:$port" "$name"
    assert_success
}
