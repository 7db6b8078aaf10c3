// @ts-nocheck
// The directory half of the configuration check: every LDAP_URL on its own, the preset against the kind
// of server, both base DNs, and every group named in AUTH_*_GROUPS.
import { closest, distance } from 'fastest-levenshtein';
import { Filter } from 'ldapts';
import type { Config } from '../config.ts';
import type { Env } from '../env-reader.ts';
import { isWithin } from '../dn.ts';
import { parseGrant } from '../policy.ts';
import { DirectoryProbe, firstValue } from './directory-probe.ts';
import type { ServerInfo, ServerKind } from './directory-probe.ts';
import { explainConnectFailure } from './connect-errors.ts';
import { groupsFilter, usersFilter } from './filter-shapes.ts';
import { EXIT } from './report.ts';
import type { Report } from './report.ts';

const MAX_GROUP_NAMES = 1000; // for "did you mean …?"

const KIND_NAMES: Readonly<Record<ServerKind, string>> = {
  activedirectory: 'Active Directory',
  openldap: 'OpenLDAP',
  '389ds': '389 Directory Server (FreeIPA)',
  unknown: 'an LDAP server of unknown kind',
};

/** Connects to every URL and reports each; returns a bound probe on the first that works, if any. */
export async function connectAll(
  config: Config,
  env: Env,
  report: Report,
): Promise<DirectoryProbe | undefined> {
  const failures: ReturnType<typeof explainConnectFailure>[] = [];
  let first: DirectoryProbe | undefined;
  const as = config.ldap.bindDn === undefined ? 'anonymously' : `as ${config.ldap.bindDn}`;
  for (const url of config.ldap.urls) {
    try {
      const probe = await DirectoryProbe.connect(config.ldap, url);
      report.ok(`${url}: connected${config.ldap.startTls ? ' (StartTLS)' : ''}, bound ${as}`);
      if (first === undefined) first = probe;
      else await probe.close();
    } catch (error) {
      const failure = explainConnectFailure(error, url, env);
      failures.push(failure);
      if (failure.kind === 'misconfigured') report.fail(failure.message, EXIT.misconfigured);
    }
  }
  for (const f of failures.filter((f) => f.kind === 'unreachable')) {
    // One server of several down: the service fails over, but the operator should know.
    if (first === undefined) report.fail(f.message, EXIT.unreachable);
    else report.warn(f.message);
  }
  return first;
}

export function checkPreset(config: Config, server: ServerInfo, report: Report): void {
  const preset = config.ldap.preset;
  report.info(
    `server: ${server.description}${server.description === KIND_NAMES[server.kind] ? '' : ` (${KIND_NAMES[server.kind]})`}`,
  );
  if (preset === 'activedirectory' && (server.kind === 'openldap' || server.kind === '389ds')) {
    const better = server.kind === 'openldap' ? 'openldap' : 'freeipa';
    report.fail(
      `LDAP_PRESET=activedirectory, but the server is ${KIND_NAMES[server.kind]}: set LDAP_PRESET=${better}`,
      EXIT.misconfigured,
    );
  } else if (preset !== 'activedirectory' && server.kind === 'activedirectory') {
    report.fail(
      `LDAP_PRESET=${preset}, but the server is Active Directory: set LDAP_PRESET=activedirectory`,
      EXIT.misconfigured,
    );
  }
}

/** Entries matching `filter` under each naming context, as their parents: where such entries live. */
async function whereFound(probe: DirectoryProbe, server: ServerInfo, filter: string): Promise<string[]> {
  const parents = new Set<string>();
  for (const context of server.namingContexts) {
    try {
      for (const entry of await probe.search(context, filter, ['1.1'], 5)) {
        parents.add(entry.dn.slice(entry.dn.search(/(?<!\\),/) + 1));
      }
    } catch {
      // A naming context the service account may not search (cn=config, a schema): not where users live.
    }
  }
  return [...parents];
}

/** True when the base DN exists and holds at least one entry of the kind `filter` describes. */
async function checkBase(
  probe: DirectoryProbe,
  server: ServerInfo,
  variable: 'LDAP_USER_BASE_DN' | 'LDAP_GROUP_BASE_DN',
  base: string,
  what: { noun: string; filter: string; filterVariable: string },
  report: Report,
): Promise<boolean> {
  const state = await probe.dnState(base);
  if (state === 'malformed') {
    report.fail(`${variable}="${base}" is not a DN (like ou=people,dc=example,dc=com)`, EXIT.misconfigured);
    return false;
  }
  if (state === 'missing') {
    const contexts =
      server.namingContexts.length > 0 ? ` (the server holds ${server.namingContexts.join(', ')})` : '';
    report.fail(`${variable}=${base} does not exist on the server${contexts}`, EXIT.misconfigured);
    return false;
  }
  if ((await probe.search(base, what.filter, ['1.1'], 1)).length > 0) {
    report.ok(`${variable}=${base} exists and holds ${what.noun}`);
    return true;
  }
  const elsewhere = await whereFound(probe, server, what.filter);
  report.fail(
    `${variable}=${base} holds no ${what.noun} (no entry matches ${what.filter}, from ${what.filterVariable})` +
      (elsewhere.length > 0
        ? `\n${what.noun} are under ${elsewhere.join('; ')}: set ${variable} to that`
        : `\nno entry on the server matches it either: check ${what.filterVariable} and LDAP_PRESET`),
    EXIT.misconfigured,
  );
  return false;
}

export async function checkBases(
  config: Config,
  probe: DirectoryProbe,
  server: ServerInfo,
  report: Report,
): Promise<{ users: boolean; groups: boolean }> {
  const c = config.ldap;
  const users = await checkBase(
    probe,
    server,
    'LDAP_USER_BASE_DN',
    c.userBaseDn,
    { noun: 'users', filter: usersFilter(c.userFilter.source), filterVariable: 'LDAP_USER_FILTER' },
    report,
  );
  const groups = await checkBase(
    probe,
    server,
    'LDAP_GROUP_BASE_DN',
    c.groupBaseDn,
    { noun: 'groups', filter: groupsFilter(c.groupFilter.source), filterVariable: 'LDAP_GROUP_FILTER' },
    report,
  );
  return { users, groups };
}

const GROUP_LISTS = [
  ['AUTH_PUSH_GROUPS', 'pushGroups', 'nobody may push'],
  ['AUTH_PULL_GROUPS', 'pullGroups', 'every authenticated user may pull'],
  ['AUTH_DELETE_GROUPS', 'deleteGroups', 'nobody may delete'],
  ['AUTH_CATALOG_GROUPS', 'catalogGroups', 'whoever may pull every repository may list the catalog'],
] as const;

/** Resolves every group named in AUTH_*_GROUPS; a name or DN that matches no group is a problem. */
export async function checkGroups(config: Config, probe: DirectoryProbe, report: Report): Promise<void> {
  const c = config.ldap;
  const isGroup = groupsFilter(c.groupFilter.source);
  const base = c.groupBaseDn;
  let names: string[] | undefined;
  const suggest = async (name: string): Promise<string> => {
    names ??= (await probe.search(base, isGroup, [c.groupNameAttribute], MAX_GROUP_NAMES))
      .map((e) => firstValue(e, c.groupNameAttribute))
      .filter((n) => n !== undefined);
    const near = names.length > 0 ? closest(name, names) : undefined;
    return near !== undefined &&
      distance(name.toLowerCase(), near.toLowerCase()) <= Math.max(2, name.length / 3)
      ? `: did you mean ${near}?`
      : '';
  };

  for (const [variable, key, whenEmpty] of GROUP_LISTS) {
    const entries = config.policy[key];
    if (entries.length === 0) {
      report.info(`${variable} is empty: ${whenEmpty}`);
      continue;
    }
    for (const entry of entries) {
      const { group, pattern } = parseGrant(entry);
      const scope = pattern === undefined ? '' : ` (repositories ${pattern})`;
      if (group.includes('=')) {
        const under = isWithin(group, base);
        const found =
          under && (await probe.dnState(group)) === 'exists'
            ? await probe.search(group, isGroup, ['1.1'], 1, 'base')
            : [];
        if (!under) {
          report.fail(
            `${variable}: ${group} is outside LDAP_GROUP_BASE_DN=${base}: group searches never find it`,
            EXIT.misconfigured,
          );
        } else if (found.length === 0) {
          report.fail(
            `${variable}: ${group} is not a group on the server (no entry, or not matching ${isGroup})`,
            EXIT.misconfigured,
          );
        } else {
          report.ok(`${variable}: ${group}${scope} is a group`);
        }
        continue;
      }
      const filter = `(&${isGroup}(${c.groupNameAttribute}=${Filter.escape(group)}))`;
      const matches = await probe.search(base, filter, ['1.1'], 10);
      if (matches.length === 0) {
        report.fail(
          `${variable}: "${group}" matches no group under ${base} (${c.groupNameAttribute}=${group})${await suggest(group)}`,
          EXIT.misconfigured,
        );
      } else {
        report.ok(`${variable}: ${group}${scope} → ${matches.map((m) => m.dn).join('; ')}`);
      }
    }
  }
}
