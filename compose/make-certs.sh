#!/usr/bin/env bash
# Development certificates and secrets for the compose demo, written to compose/certs/ (git-ignored):
#   ca.crt ca.key                 a throwaway CA; trust ca.crt in clients (see the end of the output)
#   registry.crt registry.key     nginx's certificate: localhost, 127.0.0.1 and every name given as argument
#   ldap/ldap.crt ldap.key ca.crt the demo OpenLDAP's certificate (StartTLS from the sidecar)
#   ldap-bind-password            the sidecar's search account password (cn=readonly)
#   ldap-admin-password           the demo directory's admin password
# Usage: ./make-certs.sh [registry.example.com ...]   Existing files are kept; delete certs/ to start over.
set -euo pipefail
umask 077
cd "$(dirname "$0")"
out=certs
mkdir -p "$out/ldap"
chmod 700 "$out"

days=365
# EC P-256: accepted by nginx, Go (registry, docker, skopeo), Node and OpenLDAP alike.
key_args=(-newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes)

if [ ! -f "$out/ca.crt" ]; then
  openssl req -x509 "${key_args[@]}" -keyout "$out/ca.key" -out "$out/ca.crt" -days "$days" -sha256 \
    -subj "/CN=registry-ldap-auth dev CA" \
    -addext "basicConstraints=critical,CA:TRUE,pathlen:0" \
    -addext "keyUsage=critical,keyCertSign,cRLSign"
fi

# issue NAME OUT_PREFIX SAN: a serverAuth certificate; clients check the subjectAltName, not the CN.
issue() {
  local name=$1 prefix=$2 san=$3
  [ -f "$prefix.crt" ] && return 0
  openssl req -new "${key_args[@]}" -keyout "$prefix.key" -out "$prefix.csr" -subj "/CN=$name"
  openssl x509 -req -in "$prefix.csr" -CA "$out/ca.crt" -CAkey "$out/ca.key" -CAcreateserial \
    -out "$prefix.crt" -days "$days" -sha256 -extfile <(printf '%s\n' \
      "basicConstraints=critical,CA:FALSE" \
      "keyUsage=critical,digitalSignature,keyAgreement" \
      "extendedKeyUsage=serverAuth" \
      "subjectAltName=$san")
  rm -f "$prefix.csr"
}

san="DNS:localhost,IP:127.0.0.1"
for name in "$@"; do
  if [[ $name =~ ^[0-9.]+$ || $name == *:* ]]; then san+=",IP:$name"; else san+=",DNS:$name"; fi
done
issue "${1:-localhost}" "$out/registry" "$san"
issue openldap "$out/ldap/ldap" "DNS:openldap"
cp "$out/ca.crt" "$out/ldap/ca.crt"

secret() {
  [ -f "$1" ] || printf '%s' "$(openssl rand -hex 24)" > "$1"
}
secret "$out/ldap-bind-password"
secret "$out/ldap-admin-password"

# Outside swarm, compose secrets and mounts are plain bind mounts that keep the host's owner and mode,
# and the sidecar runs as a non-root user: its inputs must be world-readable. certs/ itself stays 0700.
chmod 644 "$out/ca.crt" "$out/ldap/ca.crt" "$out/registry.crt" "$out/ldap/ldap.crt" "$out/ldap-bind-password"

port=${REGISTRY_PORT:-5043}
cat <<MSG
Certificates and secrets are in $(pwd)/$out.
Trust the CA for localhost:$port, then log in (e.g. alice / alice-password):
  docker:         sudo install -D -m 644 $out/ca.crt /etc/docker/certs.d/localhost:$port/ca.crt
  podman, skopeo: sudo install -D -m 644 $out/ca.crt /etc/containers/certs.d/localhost:$port/ca.crt
MSG
