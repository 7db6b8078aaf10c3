// @ts-nocheck
// The directory going away, coming back, failing over, and hanging: the sidecar fails closed (503),
// never answers 401 for an outage, and recovers without a restart.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort } from '@registry-ldap-auth/stack/process';
import { assertNoSecretsInLogs, basic } from '@registry-ldap-auth/stack/credentials';
import { decide, startSidecar } from '@registry-ldap-auth/stack/sidecar';
import { seed, startSlapd } from '@registry-ldap-auth/stack/slapd';
import type { Slapd } from '@registry-ldap-auth/stack/slapd';
import { openldapEnv } from './support/openldap-env.ts';
import { waitForLog } from './support/wait.ts';

const { alice, bob } = seed.users;
let slapd: Slapd;

before(async () => {
  slapd = await startSlapd();
});
after(async () => {
  try {
    await assertNoSecretsInLogs(); // before the servers and their logs are removed
  } finally {
    await slapd.destroy();
  }
});

async function readyz(metricsUrl: string): Promise<number> {
  return (await fetch(`${metricsUrl}/readyz`)).status;
}

describe('directory outage', () => {
  it('answers 503 for uncached credentials and /readyz 503, then recovers when slapd is back', async () => {
    const sidecar = await startSidecar(openldapEnv(slapd));
    try {
      assert.equal((await decide(sidecar, 'GET', '/v2/', basic(alice.uid, alice.password))).status, 200);
      assert.equal(await readyz(sidecar.metricsUrl), 200);
      await slapd.stop();
      const res = await decide(sidecar, 'GET', '/v2/', basic(bob.uid, bob.password));
      assert.equal(res.status, 503);
      assert.equal(res.headers.get('www-authenticate'), null, 'an outage is not a challenge');
      assert.equal(
        (await decide(sidecar, 'GET', '/v2/', basic(alice.uid, 'a-wrong-password'))).status,
        503,
        'not 401',
      );
      assert.equal(await readyz(sidecar.metricsUrl), 503);
      assert.equal(
        (await decide(sidecar, 'GET', '/v2/', basic(alice.uid, alice.password))).status,
        200,
        'fresh cache entries still serve',
      );
      const metrics = await (await fetch(`${sidecar.metricsUrl}/metrics`)).text();
      assert.match(metrics, /registry_auth_ldap_up 0/);
      assert.match(metrics, /registry_auth_decisions_total\{action="login",result="error"\} 2/);

      await slapd.start();
      // Down servers are probed again every few seconds (the half-open side of the breaker).
      await waitForLog(sidecar, (l) => l['msg'] === 'LDAP server is answering again', 10_000);
      assert.equal(
        (await decide(sidecar, 'GET', '/v2/', basic(bob.uid, bob.password))).status,
        200,
        'the pool healed',
      );
      assert.equal(await readyz(sidecar.metricsUrl), 200);
      assert.equal(
        (await decide(sidecar, 'GET', '/v2/', basic(alice.uid, 'a-wrong-password'))).status,
        401,
        'the outage was not cached',
      );
    } finally {
      await sidecar.stop();
      await slapd.start();
    }
  });

  it('honours CACHE_STALE_IF_ERROR_SECONDS only while the directory is unreachable', async () => {
    const sidecar = await startSidecar(
      openldapEnv(slapd, { CACHE_TTL_SECONDS: '1', CACHE_STALE_IF_ERROR_SECONDS: '600' }),
    );
    try {
      assert.equal(
        (await decide(sidecar, 'PUT', '/v2/app/manifests/v1', basic(alice.uid, alice.password))).status,
        200,
      );
      await sleep(1100);
      const bindsBefore = await slapd.countBinds(alice.dn);
      assert.equal(
        (await decide(sidecar, 'PUT', '/v2/app/manifests/v1', basic(alice.uid, alice.password))).status,
        200,
      );
      assert.equal(
        (await slapd.countBinds(alice.dn)) - bindsBefore,
        1,
        'past its TTL the entry is re-verified while the directory answers',
      );
      await sleep(1100);
      await slapd.stop();
      assert.equal(
        (await decide(sidecar, 'PUT', '/v2/app/manifests/v1', basic(alice.uid, alice.password))).status,
        200,
      );
      assert.equal(
        (await decide(sidecar, 'GET', '/v2/', basic(bob.uid, bob.password))).status,
        503,
        'never seen: no stale entry',
      );
      const stale = (await sidecar.logLines()).filter(
        (l) => l['msg'] === 'decision' && l['source'] === 'stale',
      );
      assert.equal(stale.length, 1);
    } finally {
      await sidecar.stop();
      await slapd.start();
    }
  });

  it('without stale-if-error, an expired entry is not honoured during an outage', async () => {
    const sidecar = await startSidecar(openldapEnv(slapd, { CACHE_TTL_SECONDS: '1' }));
    try {
      assert.equal((await decide(sidecar, 'GET', '/v2/', basic(alice.uid, alice.password))).status, 200);
      await sleep(1100);
      await slapd.stop();
      assert.equal((await decide(sidecar, 'GET', '/v2/', basic(alice.uid, alice.password))).status, 503);
    } finally {
      await sidecar.stop();
      await slapd.start();
    }
  });
});

describe('LDAP_URL failover', () => {
  it('uses the second URL when the first refuses connections', async () => {
    const closed = `ldap://127.0.0.1:${await freePort()}`;
    const sidecar = await startSidecar(openldapEnv(slapd, { LDAP_URL: `${closed},${slapd.url}` }));
    try {
      assert.equal(
        (await decide(sidecar, 'PUT', '/v2/app/manifests/v1', basic(alice.uid, alice.password))).status,
        200,
      );
      assert.equal(await readyz(sidecar.metricsUrl), 200);
    } finally {
      await sidecar.stop();
    }
  });
});

describe('a directory that accepts TCP but never answers', () => {
  it('answers 503 within LDAP_TIMEOUT_MS plus a small margin', async () => {
    const sockets = new Set<net.Socket>();
    const blackhole = net.createServer((socket) => {
      sockets.add(socket); // read nothing, answer nothing
      socket.on('error', () => {
        // the sidecar hangs up after its timeout
      });
    });
    blackhole.listen(0, '127.0.0.1');
    await once(blackhole, 'listening');
    const url = `ldap://127.0.0.1:${(blackhole.address() as AddressInfo).port}`;
    const timeoutMs = 1000;
    const sidecar = await startSidecar(
      openldapEnv(slapd, { LDAP_URL: url, LDAP_TIMEOUT_MS: String(timeoutMs) }),
    );
    try {
      const start = Date.now();
      const res = await decide(sidecar, 'GET', '/v2/', basic(alice.uid, alice.password));
      const elapsed = Date.now() - start;
      assert.equal(res.status, 503);
      assert.ok(elapsed < timeoutMs + 1500, `answered after ${elapsed} ms`);
    } finally {
      await sidecar.stop();
      for (const s of sockets) s.destroy();
      blackhole.close();
    }
  });
});
