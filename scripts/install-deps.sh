#!/usr/bin/env bash
# Install what certctl needs to build, test and benchmark on Debian 12.
set -euo pipefail

packages=(
    # build
    meson ninja-build pkg-config gcc libc6-dev
    libssl-dev libcurl4-openssl-dev libjansson-dev libyaml-dev
    # tests: unit, CLI, sanitizers, valgrind, the real peers tests talk to
    libcmocka-dev bats bats-assert bats-support bats-file
    openssl python3 jq clang libclang-rt-14-dev valgrind
    pebble nginx-light haproxy
    # the S3 bucket of tests/cli/s3.bats: s3rver (npm, below) behind a
    # botocore signature check
    python3-botocore
    # docs and lint
    shellcheck
    # man pages, completions, units, examples (tests/cli/ecosystem.bats)
    scdoc mandoc bash-completion zsh fish systemd ansible-core
)

sudo=
if [ "$(id -u)" -ne 0 ]; then
    sudo=sudo
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -q
$sudo apt-get install -y -q --no-install-recommends "${packages[@]}"
# s3rver is not packaged in Debian: the one version the tests know, from
# npm. A machine may already have Node.js from elsewhere (NodeSource's
# nodejs bundles npm and conflicts with Debian's npm package): use it.
if ! command -v npm >/dev/null; then
    $sudo apt-get install -y -q --no-install-recommends nodejs npm
fi
if ! command -v s3rver >/dev/null || [ "$(s3rver --version)" != 3.7.1 ]; then
    $sudo npm install -g --no-fund --no-audit s3rver@3.7.1
fi

# Pebble 2.6+ from Debian's next release (renewalInfo, for the real-ARI
# tests in tests/cli/ari.bats): unpacked into a cache directory with a
# private apt lists directory; the system's sources stay as they are.
bash "$(dirname "$0")/../tests/helpers/get-pebble-next.sh" >/dev/null
