// @ts-nocheck
// 
// 
// The configuration check's job-token section against a real HTTPS issuer: it fetches the keys as the
// service would, and names what stops it (an untrusted certificate, an issuer URL that is not the one
// the issuer names itself).
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { startOidcIssuer } from '@registry-ldap-auth/stack/oidc-issuer';
import type { OidcIssuer } from '@registry-ldap-auth/stack/oidc-issuer';
import { EXIT, Report } from '../src/check/report.ts';
import { checkIssuers } from '../src/oidc/issuer-check.ts';
import type { OidcConfig } from '../src/oidc/oidc-config.ts';
import { parseRulesFile } from '../src/oidc/rules-file.ts';

let dir: string;
let issuer: OidcIssuer;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'oidc-check-'));
  issuer = await startOidcIssuer(dir);
});
after(async () => {
  await issuer.stop();
  await rm(dir, { recursive: true, force: true });
});

async function check(url: string, ca: boolean): Promise<{ code: number; text: string }> {
  const { issuers, problems } = parseRulesFile(
    JSON.stringify({
      issuers: [
        {
          name: 'gitlab',
          issuer: url,
          audience: 'https://registry.example.test',
          ...(ca ? { ca_file: issuer.caFile } : {}),
          rules: [{ claims: { namespace_path: 'platform' }, pull: 'platform/**' }],
        },
      ],
    }),
    () => ({ certs: [issuer.caPem] }),
  );
  assert.deepEqual(problems, []);
  const out = new PassThrough();
  let text = '';
  out.on('data', (c: Buffer) => (text += c.toString()));
  const report = new Report(out);
  const config: OidcConfig = { username: 'oidc', file: 'oidc.yml', issuers };
  await checkIssuers(config, report);
  return { code: report.exitCode, text };
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
