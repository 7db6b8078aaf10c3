// An outsider's attacks on the lockout, the shared group lists of the decision cache and the internal_error
// path, each written as the attacker would try it against the decider (the directory is the fake, with
// gates to hold a bind in flight and faults that stand for a defect). Each test states the defence it
// checks; through nginx to the real registry, see test/e2e/attacks.test.ts.
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { FakeDirectory, basic } from '../test/support/fake-directory.ts';
import type { FakeUser } from '../test/support/fake-directory.ts';
import { LogCapture } from '../test/support/log-capture.ts';
import { fakeConfig, serveFake } from '../test/support/serve-fake.ts';
import { DecisionCache } from './decision-cache.ts';
import { Decider } from './decider.ts';
import type { Decision } from './decider.ts';
import type { Group, UserEntry } from './directory/directory.ts';
import { DirectoryUnavailableError } from './directory/errors.ts';
import { Lockout } from './lockout.ts';
import { Policy, rulesFromConfig } from './policy.ts';

const HOME = '192.0.2.1'; // where alice works (familiar once she has logged in)
const ATTACKER = '203.0.113.9';

/** The fake directory with the attacker's tools: a bind held in flight, and a defect on demand. */
class AttackDirectory extends FakeDirectory {
  /** Password → a gate the bind with it waits at until opened. */
  readonly gates = new Map<string, Promise<void>>();
  /** Username → what its password check throws (a defect, not an LDAP answer). */
  readonly faults = new Map<string, (password: string) => never>();
  /** Calls to verifyPassword per username. */
  readonly binds = new Map<string, number>();

  gate(password: string): () => void {
    let open = (): void => undefined;
    this.gates.set(
      password,
      new Promise<void>((resolve) => {
        open = resolve;
      }),
    );
    return open;
  }

  override async verifyPassword(user: UserEntry, password: string): Promise<void> {
    this.binds.set(user.username, (this.binds.get(user.username) ?? 0) + 1);
    await this.gates.get(password);
    const fault = this.faults.get(user.username);
    if (fault !== undefined) fault(password);
    return super.verifyPassword(user, password);
  }
}

const USERS: Record<string, FakeUser> = {
  alice: {
    password: 'alice-password',
    groups: ['registry-pushers'],
    aliases: ['alice@example.test'],
  },
  bob: { password: 'bob-password', groups: ['registry-users'] },
  mallory: { password: 'mallory-password', groups: ['registry-users'] },
  dave: { password: 'dave-password', groups: ['registry-pushers'] },
};

// Cached answers live a minute: `advance(61)` sends the next login of the same password to the directory
// (a fresh bind, so Lockout.succeed runs), well inside the hour of the lockout window.
function setup(options: { maxFailures?: number; addressMaxFailures?: number; maxKeys?: number } = {}) {
  let now = 1_000_000;
  const clock = (): number => now;
  const directory = new AttackDirectory(USERS);
  const lockout = new Lockout({
    maxFailures: options.maxFailures ?? 3,
    addressMaxFailures: options.addressMaxFailures ?? 1000,
    windowSeconds: 3600,
    durationSeconds: 3600,
    familiarSeconds: 86_400,
    now: clock,
    ...(options.maxKeys === undefined ? {} : { maxKeys: options.maxKeys }),
  });
  const decider = new Decider({
    directory,
    cache: new DecisionCache({
      ttlSeconds: 60,
      negativeTtlSeconds: 30,
      staleIfErrorSeconds: 0,
      maxEntries: 1000,
      now: clock,
    }),
    lockout,
    policy: new Policy(
      rulesFromConfig({
        pushGroups: ['registry-pushers'],
        pullGroups: ['registry-users'],
        deleteGroups: [],
        catalogGroups: [],
      }),
    ),
    // EXAMPLE\alice → alice, as the activedirectory preset does.
    normalizeLogin: (login) => login.replace(/^[^\\]+\\/, ''),
  });
  const ask = (user: string, password: string, clientIp = ATTACKER, method = 'GET'): Promise<Decision> =>
    Promise.resolve(
      decider.decide({
        authorization: basic(user, password),
        method,
        uri: '/v2/team/app/manifests/latest',
        clientIp,
      }),
    );
  const advance = (seconds: number): void => {
    now += seconds * 1000;
  };
  return { directory, lockout, decider, ask, advance };
}

describe('attack: guessing past the lockout', () => {
  it("interleaving one's own good logins with guesses resets neither the victim's count nor the address's", async () => {
    const { ask, directory, advance } = setup({ maxFailures: 3, addressMaxFailures: 6 });
    // Each of mallory's logins goes to the directory (past the cache's minute): a real success each time.
    const ownLogin = async (): Promise<void> => {
      advance(61);
      const bindsBefore = directory.binds.get('mallory') ?? 0;
      assert.equal((await ask('mallory', 'mallory-password')).reason, 'granted');
      assert.equal(directory.binds.get('mallory'), bindsBefore + 1);
    };
    for (let i = 0; i < 2; i++) {
      assert.equal((await ask('alice', `guess-${i}`)).reason, 'invalid_password');
      await ownLogin();
    }
    assert.equal((await ask('alice', 'guess-2')).reason, 'invalid_password');
    const bindsBefore = directory.binds.get('alice');
    assert.equal((await ask('alice', 'alice-password')).reason, 'locked_out', 'alice is locked');
    assert.equal(directory.binds.get('alice'), bindsBefore, 'no bind reached the directory');
    // Three more failures on another victim: the address's sixth, whatever mallory's logins in between.
    for (let i = 0; i < 3; i++) {
      await ownLogin();
      assert.equal((await ask('bob', `guess-${i}`)).reason, 'invalid_password');
    }
    const refused = await ask('dave', 'dave-password');
    assert.deepEqual([refused.reason, refused.lock], ['locked_out', 'address']);
  });

  it("the victim's own login between a stranger's guesses keeps the stranger's count", async () => {
    const { ask, advance, directory } = setup({ maxFailures: 3 });
    assert.equal((await ask('alice', 'alice-password', HOME)).reason, 'granted'); // HOME is familiar now
    for (let i = 0; i < 2; i++) assert.equal((await ask('alice', `guess-${i}`)).reason, 'invalid_password');
    // alice logs in again at home, verified by the directory: her familiar count is cleared, not the other.
    advance(61);
    assert.equal((await ask('alice', 'alice-password', HOME)).reason, 'granted');
    assert.equal(directory.binds.get('alice'), 4);
    assert.equal((await ask('alice', 'guess-2')).reason, 'invalid_password');
    const d = await ask('alice', 'alice-password');
    assert.deepEqual([d.reason, d.lock], ['locked_out', 'user'], 'the stranger is locked out');
    assert.equal((await ask('alice', 'alice-password', HOME)).reason, 'granted', 'alice at home is not');
  });

  it('a guess still in flight when the victim logs in counts: her idle counters are not dropped under it', async () => {
    const { ask, directory, advance } = setup({ maxFailures: 2 });
    assert.equal((await ask('alice', 'alice-password', HOME)).reason, 'granted');
    // The first guess is admitted and binding; alice's next login at home (verified again) settles first,
    // with both her counts at zero: only the guess in flight keeps them.
    const open = directory.gate('guess-0');
    const guess = ask('alice', 'guess-0');
    await waitFor(() => directory.binds.get('alice') === 2, 'the guess to bind');
    advance(61);
    assert.equal((await ask('alice', 'alice-password', HOME)).reason, 'granted');
    assert.equal(directory.binds.get('alice'), 3);
    open();
    assert.equal((await guess).reason, 'invalid_password');
    assert.equal((await ask('alice', 'guess-1')).reason, 'invalid_password');
    const d = await ask('alice', 'alice-password');
    assert.deepEqual([d.reason, d.lock], ['locked_out', 'user']);
  });

  it('a login with no counters yet, guessed racing its own success from a fresh address, still locks', async () => {
    // alice has never failed: she has no counters, and no alias is kept for her logins.
    const { ask, directory } = setup({ maxFailures: 2 });
    const open = directory.gate('guess-0');
    const guess = ask('alice', 'guess-0');
    await waitFor(() => directory.binds.get('alice') === 1, 'the guess to bind');
    // Her success from home settles while the guess is admitted: the counters stay (the guess holds them).
    assert.equal((await ask('alice', 'alice-password', HOME)).reason, 'granted');
    open();
    assert.equal((await guess).reason, 'invalid_password');
    assert.equal((await ask('alice', 'guess-1')).reason, 'invalid_password');
    assert.equal((await ask('alice', 'alice-password')).reason, 'locked_out');
  });

  it('alternating login forms (alice, ALICE, alice@example.test, EXAMPLE\\alice, fullwidth) count as one account', async () => {
    const { ask, directory } = setup({ maxFailures: 4 });
    const forms = ['alice', 'ALICE', 'alice@example.test', 'EXAMPLE\\alice', 'ａｌｉｃｅ', ' Alice '];
    for (const [i, form] of forms.slice(0, 4).entries())
      assert.equal((await ask(form, `guess-${i}`)).reason, 'invalid_password', form);
    for (const form of forms) {
      const d = await ask(form, 'alice-password');
      assert.deepEqual([d.reason, d.lock], ['locked_out', 'user'], form);
    }
    assert.equal(directory.binds.get('alice'), 4, 'only the four guesses reached a bind');
  });

  it('30 concurrent guesses in 5 spellings of an account that just verified (no counters, no aliases): 3 binds', async () => {
    const { ask, directory } = setup({ maxFailures: 3 });
    assert.equal((await ask('alice', 'alice-password', HOME)).reason, 'granted'); // her counters: dropped
    const forms = ['alice', 'ALICE', 'alice@example.test', 'EXAMPLE\\alice', 'ａｌｉｃｅ'];
    const release = directory.hold();
    const guesses = Array.from({ length: 30 }, (_, i) => ask(forms[i % forms.length] ?? '', `guess-${i}`));
    await waitFor(() => directory.calls.findUser >= 31, 'every search');
    release();
    const reasons = new Set((await Promise.all(guesses)).map((d) => d.reason));
    assert.deepEqual(reasons, new Set(['invalid_password', 'locked_out']));
    assert.equal(directory.binds.get('alice'), 1 + 3, 'three guesses reached a bind');
    for (const form of forms) assert.equal((await ask(form, 'alice-password')).reason, 'locked_out', form);
  });

  it("bob's DN typed as a login is an unknown user, counted apart from bob's entry (no dn: prefix to tell them apart)", async () => {
    const { ask, lockout } = setup({ maxFailures: 2 });
    const dn = 'uid=bob,ou=people';
    for (let i = 0; i < 2; i++) assert.equal((await ask(dn, `guess-${i}`)).reason, 'unknown_user');
    assert.equal(lockout.lockOf(Lockout.accountKey(dn), ATTACKER), undefined, "bob's entry is not locked");
    assert.equal((await ask('bob', 'bob-password')).reason, 'granted', 'bob verifies');
    for (let i = 0; i < 2; i++) assert.equal((await ask('bob', `guess-${i}`)).reason, 'invalid_password');
    assert.equal((await ask('bob', 'bob-password')).reason, 'locked_out');
    assert.equal(lockout.accountOf(dn), Lockout.loginKey(dn), 'the DN-shaped login keeps its own key');
  });

  it("a flood of unknown logins from rotating IPv6 networks (more than the lockout keeps) does not evict alice's lock", async () => {
    // Each /64 is its own address counter (a /48 holds 65 536 of them), so one guess per /64 never meets
    // the per-address limit; each unknown login is a counter of its own. The lockout keeps maxKeys of each.
    const { ask, directory } = setup({ maxFailures: 3, addressMaxFailures: 3, maxKeys: 1000 });
    for (let i = 0; i < 3; i++) assert.equal((await ask('alice', `guess-${i}`)).reason, 'invalid_password');
    assert.equal((await ask('alice', 'alice-password')).reason, 'locked_out');
    for (let i = 0; i < 1500; i++) {
      const d = await ask(`nobody-${i}`, 'x', `2001:db8:${i.toString(16)}::1`);
      assert.equal(d.reason, 'unknown_user');
    }
    const d = await ask('alice', 'alice-password', '2001:db8::ffff');
    assert.deepEqual([d.reason, d.lock], ['locked_out', 'user'], "alice's lock outlived the flood");
    assert.equal(directory.binds.get('alice'), 3, 'no guess past the lock reached a bind');
  });

  it('a flood of unknown logins 6 000 characters long holds the lockout to its key count, not to their length', async () => {
    // Each unknown login is a counter of its own, kept under its login key; keyed by the login itself, a
    // flood of the longest logins nginx lets through (about 6 000 characters in its 8 KiB header) held
    // 6 KB a key: at the 100 000 keys the lockout keeps, far past the image's 256 MiB heap, and a
    // process that dies of it forgets every lock.
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const heap = (): number => {
      gc();
      return process.memoryUsage().heapUsed;
    };
    const { decider, lockout } = setup({ addressMaxFailures: 3 });
    const pad = 'x'.repeat(6000);
    const headers = Array.from({ length: 3000 }, (_, i) => basic(`${pad}${i}`, 'guess'));
    const before = heap();
    for (const [i, authorization] of headers.entries()) {
      const clientIp = `2001:db8:${Math.floor(i / 2).toString(16)}::1`;
      const d = await decider.decide({ authorization, method: 'GET', uri: '/v2/', clientIp });
      assert.equal(d.reason, 'unknown_user');
    }
    const grown = heap() - before;
    assert.ok(
      grown < 6 * 1024 * 1024,
      `3 000 unknown logins grew the heap by ${(grown / 1024 / 1024).toFixed(1)} MiB`,
    );
    // Still counted per login: three more guesses at the first one, from three addresses, lock it.
    for (const n of [1, 2, 3]) {
      const authorization = basic(`${pad}0`, `guess-${n}`);
      const d = await decider.decide({
        authorization,
        method: 'GET',
        uri: '/v2/',
        clientIp: `198.51.100.${n}`,
      });
      assert.equal(d.reason, n < 3 ? 'unknown_user' : 'locked_out');
    }
    assert.equal(lockout.accountOf(`${pad}0`), Lockout.loginKey(`${pad}0`));
  });

  it('a flood of logins that verify (more accounts than the lockout keeps) does not evict a lock', async () => {
    const { lockout } = setup({ maxFailures: 2, maxKeys: 4 });
    const users: Record<string, FakeUser> = { ...USERS };
    for (let i = 0; i < 20; i++) users[`user${i}`] = { password: `pw-${i}`, groups: [] };
    const directory = new AttackDirectory(users);
    const decider = new Decider({
      directory,
      cache: new DecisionCache({
        ttlSeconds: 300,
        negativeTtlSeconds: 30,
        staleIfErrorSeconds: 0,
        maxEntries: 1000,
      }),
      lockout,
      policy: new Policy(
        rulesFromConfig({ pushGroups: [], pullGroups: [], deleteGroups: [], catalogGroups: [] }),
      ),
    });
    const ask = async (user: string, password: string) =>
      decider.decide({
        authorization: basic(user, password),
        method: 'GET',
        uri: '/v2/',
        clientIp: ATTACKER,
      });
    for (let i = 0; i < 2; i++) assert.equal((await ask('alice', `guess-${i}`)).reason, 'invalid_password');
    for (let i = 0; i < 20; i++) assert.equal((await ask(`user${i}`, `pw-${i}`)).reason, 'granted');
    const d = await ask('alice', 'alice-password');
    assert.equal(d.reason, 'locked_out', 'alice is still locked');
    assert.equal(directory.binds.get('alice'), 2);
  });
});

/** A defect as V8 reports it, with the password in its message: "Cannot read properties of undefined (reading '<password>')". */
const FAULT = (password: string): never => {
  const table = undefined as unknown as Record<string, string>;
  return table[password] as never;
};

describe('attack: internal errors as a weapon', () => {
  it('more defects than the limits on one account and one address lock nothing and wedge nothing', async () => {
    const { ask, directory } = setup({ maxFailures: 3, addressMaxFailures: 3 });
    directory.faults.set('dave', FAULT);
    for (let i = 0; i < 8; i++) assert.equal((await ask('dave', `try-${i}`)).reason, 'internal_error');
    directory.faults.delete('dave');
    assert.equal((await ask('dave', 'dave-password')).reason, 'granted', 'no lock, no reservation left');
    for (let i = 0; i < 3; i++) assert.equal((await ask('dave', `guess-${i}`)).reason, 'invalid_password');
    assert.equal((await ask('dave', 'dave-password')).reason, 'locked_out', 'real failures still count');
  });

  it('concurrent identical requests sharing one failing round trip all get internal_error; the next one retries', async () => {
    const { ask, directory } = setup();
    directory.faults.set('dave', FAULT);
    const open = directory.gate('dave-password');
    const answers = Array.from({ length: 5 }, () => ask('dave', 'dave-password'));
    await waitFor(() => directory.binds.get('dave') === 1, 'one bind');
    open();
    for (const d of await Promise.all(answers)) assert.equal(d.reason, 'internal_error');
    assert.equal(directory.binds.get('dave'), 1, 'one round trip shared');
    directory.faults.delete('dave');
    assert.equal((await ask('dave', 'dave-password')).reason, 'granted', 'nothing cached, nothing in flight');
  });
});

describe('attack: a password in the log through internal_error', () => {
  let log = new LogCapture();
  let rejections: unknown[] = [];
  const onRejection = (reason: unknown): void => {
    rejections.push(reason);
  };
  beforeEach(() => {
    log = new LogCapture();
    rejections = [];
    process.on('unhandledRejection', onRejection);
  });
  afterEach(() => {
    process.off('unhandledRejection', onRejection);
  });

  async function serve(directory: FakeDirectory, env: Record<string, string> = {}) {
    const { authBase, close } = await serveFake(directory, { config: fakeConfig(env), log });
    return {
      ask: async (user: string, password: string) =>
        (
          await fetch(`${authBase}/auth`, {
            headers: {
              'X-Original-Method': 'GET',
              'X-Original-URI': '/v2/team/app/tags/list',
              Authorization: basic(user, password),
            },
          })
        ).status,
      close,
    };
  }

  it('a defect whose message holds the password: 500, and neither the audit line nor the log holds the password', async () => {
    const directory = new AttackDirectory(USERS);
    directory.faults.set('dave', FAULT);
    const service = await serve(directory);
    try {
      assert.equal(await service.ask('dave', 'dave-password'), 500);
      assert.equal(await service.ask('dave', 'S3cret-guess'), 500);
      await waitFor(() => log.lines().filter((l) => l['msg'] === 'decision').length === 2, 'two audit lines');
      const text = JSON.stringify(log.lines());
      assert.doesNotMatch(text, /dave-password|S3cret-guess/, 'no password in any line');
      const audit = log.lines().find((l) => l['msg'] === 'decision');
      assert.equal(audit?.['reason'], 'internal_error');
      assert.match(
        String(audit['error']),
        /Cannot read properties of undefined \(reading '\[redacted\]'\)/,
        'the defect is still named',
      );
      const failure = log.lines().find((l) => l['msg'] === 'decision failed unexpectedly');
      const err = failure?.['err'] as { type?: string; stack?: string } | undefined;
      assert.equal(err?.type, 'TypeError');
      assert.match(err.stack ?? '', /attacks\.test\.ts/, 'the stack still finds the defect');
    } finally {
      service.close();
    }
  });

  it('an outage whose message quotes the password: 503, and the audit line does not hold the password', async () => {
    const directory = new AttackDirectory(USERS);
    directory.faults.set('dave', (password) => {
      throw new DirectoryUnavailableError(`socket closed while sending ${password}`);
    });
    const service = await serve(directory);
    try {
      assert.equal(await service.ask('dave', 'dave-password'), 503);
      await waitFor(() => log.lines().some((l) => l['msg'] === 'decision'), 'the audit line');
      assert.doesNotMatch(JSON.stringify(log.lines()), /dave-password/);
      const audit = log.lines().find((l) => l['msg'] === 'decision');
      assert.deepEqual(
        [audit?.['reason'], audit?.['error']],
        ['directory_unavailable', 'socket closed while sending [redacted]'],
      );
    } finally {
      service.close();
    }
  });

  it('a defect thrown after the decision timeout answered 503 is no unhandled rejection and no crash', async () => {
    const directory = new AttackDirectory(USERS);
    directory.faults.set('dave', FAULT);
    const open = directory.gate('late-password');
    const service = await serve(directory, { DECISION_TIMEOUT_MS: '200' });
    try {
      assert.equal(await service.ask('dave', 'late-password'), 503);
      open();
      await waitFor(() => directory.binds.get('dave') === 1, 'the bind');
      // Let the late rejection travel through every handler.
      await new Promise((resolve) => setImmediate(resolve));
      await new Promise((resolve) => setImmediate(resolve));
      assert.deepEqual(rejections, []);
      assert.equal(await service.ask('dave', 'another'), 500, 'still serving');
      assert.doesNotMatch(JSON.stringify(log.lines()), /late-password/);
    } finally {
      service.close();
    }
  });
});

describe('attack: another user’s groups through the shared group lists', () => {
  const g = (dn: string, name: string): Group => ({ dn, name });
  const verified = (username: string, groups: Group[]) => ({
    kind: 'verified' as const,
    identity: { username, dn: `uid=${username},ou=people`, groups },
    account: `uid=${username},ou=people`,
  });

  it('crafted names and DNs that join alike under a naive key keep their own lists', () => {
    const cache = new DecisionCache({
      ttlSeconds: 300,
      negativeTtlSeconds: 30,
      staleIfErrorSeconds: 0,
      maxEntries: 100,
    });
    const lists: Group[][] = [
      [g('cn=a', 'x'), g('cn=b', 'registry-pushers')],
      [g('cn=a', 'x","cn=b'), g('registry-pushers', '')],
      [g('cn=a","x"],["cn=b', 'registry-pushers')],
      [g('cn=a', 'x"],["cn=b","registry-pushers')],
      [g('cn=a,cn=b', 'x,registry-pushers')],
      [g('cn=a', 'x\\'), g('cn=b', 'registry-pushers')],
      [g('cn=a', 'x\u0000'), g('cn=b', 'registry-pushers')],
      [g('cn=b', 'registry-pushers'), g('cn=a', 'x')],
      [g('cn=a', 'x\ud800'), g('cn=b', 'registry-pushers')],
      [g('cn=a', 'x\udc00'), g('cn=b', 'registry-pushers')],
      [g('CN=a', 'x'), g('cn=b', 'registry-pushers')],
      [g('cn=a', 'X'), g('cn=b', 'registry-pushers')],
      [],
    ];
    lists.forEach((groups, i) => {
      cache.store([`k${i}`], verified(`u${i}`, groups));
    });
    const seen = new Set<readonly Group[]>();
    lists.forEach((groups, i) => {
      const got = cache.lookup(`k${i}`)?.verdict;
      assert.ok(got?.kind === 'verified');
      assert.equal(got.identity.username, `u${i}`);
      assert.deepEqual(got.identity.groups, groups, `list ${i}`);
      assert.ok(!seen.has(got.identity.groups), `list ${i} is nobody else's`);
      seen.add(got.identity.groups);
    });
  });

  it("a shared list is never the same object as another user's different list, after evictions too", () => {
    const cache = new DecisionCache({
      ttlSeconds: 300,
      negativeTtlSeconds: 30,
      staleIfErrorSeconds: 0,
      maxEntries: 50_000,
    });
    // Push 10 001 distinct lists through the bounded LRU of lists, then store the first again.
    for (let i = 0; i <= 10_000; i++) cache.store([`k${i}`], verified(`u${i}`, [g(`cn=g${i}`, `g${i}`)]));
    cache.store(['again'], verified('late', [g('cn=g0', 'g0')]));
    const late = cache.lookup('again')?.verdict;
    const first = cache.lookup('k0')?.verdict;
    assert.ok(late?.kind === 'verified' && first?.kind === 'verified');
    assert.deepEqual(late.identity.groups, [g('cn=g0', 'g0')]);
    assert.deepEqual(first.identity.groups, [g('cn=g0', 'g0')], 'the evicted list stays in its entries');
    assert.equal(late.identity.username, 'late');
  });
});

/** Polls `check` every 5 ms; fails naming `what` after 10 s. */
async function waitFor(check: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!check()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
