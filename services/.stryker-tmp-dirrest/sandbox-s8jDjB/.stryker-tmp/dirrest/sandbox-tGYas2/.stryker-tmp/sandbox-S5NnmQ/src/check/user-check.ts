// @ts-nocheck
// 
// 
// `--check --user NAME`: one login through the same directory code the service uses, then what the
// policy decides for that user on a sample repository.
import type { Config } from '../config.ts';
import type { Directory } from '../directory/directory.ts';
import { CredentialsRejectedError, DirectoryUnavailableError } from '../directory/errors.ts';
import { LdapDirectory } from '../directory/ldap-directory.ts';
import { normalizeLogin } from '../directory/presets.ts';
import { Policy, rulesFromConfig } from '../policy.ts';
import type { Action } from '../registry-scope.ts';
import { EXIT } from './report.ts';
import type { Report } from './report.ts';

export interface UserToCheck {
  readonly login: string;
  readonly password: string;
  readonly repository: string;
}

/** Who would be admitted, for a denial: the variables and groups that grant the action. */
function whoMay(config: Config, action: Action): string {
  const p = config.policy;
  const list = (variable: string, entries: readonly string[]): string =>
    `${variable} (${entries.join(', ')})`;
  switch (action) {
    case 'push':
      return list('AUTH_PUSH_GROUPS', p.pushGroups);
    case 'pull':
      return `${list('AUTH_PULL_GROUPS', p.pullGroups)} or ${list('AUTH_PUSH_GROUPS', p.pushGroups)}`;
    case 'delete':
      return p.deleteGroups.length === 0
        ? 'nobody: AUTH_DELETE_GROUPS is empty'
        : list('AUTH_DELETE_GROUPS', p.deleteGroups);
    default:
      return action;
  }
}

export async function checkUser(
  config: Config,
  user: UserToCheck,
  report: Report,
  directory: Directory = new LdapDirectory(config.ldap, { operation: () => undefined }),
): Promise<void> {
  const c = config.ldap;
  const login = normalizeLogin(c.preset, user.login);
  try {
    const entry = await directory.findUser(login);
    report.ok(`found ${entry.dn}\ncanonical name (${c.usernameAttribute}): ${entry.username}`);
    await directory.verifyPassword(entry, user.password);
    report.ok('password accepted');
    const groups = await directory.resolveGroups(entry);
    report.info(
      groups.length === 0
        ? `groups: none under LDAP_GROUP_BASE_DN=${c.groupBaseDn}`
        : `groups (${groups.length}${c.nestedGroups ? ', nested included' : ''}): ${groups.map((g) => g.name).join(', ')}`,
    );
    const policy = new Policy(rulesFromConfig(config.policy));
    const subject = { username: entry.username, groups };
    for (const action of ['pull', 'push', 'delete'] as const) {
      const allowed = policy.allows(subject, [{ action, repository: user.repository }]);
      report.info(
        `${action.padEnd(6)} ${user.repository}: ${allowed ? 'allowed' : `denied (may: ${whoMay(config, action)})`}`,
      );
    }
  } catch (error) {
    if (error instanceof CredentialsRejectedError) {
      const filter = c.userFilter.fill({ username: login, dn: '' });
      const why =
        error.reason === 'unknown_user'
          ? `no entry under LDAP_USER_BASE_DN=${c.userBaseDn} matches ${filter}`
          : error.reason === 'ambiguous_user'
            ? `more than one entry under LDAP_USER_BASE_DN matches ${filter}: nobody can log in as that`
            : `the directory refused the password (${error.reason})`;
      report.fail(`${user.login}: ${why}`, EXIT.userRejected);
    } else if (error instanceof DirectoryUnavailableError) {
      report.fail(`the directory could not answer: ${error.message}`, EXIT.unreachable);
    } else {
      throw error;
    }
  } finally {
    await directory.close();
  }
}
