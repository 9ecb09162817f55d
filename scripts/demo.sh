#!/usr/bin/env bash
# The main job, start to finish, on this machine: install dependencies,
# build, start a local ACME CA (Pebble, on loopback, with a TLS cert from a
# throwaway test PKI), write a config from certbotctl.conf.example for a
# temporary certdir, then issue, install, check and staple:
#
#   certctl download --all && certctl check --all && certctl staple --all
set -euo pipefail
cd "$(dirname "$0")/.."
src=$PWD

bash scripts/install-deps.sh >/dev/null
[ -f build/build.ninja ] || meson setup build >/dev/null
meson compile -C build >/dev/null
certctl=$src/build/certctl

work=$(mktemp -d /tmp/certctl-demo.XXXXXX)
# shellcheck source=tests/helpers/pki.bash
source tests/helpers/pki.bash
# shellcheck source=tests/helpers/net.bash
source tests/helpers/net.bash
# shellcheck source=tests/helpers/pebble.bash
source tests/helpers/pebble.bash
trap pebble_stop EXIT
echo "== starting Pebble (ACME CA) on loopback"
pebble_start "$work/pebble"
echo "   $PEBBLE_URL"

# The example config, pointed at Pebble, the temporary certdir, and the
# built-in http-01 listener on the port Pebble validates.
certdir=$work/certdir
sed -e "s|^certdir: .*|certdir: $certdir|" \
    -e "s|^trust: .*|trust: $PEBBLE_ROOTS|" \
    -e "s|directory: https://acme-v02.api.letsencrypt.org/directory|directory: $PEBBLE_URL\n    ca_file: $PEBBLE_CA|" \
    -e "s|challenge: {type: http-01, webroot: /var/www/acme}|challenge: {type: http-01, listen: \"127.0.0.1:$PEBBLE_HTTP_PORT\"}|" \
    -e "s|deploy_hook: systemctl reload nginx.*|deploy_hook: 'echo \"  (deploy_hook ran for \$CERTCTL_NAME)\"'|" \
    certbotctl.conf.example > "$work/certctl.conf"
echo "== config: $work/certctl.conf"
cd "$work"

echo "== certctl download --all   (first run: issues)"
set +e
"$certctl" -c certctl.conf download --all; echo "   exit $? (0: changed, reload services)"
echo "== certctl download --all   (second run: nothing due, prints nothing)"
"$certctl" -c certctl.conf download --all; echo "   exit $? (10: nothing to do)"
echo "== certctl check --all -v"
"$certctl" -c certctl.conf check --all -v; echo "   exit $? (0 OK, 1 WARNING, 2 CRITICAL)"
echo "== certctl staple --all -v  (Pebble's certificates name no OCSP responder)"
"$certctl" -c certctl.conf -v staple --all; echo "   exit $? (10: nothing to staple)"
set -e
echo "== the certdir: $certdir"
ls -l "$certdir" "$certdir/www.example.com/"
openssl x509 -in "$certdir/www.example.com/cert.pem" -noout -subject -issuer -enddate -ext subjectAltName
