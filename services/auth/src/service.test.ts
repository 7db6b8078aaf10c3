// createService's wiring, seen from outside: the verification bounds it derives from LDAP_POOL_SIZE, the
// lockout counter it feeds, and what the operator sees when the directory reports on its servers. The
// directory is the fake; everything above the seam is the real service.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FakeDirectory, basic } from '../test/support/fake-directory.ts';
import type { FakeUser } from '../test/support/fake-directory.ts';
import { fakeConfig, serveFake } from '../test/support/serve-fake.ts';
import { ServerSet } from './directory/servers.ts';

/** A running service over `directory`; `env` adds to a minimal configuration. */
async function serve(directory: FakeDirectory, env: Record<string, string>) {
  const served = await serveFake(directory, { config: fakeConfig(env) });
  return {
    ask: async (user: string, password: string, clientIp = '192.0.2.1') =>
      (
        await fetch(`${served.authBase}/auth`, {
          headers: {
            'X-Original-Method': 'GET',
            'X-Original-URI': '/v2/app/tags/list',
            'X-Real-IP': clientIp,
            Authorization: basic(user, password),
          },
        })
      ).status,
    /** A series' value; `absent` is what a series not exported (yet) counts as, else it must be there. */
    metric: async (series: string, absent?: number): Promise<number> => {
      const text = await (await fetch(`${served.metricsBase}/metrics`)).text();
      const escaped = series.replace(/[{}]/g, '\\$&');
      const value = new RegExp(`^${escaped} (\\d+)$`, 'm').exec(text)?.[1] ?? absent;
      assert.ok(value !== undefined, `${series} is exported`);
      return Number(value);
    },
    /** The observer the service gave the directory: what LdapDirectory reports through. */
    observer: served.observer,
    /** Operational log lines so far (the audit lines, msg "decision", left out). */
    logs: () => served.log.lines().filter((l) => l['msg'] !== 'decision'),
    close: served.close,
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

describe('what the operator sees when an LDAP server fails or answers again', () => {
  // The directory reports its servers through the observer createService gives it; ServerSet is what
  // LdapDirectory reports with, so the events below are the ones a real outage produces.
  const DC1 = 'ldaps://svc:pw@dc1.example.test';
  const DC2 = 'ldap://dc2.example.test:10389';
  const DC1_LABEL = 'ldaps://dc1.example.test:636';
  const DC2_LABEL = 'ldap://dc2.example.test:10389';
  const up = (server: string) => `registry_auth_ldap_server_up{server="${server}"}`;
  const serverLines = (logs: Record<string, unknown>[]) =>
    logs
      .filter((l) => 'server' in l)
      .map((l) => [l['level'], l['msg'], l['server'], l['error'], l['failover']]);

  it('logs nothing for the start-up report of every server as up; each is exported at 1', async () => {
    const service = await serve(new FakeDirectory({}), {});
    try {
      const servers = new ServerSet([DC1, DC2], { retryAfterMs: 60_000 }, service.observer as never);
      assert.deepEqual(servers.snapshot(), [
        { server: DC1_LABEL, up: true },
        { server: DC2_LABEL, up: true },
      ]);
      assert.equal(await service.metric(up(DC1_LABEL)), 1);
      assert.equal(await service.metric(up(DC2_LABEL)), 1);
      assert.deepEqual(service.logs(), []);
    } finally {
      service.close();
    }
  });

  it('one warning per failure naming the server, the error and the server that takes over; 0 while skipped', async () => {
    const service = await serve(new FakeDirectory({}), {});
    try {
      const servers = new ServerSet([DC1, DC2], { retryAfterMs: 60_000 }, service.observer as never);
      servers.failed(DC1, 'connect ETIMEDOUT 192.0.2.10:636');
      servers.failed(DC1, 'connect ETIMEDOUT 192.0.2.10:636'); // still down: no news
      assert.deepEqual(serverLines(service.logs()), [
        [
          'warn',
          `LDAP server failed: ${DC2_LABEL} takes over; the failed one is probed again every few seconds`,
          DC1_LABEL,
          'connect ETIMEDOUT 192.0.2.10:636',
          DC2_LABEL,
        ],
      ]);
      assert.equal(await service.metric(up(DC1_LABEL)), 0);
      assert.equal(await service.metric(up(DC2_LABEL)), 1);
      assert.doesNotMatch(JSON.stringify(service.logs()), /svc|pw@/, 'no credentials of the URL');
    } finally {
      service.close();
    }
  });

  it('when the last server fails, the warning says decisions fail fast with 503, and names no failover', async () => {
    const service = await serve(new FakeDirectory({}), {});
    try {
      const servers = new ServerSet([DC1, DC2], { retryAfterMs: 60_000 }, service.observer as never);
      servers.failed(DC1, 'connect ECONNREFUSED');
      servers.failed(DC2, 'connect ECONNREFUSED');
      assert.deepEqual(serverLines(service.logs()).at(-1), [
        'warn',
        'LDAP server failed and no other is up: decisions fail fast (503) until one answers a probe',
        DC2_LABEL,
        'connect ECONNREFUSED',
        null,
      ]);
      assert.equal(await service.metric(up(DC2_LABEL)), 0);
    } finally {
      service.close();
    }
  });

  it('one info line when a failed server answers again, and 1 again; each later change is logged once', async () => {
    const service = await serve(new FakeDirectory({}), {});
    try {
      const servers = new ServerSet([DC1, DC2], { retryAfterMs: 60_000 }, service.observer as never);
      servers.failed(DC1, 'connect ETIMEDOUT');
      servers.succeeded(DC1);
      servers.succeeded(DC1); // already up: no news
      servers.succeeded(DC2); // never failed: no news
      assert.equal(await service.metric(up(DC1_LABEL)), 1);
      servers.failed(DC1, 'connect ECONNRESET');
      servers.succeeded(DC1);
      assert.deepEqual(
        serverLines(service.logs()).map(([level, msg, server]) => [level, msg, server]),
        [
          [
            'warn',
            `LDAP server failed: ${DC2_LABEL} takes over; the failed one is probed again every few seconds`,
            DC1_LABEL,
          ],
          ['info', 'LDAP server is answering again', DC1_LABEL],
          [
            'warn',
            `LDAP server failed: ${DC2_LABEL} takes over; the failed one is probed again every few seconds`,
            DC1_LABEL,
          ],
          ['info', 'LDAP server is answering again', DC1_LABEL],
        ],
      );
    } finally {
      service.close();
    }
  });
});

describe('what the directory reports through the service', () => {
  it('registry_auth_ldap_up is 0 after an operation that could not reach the directory, 1 after one that did', async () => {
    const service = await serve(new FakeDirectory({}), {});
    const count = (operation: string, outcome: string) =>
      service.metric(
        `registry_auth_ldap_operation_duration_seconds_count{operation="${operation}",outcome="${outcome}"}`,
      );
    try {
      service.observer.operation('bind', 'error', 0.002);
      assert.equal(await service.metric('registry_auth_ldap_up'), 0);
      service.observer.operation('search', 'rejected', 0.001);
      assert.equal(await service.metric('registry_auth_ldap_up'), 1, 'a "no" is an answer');
      service.observer.operation('bind', 'error', 0.002);
      service.observer.operation('bind', 'success', 0.002);
      assert.equal(await service.metric('registry_auth_ldap_up'), 1);
      assert.deepEqual(
        [await count('bind', 'error'), await count('bind', 'success'), await count('search', 'rejected')],
        [2, 1, 1],
      );
    } finally {
      service.close();
    }
  });

  it("logs the directory's notices (rotation, unreadable files) at their level with their fields", async () => {
    const service = await serve(new FakeDirectory({}), {});
    try {
      service.observer.notice?.('info', 're-read LDAP_BIND_PASSWORD_FILE: new connections use it', {
        trigger: 'SIGHUP',
        changed: ['LDAP_BIND_PASSWORD_FILE'],
      });
      service.observer.notice?.('error', 'LDAP_CA_FILE holds no certificate: keeping the previous one', {
        trigger: 'SIGHUP',
      });
      assert.deepEqual(
        service.logs().map((l) => [l['level'], l['msg'], l['trigger'], l['changed']]),
        [
          [
            'info',
            're-read LDAP_BIND_PASSWORD_FILE: new connections use it',
            'SIGHUP',
            ['LDAP_BIND_PASSWORD_FILE'],
          ],
          ['error', 'LDAP_CA_FILE holds no certificate: keeping the previous one', 'SIGHUP', undefined],
        ],
      );
    } finally {
      service.close();
    }
  });
});

describe('LDAP_PRESET=activedirectory', () => {
  it('looks a DOMAIN\\user login up as the bare account name', async () => {
    const directory = new FakeDirectory({
      alice: { password: 'alice-password', groups: ['registry-users'] },
    });
    const service = await serve(directory, { LDAP_PRESET: 'activedirectory' });
    try {
      assert.equal(await service.ask('EXAMPLE\\alice', 'alice-password'), 200);
    } finally {
      service.close();
    }
  });
});

describe('stale-if-error, as the metrics count it', () => {
  it('a verified login answered from an expired entry while the directory is down is a cache hit, timed as stale', async () => {
    const directory = new FakeDirectory({
      alice: { password: 'alice-password', groups: ['registry-users'] },
    });
    // Entries are fresh for a second, then usable for an outage for a minute.
    const service = await serve(directory, { CACHE_TTL_SECONDS: '1', CACHE_STALE_IF_ERROR_SECONDS: '60' });
    const stale = () => service.metric('registry_auth_decision_duration_seconds_count{source="stale"}', 0);
    try {
      assert.equal(await service.ask('alice', 'alice-password'), 200);
      directory.available = false;
      // Answered from the fresh entry until it expires (time itself is what this waits for), then stale.
      let asked = 0;
      const deadline = Date.now() + 10_000;
      do {
        assert.ok(Date.now() < deadline, 'a stale answer within 10 s');
        asked++;
        assert.equal(await service.ask('alice', 'alice-password'), 200, 'the entry carries the outage');
      } while ((await stale()) === 0);
      assert.equal(await stale(), 1);
      assert.equal(
        await service.metric('registry_auth_cache_hits_total'),
        asked,
        'fresh and stale answers alike',
      );
      assert.equal(await service.metric('registry_auth_cache_misses_total'), 1);
    } finally {
      directory.available = true;
      service.close();
    }
  });
});

describe('the lockout log line', () => {
  it('one warning when a lock starts, naming the account (or the address) and until when', async () => {
    const directory = new FakeDirectory({
      alice: { password: 'alice-password', groups: ['registry-users'] },
    });
    const service = await serve(directory, {
      LOCKOUT_MAX_FAILURES: '2',
      LOCKOUT_ADDRESS_MAX_FAILURES: '3',
      TRUSTED_PROXIES: 'loopback',
    });
    try {
      // alice's second failure locks her account; the address's third (mallory's first) locks it.
      for (let i = 0; i < 4; i++) assert.equal(await service.ask('alice', `guess-${i}`), 401);
      assert.equal(await service.ask('mallory', 'guess'), 401);
      assert.equal(await service.ask('mallory', 'guess'), 401);
      const locks = service.logs().filter((l) => 'lock' in l);
      assert.deepEqual(
        locks.map((l) => [l['level'], l['msg'], l['lock'], l['user'], l['against'], l['client_ip']]),
        [
          [
            'warn',
            'lockout started: user alice, for other addresses',
            'user',
            'alice',
            'other addresses',
            undefined,
          ],
          ['warn', 'lockout started: client address 192.0.2.1', 'address', undefined, undefined, '192.0.2.1'],
        ],
      );
      for (const line of locks) {
        assert.ok(Date.parse(String(line['until'])) > Date.parse(String(line['time'])), 'until is ahead');
        assert.equal(new Date(String(line['until'])).toISOString(), line['until'], 'ISO 8601');
      }
    } finally {
      service.close();
    }
  });
});
