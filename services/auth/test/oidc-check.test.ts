// The configuration check's job-token section against a real HTTPS issuer: it fetches the keys as the
// service would, and names what stops it (an untrusted certificate, an issuer URL that is not the one
// the issuer names itself).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { exportJWK, generateKeyPair } from 'jose';
import { JWKS_PATH, startOidcIssuer } from '@registry-ldap-auth/stack/oidc-issuer';
import type { OidcIssuer } from '@registry-ldap-auth/stack/oidc-issuer';
import { EXIT } from '../src/check/report.ts';
import { checkIssuers } from '../src/oidc/issuer-check.ts';
import { parseRulesFile } from '../src/oidc/rules-file.ts';
import { capturedReport } from './support/log-capture.ts';

let dir: string;
let issuer: OidcIssuer;
let other: OidcIssuer;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'oidc-check-'));
  issuer = await startOidcIssuer(dir);
  other = await startOidcIssuer(join(dir, 'other'));
});
after(async () => {
  await Promise.all([issuer.stop(), other.stop()]);
  await rm(dir, { recursive: true, force: true });
});

/** The check's report for a rules file listing `issuers` (their ca_file read as the service reads it). */
async function checkAll(issuers: Record<string, unknown>[]): Promise<{ code: number; text: string }> {
  const parsed = parseRulesFile(JSON.stringify({ issuers }), (file) => ({
    certs: [readFileSync(file, 'utf8')],
  }));
  assert.deepEqual(parsed.problems, []);
  const { report, text } = capturedReport();
  await checkIssuers({ username: 'ci', file: '/etc/oidc.yml', issuers: parsed.issuers }, report);
  return { code: report.exitCode, text: text() };
}

const entry = (
  name: string,
  at: OidcIssuer,
  more: Record<string, unknown> = {},
): Record<string, unknown> => ({
  name,
  issuer: at.url,
  audience: 'https://registry.example.test',
  ca_file: at.caFile,
  rules: [{ claims: { namespace_path: 'platform' }, pull: 'platform/**' }],
  ...more,
});

/** The report for one issuer, gitlab, configured at `url`, with or without the issuer's ca_file. */
async function check(url: string, ca: boolean): Promise<{ code: number; text: string }> {
  const { ca_file, ...withoutCa } = entry('gitlab', issuer, { issuer: url });
  return checkAll([ca ? { ...withoutCa, ca_file } : withoutCa]);
}

describe('--check: trusted issuers', () => {
  it('fetches the keys through the ca_file and says what it found', async () => {
    const r = await check(issuer.url, true);
    assert.equal(r.code, EXIT.ok, r.text);
    assert.match(
      r.text,
      /ok +gitlab: https:\/\/127\.0\.0\.1:\d+: 1 signing key, audience https:\/\/registry\.example\.test, 1 rule/,
    );
  });

  it('fails, exit 4, when the issuer certificate is not trusted (no ca_file for a private CA)', async () => {
    const r = await check(issuer.url, false);
    assert.equal(r.code, EXIT.misconfigured);
    assert.match(
      r.text,
      /FAIL +gitlab: the keys of https:\/\/127\.0\.0\.1:\d+ cannot be fetched: .*certificate.*\(a private CA needs ca_file\)/i,
    );
  });

  it('fails when the configured issuer is not the one the discovery document names', async () => {
    const r = await check(issuer.url.replace('127.0.0.1', 'localhost'), true);
    assert.equal(r.code, EXIT.misconfigured);
    assert.match(r.text, /discovery names issuer "https:\/\/127\.0\.0\.1:\d+"/);
  });
});

describe('--check: several issuers, each on its own line', () => {
  it('counts public signing keys only, names every audience and the rules; the others pass', async () => {
    const second = await other.addKey({ alg: 'ES256', publish: false });
    other.misbehave('jwks', {
      body: JSON.stringify({
        keys: [
          second.publicJwk,
          { kty: 'oct', kid: 'hs', k: 'c2VjcmV0' },
          (await keysOf(other))[0],
          { ...(await exportJWK((await generateKeyPair('Ed25519')).publicKey)), kid: 'ed' },
        ],
      }),
    });
    try {
      const r = await checkAll([
        entry('gitlab', issuer),
        entry('github', other, {
          audience: ['https://registry.example.test', 'https://mirror.example.test'],
          rules: [
            { claims: { repository_owner: 'org' }, pull: 'org/**' },
            { claims: { repository_owner: 'ops' }, pull: 'ops/**' },
          ],
        }),
      ]);
      assert.equal(r.code, EXIT.ok, r.text);
      assert.match(r.text, /^ +info +2 trusted issuers in \/etc\/oidc\.yml; tokens log in as ci$/m);
      assert.match(
        r.text,
        /^ +ok +gitlab: https:\/\/127\.0\.0\.1:\d+: 1 signing key, audience https:\/\/registry\.example\.test, 1 rule$/m,
      );
      assert.match(
        r.text,
        /^ +ok +github: https:\/\/127\.0\.0\.1:\d+: 3 signing keys, audience https:\/\/registry\.example\.test or https:\/\/mirror\.example\.test, 2 rules$/m,
      );
    } finally {
      other.misbehave('jwks', undefined);
    }
  });

  it('fails, exit 4, for an issuer whose JWKS holds no public key (a symmetric one only)', async () => {
    other.misbehave('jwks', { body: JSON.stringify({ keys: [{ kty: 'oct', kid: 'hs', k: 'c2VjcmV0' }] }) });
    try {
      const r = await checkAll([entry('gitlab', issuer), entry('github', other)]);
      assert.equal(r.code, EXIT.misconfigured);
      assert.match(r.text, /^ +FAIL +github: https:\/\/127\.0\.0\.1:\d+ publishes no public signing key$/m);
      assert.match(r.text, /^ +ok +gitlab: /m);
    } finally {
      other.misbehave('jwks', undefined);
    }
  });

  it('with a ca_file that does not fit, names the error without suggesting a ca_file', async () => {
    const r = await checkAll([entry('gitlab', issuer, { ca_file: other.caFile })]);
    assert.equal(r.code, EXIT.misconfigured);
    assert.match(r.text, /^ +info +1 trusted issuer in /m);
    assert.match(
      r.text,
      /^ +FAIL +gitlab: the keys of https:\/\/127\.0\.0\.1:\d+ cannot be fetched: .*certificate; .* --use-system-ca$/im,
    );
  });
});

async function keysOf(at: OidcIssuer): Promise<unknown[]> {
  const { getJson } = await import('../src/oidc/https-json.ts');
  const jwks = (await getJson(`${at.url}${JWKS_PATH}`, {
    ca: [at.caPem],
    timeoutMs: 5000,
    maxBytes: 1 << 20,
  })) as {
    keys: unknown[];
  };
  return jwks.keys;
}
