// Authorization as data: subject (user, groups) + object (action, repository) → the first rule that names
// the action decides → otherwise deny.
import type { Access, Action } from './registry-scope.ts';

export interface Group {
  /** The value of LDAP_GROUP_NAME_ATTRIBUTE (cn by default). */
  readonly name: string;
  readonly dn: string;
}

export interface Subject {
  readonly username: string;
  readonly groups: readonly Group[];
}

/** Who a rule admits: every authenticated user, or members of any of the listed groups (names or DNs). */
export type Members =
  { readonly kind: 'authenticated' } | { readonly kind: 'groups'; readonly groups: readonly string[] };

export interface Rule {
  readonly actions: readonly Action[];
  readonly members: Members;
}

export interface PolicyConfig {
  readonly pushGroups: readonly string[];
  readonly pullGroups: readonly string[];
  readonly deleteGroups: readonly string[];
  readonly catalogGroups: readonly string[];
}

/**
 * The rule list CONTRACT.md describes: pushers push and pull; an empty pull list lets every authenticated
 * user pull; an empty delete list lets nobody delete; an empty catalog list falls back to the pull rule.
 */
export function rulesFromConfig(config: PolicyConfig): readonly Rule[] {
  const groups = (list: readonly string[]): Members => ({ kind: 'groups', groups: list });
  const pullMembers: Members =
    config.pullGroups.length === 0 ? { kind: 'authenticated' } : groups(config.pullGroups);
  const rules: Rule[] = [
    { actions: ['login'], members: { kind: 'authenticated' } },
    { actions: ['push', 'pull'], members: groups(config.pushGroups) },
    { actions: ['pull'], members: pullMembers },
  ];
  if (config.deleteGroups.length > 0)
    rules.push({ actions: ['delete'], members: groups(config.deleteGroups) });
  rules.push({
    actions: ['catalog'],
    members: config.catalogGroups.length === 0 ? pullMembers : groups(config.catalogGroups),
  });
  return rules;
}

/** DNs compare case-insensitively and without the optional spaces around separators (RFC 4514 §3). */
export function normalizeDn(dn: string): string {
  return dn.replace(/\s*([,=+])\s*/g, '$1').toLowerCase();
}

function admits(members: Members, subject: Subject): boolean {
  if (members.kind === 'authenticated') return true;
  return members.groups.some((wanted) => {
    const isDn = wanted.includes('=');
    const key = isDn ? normalizeDn(wanted) : wanted.toLowerCase();
    return subject.groups.some((g) => (isDn ? normalizeDn(g.dn) === key : g.name.toLowerCase() === key));
  });
}

export class Policy {
  readonly #rules: readonly Rule[];

  constructor(rules: readonly Rule[]) {
    this.#rules = rules;
  }

  /** True when the subject holds every access the request needs (a cross-repository mount needs two). */
  allows(subject: Subject, access: readonly Access[]): boolean {
    return access.every((a) =>
      this.#rules.some((rule) => rule.actions.includes(a.action) && admits(rule.members, subject)),
    );
  }
}
