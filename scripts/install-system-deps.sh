#!/usr/bin/env bash
# Installs the Debian packages the tests, the demo and the benchmarks run against (slapd, Samba AD, nginx,
# the distribution registry, skopeo, load tools). Non-interactive, and a no-op when all are present.
set -euo pipefail

packages=(
  slapd ldap-utils            # OpenLDAP server and clients
  samba samba-ad-dc samba-ad-provision krb5-user # Samba 4 AD DC and its schema files (provision)
  iproute2                    # network namespaces for the AD and fault tests
  iptables                    # drops a directory's packets inside a namespace (fault tests)
  nginx                       # the reverse proxy in front of the registry
  caddy                       # the forward_auth front proxy of the Caddy e2e test
  docker-registry             # the distribution registry
  skopeo                      # a real registry client without a Docker engine
  openssl                     # test and demo certificates
  wrk apache2-utils           # load generators for the benchmarks (ab for HEAD)
  docker-compose              # validates compose/ with `docker-compose config`
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
  echo "install-system-deps: missing Debian packages: ${missing[*]} (run as root, or install them)" >&2
  exit 1
fi
echo "install-system-deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -q >&2
# Nothing here should start a daemon: the tests run their own servers on loopback.
printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d
trap 'rm -f /usr/sbin/policy-rc.d' EXIT
apt-get install -y -q --no-install-recommends "${missing[@]}" >&2
