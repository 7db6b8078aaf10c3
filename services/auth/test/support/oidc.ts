// Shared by the in-process job-token tests: the rules file for a local issuer (as the service parses it)
// and a clock the test moves, so key ages, the cooldown and token lifetimes pass without waiting.
import assert from 'node:assert/strict';
import type { OidcIssuer } from '@registry-ldap-auth/stack/oidc-issuer';
import { parseRulesFile } from '../../src/oidc/rules-file.ts';
import type { TrustedIssuer } from '../../src/oidc/rules-file.ts';

export const AUDIENCE = 'https://registry.example.test';

/** `issuer` as the rules file trusts it (its CA as ca_file), with `more` keys of the rules file on top. */
export function trust(issuer: OidcIssuer, more: Record<string, unknown> = {}): TrustedIssuer {
  const { issuers, problems } = parseRulesFile(
    JSON.stringify({
      issuers: [
        {
          name: 'gitlab',
          issuer: issuer.url,
          audience: AUDIENCE,
          ca_file: issuer.caFile,
          subject: '{project_path}@{ref_path}',
          rules: [
            { claims: { namespace_path: 'platform', ref_protected: 'true' }, push: ['{project_path}'] },
            { claims: { namespace_path: 'platform' }, pull: ['platform/**'] },
          ],
          ...more,
        },
      ],
    }),
    () => ({ certs: [issuer.caPem] }),
  );
  assert.deepEqual(problems, []);
  const [trusted] = issuers;
  assert.ok(trusted);
  return trusted;
}

/** Milliseconds since the epoch, moved only by the test; starts on a whole second, as JWT dates are. */
export class Clock {
  ms = Math.floor(Date.now() / 1000) * 1000;
  readonly now = (): number => this.ms;
  advance(ms: number): number {
    this.ms += ms;
    return this.ms;
  }
}

/** Discovery and JWKS requests the issuer has served so far. */
export function requestsOf(issuer: OidcIssuer): { discovery: number; jwks: number } {
  return {
    discovery: issuer.requests.filter((p) => p.endsWith('/openid-configuration')).length,
    jwks: issuer.requests.filter((p) => p.endsWith('/keys')).length,
  };
}
