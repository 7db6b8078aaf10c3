// What `npm run demo` takes from its environment: the sidecar's own variables (to try the whole stack
// against your directory) and the demo's ports and state dir; and how it shows them, secrets masked.
import { join, resolve } from 'node:path';

/** Variables handed to the sidecar as they are: the directory, the groups, the cache and the lockout. */
const SIDECAR_PREFIXES = ['LDAP_', 'AUTH_', 'CACHE_', 'LOCKOUT_'] as const;
const SIDECAR_NAMES = ['LOG_LEVEL', 'TRUSTED_PROXIES'] as const;

export interface DemoSettings {
  /** nginx's TLS port; the sidecar's decision and metrics ports are the next two. */
  readonly port: number;
  readonly stateDir: string;
  readonly logDir: string;
  /** The sidecar's variables from the environment, over the built-in directory's when that runs. */
  readonly overrides: Readonly<Record<string, string>>;
  /** True when LDAP_URL is set: your directory, no slapd, no seed. */
  readonly ownDirectory: boolean;
}

/**
 * The demo's own defaults, which the environment overrides. Every demo request comes from 127.0.0.1: with
 * the per-address limit at its default (LOCKOUT_MAX_FAILURES, 10), ten typos by anyone would lock that one
 * address, and every demo user with it, for five minutes. One person typing needs room; the per-user limit
 * still locks a user after ten wrong passwords.
 */
export const DEMO_DEFAULTS: Readonly<Record<string, string>> = { LOCKOUT_ADDRESS_MAX_FAILURES: '100' };

export function demoSettings(env: NodeJS.ProcessEnv, repoRoot: string): DemoSettings {
  const overrides: Record<string, string> = { ...DEMO_DEFAULTS };
  for (const [name, value] of Object.entries(env)) {
    if (value === undefined) continue;
    const ours =
      SIDECAR_PREFIXES.some((p) => name.startsWith(p)) || (SIDECAR_NAMES as readonly string[]).includes(name);
    if (ours) overrides[name] = value;
  }
  const rawPort = env['DEMO_PORT'] ?? '5043';
  const port = /^\d+$/.test(rawPort) ? Number(rawPort) : NaN;
  if (!Number.isInteger(port) || port < 1 || port > 65533) {
    throw new Error(
      `DEMO_PORT must be a port from 1 to 65533 (it and the next two are used), got "${rawPort}"`,
    );
  }
  const stateDir = resolve(env['DEMO_STATE_DIR'] ?? join(repoRoot, '.stack'));
  return {
    port,
    stateDir,
    logDir: join(stateDir, 'logs'),
    overrides,
    ownDirectory: (overrides['LDAP_URL'] ?? '') !== '',
  };
}

/** `NAME=value` lines for the sidecar's settings: passwords masked, PATH and ports left out. */
export function describeSettings(env: Readonly<Record<string, string>>): string[] {
  return Object.keys(env)
    .filter((name) => name !== 'PATH')
    .sort()
    .map((name) => `${name}=${/PASSWORD$/.test(name) ? '********' : (env[name] ?? '')}`);
}
