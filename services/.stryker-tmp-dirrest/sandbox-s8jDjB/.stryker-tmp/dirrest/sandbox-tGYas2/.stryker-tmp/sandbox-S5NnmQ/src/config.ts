// @ts-nocheck
// 
// 
// Configuration from the environment: read once, every problem reported at once by variable name, frozen.
import { readFileSync } from 'node:fs';
import proxyaddr from 'proxy-addr';
import { FilterTemplate } from './directory/filter-template.ts';
import { Reader } from './env-reader.ts';
import type { Env } from './env-reader.ts';
import { IN_CHAIN_MEMBER, PRESET_NAMES, PRESETS } from './directory/presets.ts';
import { readOidcConfig } from './oidc/oidc-config.ts';
import type { OidcConfig } from './oidc/oidc-config.ts';
import { parseGrant } from './policy.ts';
import type { PolicyConfig } from './policy.ts';
import { pemCertificates } from './directory/ldap-config.ts';
import type { LdapConfig } from './directory/ldap-config.ts';
import { LOG_LEVELS } from './logger.ts';
import type { LogLevel } from './logger.ts';

// RFC 7235 §2.2: the realm is a quoted-string in WWW-Authenticate. Printable ASCII only: Node refuses
// control characters in a header value and clients decode other bytes (obs-text) each their own way.
// Without `"` and `\`, the quoted-string needs no escaping.
const REALM = /^[\x20\x21\x23-\x5b\x5d-\x7e]{1,128}$/;

/** DECISION_TIMEOUT_MS when unset; also the bound where a caller is given no config (tests). */
export const DEFAULT_DECISION_TIMEOUT_MS = 10_000;

export interface Config {
  readonly host: string;
  readonly port: number;
  readonly metricsHost: string;
  readonly metricsPort: number;
  /** Connections the decision port holds at once. */
  readonly maxConnections: number;
  readonly realm: string;
  /** The most a decision may wait for the directory (DECISION_TIMEOUT_MS): then 503, or a stale entry. */
  readonly decisionTimeoutMs: number;
  readonly ldap: LdapConfig;
  readonly cache: {
    readonly ttlSeconds: number;
    readonly negativeTtlSeconds: number;
    readonly maxEntries: number;
    readonly staleIfErrorSeconds: number;
  };
  readonly lockout: {
    readonly maxFailures: number;
    readonly addressMaxFailures: number;
    readonly windowSeconds: number;
    readonly durationSeconds: number;
    readonly familiarSeconds: number;
  };
  readonly policy: PolicyConfig;
  /** CI job tokens (OIDC_CONFIG_FILE); undefined when not configured. */
  readonly oidc: OidcConfig | undefined;
  readonly trustedProxies: readonly string[];
  readonly logLevel: LogLevel;
}

export class ConfigError extends Error {
  readonly problems: readonly string[];
  constructor(problems: readonly string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

function readCa(r: Reader): string[] | undefined {
  const file = r.raw('LDAP_CA_FILE');
  if (file === undefined) return undefined;
  try {
    const certs = pemCertificates(readFileSync(file, 'utf8'));
    if (certs.length === 0) r.problems.push(`LDAP_CA_FILE: ${file} holds no PEM certificate`);
    return certs;
  } catch (error) {
    r.problems.push(
      `LDAP_CA_FILE: cannot read ${file} (${(error as NodeJS.ErrnoException).code ?? 'error'})`,
    );
    return undefined;
  }
}

function readLdap(r: Reader): LdapConfig {
  const preset = r.oneOf('LDAP_PRESET', PRESET_NAMES, 'openldap');
  const defaults = PRESETS[preset];
  const urls = r.list('LDAP_URL');
  if (urls.length === 0)
    r.problems.push('LDAP_URL is required (one or more ldap:// or ldaps:// URLs, comma-separated)');
  for (const url of urls) {
    if (!/^ldaps?:\/\/[^/?#\s]+\/?$/i.test(url))
      r.problems.push(`LDAP_URL: "${url}" is not an ldap:// or ldaps:// URL`);
  }
  const startTls = r.bool('LDAP_START_TLS', false);
  if (startTls && urls.some((u) => u.toLowerCase().startsWith('ldaps://'))) {
    r.problems.push('LDAP_START_TLS applies to ldap:// URLs only; ldaps:// is already TLS');
  }
  const bindDn = r.raw('LDAP_BIND_DN');
  const bindPassword = r.secret('LDAP_BIND_PASSWORD');
  if ((bindDn === undefined) !== (bindPassword === undefined)) {
    r.problems.push('LDAP_BIND_DN and LDAP_BIND_PASSWORD (or LDAP_BIND_PASSWORD_FILE) go together');
  }
  const userBaseDn = r.required('LDAP_USER_BASE_DN');
  const userFilter = r.filter('LDAP_USER_FILTER', r.string('LDAP_USER_FILTER', defaults.userFilter), [
    'username',
  ]);
  if (userFilter && !userFilter.placeholders.has('username'))
    r.problems.push('LDAP_USER_FILTER must contain {username}');

  const nestedGroups = r.bool('LDAP_NESTED_GROUPS', false);
  let groupFilter = r.filter('LDAP_GROUP_FILTER', r.string('LDAP_GROUP_FILTER', defaults.groupFilter), [
    'dn',
    'username',
  ]);
  let nestedInFilter = false;
  if (
    groupFilter &&
    nestedGroups &&
    preset === 'activedirectory' &&
    groupFilter.source.includes('(member={dn})')
  ) {
    groupFilter = groupFilter.replaceTrusted('(member={dn})', IN_CHAIN_MEMBER, ['dn', 'username']);
    nestedInFilter = true;
  }
  if (groupFilter && nestedGroups && !nestedInFilter && !groupFilter.placeholders.has('dn')) {
    r.problems.push(
      'LDAP_NESTED_GROUPS=true needs {dn} in LDAP_GROUP_FILTER (groups are found by member DN)',
    );
  }
  const attribute = (name: string, fallback: string): string => {
    const value = r.string(name, fallback);
    if (!/^[A-Za-z][A-Za-z0-9-]*$|^\d+(?:\.\d+)+$/.test(value))
      r.problems.push(`${name} is not an attribute name: ${value}`);
    return value;
  };
  const timeoutMs = r.int('LDAP_TIMEOUT_MS', 5000, 100, 600_000);
  const tlsInsecure = r.bool('LDAP_TLS_INSECURE', false);
  return {
    preset,
    urls,
    startTls,
    ca: readCa(r),
    caFile: r.raw('LDAP_CA_FILE'),
    tlsInsecure,
    bindDn,
    bindPassword,
    bindPasswordFile: r.raw('LDAP_BIND_PASSWORD_FILE'),
    userBaseDn,
    userFilter: userFilter ?? FilterTemplate.parse(defaults.userFilter, ['username']),
    usernameAttribute: attribute('LDAP_USERNAME_ATTRIBUTE', defaults.usernameAttribute),
    groupBaseDn: r.string('LDAP_GROUP_BASE_DN', userBaseDn),
    groupFilter: groupFilter ?? FilterTemplate.parse(defaults.groupFilter, ['dn', 'username']),
    groupNameAttribute: attribute('LDAP_GROUP_NAME_ATTRIBUTE', defaults.groupNameAttribute),
    nestedGroups,
    nestedInFilter,
    timeoutMs,
    connectTimeoutMs: r.int('LDAP_CONNECT_TIMEOUT_MS', 3000, 100, 600_000),
    poolSize: r.int('LDAP_POOL_SIZE', 4, 1, 64),
  };
}

function deepFreeze<T>(value: T): T {
  if (
    value !== null &&
    typeof value === 'object' &&
    !Object.isFrozen(value) &&
    !(value instanceof FilterTemplate)
  ) {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

/** The names of every environment variable the service reads (`*_PASSWORD_FILE` included). */
export function configVariables(): string[] {
  const r = new Reader({});
  read(r);
  return [...r.names].sort();
}

export function loadConfig(env: Env = process.env): Config {
  const r = new Reader(env);
  const config = read(r);
  if (r.problems.length > 0) throw new ConfigError(r.problems);
  return deepFreeze(config);
}

function read(r: Reader): Config {
  const ldap = readLdap(r);
  const pushGroups = r.list('AUTH_PUSH_GROUPS');
  if (pushGroups.length === 0)
    r.problems.push('AUTH_PUSH_GROUPS is required (the groups whose members may push)');
  const policy: PolicyConfig = {
    pushGroups,
    pullGroups: r.list('AUTH_PULL_GROUPS'),
    deleteGroups: r.list('AUTH_DELETE_GROUPS'),
    catalogGroups: r.list('AUTH_CATALOG_GROUPS'),
  };
  for (const [name, entries] of [
    ['AUTH_PUSH_GROUPS', policy.pushGroups],
    ['AUTH_PULL_GROUPS', policy.pullGroups],
    ['AUTH_DELETE_GROUPS', policy.deleteGroups],
    ['AUTH_CATALOG_GROUPS', policy.catalogGroups],
  ] as const) {
    for (const entry of entries) {
      try {
        const grant = parseGrant(entry);
        if (name === 'AUTH_CATALOG_GROUPS' && grant.pattern !== undefined) {
          r.problems.push(`${name}: the catalog lists every repository; its groups take no @pattern`);
        }
      } catch (error) {
        r.problems.push(`${name}: ${(error as Error).message}`);
      }
    }
  }
  const maxFailures = r.int('LOCKOUT_MAX_FAILURES', 10, 0, 1_000_000);
  const trustedProxies = r.list('TRUSTED_PROXIES');
  if (trustedProxies.length === 0) trustedProxies.push('loopback');
  try {
    proxyaddr.compile(trustedProxies);
  } catch (error) {
    r.problems.push(`TRUSTED_PROXIES: ${(error as Error).message}`);
  }
  const config: Config = {
    host: r.string('HOST', '0.0.0.0'),
    port: r.int('PORT', 8080, 0, 65535),
    metricsHost: r.string('METRICS_HOST', '0.0.0.0'),
    metricsPort: r.int('METRICS_PORT', 9090, 0, 65535),
    maxConnections: r.int('MAX_CONNECTIONS', 1024, 1, 1_000_000),
    realm: r.string('AUTH_REALM', 'Registry realm'),
    // nginx's /_auth location waits 30 s (proxy_read_timeout): answer well before it gives up.
    decisionTimeoutMs: r.int('DECISION_TIMEOUT_MS', DEFAULT_DECISION_TIMEOUT_MS, 100, 600_000),
    ldap,
    cache: {
      ttlSeconds: r.int('CACHE_TTL_SECONDS', 300, 0, 86_400),
      negativeTtlSeconds: r.int('CACHE_NEGATIVE_TTL_SECONDS', 30, 0, 86_400),
      maxEntries: r.int('CACHE_MAX_ENTRIES', 10_000, 1, 10_000_000),
      staleIfErrorSeconds: r.int('CACHE_STALE_IF_ERROR_SECONDS', 0, 0, 7 * 86_400),
    },
    lockout: {
      maxFailures,
      addressMaxFailures: r.int('LOCKOUT_ADDRESS_MAX_FAILURES', maxFailures, 0, 1_000_000),
      windowSeconds: r.int('LOCKOUT_WINDOW_SECONDS', 300, 1, 86_400),
      durationSeconds: r.int('LOCKOUT_DURATION_SECONDS', 300, 1, 86_400),
      familiarSeconds: r.int('LOCKOUT_FAMILIAR_SECONDS', 7 * 86_400, 0, 90 * 86_400),
    },
    policy,
    oidc: readOidcConfig(r),
    trustedProxies,
    logLevel: r.oneOf('LOG_LEVEL', LOG_LEVELS, 'info'),
  };
  if (!REALM.test(config.realm))
    r.problems.push(
      'AUTH_REALM must be 1 to 128 printable ASCII characters without " or \\ ' +
        '(it is sent in the WWW-Authenticate header of every 401)',
    );
  return config;
}
