// @ts-nocheck
// "Rejected or misconfigured" kept apart from "unreachable": each names the variable to fix, on /readyz as a
// reason code (never the raw error) and in the log; decisions fail closed with directory_misconfigured.
// And a port in use ends the process naming PORT / METRICS_PORT, not with a stack trace.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtempSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { execute } from '@registry-ldap-auth/stack/process';
import { createCa } from '@registry-ldap-auth/stack/certs';
import { assertNoSecretsInLogs, basic } from '@registry-ldap-auth/stack/credentials';
import { SIDECAR_MAIN, decide, startSidecar } from '@registry-ldap-auth/stack/sidecar';
import { seed, startSlapd } from '@registry-ldap-auth/stack/slapd';
import type { Slapd } from '@registry-ldap-auth/stack/slapd';
import { openldapEnv } from './support/openldap-env.ts';

const { alice } = seed.users;
let slapd: Slapd;
let dir: string;

before(async () => {
  slapd = await startSlapd();
  dir = mkdtempSync(join(tmpdir(), 'misconfigured-'));
});
after(async () => {
  try {
    await assertNoSecretsInLogs();
  } finally {
    await slapd.destroy();
  }
});

interface Outcome {
  decision: number;
  ready: number;
  body: Record<string, unknown>;
  audit: Record<string, unknown> | undefined;
  log: string;
}

async function outcome(env: Record<string, string>): Promise<Outcome> {
  const sidecar = await startSidecar(openldapEnv(slapd, env));
  try {
    const decision = (await decide(sidecar, 'GET', '/v2/', basic(alice.uid, alice.password))).status;
    const res = await fetch(`${sidecar.metricsUrl}/readyz`);
    const body = (await res.json()) as Record<string, unknown>;
    const audit = (await sidecar.logLines()).find((l) => l['msg'] === 'decision');
    return { decision, ready: res.status, body, audit, log: await sidecar.logText() };
  } finally {
    await sidecar.stop();
  }
}

function passwordFile(password: string): string {
  const file = join(dir, `password-${Math.random().toString(36).slice(2)}`);
  writeFileSync(file, `${password}\n`, { mode: 0o600 });
  return file;
}

describe('errors that name their cause', () => {
  it('a rejected service bind: bind_rejected, naming LDAP_BIND_PASSWORD_FILE', async () => {
    const r = await outcome({
      LDAP_BIND_PASSWORD: '',
      LDAP_BIND_PASSWORD_FILE: passwordFile('not-the-password'),
    });
    assert.equal(r.decision, 503, 'fails closed, not 401');
    assert.equal(r.audit?.['reason'], 'directory_misconfigured');
    assert.deepEqual(r.body, {
      status: 'not_ready',
      reason: 'bind_rejected',
      variable: 'LDAP_BIND_PASSWORD_FILE',
    });
    assert.ok(
      r.log
        .split('\n')
        .some(
          (l) =>
            l.includes('"msg":"not ready"') &&
            /rejected the service account's bind.*LDAP_BIND_PASSWORD_FILE/.test(l),
        ),
      'the log says what was rejected and what to fix',
    );
  });

  it('a user base DN that does not exist: base_dn_missing, naming LDAP_USER_BASE_DN', async () => {
    const r = await outcome({ LDAP_USER_BASE_DN: `ou=nowhere,${seed.baseDn}` });
    assert.equal(r.decision, 503);
    assert.equal(r.audit?.['reason'], 'directory_misconfigured');
    assert.deepEqual(r.body, {
      status: 'not_ready',
      reason: 'base_dn_missing',
      variable: 'LDAP_USER_BASE_DN',
    });
    assert.match(r.log, /LDAP_USER_BASE_DN does not exist in the directory: ou=nowhere/);
  });

  it('a user base DN that is not a DN: base_dn_invalid, naming LDAP_USER_BASE_DN', async () => {
    const r = await outcome({ LDAP_USER_BASE_DN: 'people at example' });
    assert.equal(r.decision, 503);
    assert.deepEqual(r.body, {
      status: 'not_ready',
      reason: 'base_dn_invalid',
      variable: 'LDAP_USER_BASE_DN',
    });
    assert.match(r.log, /LDAP_USER_BASE_DN is not a valid DN/);
  });

  it('a server certificate from another CA: certificate_untrusted, naming LDAP_CA_FILE', async () => {
    const otherCa = (await createCa(join(dir, 'other-ca'), 'Some Other CA')).caCert;
    const r = await outcome({ LDAP_URL: slapd.ldapsUrl, LDAP_CA_FILE: otherCa });
    assert.equal(r.decision, 503);
    assert.deepEqual(r.body, {
      status: 'not_ready',
      reason: 'certificate_untrusted',
      variable: 'LDAP_CA_FILE',
    });
  });

  it('an unreachable directory is told apart: directory_unreachable (retry), and a log line names the failed server', async () => {
    const r = await outcome({ LDAP_URL: 'ldap://127.0.0.1:1' });
    assert.equal(r.decision, 503);
    assert.equal(r.audit?.['reason'], 'directory_unavailable');
    assert.deepEqual(r.body, { status: 'not_ready', reason: 'directory_unreachable', variable: 'LDAP_URL' });
    assert.match(r.log, /"server":"ldap:\/\/127\.0\.0\.1:1".*"msg":"LDAP server failed and no other is up/);
  });
});

describe('a port in use', () => {
  for (const variable of ['PORT', 'METRICS_PORT'] as const) {
    it(`exits 2 naming ${variable}, without a stack trace`, async () => {
      const taken = net.createServer().listen(0, '127.0.0.1');
      await once(taken, 'listening');
      try {
        const port = String((taken.address() as AddressInfo).port);
        const result = await execute(process.execPath, [SIDECAR_MAIN], {
          env: {
            PATH: process.env['PATH'] ?? '',
            ...openldapEnv(slapd),
            HOST: '127.0.0.1',
            METRICS_HOST: '127.0.0.1',
            PORT: '0',
            METRICS_PORT: '0',
            [variable]: port,
          },
          timeoutMs: 15_000,
        });
        assert.equal(result.code, 2);
        assert.match(
          result.stderr,
          new RegExp(`port ${port} is already in use: set ${variable} to a free port`),
        );
        assert.doesNotMatch(result.stderr, /\n\s+at /, 'no stack trace');
      } finally {
        taken.close();
      }
    });
  }
});
