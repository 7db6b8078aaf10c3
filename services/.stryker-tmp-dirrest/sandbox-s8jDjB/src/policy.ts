// @ts-nocheck
// Authorization as data: subject (user, groups) + object (action, repository) → the rules that grant the
// action → allow if one admits the subject for that repository, otherwise deny.
import type { Group } from './directory/directory.ts';
import { dnKey } from './dn.ts';
import type { Access, Action } from './registry-scope.ts';

export interface Subject {
  readonly username: string;
  readonly groups: readonly Group[];
}

/** Who a rule admits: every authenticated user, or members of any of the listed groups (names or DNs). */
export type Members =
  | { readonly kind: 'authenticated' }
  | { readonly kind: 'groups'; readonly names: ReadonlySet<string>; readonly dns: ReadonlySet<string> };

export interface Rule {
  readonly actions: readonly Action[];
  readonly members: Members;
  /** Limits the rule to matching repositories; absent: every repository. */
  readonly repositories?: RegExp;
}

export interface PolicyConfig {
  readonly pushGroups: readonly string[];
  readonly pullGroups: readonly string[];
  readonly deleteGroups: readonly string[];
  readonly catalogGroups: readonly string[];
}

/** One entry of an AUTH_*_GROUPS list: `group` (every repository) or `group@pattern`. */
export interface Grant {
  readonly group: string;
  readonly pattern?: string;
}

// In a pattern, `*` matches within one path component and `**` across components: `team-a/*`
// matches `team-a/app`, `team-a/**` also matches `team-a/tools/app`.
const PATTERN = /^[a-z0-9._/*-]+$/;

/** A group named by its DN rather than by its name: the entry holds an `=`. */
export function isDnGrant(group: string): boolean {
  return group.includes('=');
}

/** Throws with a message naming what is wrong. */
export function parseGrant(entry: string): Grant {
  const at = entry.lastIndexOf('@');
  const group = at === -1 ? entry : entry.slice(0, at).trim();
  if (isDnGrant(group) && dnKey(group) === undefined) {
    throw new Error(`"${group}" is not a distinguished name (RFC 4514: escape , + " \\ < > ; in values)`);
  }
  if (at === -1) return { group };
  const pattern = entry.slice(at + 1).trim();
  if (group === '' || !PATTERN.test(pattern)) {
    throw new Error(`"${entry}" is not group@repository-pattern (pattern: lower-case name with * or **)`);
  }
  return { group, pattern };
}

/** A repository pattern of AUTH_*_GROUPS (`team-a/*`, `team-b/**`, `app`). */
export function isRepositoryPattern(pattern: string): boolean {
  return PATTERN.test(pattern);
}

/**
 * The pattern language of AUTH_*_GROUPS as an anchored RegExp. Every other character is literal, so the
 * same function serves repository patterns and the claim globs of the OIDC rules file.
 */
export function globToRegExp(pattern: string): RegExp {
  const source = pattern
    .split('**')
    .map((part) =>
      part
        .split('*')
        .map((literal) => literal.replace(/[\\^$.|?+()[\]{}]/g, '\\$&'))
        .join('[^/]*'),
    )
    .join('.*');
  return new RegExp(`^${source}$`, 'u');
}

function members(groups: readonly string[]): Members {
  const names = new Set<string>();
  const dns = new Set<string>();
  for (const g of groups) {
    // parseGrant has refused a DN that does not parse; were one to get here, it would match nothing.
    if (isDnGrant(g)) dns.add(dnKey(g) ?? '');
    else names.add(g.toLowerCase());
  }
  dns.delete('');
  return { kind: 'groups', names, dns };
}

/** A rule for the unscoped entries of a list, and one per scoped entry. */
function grantRules(actions: readonly Action[], entries: readonly string[]): Rule[] {
  const grants = entries.map(parseGrant);
  const unscoped = grants.filter((g) => g.pattern === undefined).map((g) => g.group);
  const rules: Rule[] = unscoped.length > 0 ? [{ actions, members: members(unscoped) }] : [];
  for (const g of grants) {
    if (g.pattern !== undefined) {
      rules.push({ actions, members: members([g.group]), repositories: globToRegExp(g.pattern) });
    }
  }
  return rules;
}

/**
 * The rules of docs/interface.md ("Who may do what"): pushers push and pull; an empty pull list lets every
 * authenticated user pull; an empty delete list lets nobody delete; an empty catalog list falls back to
 * whoever may pull every repository (a scoped reader must not list the others' repositories).
 */
export function rulesFromConfig(config: PolicyConfig): readonly Rule[] {
  const authenticated: Members = { kind: 'authenticated' };
  const everyone = config.pullGroups.length === 0;
  const unscopedPullers = config.pullGroups.filter((e) => parseGrant(e).pattern === undefined);
  const catalog: Rule[] =
    config.catalogGroups.length > 0
      ? grantRules(['catalog'], config.catalogGroups)
      : everyone
        ? [{ actions: ['catalog'], members: authenticated }]
        : grantRules(['catalog'], unscopedPullers);
  return [
    { actions: ['login'], members: authenticated },
    ...grantRules(['push', 'pull'], config.pushGroups),
    ...(everyone
      ? [{ actions: ['pull'], members: authenticated } satisfies Rule]
      : grantRules(['pull'], config.pullGroups)),
    ...grantRules(['delete'], config.deleteGroups),
    ...catalog,
  ];
}

// A group's DN is parsed once: the decision cache hands out the same group objects on every hit.
const groupKeys = new WeakMap<Group, string>();

/** The comparison key of a group's DN (RFC 4514 / 4517); '' (matching no grant) when it does not parse. */
function groupKey(group: Group): string {
  let key = groupKeys.get(group);
  if (key === undefined) {
    key = dnKey(group.dn) ?? '';
    groupKeys.set(group, key);
  }
  return key;
}

function admits(m: Members, subject: Subject): boolean {
  if (m.kind === 'authenticated') return true;
  return subject.groups.some(
    (g) => m.names.has(g.name.toLowerCase()) || (m.dns.size > 0 && m.dns.has(groupKey(g))),
  );
}

export class Policy {
  readonly #rules: readonly Rule[];

  constructor(rules: readonly Rule[]) {
    this.#rules = rules;
  }

  /** True when the subject holds every access the request needs (a cross-repository mount needs two). */
  allows(subject: Subject, access: readonly Access[]): boolean {
    return access.every((a) =>
      this.#rules.some(
        (rule) =>
          rule.actions.includes(a.action) &&
          (rule.repositories === undefined ||
            (a.repository !== undefined && rule.repositories.test(a.repository))) &&
          admits(rule.members, subject),
      ),
    );
  }
}
