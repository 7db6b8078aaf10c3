// The sidecar's environment for the seeded test slapd (test/stack/seed/openldap.ldif).
import type { Slapd } from '../../../../test/stack/slapd.ts';
import { seed } from '../../../../test/stack/slapd.ts';

export function openldapEnv(slapd: Slapd, overrides: Record<string, string> = {}): Record<string, string> {
  return {
    LDAP_URL: slapd.url,
    LDAP_BIND_DN: seed.service.dn,
    LDAP_BIND_PASSWORD: seed.service.password,
    LDAP_USER_BASE_DN: seed.peopleDn,
    LDAP_GROUP_BASE_DN: seed.groupsDn,
    LDAP_NESTED_GROUPS: 'true',
    AUTH_PUSH_GROUPS: 'registry-pushers',
    AUTH_PULL_GROUPS: 'registry-users',
    AUTH_DELETE_GROUPS: 'registry-admins',
    LDAP_TIMEOUT_MS: '2000',
    LDAP_CONNECT_TIMEOUT_MS: '1000',
    ...overrides,
  };
}
