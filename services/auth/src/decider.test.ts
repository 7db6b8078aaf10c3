import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FakeDirectory, basic } from '../test/support/fake-directory.ts';
import type { FakeUser } from '../test/support/fake-directory.ts';
import { DecisionCache } from './decision-cache.ts';
import { Decider } from './decider.ts';
import type { Decision, DecisionRequest } from './decider.ts';
import type { UserEntry } from './directory/directory.ts';
import { DirectoryUnavailableError } from './directory/errors.ts';
import { Lockout } from './lockout.ts';
import type { LockoutEvent } from './lockout.ts';
import { TokenAuthenticator } from './oidc/token-authenticator.ts';
import { Policy, rulesFromConfig } from './policy.ts';
import type { Access } from './registry-scope.ts';

function setup(
  options: {
    staleIfErrorSeconds?: number;
    maxFailures?: number;
    addressMaxFailures?: number;
    maxConcurrent?: number;
    tokens?: TokenAuthenticator;
    directory?: (users: Record<string, FakeUser>) => FakeDirectory;
  } = {},
) {
  let now = 0;
  const clock = () => now;
  const directory = (options.directory ?? ((users) => new FakeDirectory(users)))({
    alice: { password: 'alice-password', groups: ['registry-pushers'], aliases: ['alice@example.test'] },
    bob: { password: 'bob-password', groups: ['registry-users'] },
    carol: { password: 'carol-password', groups: [] },
    dis: { password: 'dis-password', groups: ['registry-pushers'], refusal: 'account_disabled' },
  });
  const lockouts: LockoutEvent[] = [];
  const decider = new Decider({
    directory,
    cache: new DecisionCache({
      ttlSeconds: 300,
      negativeTtlSeconds: 30,
      staleIfErrorSeconds: options.staleIfErrorSeconds ?? 0,
      maxEntries: 100,
      now: clock,
    }),
    lockout: new Lockout({
      maxFailures: options.maxFailures ?? 10,
      addressMaxFailures: options.addressMaxFailures ?? options.maxFailures ?? 10,
      windowSeconds: 300,
      durationSeconds: 300,
      familiarSeconds: 86_400,
      now: clock,
      onLock: (event) => lockouts.push(event),
    }),
    policy: new Policy(
      rulesFromConfig({
        pushGroups: ['registry-pushers'],
        pullGroups: ['registry-users'],
        deleteGroups: [],
        catalogGroups: [],
      }),
    ),
    normalizeLogin: (login) => login.replace(/^[^\\]+\\/, ''),
    ...(options.maxConcurrent === undefined ? {} : { maxConcurrentVerifications: options.maxConcurrent }),
    tokens: options.tokens,
  });
  return { decider, directory, lockouts, advance: (s: number) => (now += s * 1000) };
}

const request = (
  authorization: string | undefined,
  method = 'GET',
  uri = '/v2/app/manifests/latest',
  clientIp = '192.0.2.1',
): DecisionRequest => ({
  authorization,
  method,
  uri,
  clientIp,
});

describe('Decider', () => {
  it('allows a pusher to push, with the canonical user and groups', async () => {
    const { decider } = setup();
    const d = await decider.decide(request(basic('alice', 'alice-password'), 'PUT'));
    assert.equal(d.reason, 'granted');
    assert.equal(d.source, 'directory');
    assert.ok(d.identity);
    assert.equal(d.identity.username, 'alice');
    assert.deepEqual(
      d.identity.groups.map((g) => g.name),
      ['registry-pushers'],
    );
  });

  it('denies a reader a push (403) but lets them pull', async () => {
    const { decider } = setup();
    assert.equal((await decider.decide(request(basic('bob', 'bob-password'), 'PUT'))).reason, 'not_granted');
    assert.equal((await decider.decide(request(basic('bob', 'bob-password')))).reason, 'granted');
  });

  it('answers repeated credentials from the cache: one directory round trip for a whole push', async () => {
    const { decider, directory } = setup();
    for (let i = 0; i < 50; i++) await decider.decide(request(basic('alice', 'alice-password'), 'HEAD'));
    assert.deepEqual(directory.calls, { findUser: 1, verifyPassword: 1, resolveGroups: 1, checkHealth: 0 });
  });

  it('collapses concurrent identical cold checks into one directory round trip', async () => {
    const { decider, directory } = setup();
    directory.latencyMs = 20;
    const decisions = await Promise.all(
      Array.from({ length: 50 }, () =>
        Promise.resolve(decider.decide(request(basic('alice', 'alice-password')))),
      ),
    );
    assert.ok(decisions.every((d) => d.reason === 'granted'));
    assert.equal(directory.calls.verifyPassword, 1);
  });

  it('keeps at most maxConcurrentVerifications directory checks in flight; the rest wait and are answered', async () => {
    const { decider, directory } = setup({ maxConcurrent: 3, maxFailures: 1000 });
    directory.latencyMs = 10;
    const decisions = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        Promise.resolve(decider.decide(request(basic('alice', `guess-${i}`)))),
      ),
    );
    assert.ok(decisions.every((d) => d.reason === 'invalid_password'));
    assert.equal(directory.calls.verifyPassword, 20);
    assert.equal(directory.maxBinding, 3);
    const later = await decider.decide(request(basic('bob', 'bob-password')));
    assert.equal(later.reason, 'granted', 'every slot came free again');
  });

  it('a burst of right passwords from one address past its limit all get in: busy is no lockout', async () => {
    // Twelve users behind one address (a NAT, a CI runner) log in at once with LOCKOUT_ADDRESS_MAX_FAILURES=2:
    // nothing failed, so nobody may be told locked_out; at most two checks are in flight at a time.
    const { decider, directory } = setup({ maxFailures: 10, addressMaxFailures: 2 });
    const users = Array.from({ length: 12 }, (_, i) => `user${i}`);
    for (const user of users)
      directory.users.set(user, { password: `${user}-password`, groups: ['registry-users'] });
    directory.latencyMs = 5;
    const decisions = await Promise.all(
      users.map((user) => Promise.resolve(decider.decide(request(basic(user, `${user}-password`))))),
    );
    assert.deepEqual(
      decisions.map((d) => d.reason),
      users.map(() => 'granted'),
    );
    assert.equal(directory.maxBinding, 2);
  });

  it('wrong passwords from one address stop at its limit, whoever is waiting', async () => {
    const { decider, directory } = setup({ maxFailures: 10, addressMaxFailures: 2 });
    directory.latencyMs = 5;
    const decisions = await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        Promise.resolve(decider.decide(request(basic('carol', `guess-${i}`)))),
      ),
    );
    assert.equal(directory.calls.verifyPassword, 2, 'only the limit reached the directory');
    assert.equal(decisions.filter((d) => d.reason === 'invalid_password').length, 2);
    assert.equal(decisions.filter((d) => d.reason === 'locked_out').length, 10);
  });

  it('answers the same wrong password from the negative cache without the directory', async () => {
    const { decider, directory, advance } = setup();
    for (let i = 0; i < 10; i++) {
      assert.equal(
        (await decider.decide(request(basic('alice', 'stale-ci-password')))).reason,
        'invalid_password',
      );
    }
    assert.equal(directory.calls.verifyPassword, 1);
    advance(31);
    await decider.decide(request(basic('alice', 'stale-ci-password')));
    assert.equal(directory.calls.verifyPassword, 2, 'asks again after CACHE_NEGATIVE_TTL_SECONDS');
    assert.equal(
      (await decider.decide(request(basic('alice', 'alice-password')))).reason,
      'granted',
      'the right password still works',
    );
  });

  it('refuses an empty password before touching the directory', async () => {
    const { decider, directory } = setup();
    assert.equal((await decider.decide(request(basic('alice', '')))).reason, 'empty_password');
    assert.equal(directory.calls.findUser, 0);
  });

  it('answers 401 reasons for missing and malformed credentials, 500 for a misconfigured proxy', async () => {
    const { decider } = setup();
    assert.equal((await decider.decide(request(undefined))).reason, 'no_credentials');
    assert.equal((await decider.decide(request('Basic %%%'))).reason, 'malformed_credentials');
    assert.equal(
      (await decider.decide({ ...request(basic('alice', 'x')), method: undefined })).reason,
      'proxy_misconfigured',
    );
    assert.equal(
      (await decider.decide({ ...request(basic('alice', 'x')), uri: undefined })).reason,
      'proxy_misconfigured',
    );
  });

  it('denies an invalid registry request without asking the directory', async () => {
    const { decider, directory } = setup();
    assert.equal(
      (await decider.decide(request(basic('alice', 'alice-password'), 'GET', '/v2/a/../b/manifests/x')))
        .reason,
      'invalid_request',
    );
    assert.equal(directory.calls.findUser, 0);
  });

  it('refuses a POST whose form body the registry would read, without asking the directory', async () => {
    const { decider, directory } = setup();
    const d = await decider.decide({
      ...request(basic('alice', 'alice-password'), 'POST', '/v2/app/blobs/uploads/'),
      contentType: 'application/x-www-form-urlencoded',
    });
    assert.deepEqual([d.reason, d.detail], ['form_body', 'form body']);
    assert.equal(directory.calls.findUser, 0);
    const plain = await decider.decide({
      ...request(basic('alice', 'alice-password'), 'POST', '/v2/app/blobs/uploads/'),
      contentType: 'application/octet-stream',
    });
    assert.equal(plain.reason, 'granted');
  });

  it('passes on the directory’s specific refusal (disabled account)', async () => {
    const { decider } = setup();
    assert.equal((await decider.decide(request(basic('dis', 'dis-password')))).reason, 'account_disabled');
  });

  it('fails closed with directory_unavailable, and never caches it', async () => {
    const { decider, directory } = setup();
    directory.available = false;
    const d = await decider.decide(request(basic('alice', 'alice-password')));
    assert.equal(d.reason, 'directory_unavailable');
    assert.match(d.error ?? '', /ECONNREFUSED/);
    directory.available = true;
    assert.equal((await decider.decide(request(basic('alice', 'alice-password')))).reason, 'granted');
  });

  it('honours a verified entry past its TTL only while the directory is down (stale-if-error)', async () => {
    const { decider, directory, advance } = setup({ staleIfErrorSeconds: 600 });
    await decider.decide(request(basic('alice', 'alice-password')));
    advance(301);
    directory.available = false;
    const stale = await decider.decide(request(basic('alice', 'alice-password')));
    assert.deepEqual([stale.reason, stale.source], ['granted', 'stale']);
    directory.available = true;
    const fresh = await decider.decide(request(basic('alice', 'alice-password')));
    assert.deepEqual([fresh.reason, fresh.source], ['granted', 'directory']);
    advance(301 + 601);
    directory.available = false;
    assert.equal(
      (await decider.decide(request(basic('alice', 'alice-password')))).reason,
      'directory_unavailable',
    );
  });

  it('an expired entry of the canonical name is not honoured for another login form while the directory is up', async () => {
    const { decider, directory, advance } = setup({ staleIfErrorSeconds: 600 });
    await decider.decide(request(basic('alice', 'alice-password')));
    advance(301);
    const alice = directory.users.get('alice');
    assert.ok(alice);
    directory.users.set('alice', { ...alice, password: 'changed' }); // changed in the directory meanwhile
    const d = await decider.decide(request(basic('alice@example.test', 'alice-password')));
    assert.deepEqual([d.reason, directory.calls.verifyPassword], ['invalid_password', 2]);
  });

  it('without stale-if-error an expired entry is not used during an outage', async () => {
    const { decider, directory, advance } = setup();
    await decider.decide(request(basic('alice', 'alice-password')));
    advance(301);
    directory.available = false;
    assert.equal(
      (await decider.decide(request(basic('alice', 'alice-password')))).reason,
      'directory_unavailable',
    );
  });

  it('locks out after LOCKOUT_MAX_FAILURES distinct wrong passwords, without asking the directory', async () => {
    const { decider, directory, lockouts } = setup({ maxFailures: 3 });
    for (const pw of ['a', 'b', 'c']) await decider.decide(request(basic('alice', pw)));
    const calls = directory.calls.verifyPassword;
    const locked = await decider.decide(
      request(basic('alice', 'alice-password'), 'GET', '/v2/app/manifests/latest', '192.0.2.50'),
    );
    assert.equal(locked.reason, 'locked_out');
    assert.equal(directory.calls.verifyPassword, calls);
    assert.deepEqual(
      lockouts.map((e) => [e.kind, e.subject]),
      [
        ['address', '192.0.2.1'],
        ['user', 'alice'],
      ],
      'the address and the user were locked',
    );
  });

  it('a new login form of a recently verified user costs a search, not a bind', async () => {
    const { decider, directory } = setup();
    assert.equal((await decider.decide(request(basic('alice', 'alice-password')))).reason, 'granted');
    const upn = await decider.decide(request(basic('alice@example.test', 'alice-password')));
    assert.deepEqual([upn.reason, upn.identity?.username], ['granted', 'alice']);
    assert.deepEqual([directory.calls.findUser, directory.calls.verifyPassword], [2, 1]);
    const again = await decider.decide(request(basic('alice@example.test', 'alice-password')));
    assert.deepEqual([again.source, directory.calls.findUser], ['cache', 2], 'that form is cached too');
    assert.equal(
      (await decider.decide(request(basic('alice@example.test', 'wrong')))).reason,
      'invalid_password',
    );
  });

  it('shares one cache entry between a login form and the canonical username', async () => {
    const { decider, directory } = setup();
    assert.equal(
      (await decider.decide(request(basic('alice@example.test', 'alice-password')))).identity?.username,
      'alice',
    );
    assert.equal((await decider.decide(request(basic('alice', 'alice-password')))).source, 'cache');
    assert.equal((await decider.decide(request(basic('EXAMPLE\\alice', 'alice-password')))).source, 'cache');
    assert.equal(directory.calls.verifyPassword, 1);
  });

  describe('guessing', () => {
    const guesses = (n: number) => Array.from({ length: n }, (_, i) => `guess-${i}`);
    const concurrently = (decider: Decider, requests: DecisionRequest[]) =>
      Promise.all(requests.map((r) => Promise.resolve(decider.decide(r))));

    it('61 concurrent guesses from one address: at most LOCKOUT_MAX_FAILURES binds, the right password (last) never confirmed', async () => {
      const { decider, directory } = setup({ maxFailures: 10, maxConcurrent: 16 });
      directory.latencyMs = 5;
      const passwords = [...guesses(60), 'carol-password'];
      const decisions = await concurrently(
        decider,
        passwords.map((pw) => request(basic('carol', pw), 'GET', '/v2/')),
      );
      assert.ok(directory.calls.verifyPassword <= 10, `${directory.calls.verifyPassword} binds`);
      assert.equal(decisions.at(-1)?.reason, 'locked_out');
      assert.ok(!decisions.some((d) => d.reason === 'granted'));
    });

    it('61 concurrent guesses from 61 addresses: still at most LOCKOUT_MAX_FAILURES binds for the account', async () => {
      const { decider, directory } = setup({ maxFailures: 10, maxConcurrent: 64 });
      directory.latencyMs = 5;
      const passwords = [...guesses(60), 'carol-password'];
      const decisions = await concurrently(
        decider,
        passwords.map((pw, i) => request(basic('carol', pw), 'GET', '/v2/', `198.51.100.${i}`)),
      );
      assert.ok(directory.calls.verifyPassword <= 10, `${directory.calls.verifyPassword} binds`);
      assert.equal(
        directory.calls.findUser,
        61,
        'a search is not a guess: each is made, none binds past the limit',
      );
      assert.deepEqual([decisions.at(-1)?.reason, decisions.at(-1)?.lock], ['locked_out', 'user']);
    });

    it('every typed form of one login shares one lock: spaces, case, fullwidth, UPN and DOMAIN\\user', async () => {
      const { decider, directory } = setup({ maxFailures: 3, addressMaxFailures: 100 });
      for (const [i, form] of [' alice', 'Alice  ', 'ａｌｉｃｅ'].entries())
        assert.equal((await decider.decide(request(basic(form, `wrong-${i}`)))).reason, 'invalid_password');
      const binds = directory.calls.verifyPassword;
      for (const form of ['alice', 'ALICE', 'alice@example.test', 'EXAMPLE\\alice', ' ａｌｉｃｅ ']) {
        const d = await decider.decide(request(basic(form, 'alice-password')));
        assert.deepEqual([d.reason, d.lock], ['locked_out', 'user'], form);
      }
      assert.equal(directory.calls.verifyPassword, binds, 'no form reached a bind');
    });

    it('every form of one account shares one negative-cache entry', async () => {
      const { decider, directory } = setup();
      await decider.decide(request(basic('alice', 'stale-ci-password')));
      for (const form of [' Alice', 'ａｌｉｃｅ', 'alice@example.test', 'EXAMPLE\\alice']) {
        const d = await decider.decide(request(basic(form, 'stale-ci-password')));
        assert.equal(d.reason, 'invalid_password', form);
      }
      assert.equal(directory.calls.verifyPassword, 1);
    });

    it('searches with the folded login', async () => {
      const { decider } = setup();
      const d = await decider.decide(request(basic(' ＡＬＩＣＥ ', 'alice-password')));
      assert.deepEqual([d.reason, d.identity?.username, d.login], ['granted', 'alice', ' ＡＬＩＣＥ ']);
    });
  });

  describe('strangers cannot lock out a verified user', () => {
    const HOME = '192.0.2.10';
    const strangers = Array.from({ length: 10 }, (_, i) => `203.0.113.${i + 1}`);
    async function lockedByStrangers() {
      const s = setup({ maxFailures: 10, addressMaxFailures: 100 });
      const home = await s.decider.decide(request(basic('alice', 'alice-password'), 'PUT', undefined, HOME));
      assert.deepEqual([home.reason, home.source], ['granted', 'directory']);
      for (const [i, address] of strangers.entries())
        await s.decider.decide(request(basic('alice', `guess-${i}`), 'GET', undefined, address));
      return s;
    }

    it('from the address that verified her: still granted, from the cache', async () => {
      const { decider, lockouts } = await lockedByStrangers();
      assert.deepEqual(
        lockouts.map((e) => [e.kind, e.subject, e.against]),
        [['user', 'alice', 'other addresses']],
      );
      const d = await decider.decide(request(basic('alice', 'alice-password'), 'PUT', undefined, HOME));
      assert.deepEqual([d.reason, d.source], ['granted', 'cache']);
    });

    it('from anywhere else: locked_out for the right password and for wrong ones, without the directory', async () => {
      const { decider, directory } = await lockedByStrangers();
      const binds = directory.calls.verifyPassword;
      const searches = directory.calls.findUser;
      for (const password of ['alice-password', 'guess-3', 'a-new-guess']) {
        const d = await decider.decide(request(basic('alice', password), 'GET', undefined, '198.51.100.99'));
        assert.deepEqual([d.reason, d.lock], ['locked_out', 'user'], password);
      }
      assert.deepEqual([directory.calls.verifyPassword, directory.calls.findUser], [binds, searches]);
    });

    it('a cache hit alone does not make an address familiar', async () => {
      const s = setup({ maxFailures: 10 });
      await s.decider.decide(request(basic('alice', 'alice-password'), 'GET', undefined, HOME));
      const other = '192.0.2.77';
      const hit = await s.decider.decide(request(basic('alice', 'alice-password'), 'GET', undefined, other));
      assert.deepEqual([hit.reason, hit.source], ['granted', 'cache']);
      for (const [i, address] of strangers.entries())
        await s.decider.decide(request(basic('alice', `guess-${i}`), 'GET', undefined, address));
      const d = await s.decider.decide(request(basic('alice', 'alice-password'), 'GET', undefined, other));
      assert.equal(d.reason, 'locked_out');
    });

    it('the familiar address’s own wrong passwords reach the directory and lock it in turn', async () => {
      const { decider, directory } = await lockedByStrangers();
      const binds = directory.calls.verifyPassword;
      for (let i = 0; i < 10; i++) {
        const d = await decider.decide(request(basic('alice', `typo-${i}`), 'GET', undefined, HOME));
        assert.equal(d.reason, 'invalid_password');
      }
      assert.equal(directory.calls.verifyPassword, binds + 10);
      const d = await decider.decide(request(basic('alice', 'alice-password'), 'GET', undefined, HOME));
      assert.deepEqual([d.reason, d.lock], ['locked_out', 'user']);
    });

    it('a request that shares another’s round trip is held to the lock for its own address', async () => {
      const { decider, directory, advance } = await lockedByStrangers();
      advance(301); // the cached verdict expires; the strangers' lock (300 s) too, so lock them again
      for (const [i, address] of strangers.entries())
        await decider.decide(request(basic('alice', `again-${i}`), 'GET', undefined, address));
      directory.latencyMs = 10;
      const binds = directory.calls.verifyPassword;
      // A login form not seen before: nothing tells the second request whose account it is until the
      // search, so it joins the first's round trip instead of being refused up front.
      const upn = basic('alice@example.test', 'alice-password');
      const [home, stranger] = await Promise.all([
        Promise.resolve(decider.decide(request(upn, 'GET', undefined, HOME))),
        Promise.resolve(decider.decide(request(upn, 'GET', undefined, '198.51.100.5'))),
      ]);
      assert.equal(directory.calls.verifyPassword, binds + 1, 'one bind for both');
      assert.equal(home.reason, 'granted');
      assert.deepEqual(
        [stranger.reason, stranger.source, stranger.lock],
        ['locked_out', 'directory', 'user'],
      );
    });
  });

  describe('what each answer carries (the audit line and the status are built from it)', () => {
    const app: Access[] = [{ action: 'pull', repository: 'app' }];
    const alice = basic('alice', 'alice-password');
    const refusedEarly: [string, Partial<DecisionRequest>, Decision][] = [
      ['an empty method', { method: '' }, { reason: 'proxy_misconfigured', source: 'none' }],
      ['an empty URI', { uri: '' }, { reason: 'proxy_misconfigured', source: 'none' }],
      [
        'no credentials, with the action asked for',
        { authorization: undefined },
        { access: app, reason: 'no_credentials', source: 'none' },
      ],
      [
        'no credentials on a request that is no registry route',
        { authorization: undefined, uri: '/v2/a/../b/manifests/x' },
        { reason: 'no_credentials', source: 'none' },
      ],
      [
        'malformed credentials',
        { authorization: 'Basic %%%' },
        { access: app, reason: 'malformed_credentials', source: 'none' },
      ],
      [
        'an empty password, naming the login',
        { authorization: basic('alice', '') },
        { access: app, login: 'alice', reason: 'empty_password', source: 'none' },
      ],
      [
        'an invalid request, naming the login and what is wrong',
        { uri: '/v2/a/../b/manifests/x' },
        { login: 'alice', reason: 'invalid_request', source: 'none', detail: 'dot segment in path' },
      ],
    ];
    for (const [name, change, expected] of refusedEarly) {
      it(`${name}: answered at once, without the directory`, () => {
        const { decider, directory } = setup();
        const d = decider.decide({ ...request(alice), ...change });
        assert.ok(!(d instanceof Promise));
        assert.deepEqual(d, expected);
        assert.equal(directory.calls.findUser, 0);
      });
    }

    it('a grant names the login, the access, the canonical identity and where the verdict came from', async () => {
      const { decider } = setup();
      const expected = {
        login: 'Alice',
        access: app,
        identity: {
          username: 'alice',
          dn: 'uid=alice,ou=people',
          groups: [{ name: 'registry-pushers', dn: 'cn=registry-pushers,ou=groups' }],
        },
        reason: 'granted',
      };
      assert.deepEqual(await decider.decide(request(basic('Alice', 'alice-password'))), {
        ...expected,
        source: 'directory',
      });
      const hit = decider.decide(request(basic('Alice', 'alice-password')));
      assert.ok(!(hit instanceof Promise), 'a cache hit is answered synchronously');
      assert.deepEqual(hit, { ...expected, source: 'cache' });
    });

    it('a refusal by the directory, and the lock that follows, name no identity', async () => {
      const { decider } = setup({ maxFailures: 2, addressMaxFailures: 100 });
      const push: Access[] = [{ action: 'push', repository: 'app' }];
      const context = { login: 'bob', access: push };
      for (const password of ['a', 'b'])
        assert.deepEqual(await decider.decide(request(basic('bob', password), 'PUT')), {
          ...context,
          reason: 'invalid_password',
          source: 'directory',
        });
      const locked = decider.decide(request(basic('bob', 'bob-password'), 'PUT'));
      assert.ok(!(locked instanceof Promise), 'refused before the cache and the directory');
      assert.deepEqual(locked, { ...context, reason: 'locked_out', source: 'none', lock: 'user' });
    });

    it('an account locked by its first failure refuses the next attempt of that login before a search', async () => {
      const { decider, directory } = setup({ maxFailures: 1, addressMaxFailures: 100 });
      assert.equal((await decider.decide(request(basic('bob', 'a')))).reason, 'invalid_password');
      const d = decider.decide(request(basic('bob', 'bob-password')));
      assert.ok(!(d instanceof Promise));
      assert.deepEqual([d.reason, d.source, directory.calls.findUser], ['locked_out', 'none', 1]);
    });

    it('a user the directory does not know: answered from the negative cache, then locked under the login', async () => {
      const { decider, directory, lockouts } = setup({ maxFailures: 2, addressMaxFailures: 100 });
      for (let i = 0; i < 3; i++) {
        const d = await decider.decide(request(basic('Nobody', 'guess-1')));
        assert.deepEqual(
          [d.reason, d.source, d.login],
          ['unknown_user', i === 0 ? 'directory' : 'cache', 'Nobody'],
        );
      }
      assert.equal(directory.calls.findUser, 1);
      await decider.decide(request(basic('nobody', 'guess-2'), 'GET', undefined, '192.0.2.2'));
      assert.deepEqual(lockouts, [
        { kind: 'user', subject: 'nobody', against: 'other addresses', until: 300_000 },
      ]);
      const d = await decider.decide(request(basic('NOBODY', 'guess-3'), 'GET', undefined, '192.0.2.3'));
      assert.deepEqual([d.reason, d.lock], ['locked_out', 'user']);
      assert.equal(directory.calls.findUser, 2);
    });

    it('a lock found only once the search has named the account answers locked_out from the directory', async () => {
      // `alice@example.test` is not yet known to be alice: the search runs, the bind is refused.
      const { decider, directory } = setup({ maxFailures: 2, addressMaxFailures: 100 });
      for (const password of ['a', 'b']) await decider.decide(request(basic('alice', password)));
      const d = await decider.decide(request(basic('alice@example.test', 'alice-password')));
      assert.deepEqual(d, {
        login: 'alice@example.test',
        access: app,
        reason: 'locked_out',
        source: 'directory',
        lock: 'user',
      });
      assert.equal(directory.calls.verifyPassword, 2);
      const searches = directory.calls.findUser;
      const again = await decider.decide(request(basic('alice@example.test', 'another')));
      assert.deepEqual([again.reason, again.source], ['locked_out', 'none']);
      assert.equal(directory.calls.findUser, searches, 'the search named the account: no second search');
    });

    it('a cache hit on any login form of a locked account is locked_out, the right password included', async () => {
      const { decider } = setup({ maxFailures: 2, addressMaxFailures: 100 });
      const upn = basic('alice@example.test', 'alice-password');
      assert.equal((await decider.decide(request(upn))).reason, 'granted');
      for (const [i, address] of ['203.0.113.1', '203.0.113.2'].entries())
        await decider.decide(request(basic('alice', `guess-${i}`), 'GET', undefined, address));
      const d = decider.decide(request(upn, 'GET', undefined, '198.51.100.9'));
      assert.ok(!(d instanceof Promise));
      assert.deepEqual([d.reason, d.lock], ['locked_out', 'user']);
    });

    it('a directory that could not be asked holds no place: the address is not left busy', async () => {
      const { decider, directory } = setup({ maxFailures: 2, addressMaxFailures: 2 });
      directory.available = false;
      for (let i = 0; i < 3; i++)
        assert.equal(
          (await decider.decide(request(basic('alice', 'alice-password')))).reason,
          'directory_unavailable',
        );
      directory.available = true;
      assert.equal((await decider.decide(request(basic('alice', 'alice-password')))).reason, 'granted');
    });
  });

  describe('never a password in what is logged', () => {
    const secret = 'pa55-w0rd!';
    class Quoting extends FakeDirectory {
      thrown: unknown;
      override verifyPassword(_user: UserEntry, password: string): Promise<void> {
        this.calls.verifyPassword++;
        const thrown =
          this.thrown ?? new DirectoryUnavailableError(`bind refused for '${password}', twice: ${password}`);
        // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- a defect may throw anything
        return Promise.reject(thrown);
      }
    }
    const quoting = () => {
      let made: Quoting | undefined;
      const s = setup({ directory: (users) => (made = new Quoting(users)) });
      assert.ok(made);
      return { ...s, directory: made };
    };

    it('an outage message that quotes the password has it cut out, every time', async () => {
      const { decider } = quoting();
      const d = await decider.decide(request(basic('alice', secret)));
      assert.deepEqual(
        [d.reason, d.source, d.error],
        ['directory_unavailable', 'directory', "bind refused for '[redacted]', twice: [redacted]"],
      );
    });

    it('a defect that quotes the password: internal_error, the same class of error, the password cut from message and stack', async () => {
      const { decider, directory } = quoting();
      directory.thrown = new TypeError(`Cannot read properties of undefined (reading '${secret}')`);
      const d = await decider.decide(request(basic('alice', secret)));
      assert.deepEqual(
        [d.reason, d.source, d.login, d.access],
        ['internal_error', 'directory', 'alice', [{ action: 'pull', repository: 'app' }]],
      );
      assert.equal(d.error, "Cannot read properties of undefined (reading '[redacted]')");
      assert.ok(d.fault instanceof TypeError);
      assert.equal(d.fault.message, d.error);
      assert.match(
        d.fault.stack ?? '',
        /^TypeError: Cannot read properties of undefined \(reading '\[redacted\]'\)\n/,
      );
      assert.ok(!(d.fault.stack ?? '').includes(secret));
    });

    it('a defect that does not quote it is passed on as thrown; a thrown string is redacted too', async () => {
      const { decider, directory } = quoting();
      const defect = new RangeError('out of range');
      directory.thrown = defect;
      const d = await decider.decide(request(basic('alice', secret)));
      assert.equal(d.fault, defect);
      assert.equal(d.error, 'out of range');
      // A wrapper that appends its cause's stack: the message is clean, the stack is not.
      const wrapped = new Error('bind failed');
      wrapped.stack = `Error: bind failed\n    at bind\nCaused by: TypeError: reading '${secret}'`;
      directory.thrown = wrapped;
      const w = await decider.decide(request(basic('alice', secret)));
      assert.ok(w.fault instanceof Error);
      assert.equal(
        w.fault.stack,
        "Error: bind failed\n    at bind\nCaused by: TypeError: reading '[redacted]'",
      );
      directory.thrown = `no ${secret} here`;
      const s = await decider.decide(request(basic('alice', secret)));
      assert.deepEqual(
        [s.reason, s.error, s.fault],
        ['internal_error', 'no [redacted] here', 'no [redacted] here'],
      );
    });
  });

  describe('CI job tokens (OIDC_CONFIG_FILE)', () => {
    const tokens = () =>
      new TokenAuthenticator(
        { username: 'ci-job', file: 'rules.yaml', issuers: [] },
        { key: (t) => t, maxEntries: 10 },
      );

    it('the token username is checked as a token, never against the directory', async () => {
      const { decider, directory } = setup({ tokens: tokens() });
      const d = await decider.decide(request(basic('ci-job', 'not-a-jwt')));
      assert.deepEqual(
        [d.reason, d.source, d.login, d.access],
        ['token_invalid', 'token', 'ci-job', [{ action: 'pull', repository: 'app' }]],
      );
      assert.equal(directory.calls.findUser, 0);
      assert.equal((await decider.decide(request(basic('alice', 'alice-password')))).reason, 'granted');
    });

    it('refused tokens count against the client address: past its limit, its logins are locked out', async () => {
      const { decider, directory, lockouts } = setup({
        tokens: tokens(),
        maxFailures: 10,
        addressMaxFailures: 3,
      });
      for (let i = 0; i < 3; i++) await decider.decide(request(basic('ci-job', `forged-${i}`)));
      assert.deepEqual(
        lockouts.map((e) => [e.kind, e.subject]),
        [['address', '192.0.2.1']],
      );
      const d = await decider.decide(request(basic('alice', 'alice-password')));
      assert.deepEqual([d.reason, d.lock], ['locked_out', 'address']);
      assert.equal(directory.calls.findUser, 0);
      const elsewhere = await decider.decide(
        request(basic('alice', 'alice-password'), 'GET', undefined, '192.0.2.2'),
      );
      assert.equal(elsewhere.reason, 'granted');
    });
  });
});
