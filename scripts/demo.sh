#!/usr/bin/env bash
# The main job on an embedded default, start to finish, on this machine:
# install dependencies, build, make a temporary certdir from a throwaway
# test PKI, and show what `certctl check` says about it.
#
# (The ACME path of `certctl download` against a local Pebble replaces the
# hand-built certdir once download exists.)
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-deps.sh
[ -f build/build.ninja ] || meson setup build
meson compile -C build

work=$(mktemp -d /tmp/certctl-demo.XXXXXX)
# shellcheck source=tests/helpers/pki.bash
source tests/helpers/pki.bash
pki_init "$work/pki"
pki_leaf "$work/pki" www.example.com --san www.example.com,example.com
pki_leaf "$work/pki" api.example.com --days 12
certdir="$work/certdir"
mkdir -m 0755 "$certdir"
certdir_put "$certdir" www.example.com "$work/pki/www.example.com.key" \
    "$work/pki/www.example.com.crt" "$work/pki/www.example.com.chain.pem"
certdir_put "$certdir" api.example.com "$work/pki/api.example.com.key" \
    "$work/pki/api.example.com.crt" "$work/pki/api.example.com.chain.pem"
cat > "$work/certctl.conf" <<YAML
certdir: $certdir
trust: $work/pki/trust.pem
certificates:
  www.example.com:
    domains: [www.example.com, example.com]
  api.example.com:
YAML

echo "== certctl check --all -v (exit code: 0 OK, 1 WARNING, 2 CRITICAL)"
set +e
./build/certctl -c "$work/certctl.conf" check --all -v
echo "exit code: $?"
echo "== certctl check --all --format prometheus"
./build/certctl -c "$work/certctl.conf" check --all --format prometheus
set -e
echo "== the certdir ($certdir)"
ls -la "$certdir" "$certdir/.live"
