// @ts-nocheck
// LDAPS and StartTLS with a CA the test generates; a certificate from any other CA fails closed.
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createCa } from '@registry-ldap-auth/stack/certs';
import { assertNoSecretsInLogs, basic } from '@registry-ldap-auth/stack/credentials';
import { decide, startSidecar } from '@registry-ldap-auth/stack/sidecar';
import { seed, startSlapd } from '@registry-ldap-auth/stack/slapd';
import type { Slapd } from '@registry-ldap-auth/stack/slapd';
import { openldapEnv } from './support/openldap-env.ts';

const { alice } = seed.users;
let slapd: Slapd;
let otherCa: string;

before(async () => {
  slapd = await startSlapd();
  otherCa = (await createCa(mkdtempSync(join(tmpdir(), 'other-ca-')), 'Some Other CA')).caCert;
});
after(async () => {
  try {
    await assertNoSecretsInLogs(); // before the servers and their logs are removed
  } finally {
    await slapd.destroy();
  }
});

async function verdict(env: Record<string, string>): Promise<{ status: number; ready: number; log: string }> {
  const sidecar = await startSidecar(openldapEnv(slapd, env));
  try {
    const status = (await decide(sidecar, 'PUT', '/v2/app/manifests/v1', basic(alice.uid, alice.password)))
      .status;
    const ready = (await fetch(`${sidecar.metricsUrl}/readyz`)).status;
    return { status, ready, log: await sidecar.logText() };
  } finally {
    await sidecar.stop();
  }
}

describe('TLS to the directory', () => {
  it('LDAPS with LDAP_CA_FILE', async () => {
    assert.deepEqual((await verdict({ LDAP_URL: slapd.ldapsUrl, LDAP_CA_FILE: slapd.caCert })).status, 200);
  });

  it('StartTLS on ldap:// with LDAP_CA_FILE', async () => {
    const r = await verdict({ LDAP_START_TLS: 'true', LDAP_CA_FILE: slapd.caCert });
    assert.deepEqual([r.status, r.ready], [200, 200]);
  });

  it('LDAPS against an untrusted certificate fails closed (503, not ready)', async () => {
    const r = await verdict({ LDAP_URL: slapd.ldapsUrl, LDAP_CA_FILE: otherCa });
    assert.deepEqual([r.status, r.ready], [503, 503]);
    assert.match(r.log, /certificate/i);
  });

  it('StartTLS against an untrusted certificate fails closed', async () => {
    assert.equal((await verdict({ LDAP_START_TLS: 'true', LDAP_CA_FILE: otherCa })).status, 503);
  });

  it('the system trust store does not trust a private CA: verification is on by default', async () => {
    const r = await verdict({ LDAP_URL: slapd.ldapsUrl });
    assert.deepEqual([r.status, r.ready], [503, 503]);
    // Refused for the certificate, not for anything else that could make a 503.
    assert.match(
      r.log,
      /self[- ]signed certificate in certificate chain|unable to (get|verify)[^"]*certificate/i,
    );
  });

  it('LDAP_TLS_INSECURE=true skips verification, with a warning in the log', async () => {
    const r = await verdict({ LDAP_URL: slapd.ldapsUrl, LDAP_TLS_INSECURE: 'true' });
    assert.equal(r.status, 200);
    assert.match(r.log, /"level":"warn".*LDAP_TLS_INSECURE/);
  });
});
