// @ts-nocheck
// 
// Start-up advice on grants that whoever may create entries in the directory could take over.
import { isWithin } from './dn.ts';
import { isDnGrant, parseGrant } from './policy.ts';
import type { PolicyConfig } from './policy.ts';

const LISTS = [
  ['AUTH_PUSH_GROUPS', 'pushGroups'],
  ['AUTH_PULL_GROUPS', 'pullGroups'],
  ['AUTH_DELETE_GROUPS', 'deleteGroups'],
  ['AUTH_CATALOG_GROUPS', 'catalogGroups'],
] as const;

/**
 * A grant by name admits every group with that name anywhere under LDAP_GROUP_BASE_DN. When that subtree
 * holds the users too (LDAP_GROUP_BASE_DN defaults to LDAP_USER_BASE_DN), whoever may create an entry
 * among the users (a self-service portal, a delegated helpdesk) can make a group of that name and be
 * granted. A grant by DN names one entry and cannot be matched by another.
 */
export function grantWarnings(
  policy: PolicyConfig,
  ldap: { readonly userBaseDn: string; readonly groupBaseDn: string },
): string[] {
  if (!isWithin(ldap.userBaseDn, ldap.groupBaseDn)) return [];
  const byName = LISTS.flatMap(([variable, key]) =>
    policy[key]
      .map((entry) => parseGrant(entry).group)
      .filter((group) => !isDnGrant(group))
      .map((group) => `${variable}: ${group}`),
  );
  if (byName.length === 0) return [];
  return [
    `groups granted by name (${byName.join('; ')}) are looked up under LDAP_GROUP_BASE_DN=${ldap.groupBaseDn}, ` +
      `which holds the users as well (LDAP_USER_BASE_DN=${ldap.userBaseDn}): anyone who may create an ` +
      'entry there can create a group of that name and be granted. Grant by DN ' +
      '(cn=registry-pushers,ou=groups,…) or set LDAP_GROUP_BASE_DN to the subtree that holds only groups.',
  ];
}
