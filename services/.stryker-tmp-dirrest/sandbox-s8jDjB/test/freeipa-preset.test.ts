// @ts-nocheck
// The freeipa preset against a directory laid out as FreeIPA lays it out: users are posixAccount entries
// under cn=users,cn=accounts, groups are groupOfNames under cn=groups,cn=accounts (slapd with the nis
// schema; a real FreeIPA server is not packaged for this platform).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { assertNoSecretsInLogs, basic } from '@registry-ldap-auth/stack/credentials';
import { decide, startSidecar } from '@registry-ldap-auth/stack/sidecar';
import type { Sidecar } from '@registry-ldap-auth/stack/sidecar';
import { seed, startSlapd } from '@registry-ldap-auth/stack/slapd';
import type { Slapd } from '@registry-ldap-auth/stack/slapd';

const accounts = `cn=accounts,${seed.baseDn}`;
const users = `cn=users,${accounts}`;
const groups = `cn=groups,${accounts}`;
// FreeIPA's containers are 389-DS nsContainer entries; organizationalRole stands in for them here.
const entries = `
dn: ${accounts}
objectClass: organizationalRole
cn: accounts

dn: ${users}
objectClass: organizationalRole
cn: users

dn: ${groups}
objectClass: organizationalRole
cn: groups

dn: uid=frank,${users}
objectClass: inetOrgPerson
objectClass: posixAccount
uid: frank
cn: Frank Fischer
sn: Fischer
uidNumber: 10001
gidNumber: 10001
homeDirectory: /home/frank
userPassword: frank-password

dn: uid=grace,${users}
objectClass: inetOrgPerson
objectClass: posixAccount
uid: grace
cn: Grace Gray
sn: Gray
uidNumber: 10002
gidNumber: 10002
homeDirectory: /home/grace
userPassword: grace-password

dn: uid=inetonly,${users}
objectClass: inetOrgPerson
uid: inetonly
cn: Not Posix
sn: Posix
userPassword: inetonly-password

dn: cn=developers,${groups}
objectClass: groupOfNames
cn: developers
member: uid=frank,${users}
`;

let slapd: Slapd;
let sidecar: Sidecar;

before(async () => {
  slapd = await startSlapd({ extraLdif: entries });
  sidecar = await startSidecar({
    LDAP_PRESET: 'freeipa',
    LDAP_URL: slapd.url,
    LDAP_BIND_DN: seed.service.dn,
    LDAP_BIND_PASSWORD: seed.service.password,
    LDAP_USER_BASE_DN: users,
    LDAP_GROUP_BASE_DN: groups,
    AUTH_PUSH_GROUPS: 'developers',
  });
});
after(async () => {
  try {
    await assertNoSecretsInLogs(); // before the servers and their logs are removed
  } finally {
    await sidecar.stop();
    await slapd.destroy();
  }
});

describe('LDAP_PRESET=freeipa', () => {
  it('finds a posixAccount by uid and its groupOfNames groups: a developer pushes', async () => {
    const res = await decide(sidecar, 'PUT', '/v2/team/app/manifests/v1', basic('frank', 'frank-password'));
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('x-auth-user'), 'frank');
    assert.equal(res.headers.get('x-auth-groups'), 'developers');
  });

  it('a user in no group may log in and pull (AUTH_PULL_GROUPS empty) but not push', async () => {
    assert.equal(
      (await decide(sidecar, 'GET', '/v2/team/app/tags/list', basic('grace', 'grace-password'))).status,
      200,
    );
    assert.equal(
      (await decide(sidecar, 'PUT', '/v2/team/app/manifests/v1', basic('grace', 'grace-password'))).status,
      403,
    );
  });

  it('an entry that is not a posixAccount is not a user', async () => {
    assert.equal((await decide(sidecar, 'GET', '/v2/', basic('inetonly', 'inetonly-password'))).status, 401);
  });
});
