#!/usr/bin/env bash
# Installs the Debian packages the tests, the demo and the benchmarks run against (slapd, Samba AD, nginx,
# the distribution registry, skopeo, load tools, podman for the compose stack), configures podman for this
# kind of machine, then proves all of it usable (check-system-deps.sh). Non-interactive; installs nothing
# when all are present.
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
  curl                        # a client inside a test network namespace (compose e2e)
  # The compose stack on podman (no Docker engine): runc because crun cannot run on a hybrid cgroup
  # host, netavark + aardvark-dns for service names on internal networks, mmdebstrap for base images.
  podman runc uidmap slirp4netns fuse-overlayfs netavark aardvark-dns mmdebstrap docker-compose
  prometheus                  # promtool checks and tests the alert rules; a live Prometheus in the tests and the demo
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
here=$(dirname "$0")
# podman's settings for this kind of machine, as a drop-in that leaves the rest of containers.conf alone.
podman_conf=/etc/containers/containers.conf.d/registry-ldap-auth.conf
write_podman_conf() {
  mkdir -p "$(dirname "$podman_conf")"
  cat > "$podman_conf" <<'CONF'
# Written by registry-ldap-auth's scripts/install-system-deps.sh.
[containers]
# Without explicit limits every container fails: "setrlimit RLIMIT_NOFILE: Operation not permitted".
default_ulimits = ["nofile=1024:1024", "nproc=4096:4096"]
[engine]
# crun: "cgroups in hybrid mode not supported".
runtime = "runc"
[network]
# Service names on `internal: true` networks resolve only with netavark + aardvark-dns.
network_backend = "netavark"
CONF
}

if [ ${#missing[@]} -eq 0 ]; then
  [ -f "$podman_conf" ] || [ "$(id -u)" -ne 0 ] || write_podman_conf
  exec bash "$here/check-system-deps.sh"
fi

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
write_podman_conf
bash "$here/check-system-deps.sh"
