// The people and groups of openldap.ldif, read from that file: the LDIF is the one source, this module only
// names what tests refer to. A name missing from the LDIF fails at import, not half-way through a test.
import { readFileSync } from 'node:fs';

/** The LDIF that the tests' slapd, the demo and the compose directory image load. */
export const SEED_LDIF = new URL('./openldap.ldif', import.meta.url);

interface Entry {
  readonly dn: string;
  readonly attributes: ReadonlyMap<string, readonly string[]>;
  /** From a `# password: …` comment above the entry: the plain text of its {SSHA} userPassword. */
  readonly password: string | undefined;
}

/** Plain `attr: value` records separated by blank lines (no base64 values, no folded lines: not needed). */
export function parseLdif(text: string): Entry[] {
  return text
    .split(/\n\s*\n/)
    .map((block) => {
      const attributes = new Map<string, string[]>();
      let password: string | undefined;
      for (const line of block.split('\n')) {
        const comment = /^# password: (\S+)$/.exec(line);
        if (comment) password = comment[1];
        const match = /^([A-Za-z][\w-]*): (.*)$/.exec(line);
        if (!match || line.startsWith('#')) continue;
        const [, name = '', value = ''] = match;
        attributes.set(name, [...(attributes.get(name) ?? []), value]);
      }
      return { dn: attributes.get('dn')?.[0] ?? '', attributes, password };
    })
    .filter((entry) => entry.dn !== '');
}

const entries = parseLdif(readFileSync(SEED_LDIF, 'utf8'));

function find(what: string, test: (entry: Entry) => boolean): Entry {
  const entry = entries.find(test);
  if (!entry) throw new Error(`${what} is not in ${SEED_LDIF.pathname}`);
  return entry;
}

function passwordOf(entry: Entry): string {
  if (entry.password === undefined) throw new Error(`no "# password:" comment above ${entry.dn}`);
  return entry.password;
}

function user(uid: string) {
  const entry = find(`user ${uid}`, (e) => e.attributes.get('uid')?.[0] === uid);
  const mail = entry.attributes.get('mail')?.[0] ?? '';
  return { uid, dn: entry.dn, mail, password: passwordOf(entry) } as const;
}

function group(cn: string) {
  const entry = find(
    `group ${cn}`,
    (e) =>
      e.attributes.get('objectClass')?.includes('groupOfNames') === true &&
      e.attributes.get('cn')?.[0] === cn,
  );
  return { cn, dn: entry.dn, members: entry.attributes.get('member') ?? [] } as const;
}

const baseDn = find(
  'the base entry',
  (e) => e.attributes.get('objectClass')?.includes('dcObject') === true,
).dn;
const serviceEntry = find('the service account', (e) => e.dn.startsWith('cn=registry-auth,'));

export const seed = {
  baseDn,
  peopleDn: `ou=people,${baseDn}`,
  groupsDn: `ou=groups,${baseDn}`,
  servicesDn: `ou=services,${baseDn}`,
  /** Read-only service account for searches. */
  service: { dn: serviceEntry.dn, password: passwordOf(serviceEntry) },
  /** olcRootDN of the tests' database (set in ../slapd.ts, not in the LDIF): for tests that change the directory. */
  admin: { dn: `cn=admin,${baseDn}`, password: 'admin-password' },
  users: {
    alice: user('alice'),
    bob: user('bob'),
    /** In no group. */
    carol: user('carol'),
    /** A pusher only through the nested group registry-ci. */
    dave: user('dave'),
    erin: user('erin'),
    /** The comma is escaped in the DN (RFC 4514); the parentheses need escaping in a filter (RFC 4515). */
    pobrien: user('pobrien'),
  },
  groups: {
    /** Direct member alice; dave only through the nested group registry-ci. */
    pushers: group('registry-pushers'),
    ci: group('registry-ci'),
    users: group('registry-users'),
    admins: group('registry-admins'),
    /** groupOfNames needs a member: only the service account, so no user is in it. */
    empty: group('empty-group'),
  },
} as const;
