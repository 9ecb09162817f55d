#!/usr/bin/env bash
# Fetch the Pebble of Debian's next release (2.6 or later: it serves
# renewalInfo, RFC 9773, and ACME profiles) into a cache directory, for
# the real-ARI tests (tests/cli/ari.bats). The machine's apt sources, lists
# and caches are never touched: apt runs on a private copy of the sources
# with the suite changed, a private lists directory and a private cache.
#
#   get-pebble-next.sh [CACHE-DIR] [SUITE]
#
# CACHE-DIR defaults to $CERTCTL_PEBBLE_NEXT (else ~/.cache/certctl/
# pebble-next), SUITE to trixie. Prints the path of the pebble binary,
# which ends up in CACHE-DIR/root/usr/bin/pebble. Does nothing when it is
# already there.
set -euo pipefail

cache=${1:-${CERTCTL_PEBBLE_NEXT:-${XDG_CACHE_HOME:-$HOME/.cache}/certctl/pebble-next}}
suite=${2:-trixie}
bin=$cache/root/usr/bin/pebble

if [ -x "$bin" ]; then
    echo "$bin"
    exit 0
fi

# shellcheck disable=SC1091 # the machine's own
current=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
if [ -z "$current" ]; then
    echo "get-pebble-next: cannot tell this system's release from /etc/os-release" >&2
    exit 1
fi

mkdir -p "$cache/lists/partial" "$cache/apt-cache/archives/partial" "$cache/etc" \
    "$cache/deb"
# Only the suite names change (bookworm-security becomes trixie-security):
# the mirrors and the Signed-By keyrings stay the machine's.
if [ -f /etc/apt/sources.list.d/debian.sources ]; then
    sed -E "/^Suites:/s/\\b$current\\b/$suite/g" /etc/apt/sources.list.d/debian.sources \
        > "$cache/etc/next.sources"
    list=(-o "Dir::Etc::SourceList=/dev/null" -o "Dir::Etc::SourceParts=$cache/etc")
elif [ -f /etc/apt/sources.list ]; then
    sed -E "/^[[:space:]]*deb[[:space:]]/s/([[:space:]])$current([-[:space:]])/\\1$suite\\2/" \
        /etc/apt/sources.list > "$cache/etc/next.list"
    list=(-o "Dir::Etc::SourceList=$cache/etc/next.list" -o "Dir::Etc::SourceParts=/dev/null")
else
    echo "get-pebble-next: no /etc/apt/sources.list.d/debian.sources or /etc/apt/sources.list" >&2
    exit 1
fi

apt=(apt-get -q "${list[@]}"
    -o "Dir::State::Lists=$cache/lists"
    -o "Dir::Cache=$cache/apt-cache"
    -o "Dir::Etc::Preferences=/dev/null" -o "Dir::Etc::PreferencesParts=/dev/null"
    -o "APT::Sandbox::User=root")
"${apt[@]}" update >&2
rm -f "$cache"/deb/pebble_*.deb
(cd "$cache/deb" && "${apt[@]}" download "pebble/$suite") >&2
rm -rf "$cache/root.new"
dpkg-deb -x "$cache"/deb/pebble_*.deb "$cache/root.new"
if ! "$cache/root.new/usr/bin/pebble" -h 2>&1 | grep -q -- -config; then
    echo "get-pebble-next: the downloaded pebble does not run here" >&2
    exit 1
fi
rm -rf "$cache/root"
mv "$cache/root.new" "$cache/root"
echo "$bin"
