// @ts-nocheck
// 
// Defaults per directory flavour. Every value can be overridden by its LDAP_* variable.

export type PresetName = 'openldap' | 'activedirectory' | 'freeipa';

export interface Preset {
  readonly userFilter: string;
  readonly usernameAttribute: string;
  readonly groupFilter: string;
  readonly groupNameAttribute: string;
}

export const PRESETS: Readonly<Record<PresetName, Preset>> = {
  openldap: {
    userFilter: '(&(objectClass=inetOrgPerson)(uid={username}))',
    usernameAttribute: 'uid',
    groupFilter: '(&(objectClass=groupOfNames)(member={dn}))',
    groupNameAttribute: 'cn',
  },
  activedirectory: {
    // sAMAccountName or UPN; `DOMAIN\user` is reduced to `user` before the search (normalizeLogin).
    userFilter:
      '(&(objectCategory=person)(objectClass=user)(|(sAMAccountName={username})(userPrincipalName={username})))',
    usernameAttribute: 'sAMAccountName',
    groupFilter: '(&(objectClass=group)(member={dn}))',
    groupNameAttribute: 'cn',
  },
  freeipa: {
    userFilter: '(&(objectClass=posixAccount)(uid={username}))',
    usernameAttribute: 'uid',
    groupFilter: '(&(objectClass=groupOfNames)(member={dn}))',
    groupNameAttribute: 'cn',
  },
};

export const PRESET_NAMES = Object.keys(PRESETS) as PresetName[];

// 1.2.840.113556.1.4.1941 // LDAP_MATCHING_RULE_IN_CHAIN: AD resolves transitive membership server-side.
export const IN_CHAIN_MEMBER = '(member:1.2.840.113556.1.4.1941:={dn})';

/**
 * How a login name is reduced before the directory search (and the cache key): AD's down-level
 * `DOMAIN\user` → `user`, and ASCII letters lower-cased, because AD compares sAMAccountName and
 * userPrincipalName case-insensitively: `ALICE@EXAMPLE.TEST` is the same account as `alice@example.test`
 * and must find the same cache entry instead of binding again. Only ASCII: other case mappings (e.g.
 * Turkish dotted I) differ between JavaScript and AD, and a miss merely costs one bind.
 */
export function normalizeLogin(preset: PresetName, login: string): string {
  if (preset !== 'activedirectory') return login;
  const slash = login.indexOf('\\');
  const name = slash > 0 && slash < login.length - 1 ? login.slice(slash + 1) : login;
  return name.replace(/[A-Z]+/g, (letters) => letters.toLowerCase());
}
