#!/usr/bin/env bash
# Proves that what the tests, the demo and the compose stack run is usable, not only installed: each check
# runs the tool the way the project does, and a failure names the Debian package to install. A few seconds.
set -uo pipefail
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failed=()

# check PACKAGE WHAT COMMAND...: runs COMMAND quietly; on failure records PACKAGE with WHAT and its output.
check() {
  local package=$1 what=$2
  shift 2
  local out
  if ! out=$("$@" 2>&1); then
    failed+=("$package")
    echo "check-system-deps: $what is not usable: install the Debian package '$package'" >&2
    printf '  %s\n' "$(tail -n 3 <<<"$out")" >&2
  fi
}

# Samba AD: provisioning reads the AD schema files, which a --no-install-recommends samba leaves out.
check samba-ad-provision "the AD schema for 'samba-tool domain provision'" \
  test -f /usr/share/samba/setup/ad-schema/AD_DS_Attributes__Windows_Server_2012_R2.ldf
check samba-ad-dc "the Samba AD DC" test -x /usr/sbin/samba
check samba-common-bin "samba-tool" samba-tool --version
check krb5-user "kinit" sh -c 'command -v kinit'

# slapd: cn=config written offline with the modules and schemas the tests' directory loads.
mkdir -p "$tmp/slapd.d"
cat > "$tmp/config.ldif" <<LDIF
dn: cn=config
objectClass: olcGlobal
cn: config

dn: cn=module{0},cn=config
objectClass: olcModuleList
cn: module{0}
olcModulePath: /usr/lib/ldap
olcModuleLoad: back_mdb
olcModuleLoad: memberof
olcModuleLoad: refint

dn: cn=schema,cn=config
objectClass: olcSchemaConfig
cn: schema

include: file:///etc/ldap/schema/core.ldif

include: file:///etc/ldap/schema/cosine.ldif

include: file:///etc/ldap/schema/inetorgperson.ldif
LDIF
check slapd "slapd (back_mdb, memberof, refint, inetOrgPerson)" \
  env LDAPNOINIT=1 slapadd -n0 -F "$tmp/slapd.d" -l "$tmp/config.ldif"
check ldap-utils "ldapadd" sh -c 'command -v ldapadd && command -v ldapsearch'

# nginx: a configuration with auth_request, as nginx/registry.conf.template uses it.
mkdir -p "$tmp/nginx/logs"
cat > "$tmp/nginx/nginx.conf" <<CONF
error_log stderr;
pid $tmp/nginx/nginx.pid;
events {}
http {
    access_log off;
    server {
        listen 127.0.0.1:9;
        location / { auth_request /_auth; }
        location = /_auth { internal; return 204; }
    }
}
CONF
check nginx "nginx with auth_request" nginx -q -t -p "$tmp/nginx" -c "$tmp/nginx/nginx.conf"
check caddy "caddy" caddy version
check docker-registry "the distribution registry" docker-registry --version
check skopeo "skopeo" skopeo --version
check openssl "openssl" openssl version
check iproute2 "ip netns" ip netns list
check iptables "iptables" iptables --version
check curl "curl" curl --version
check wrk "wrk" sh -c 'command -v wrk'
check apache2-utils "ab" ab -V

# The compose stack: podman with runc and netavark (scripts/install-system-deps.sh configures both),
# aardvark-dns for service names, docker-compose against podman's API, mmdebstrap for base images.
check podman "podman" podman --version
check runc "runc" runc --version
check netavark "netavark" test -x /usr/lib/podman/netavark
check aardvark-dns "aardvark-dns" test -x /usr/lib/podman/aardvark-dns
check podman "podman configured for runc and netavark (/etc/containers/containers.conf.d)" \
  sh -c '[ "$(podman info --format "{{.Host.OCIRuntime.Name}} {{.Host.NetworkBackend}}")" = "runc netavark" ]'
check docker-compose "docker-compose" docker-compose --version
check mmdebstrap "mmdebstrap" mmdebstrap --version

if [ ${#failed[@]} -gt 0 ]; then
  echo "check-system-deps: missing or broken: ${failed[*]} (scripts/install-system-deps.sh installs them)" >&2
  exit 1
fi
