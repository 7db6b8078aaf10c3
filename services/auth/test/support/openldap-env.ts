// The sidecar's environment for the seeded test slapd: the stack's own, with short timeouts for the
// outage tests.
import type { Slapd } from '@registry-ldap-auth/stack/slapd';
import { sidecarEnvFor } from '@registry-ldap-auth/stack/stack';

export function openldapEnv(slapd: Slapd, overrides: Record<string, string> = {}): Record<string, string> {
  return {
    ...sidecarEnvFor(slapd),
    LDAP_TIMEOUT_MS: '2000',
    LDAP_CONNECT_TIMEOUT_MS: '1000',
    ...overrides,
  };
}

/** `env` without the variables whose value is empty: how a test says "this one is not set". */
export function withoutEmpty(env: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(env).filter(([, value]) => value !== ''));
}
