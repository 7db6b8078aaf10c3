// The names and passwords in openldap.ldif, for tests to refer to instead of repeating strings.
// Keep in step with the LDIF: the slapd smoke test binds every account listed here.

const baseDn = 'dc=example,dc=test';
const peopleDn = `ou=people,${baseDn}`;
const groupsDn = `ou=groups,${baseDn}`;
const servicesDn = `ou=services,${baseDn}`;

function user(uid: string, mail = `${uid}@example.test`, dn = `uid=${uid},${peopleDn}`) {
  return { uid, dn, mail, password: `${uid}-password` } as const;
}

function group(cn: string, members: readonly string[]) {
  return { cn, dn: `cn=${cn},${groupsDn}`, members } as const;
}

const service = { dn: `cn=registry-auth,${servicesDn}`, password: 'service-password' } as const;

const users = {
  alice: user('alice'),
  bob: user('bob'),
  carol: user('carol'),
  dave: user('dave'),
  erin: user('erin'),
  // The comma is escaped in the DN (RFC 4514); the parentheses need escaping in a filter (RFC 4515).
  pobrien: user('pobrien', 'pobrien@example.test', `cn=O'Brien\\, Pat (QA),${peopleDn}`),
} as const;

const ci = group('registry-ci', [users.dave.dn]);

const groups = {
  /** Direct member alice; dave only through the nested group registry-ci. */
  pushers: group('registry-pushers', [users.alice.dn, ci.dn]),
  ci,
  users: group('registry-users', [users.bob.dn, users.pobrien.dn]),
  admins: group('registry-admins', [users.erin.dn]),
  /** groupOfNames needs a member: only the service account, so no user is in it. */
  empty: group('empty-group', [service.dn]),
} as const;

export const seed = {
  baseDn,
  peopleDn,
  groupsDn,
  servicesDn,
  /** Read-only service account for searches. */
  service,
  /** olcRootDN of the database: for tests that change the directory (disable a user, add a group). */
  admin: { dn: `cn=admin,${baseDn}`, password: 'admin-password' },
  users,
  groups,
} as const;
