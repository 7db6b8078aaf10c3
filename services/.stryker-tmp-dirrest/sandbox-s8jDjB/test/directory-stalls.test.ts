// @ts-nocheck
// A directory that stalls instead of failing: every wait of the sidecar has a deadline, start-up does not
// wait for the directory, a directory known to be down is not dialled by every request (circuit breaker),
// stale-if-error answers do not queue behind it, and pooled StartTLS connections closed by the server are
// noticed. Real slapd and real stalled listeners on loopback.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { TestContext } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { assertNoSecretsInLogs, basic } from '@registry-ldap-auth/stack/credentials';
import { decide, startSidecar } from '@registry-ldap-auth/stack/sidecar';
import type { Sidecar } from '@registry-ldap-auth/stack/sidecar';
import { seed, startSlapd } from '@registry-ldap-auth/stack/slapd';
import type { Slapd } from '@registry-ldap-auth/stack/slapd';
import { openldapEnv } from './support/openldap-env.ts';
import { startStallServer } from './support/stall-server.ts';
import type { StallServer } from './support/stall-server.ts';
import { waitFor, waitForLog } from './support/wait.ts';

const { alice, bob } = seed.users;
let slapd: Slapd;
let slapdPort: number;

before(async () => {
  slapd = await startSlapd();
  slapdPort = Number(new URL(slapd.url).port);
});
after(async () => {
  try {
    await assertNoSecretsInLogs();
  } finally {
    await slapd.destroy();
  }
});

// Short timeouts so a stall costs about a second; DECISION_TIMEOUT_MS caps whatever is left.
const FAST = { LDAP_TIMEOUT_MS: '1000', LDAP_CONNECT_TIMEOUT_MS: '500', DECISION_TIMEOUT_MS: '3000' };

async function readyz(sidecar: Sidecar): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${sidecar.metricsUrl}/readyz`);
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

async function metric(sidecar: Sidecar, pattern: RegExp): Promise<number | undefined> {
  const text = await (await fetch(`${sidecar.metricsUrl}/metrics`)).text();
  const match = pattern.exec(text);
  return match?.[1] === undefined ? undefined : Number(match[1]);
}

const cold = (i: number) => basic(`nobody-${i}`, `password-${i}`);

describe('a server that accepts StartTLS and then stays silent', () => {
  it('start-up listens; 20 decisions and /readyz end in 503 within their deadlines; no pool slot stays stuck', async () => {
    const stall = await startStallServer('starttls-silent', { host: '127.0.0.1', port: slapdPort });
    let sidecar: Sidecar | undefined;
    try {
      // startSidecar resolves once the decision port accepts connections: start-up did not wait.
      sidecar = await startSidecar(
        openldapEnv(slapd, {
          ...FAST,
          LDAP_URL: stall.url,
          LDAP_START_TLS: 'true',
          LDAP_CA_FILE: slapd.caCert,
        }),
      );
      const answers = await Promise.all(
        Array.from({ length: 20 }, (_, i) => decide(sidecar!, 'GET', '/v2/', cold(i))),
      );
      assert.deepEqual(
        answers.map((r) => r.status),
        Array.from({ length: 20 }, () => 503),
      );
      const ready = await readyz(sidecar);
      assert.equal(ready.status, 503);
      assert.deepEqual(ready.body, {
        status: 'not_ready',
        reason: 'directory_unreachable',
        variable: 'LDAP_URL',
      });
      assert.ok(!JSON.stringify(ready.body).includes('127.0.0.1'), 'no internal address on /readyz');
      assert.match(await sidecar.logText(), /StartTLS handshake timed out/);

      // The same address now leads to slapd: the pool was not left holding stuck connections.
      stall.mode = 'forward';
      await waitForLog(sidecar, (l) => l['msg'] === 'LDAP server is answering again', 10_000);
      assert.equal((await decide(sidecar, 'GET', '/v2/', basic(alice.uid, alice.password))).status, 200);
      assert.equal((await readyz(sidecar)).status, 200);
    } finally {
      await sidecar?.stop();
      await stall.close();
    }
  });
});

describe('a listener that accepts and never answers', () => {
  let stall: StallServer;
  let sidecar: Sidecar;
  before(async () => {
    stall = await startStallServer('forward', { host: '127.0.0.1', port: slapdPort });
    sidecar = await startSidecar(
      openldapEnv(slapd, {
        ...FAST,
        LDAP_URL: stall.url,
        CACHE_TTL_SECONDS: '1',
        CACHE_STALE_IF_ERROR_SECONDS: '600',
      }),
    );
  });
  after(async () => {
    await sidecar.stop();
    await stall.close();
  });

  it('once known down, 100 cold decisions fail fast without dialling it, and a stale user is served', async (t: TestContext) => {
    assert.equal((await decide(sidecar, 'GET', '/v2/', basic(alice.uid, alice.password))).status, 200);
    await sleep(1100); // alice's entry is past CACHE_TTL_SECONDS: only stale-if-error can answer now
    stall.mode = 'silent';
    stall.dropConnections(); // the pooled connections go; new ones reach a server that never answers

    assert.equal((await decide(sidecar, 'GET', '/v2/', basic(bob.uid, bob.password))).status, 503);
    await waitFor(
      'registry_auth_ldap_server_up 0',
      async () => (await metric(sidecar, /registry_auth_ldap_server_up\{server="[^"]+"\} (\d)/)) === 0,
      5000,
    );
    const dialled = stall.accepted;
    const started = Date.now();
    const burst = Array.from({ length: 100 }, (_, i) => decide(sidecar, 'GET', '/v2/', cold(i)));
    const stale = await decide(sidecar, 'GET', '/v2/', basic(alice.uid, alice.password));
    const statuses = (await Promise.all(burst)).map((r) => r.status);
    t.diagnostic(`100 cold decisions against the dead server answered within ${Date.now() - started} ms`);
    assert.equal(stale.status, 200, 'stale-if-error while the directory is down');
    assert.deepEqual(new Set(statuses), new Set([503]));
    // Without the breaker each of the 100 would open a connection and wait out LDAP_TIMEOUT_MS; with it,
    // only the background probe (every 2 s) dials the dead server.
    assert.ok(
      stall.accepted - dialled <= 6,
      `${stall.accepted - dialled} new connections to the dead server`,
    );
    const staleLine = (await sidecar.logLines()).find(
      (l) => l['msg'] === 'decision' && l['user'] === alice.uid && l['source'] === 'stale',
    );
    assert.ok(staleLine, 'the audit line says stale');
  });
});

describe('pooled StartTLS connections', () => {
  it('a connection the server closed is noticed: the first decision after a slapd restart needs no timeout', async () => {
    const sidecar = await startSidecar(
      openldapEnv(slapd, {
        ...FAST,
        LDAP_START_TLS: 'true',
        LDAP_CA_FILE: slapd.caCert,
        LDAP_TIMEOUT_MS: '5000',
      }),
    );
    try {
      assert.equal((await decide(sidecar, 'GET', '/v2/', basic(alice.uid, alice.password))).status, 200);
      await slapd.stop();
      await slapd.start();
      assert.equal((await decide(sidecar, 'GET', '/v2/', basic(bob.uid, bob.password))).status, 200);
      // Before the fix the pooled connection still claimed to be connected: its search waited out
      // LDAP_TIMEOUT_MS and counted as an error (and the server as down).
      assert.equal(
        (await metric(
          sidecar,
          /registry_auth_ldap_operation_duration_seconds_count\{operation="search",outcome="error"\} (\d+)/,
        )) ?? 0,
        0,
      );
    } finally {
      await sidecar.stop();
      await slapd.start();
    }
  });
});
