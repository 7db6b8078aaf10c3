#!/bin/sh
# First start (empty /etc/ldap/slapd.d): cn=config written offline, then the seed loaded with ldapadd over
# ldapi:/// (so the memberof overlay fills memberOf) and the service account's password set from its
# secret. Every start: slapd in the foreground on ldap:/// (StartTLS) and ldaps:///, as the openldap user.
#   LDAP_ADMIN_PASSWORD_FILE    the database's rootdn (cn=admin,<base>) password
#   LDAP_SERVICE_PASSWORD_FILE  the sidecar's search account (cn=registry-auth,ou=services,<base>) password
#   LDAP_TLS_DIR                ldap.crt, ldap.key and ca.crt (default /etc/ldap/certs)
set -eu
: "${LDAP_ADMIN_PASSWORD_FILE:?}" "${LDAP_SERVICE_PASSWORD_FILE:?}"
tls_in=${LDAP_TLS_DIR:-/etc/ldap/certs}
conf=/etc/ldap/slapd.d
seed=/usr/share/registry-ldap-auth/seed.ldif
base=$(sed -n 's/^dn: \(dc=.*\)$/\1/p' "$seed" | head -n 1)
service_dn="cn=registry-auth,ou=services,$base"
admin_dn="cn=admin,$base"

# The key is mounted read-only with the host's owner and mode: slapd reads a copy it owns.
tls=/run/slapd/tls
install -d -o openldap -g openldap -m 0700 /run/slapd "$tls"
for f in ldap.crt ldap.key ca.crt; do install -o openldap -g openldap -m 0600 "$tls_in/$f" "$tls/$f"; done

if [ -z "$(ls -A "$conf" 2>/dev/null)" ]; then
  echo "openldap: first start, writing cn=config for $base" >&2
  rootpw=$(slappasswd -h '{SSHA}' -T "$LDAP_ADMIN_PASSWORD_FILE")
  cat > /tmp/config.ldif <<LDIF
dn: cn=config
objectClass: olcGlobal
cn: config
olcPidFile: /run/slapd/slapd.pid
olcArgsFile: /run/slapd/slapd.args
olcTLSCertificateFile: $tls/ldap.crt
olcTLSCertificateKeyFile: $tls/ldap.key
olcTLSCACertificateFile: $tls/ca.crt

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

include: file:///etc/ldap/schema/nis.ldif

dn: olcDatabase={-1}frontend,cn=config
objectClass: olcDatabaseConfig
objectClass: olcFrontendConfig
olcDatabase: {-1}frontend

dn: olcDatabase={0}config,cn=config
objectClass: olcDatabaseConfig
olcDatabase: {0}config
olcAccess: {0}to * by dn.exact=gidNumber=0+uidNumber=0,cn=peercred,cn=external,cn=auth manage by * none

dn: olcDatabase={1}mdb,cn=config
objectClass: olcDatabaseConfig
objectClass: olcMdbConfig
olcDatabase: {1}mdb
olcSuffix: $base
olcDbDirectory: /var/lib/ldap
olcRootDN: $admin_dn
olcRootPW: $rootpw
olcDbIndex: objectClass eq
olcDbIndex: uid,cn,mail eq,sub
olcDbIndex: member,memberOf eq
olcAccess: {0}to attrs=userPassword by * auth
olcAccess: {1}to * by dn.exact="$service_dn" read by self read by * none

dn: olcOverlay={0}memberof,olcDatabase={1}mdb,cn=config
objectClass: olcOverlayConfig
objectClass: olcMemberOfConfig
olcOverlay: {0}memberof
olcMemberOfGroupOC: groupOfNames
olcMemberOfMemberAD: member
olcMemberOfMemberOfAD: memberOf
olcMemberOfRefInt: TRUE

dn: olcOverlay={1}refint,olcDatabase={1}mdb,cn=config
objectClass: olcOverlayConfig
objectClass: olcRefintConfig
olcOverlay: {1}refint
olcRefintAttribute: member
LDIF
  slapadd -n0 -F "$conf" -l /tmp/config.ldif
  rm /tmp/config.ldif
  chown -R openldap:openldap "$conf" /var/lib/ldap

  # Seeding on the local socket only: nothing on the network sees a half-seeded directory.
  slapd -F "$conf" -h ldapi:/// -u openldap -g openldap
  tries=0
  until ldapsearch -Q -Y EXTERNAL -H ldapi:/// -b '' -s base >/dev/null 2>&1; do
    tries=$((tries + 1))
    [ "$tries" -lt 100 ] || { echo "openldap: slapd did not start" >&2; exit 1; }
    sleep 0.1
  done
  ldapadd -x -H ldapi:/// -D "$admin_dn" -y "$LDAP_ADMIN_PASSWORD_FILE" -f "$seed" >/dev/null
  # The seed's service password is the tests'; the deployment's comes from its secret.
  ldappasswd -x -H ldapi:/// -D "$admin_dn" -y "$LDAP_ADMIN_PASSWORD_FILE" -T "$LDAP_SERVICE_PASSWORD_FILE" "$service_dn"
  kill "$(cat /run/slapd/slapd.pid)"
  tries=0
  while [ -e /run/slapd/slapd.pid ]; do
    tries=$((tries + 1))
    [ "$tries" -lt 100 ] || { echo "openldap: slapd did not stop" >&2; exit 1; }
    sleep 0.1
  done
  echo "openldap: seeded from $seed" >&2
fi

exec slapd -F "$conf" -h 'ldap:/// ldaps:///' -u openldap -g openldap -d "${LDAP_LOG_LEVEL:-stats}"
