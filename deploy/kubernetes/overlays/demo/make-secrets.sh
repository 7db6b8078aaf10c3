#!/usr/bin/env bash
# The demo's TLS secrets, made with openssl and printed as YAML for kubectl (nothing is written to the
# cluster here): a throwaway CA, nginx's certificate (registry-tls) and the demo directory's (openldap-tls).
#   ./make-secrets.sh [DIR] | kubectl apply -n registry-demo -f -
# DIR (default: a new temporary directory) keeps ca.crt for clients (skopeo --dest-cert-dir, docker's
# certs.d); existing files there are reused.
set -euo pipefail
dir=${1:-$(mktemp -d)}
mkdir -p "$dir" && chmod 700 "$dir"
cd "$dir"
days=30

if [ ! -f ca.crt ]; then
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ca.key -out ca.crt \
    -days "$days" -subj /CN=registry-ldap-auth-demo-ca -addext basicConstraints=critical,CA:TRUE \
    -addext keyUsage=critical,keyCertSign,cRLSign 2>/dev/null
fi

# issue NAME SAN: a serverAuth certificate; clients check the subjectAltName, not the CN.
issue() {
  [ -f "$1.crt" ] && return
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$1.key" -out "$1.csr" \
    -subj "/CN=$1" 2>/dev/null
  openssl x509 -req -in "$1.csr" -CA ca.crt -CAkey ca.key -CAcreateserial -out "$1.crt" -days "$days" \
    -extfile <(printf '%s\n' basicConstraints=critical,CA:FALSE extendedKeyUsage=serverAuth \
      "subjectAltName=$2") 2>/dev/null
  rm "$1.csr"
}
issue registry 'DNS:localhost,IP:127.0.0.1,DNS:registry-front,DNS:registry-front.registry-demo.svc'
issue ldap 'DNS:openldap,DNS:openldap.registry-demo.svc'

kubectl create secret tls registry-tls --cert=registry.crt --key=registry.key --dry-run=client -o yaml
echo ---
kubectl create secret generic openldap-tls --from-file=ldap.crt --from-file=ldap.key --from-file=ca.crt \
  --dry-run=client -o yaml
echo "make-secrets: CA certificate for clients: $dir/ca.crt" >&2
