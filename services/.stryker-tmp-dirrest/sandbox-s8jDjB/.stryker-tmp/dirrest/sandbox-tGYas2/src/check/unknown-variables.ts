// @ts-nocheck
// 
// Variables that look like ours but are not read by anything: a misspelt LDAP_NESTED_GROUP is otherwise
// silently ignored and its default applies.
import { closest, distance } from 'fastest-levenshtein';
import type { Env } from '../env-reader.ts';

/** The prefixes of the service's own variables; anything else in the environment belongs to someone else. */
export const OWN_PREFIXES = ['LDAP_', 'AUTH_', 'CACHE_', 'LOCKOUT_', 'OIDC_'] as const;

export interface UnknownVariable {
  readonly name: string;
  /** The known variable it is most likely a misspelling of, when one is close enough. */
  readonly suggestion?: string;
}

/** `known`: every variable the configuration reads (config.ts configVariables()). */
export function unknownVariables(env: Env, known: readonly string[]): UnknownVariable[] {
  const knownSet = new Set(known);
  const ours = known.filter((name) => OWN_PREFIXES.some((p) => name.startsWith(p)));
  return Object.keys(env)
    .filter((name) => OWN_PREFIXES.some((p) => name.startsWith(p)) && !knownSet.has(name))
    .sort()
    .map((name) => {
      const suggestion = ours.length > 0 ? closest(name, ours) : undefined;
      // A third of the name may differ: LDAP_NESTED_GROUP → LDAP_NESTED_GROUPS, LDAP_BASE_DN → LDAP_USER_BASE_DN.
      return suggestion !== undefined && distance(name, suggestion) <= Math.max(2, name.length / 3)
        ? { name, suggestion }
        : { name };
    });
}

export function describeUnknown(v: UnknownVariable): string {
  return `${v.name} is set but not read by registry-ldap-auth${
    v.suggestion === undefined ? '' : `: did you mean ${v.suggestion}?`
  }`;
}
