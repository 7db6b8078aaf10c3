// @ts-nocheck
// The configuration check (`main.js --check`): what the configuration means, whether the directory
// agrees with it, and optionally one user's login and decisions. It reports; it changes nothing.
import type { Config } from '../config.ts';
import { configVariables } from '../config.ts';
import type { Env } from '../env-reader.ts';
import { checkBases, checkGroups, checkPreset, connectAll } from './directory-checks.ts';
import { EXIT } from './report.ts';
import type { Report } from './report.ts';
import { describeUnknown, unknownVariables } from './unknown-variables.ts';
import { checkUser } from './user-check.ts';
import { checkIssuers } from '../oidc/issuer-check.ts';
import type { UserToCheck } from './user-check.ts';

const LOOPBACK = /^(localhost|127(?:\.\d{1,3}){3}|\[::1\])$/i;

/** Variables that look like ours but are read by nothing; also worth a line in the service's log. */
export function unknownVariableWarnings(env: Env): string[] {
  return unknownVariables(env, configVariables()).map(describeUnknown);
}

function describeConfig(config: Config, env: Env, report: Report): void {
  const c = config.ldap;
  const password =
    env['LDAP_BIND_PASSWORD_FILE'] === undefined ? 'LDAP_BIND_PASSWORD' : `LDAP_BIND_PASSWORD_FILE`;
  const nesting = !c.nestedGroups ? 'off' : c.nestedInFilter ? 'in the filter (AD in-chain rule)' : 'walked';
  report.ok(`loaded: LDAP_PRESET=${c.preset}, ${c.urls.length} LDAP_URL${c.urls.length === 1 ? '' : 's'}`);
  report.info(
    [
      `bind:   ${c.bindDn === undefined ? 'anonymous (no LDAP_BIND_DN)' : `${c.bindDn}, password from ${password}`}`,
      `users:  ${c.userFilter.source} under ${c.userBaseDn}, named by ${c.usernameAttribute}`,
      `groups: ${c.groupFilter.source} under ${c.groupBaseDn}, named by ${c.groupNameAttribute}; nested: ${nesting}`,
    ].join('\n'),
  );
  for (const warning of unknownVariableWarnings(env)) report.warn(warning);
  if (c.tlsInsecure) report.warn('LDAP_TLS_INSECURE=true: the server certificate is not verified');
  for (const url of c.urls) {
    const { protocol, hostname } = new URL(url);
    if (protocol === 'ldap:' && !c.startTls && !LOOPBACK.test(hostname))
      report.warn(`${url}: passwords cross the network unencrypted: use ldaps:// or LDAP_START_TLS=true`);
  }
}

export async function runCheck(config: Config, env: Env, report: Report, user?: UserToCheck): Promise<void> {
  report.section('configuration');
  describeConfig(config, env, report);
  if (config.oidc !== undefined) {
    report.section('job tokens (OIDC_CONFIG_FILE)');
    await checkIssuers(config.oidc, report);
  }

  report.section('directory');
  const probe = await connectAll(config, env, report);
  if (probe === undefined) return; // every server failed, each with its reason above
  let groupsUsable = false;
  try {
    const server = await probe.serverInfo();
    checkPreset(config, server, report);
    const bases = await checkBases(config, probe, server, report);
    groupsUsable = bases.groups;
    report.section('groups (AUTH_*_GROUPS)');
    if (groupsUsable) await checkGroups(config, probe, report);
    else report.info('not resolved: fix LDAP_GROUP_BASE_DN / LDAP_GROUP_FILTER first');
  } catch (error) {
    report.fail(
      `${probe.url}: the directory failed a search: ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`,
      EXIT.misconfigured,
    );
  } finally {
    await probe.close();
  }

  if (user !== undefined) {
    report.section(`user ${user.login}`);
    await checkUser(config, user, report);
  }
}
