// @ts-nocheck
// 
// createService's wiring, seen from outside: the verification bounds it derives from LDAP_POOL_SIZE, and
// the lockout counter it feeds. The directory is the fake; everything above the seam is the real service.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { FakeDirectory, basic } from '../test/support/fake-directory.ts';
import type { FakeUser } from '../test/support/fake-directory.ts';
import { loadConfig } from './config.ts';
import { createLoggers } from './logger.ts';
import { createService } from './service.ts';

const quiet = new Writable({
  write(_chunk, _enc, done) {
    done();
  },
});

/** A running service over `directory`; `env` adds to a minimal configuration. */
async function serve(directory: FakeDirectory, env: Record<string, string>) {
  const config = loadConfig({
    LDAP_URL: 'ldap://127.0.0.1:1',
    LDAP_USER_BASE_DN: 'dc=example,dc=test',
    AUTH_PUSH_GROUPS: 'registry-pushers',
    AUTH_PULL_GROUPS: 'registry-users',
    ...env,
  });
  const service = createService(config, createLoggers('info', quiet), () => directory);
  const auth = createServer(service.authListener).listen(0, '127.0.0.1');
  const metrics = service.metricsApp.listen(0, '127.0.0.1');
  await Promise.all([once(auth, 'listening'), once(metrics, 'listening')]);
  const port = (server: typeof auth) => (server.address() as AddressInfo).port;
  return {
    ask: async (user: string, password: string, clientIp = '192.0.2.1') =>
      (
        await fetch(`http://127.0.0.1:${port(auth)}/auth`, {
          headers: {
            'X-Original-Method': 'GET',
            'X-Original-URI': '/v2/app/tags/list',
            'X-Real-IP': clientIp,
            Authorization: basic(user, password),
          },
        })
      ).status,
    metric: async (series: string): Promise<number> => {
      const text = await (await fetch(`http://127.0.0.1:${port(metrics)}/metrics`)).text();
      const escaped = series.replace(/[{}]/g, '\\$&');
      const value = new RegExp(`^${escaped} (\\d+)$`, 'm').exec(text)?.[1];
      assert.ok(value !== undefined, `${series} is exported`);
      return Number(value);
    },
    close: () => {
      auth.close();
      metrics.close();
    },
  };
}

/** Polls `check` every 10 ms; fails naming `what` after 10 s. */
async function waitFor(check: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!check()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

function users(count: number): Record<string, FakeUser> {
  return Object.fromEntries(
    Array.from({ length: count }, (_, i) => [
      `user${i}`,
      { password: `password-${i}`, groups: ['registry-users'] },
    ]),
  );
}

describe('verification bounds from LDAP_POOL_SIZE', () => {
  it('at most 4 × LDAP_POOL_SIZE password checks reach the directory at once; the rest wait their turn', async () => {
    const directory = new FakeDirectory(users(40));
    const service = await serve(directory, { LDAP_POOL_SIZE: '2', DECISION_TIMEOUT_MS: '20000' });
    try {
      // 40 distinct cold logins at once, the directory holding its answers: 8 take a place and search.
      const release = directory.hold();
      const answers = Array.from({ length: 40 }, (_, i) => service.ask(`user${i}`, `password-${i}`));
      await waitFor(() => directory.calls.findUser >= 8, 'eight searches');
      release();
      // Those 8 bind together; each next one starts when a place frees. Nobody is turned away.
      assert.deepEqual(new Set(await Promise.all(answers)), new Set([200]));
      assert.equal(directory.calls.verifyPassword, 40);
      assert.equal(directory.maxBinding, 8);
    } finally {
      service.close();
    }
  });

  it('past 16 × LDAP_POOL_SIZE waiting, a cold login is answered 503 at once instead of queueing', async () => {
    const directory = new FakeDirectory(users(44));
    const service = await serve(directory, { LDAP_POOL_SIZE: '2', DECISION_TIMEOUT_MS: '20000' });
    try {
      const release = directory.hold();
      const answered: number[] = [];
      const answers = Array.from({ length: 44 }, (_, i) =>
        service.ask(`user${i}`, `password-${i}`).then((status) => {
          answered.push(status);
          return status;
        }),
      );
      // 8 verifying and 32 waiting fill both bounds: the 4 left over are answered while the rest wait.
      await waitFor(() => answered.length >= 4, 'four answers while the directory holds');
      assert.deepEqual(answered, [503, 503, 503, 503]);
      release();
      const statuses = await Promise.all(answers);
      assert.equal(statuses.filter((s) => s === 200).length, 40);
      assert.equal(directory.calls.verifyPassword, 40);
    } finally {
      service.close();
    }
  });
});

describe('registry_auth_lockouts_total', () => {
  it('counts each lock once, when it starts, under the key that locked', async () => {
    const directory = new FakeDirectory({
      alice: { password: 'alice-password', groups: ['registry-users'] },
      bob: { password: 'bob-password', groups: ['registry-users'] },
    });
    const service = await serve(directory, {
      LOCKOUT_MAX_FAILURES: '3',
      LOCKOUT_ADDRESS_MAX_FAILURES: '6',
      TRUSTED_PROXIES: 'loopback',
    });
    const lockouts = async () => [
      await service.metric('registry_auth_lockouts_total{key="user"}'),
      await service.metric('registry_auth_lockouts_total{key="address"}'),
    ];
    try {
      assert.deepEqual(await lockouts(), [0, 0]);
      for (let i = 0; i < 3; i++) assert.equal(await service.ask('alice', `guess-${i}`), 401);
      assert.deepEqual(await lockouts(), [1, 0], "alice's account locked");
      // Refused while locked: no new lock, so no new count.
      for (let i = 0; i < 3; i++) assert.equal(await service.ask('alice', `more-${i}`), 401);
      assert.deepEqual(await lockouts(), [1, 0]);
      // bob's third failure is the address's sixth: both lock at once.
      for (let i = 0; i < 3; i++) assert.equal(await service.ask('bob', `guess-${i}`), 401);
      assert.deepEqual(await lockouts(), [2, 1]);
      // A third account from another address: the user count alone moves.
      for (let i = 0; i < 3; i++) assert.equal(await service.ask('carol', `guess-${i}`, '192.0.2.2'), 401);
      assert.deepEqual(await lockouts(), [3, 1]);
    } finally {
      service.close();
    }
  });
});
