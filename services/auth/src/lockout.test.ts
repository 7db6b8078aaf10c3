import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Attempt, Lockout, addressGroup, isBusy } from './lockout.ts';
import type { Busy } from './lockout.ts';
import type { LockoutEvent, LockoutOptions } from './lockout.ts';

const BOB = Lockout.accountKey('uid=bob,ou=people,dc=example,dc=test');

function lockout(options: Partial<LockoutOptions> = {}) {
  let now = 1_000_000;
  const events: LockoutEvent[] = [];
  const l = new Lockout({
    maxFailures: 3,
    windowSeconds: 60,
    durationSeconds: 120,
    familiarSeconds: 3600,
    now: () => now,
    onLock: (e) => events.push(e),
    ...options,
  });
  /** One directory check of `account` from `address`, settled as the directory answered. */
  const attempt = (account: string, address: string, outcome: 'fail' | 'succeed' | 'unavailable') => {
    const a = l.begin(address);
    if (!(a instanceof Attempt)) return a;
    const refused = l.admit(a, account, 'bob');
    if (refused !== undefined) {
      l.release(a);
      return refused;
    }
    if (outcome === 'fail') l.fail(a);
    else if (outcome === 'succeed') l.succeed(a);
    else l.release(a);
    return undefined;
  };
  return { l, events, attempt, advance: (s: number) => (now += s * 1000), now: () => now };
}

describe('Lockout', () => {
  it('locks an account after LOCKOUT_MAX_FAILURES failures for LOCKOUT_DURATION_SECONDS, and says so once', () => {
    const { l, events, attempt, advance, now } = lockout({ addressMaxFailures: 100 });
    for (const address of ['192.0.2.1', '192.0.2.2']) attempt(BOB, address, 'fail');
    assert.equal(l.lockOf(BOB, '192.0.2.9'), undefined);
    attempt(BOB, '192.0.2.3', 'fail');
    assert.deepEqual(l.lockOf(BOB, '192.0.2.9'), { kind: 'user', until: now() + 120_000 });
    assert.deepEqual(events, [
      { kind: 'user', subject: 'bob', against: 'other addresses', until: now() + 120_000 },
    ]);
    assert.deepEqual(attempt(BOB, '192.0.2.4', 'fail'), { kind: 'user', until: now() + 120_000 });
    advance(119);
    assert.ok(l.lockOf(BOB, '192.0.2.9'));
    advance(2);
    assert.equal(l.lockOf(BOB, '192.0.2.9'), undefined);
    assert.equal(events.length, 1);
  });

  it('forgets failures older than LOCKOUT_WINDOW_SECONDS', () => {
    const { l, attempt, advance } = lockout({ addressMaxFailures: 100 });
    attempt(BOB, '192.0.2.1', 'fail');
    attempt(BOB, '192.0.2.1', 'fail');
    advance(61);
    attempt(BOB, '192.0.2.1', 'fail');
    assert.equal(l.lockOf(BOB, '192.0.2.1'), undefined);
  });

  it('counts attempts in flight: past the limit a new attempt is busy (not locked) until one settles', async () => {
    const { l } = lockout({ addressMaxFailures: 100 });
    const inFlight = ['192.0.2.1', '192.0.2.2', '192.0.2.3'].map((address) => {
      const a = l.begin(address);
      assert.ok(a instanceof Attempt);
      assert.equal(l.admit(a, BOB, 'bob'), undefined);
      return a;
    });
    const fourth = l.begin('192.0.2.4');
    assert.ok(fourth instanceof Attempt);
    const busy = l.admit(fourth, BOB, 'bob');
    assert.ok(isBusy(busy), 'three in flight: the limit');
    assert.equal(busy.kind, 'user');
    assert.equal(l.lockOf(BOB, '192.0.2.4'), undefined, 'busy is no lock: nothing has failed');
    let freed = false;
    void busy.freed.then(() => (freed = true));
    const [first] = inFlight;
    assert.ok(first);
    l.release(first); // the directory could not be asked: counts for nothing, frees its place
    l.release(first); // settling twice changes nothing
    await busy.freed;
    assert.ok(freed);
    assert.equal(l.admit(fourth, BOB, 'bob'), undefined, 'asked again once a place was freed');
    const again = l.begin('192.0.2.5');
    assert.ok(again instanceof Attempt);
    assert.ok(isBusy(l.admit(again, BOB, 'bob')), 'three in flight again');
  });

  it('counts an address’s attempts in flight across usernames (LOCKOUT_ADDRESS_MAX_FAILURES)', async () => {
    const { l, events } = lockout({ maxFailures: 100, addressMaxFailures: 2 });
    const first = l.begin('198.51.100.7');
    const second = l.begin('198.51.100.7');
    assert.ok(first instanceof Attempt && second instanceof Attempt);
    const third = l.begin('198.51.100.7');
    assert.ok(isBusy(third) && third.kind === 'address');
    l.fail(first, Lockout.loginKey('nobody'), 'nobody');
    l.fail(second, Lockout.loginKey('noone'), 'noone');
    await third.freed; // woken when the others settled; asking again now meets the lock
    assert.equal((l.begin('198.51.100.7') as { until?: number }).until !== undefined, true);
    assert.equal(l.lockOf(Lockout.loginKey('carol'), '198.51.100.7')?.kind, 'address');
    assert.equal(l.lockOf(Lockout.loginKey('carol'), '198.51.100.8'), undefined);
    assert.deepEqual(
      events.map((e) => [e.kind, e.subject]),
      [['address', '198.51.100.7']],
    );
  });

  it('strangers who lock an account do not lock it for an address that verified it (smart lockout)', () => {
    const { l, attempt, events } = lockout({ addressMaxFailures: 100 });
    attempt(BOB, '192.0.2.10', 'succeed'); // bob at his machine, verified by the directory
    for (const address of ['203.0.113.1', '203.0.113.2', '203.0.113.3']) attempt(BOB, address, 'fail');
    assert.equal(l.lockOf(BOB, '203.0.113.4')?.kind, 'user', 'guesses from elsewhere stay locked');
    assert.equal(l.lockOf(BOB, '192.0.2.10'), undefined, 'bob’s own address is not locked');
    assert.equal(attempt(BOB, '192.0.2.10', 'succeed'), undefined, 'and reaches the directory');
    // The familiar address's own failures still lock it, counted apart from the strangers'.
    for (let i = 0; i < 3; i++) attempt(BOB, '192.0.2.10', 'fail');
    assert.equal(l.lockOf(BOB, '192.0.2.10')?.kind, 'user');
    assert.deepEqual(
      events.map((e) => e.against),
      ['other addresses', 'familiar addresses'],
    );
  });

  it('an address stays familiar for LOCKOUT_FAMILIAR_SECONDS after its last verification', () => {
    const { l, attempt, advance } = lockout({ addressMaxFailures: 100, durationSeconds: 7200 });
    attempt(BOB, '192.0.2.10', 'succeed');
    for (const address of ['203.0.113.1', '203.0.113.2', '203.0.113.3']) attempt(BOB, address, 'fail');
    advance(3599);
    assert.equal(l.lockOf(BOB, '192.0.2.10'), undefined);
    advance(2);
    assert.equal(
      l.lockOf(BOB, '192.0.2.10')?.kind,
      'user',
      'no longer familiar: the strangers’ lock applies',
    );
  });

  it('a success clears the familiar addresses’ count, not the strangers’ and not the address’s', () => {
    const { l, attempt } = lockout({ addressMaxFailures: 3 });
    attempt(BOB, '192.0.2.10', 'succeed');
    attempt(BOB, '192.0.2.10', 'fail');
    attempt(BOB, '192.0.2.10', 'fail');
    attempt(BOB, '203.0.113.1', 'fail');
    attempt(BOB, '203.0.113.2', 'fail');
    attempt(BOB, '192.0.2.10', 'succeed');
    attempt(BOB, '192.0.2.10', 'fail');
    assert.equal(
      l.lockOf(BOB, '192.0.2.10')?.kind,
      'address',
      'the address counted all three of its failures',
    );
    assert.equal(l.lockOf(BOB, '192.0.2.11'), undefined);
    attempt(BOB, '203.0.113.3', 'fail');
    assert.equal(l.lockOf(BOB, '203.0.113.9')?.kind, 'user', 'the strangers’ two failures were kept');
  });

  it('with LOCKOUT_FAMILIAR_SECONDS=0 every address shares one count, and a success clears it', () => {
    const { l, attempt } = lockout({ addressMaxFailures: 100, familiarSeconds: 0 });
    attempt(BOB, '192.0.2.10', 'succeed');
    attempt(BOB, '203.0.113.1', 'fail');
    attempt(BOB, '203.0.113.2', 'fail');
    attempt(BOB, '192.0.2.10', 'succeed');
    attempt(BOB, '203.0.113.3', 'fail');
    attempt(BOB, '203.0.113.4', 'fail');
    assert.equal(l.lockOf(BOB, '192.0.2.10'), undefined);
    attempt(BOB, '203.0.113.5', 'fail');
    assert.equal(l.lockOf(BOB, '192.0.2.10')?.kind, 'user', 'no address is exempt');
  });

  it('a directory that could not be asked leaves no count', () => {
    const { l, attempt } = lockout();
    for (let i = 0; i < 10; i++) attempt(BOB, '192.0.2.1', 'unavailable');
    assert.equal(l.lockOf(BOB, '192.0.2.1'), undefined);
  });

  it('remembers which account a folded login found, once something counts against the account', () => {
    const { l, attempt } = lockout();
    assert.equal(l.accountOf('bob'), Lockout.loginKey('bob'));
    l.learn('bob', BOB);
    assert.equal(l.accountOf('bob'), Lockout.loginKey('bob'), 'nothing to refuse: not kept');
    attempt(BOB, '192.0.2.1', 'fail');
    l.learn('bob', BOB);
    assert.equal(l.accountOf('bob'), BOB);
  });

  it('keeps nothing for an account whose checks all succeed, and forgets one once a success clears it', () => {
    const { l, attempt } = lockout({ familiarSeconds: 0, addressMaxFailures: 100 });
    for (let i = 0; i < 50; i++) {
      const account = Lockout.accountKey(`uid=u${i},dc=test`);
      attempt(account, '192.0.2.1', 'succeed');
      l.learn(`u${i}`, account);
      assert.equal(l.accountOf(`u${i}`), Lockout.loginKey(`u${i}`));
    }
    // One failure, then a success from the same address: the count is cleared and the account forgotten.
    attempt(BOB, '192.0.2.1', 'fail');
    l.learn('bob', BOB);
    assert.equal(l.accountOf('bob'), BOB);
    attempt(BOB, '192.0.2.1', 'succeed');
    l.learn('bob', BOB);
    // Two more failures do not lock (the earlier one was cleared), a third does.
    for (let i = 0; i < 2; i++) attempt(BOB, '192.0.2.1', 'fail');
    assert.equal(l.lockOf(BOB, '192.0.2.1'), undefined);
    attempt(BOB, '192.0.2.1', 'fail');
    assert.equal(l.lockOf(BOB, '192.0.2.1')?.kind, 'user');
  });

  it('is off with LOCKOUT_MAX_FAILURES=0', () => {
    const { l, attempt, events } = lockout({ maxFailures: 0 });
    for (let i = 0; i < 50; i++) assert.equal(attempt(BOB, '192.0.2.1', 'fail'), undefined);
    assert.equal(l.lockOf(BOB, '192.0.2.1'), undefined);
    assert.deepEqual(events, []);
  });

  it('holds a lock, a window and a familiarity for exactly their length (boundaries)', () => {
    // A lock lasts LOCKOUT_DURATION_SECONDS to the millisecond; failures LOCKOUT_WINDOW_SECONDS apart
    // still add up; LOCKOUT_FAMILIAR_SECONDS after a verification the address is a stranger again.
    const { l, attempt, advance, now } = lockout({ maxFailures: 2, addressMaxFailures: 100 });
    attempt(BOB, '192.0.2.1', 'fail');
    advance(60);
    const last = l.begin('192.0.2.2');
    assert.ok(last instanceof Attempt);
    assert.equal(l.admit(last, BOB, 'bob'), undefined);
    assert.ok(isBusy(attempt(BOB, '192.0.2.3', 'fail')), 'the first failure still holds its place');
    l.fail(last);
    assert.deepEqual(l.lockOf(BOB, '192.0.2.9'), { kind: 'user', until: now() + 120_000 }, 'window');
    advance(120);
    assert.equal(l.lockOf(BOB, '192.0.2.9'), undefined, 'the user lock has ended at its until');
    assert.equal(attempt(BOB, '192.0.2.9', 'succeed'), undefined);
    const address = lockout({ addressMaxFailures: 2 });
    address.l.recordAddressFailure('192.0.2.3');
    address.l.recordAddressFailure('192.0.2.3');
    assert.deepEqual(address.l.lockOf(BOB, '192.0.2.3'), { kind: 'address', until: address.now() + 120_000 });
    address.advance(120);
    assert.equal(address.l.lockOf(BOB, '192.0.2.3'), undefined, 'the address lock has ended at its until');
    assert.ok(address.l.begin('192.0.2.3') instanceof Attempt);
    // Window: failures one millisecond more than LOCKOUT_WINDOW_SECONDS apart do not add up.
    const late = lockout({ maxFailures: 2, addressMaxFailures: 100 });
    late.attempt(BOB, '192.0.2.1', 'fail');
    late.advance(60.001);
    late.attempt(BOB, '192.0.2.1', 'fail');
    assert.equal(late.l.lockOf(BOB, '192.0.2.1'), undefined);
    // Familiarity: exactly LOCKOUT_FAMILIAR_SECONDS after the verification, the strangers' lock applies.
    const home = lockout({ maxFailures: 1, addressMaxFailures: 100, durationSeconds: 7200 });
    home.attempt(BOB, '192.0.2.10', 'succeed');
    home.attempt(BOB, '203.0.113.1', 'fail');
    home.advance(3600);
    assert.equal(home.l.lockOf(BOB, '192.0.2.10')?.kind, 'user');
  });

  it('counts failures spread over LOCKOUT_WINDOW_SECONDS, and a stale count holds no place', () => {
    const { l, attempt, advance } = lockout({ addressMaxFailures: 100 });
    attempt(BOB, '192.0.2.1', 'fail');
    advance(30);
    attempt(BOB, '192.0.2.2', 'fail');
    // Two failures in the window and one attempt in flight: the limit; a second attempt waits.
    const inFlight = l.begin('192.0.2.3');
    assert.ok(inFlight instanceof Attempt);
    assert.equal(l.admit(inFlight, BOB, 'bob'), undefined);
    const waiting = l.begin('192.0.2.4');
    assert.ok(waiting instanceof Attempt);
    assert.ok(isBusy(l.admit(waiting, BOB, 'bob')));
    l.release(waiting);
    l.release(inFlight);
    advance(29);
    attempt(BOB, '192.0.2.5', 'fail');
    assert.equal(l.lockOf(BOB, '192.0.2.9')?.kind, 'user', 'three failures within 60 s');
    // Once the window has passed, old failures no longer take places: three may be in flight again.
    const fresh = lockout({ addressMaxFailures: 100 });
    fresh.attempt(BOB, '192.0.2.1', 'fail');
    fresh.attempt(BOB, '192.0.2.1', 'fail');
    fresh.advance(61);
    for (const address of ['192.0.2.2', '192.0.2.3', '192.0.2.4']) {
      const a = fresh.l.begin(address);
      assert.ok(a instanceof Attempt);
      assert.equal(fresh.l.admit(a, BOB, 'bob'), undefined, address);
    }
  });

  it('an attempt refused as busy holds no place: releasing it does not let another past the limit', () => {
    const { l } = lockout({ addressMaxFailures: 100 });
    for (const address of ['192.0.2.1', '192.0.2.2', '192.0.2.3']) {
      const a = l.begin(address);
      assert.ok(a instanceof Attempt);
      assert.equal(l.admit(a, BOB, 'bob'), undefined);
    }
    const refused = l.begin('192.0.2.4');
    assert.ok(refused instanceof Attempt);
    assert.ok(isBusy(l.admit(refused, BOB, 'bob')));
    l.release(refused); // the decider gives up waiting
    const next = l.begin('192.0.2.5');
    assert.ok(next instanceof Attempt);
    assert.ok(isBusy(l.admit(next, BOB, 'bob')), 'still three in flight');
  });

  it('a success does not forget the attempts still in flight for the account', () => {
    const { l, attempt } = lockout({ addressMaxFailures: 100, familiarSeconds: 0 });
    const inFlight = ['203.0.113.1', '203.0.113.2'].map((address) => {
      const a = l.begin(address);
      assert.ok(a instanceof Attempt);
      assert.equal(l.admit(a, BOB, 'bob'), undefined);
      return a;
    });
    assert.equal(attempt(BOB, '192.0.2.10', 'succeed'), undefined);
    const extra = l.begin('203.0.113.3');
    assert.ok(extra instanceof Attempt);
    assert.equal(l.admit(extra, BOB, 'bob'), undefined, 'two in flight: one place left');
    assert.ok(isBusy(attempt(BOB, '203.0.113.4', 'fail')), 'and no more');
    for (const a of [...inFlight, extra]) l.fail(a);
    assert.equal(l.lockOf(BOB, '192.0.2.10')?.kind, 'user', 'their failures counted');
  });

  it('a success from a familiar address lifts no lock the strangers caused', () => {
    const { l, attempt } = lockout({ addressMaxFailures: 100 });
    attempt(BOB, '192.0.2.10', 'succeed');
    for (const address of ['203.0.113.1', '203.0.113.2', '203.0.113.3']) attempt(BOB, address, 'fail');
    assert.equal(attempt(BOB, '192.0.2.10', 'succeed'), undefined);
    assert.equal(l.lockOf(BOB, '203.0.113.4')?.kind, 'user');
  });

  it('a lock held against the familiar addresses alone refuses them, not the strangers', () => {
    const { l, attempt, now } = lockout({ addressMaxFailures: 100 });
    attempt(BOB, '192.0.2.10', 'succeed');
    for (let i = 0; i < 3; i++) attempt(BOB, '192.0.2.10', 'fail');
    assert.deepEqual(l.lockOf(BOB, '192.0.2.10'), { kind: 'user', until: now() + 120_000 });
    assert.equal(l.lockOf(BOB, '203.0.113.1'), undefined);
  });

  it('familiarity belongs to one account and one address', () => {
    // Keys that would run together without a separator: `…dc=test1` + `0.2.3.4` and `…dc=test` + `10.2.3.4`.
    const other = Lockout.accountKey('uid=bob,ou=people,dc=example,dc=test1');
    const { l, attempt } = lockout({ addressMaxFailures: 100 });
    attempt(BOB, '10.2.3.4', 'succeed');
    for (const address of ['203.0.113.1', '203.0.113.2', '203.0.113.3']) attempt(other, address, 'fail');
    assert.equal(l.lockOf(other, '0.2.3.4')?.kind, 'user');
    assert.equal(l.lockOf(other, '10.2.3.4')?.kind, 'user', 'verified for bob, not for the other');
  });

  it('a login no entry matches is locked under its own name, apart from other logins and from entries', () => {
    const { l, events, now } = lockout({ addressMaxFailures: 100 });
    const fail = (login: string, address: string) => {
      const a = l.begin(address);
      assert.ok(a instanceof Attempt);
      l.fail(a, Lockout.loginKey(login), login);
    };
    fail('nobody', '192.0.2.1');
    fail('noone', '192.0.2.2');
    fail('nobody', '192.0.2.3');
    fail(BOB, '192.0.2.4'); // a login typed as the DN of an entry is still only a login
    assert.equal(l.lockOf(Lockout.loginKey('nobody'), '192.0.2.9'), undefined);
    fail('nobody', '192.0.2.5');
    assert.deepEqual(l.lockOf(Lockout.loginKey('nobody'), '192.0.2.9'), {
      kind: 'user',
      until: now() + 120_000,
    });
    assert.equal(l.lockOf(Lockout.loginKey('noone'), '192.0.2.9'), undefined);
    assert.equal(l.lockOf(BOB, '192.0.2.9'), undefined);
    assert.deepEqual(events, [
      { kind: 'user', subject: 'nobody', against: 'other addresses', until: now() + 120_000 },
    ]);
  });

  it('a failure before the account is known counts against the address alone', () => {
    const { l, events } = lockout({ maxFailures: 1, addressMaxFailures: 2 });
    for (const address of ['192.0.2.1', '192.0.2.1']) {
      const a = l.begin(address);
      assert.ok(a instanceof Attempt);
      l.fail(a);
    }
    assert.deepEqual(
      events.map((e) => [e.kind, e.subject]),
      [['address', '192.0.2.1']],
    );
  });

  it('settles an attempt once: a second fail or a late success changes nothing', () => {
    const { l, events } = lockout({ maxFailures: 2, addressMaxFailures: 100 });
    const a = l.begin('192.0.2.1');
    assert.ok(a instanceof Attempt);
    assert.equal(l.admit(a, BOB, 'bob'), undefined);
    l.fail(a);
    l.fail(a);
    l.succeed(a);
    assert.equal(l.lockOf(BOB, '192.0.2.9'), undefined, 'one failure counted');
    assert.deepEqual(events, []);
  });

  it('refused job tokens lock the address (LOCKOUT_ADDRESS_MAX_FAILURES), once, for its duration', () => {
    const { l, events, now, advance } = lockout({ addressMaxFailures: 3, windowSeconds: 300 });
    for (let i = 0; i < 3; i++) l.recordAddressFailure('198.51.100.7');
    const until = now() + 120_000;
    assert.deepEqual(l.lockOf(BOB, '198.51.100.7'), { kind: 'address', until });
    assert.equal(l.lockOf(BOB, '198.51.100.8'), undefined);
    advance(10);
    for (let i = 0; i < 3; i++) l.recordAddressFailure('198.51.100.7');
    assert.deepEqual(l.lockOf(BOB, '198.51.100.7'), { kind: 'address', until }, 'not extended');
    assert.deepEqual(events, [{ kind: 'address', subject: '198.51.100.7', until }]);
  });

  it('an IPv6 client is counted by its /64: spraying from new addresses in it locks them all, not the next /64', () => {
    const { l, events, attempt, now } = lockout({ maxFailures: 100, addressMaxFailures: 3 });
    const users = ['uid=a,dc=test', 'uid=b,dc=test', 'uid=c,dc=test'];
    users.forEach((account, i) => attempt(account, `2001:db8:1:2::${i + 1}`, 'fail'));
    const until = now() + 120_000;
    assert.deepEqual(l.lockOf(BOB, '2001:db8:1:2:ffff:ffff:ffff:ffff'), { kind: 'address', until });
    assert.deepEqual(attempt(BOB, '2001:db8:1:2:abcd::1', 'fail'), { kind: 'address', until });
    assert.equal(l.lockOf(BOB, '2001:db8:1:3::1'), undefined, 'the next /64 is someone else');
    assert.deepEqual(events, [{ kind: 'address', subject: '2001:db8:1:2::/64', until }]);
  });

  it('an IPv6 host stays familiar when its privacy address changes within its /64', () => {
    const { l, attempt } = lockout({ addressMaxFailures: 100 });
    attempt(BOB, '2001:db8:7:7:1111:2222:3333:4444', 'succeed');
    for (const address of ['203.0.113.1', '203.0.113.2', '203.0.113.3']) attempt(BOB, address, 'fail');
    assert.equal(l.lockOf(BOB, '2001:db8:7:7:5555:6666:7777:8888'), undefined, 'a new address in the /64');
    assert.equal(l.lockOf(BOB, '2001:db8:7:8::1')?.kind, 'user', 'another /64 is a stranger');
  });

  it('IPv4 clients translated into 64:ff9b::/96 (SIIT, NAT46) are counted and made familiar one by one', () => {
    const { l, events, attempt, now } = lockout({ addressMaxFailures: 3 });
    attempt(BOB, '64:ff9b::203.0.113.9', 'succeed');
    const users = ['uid=a,dc=test', 'uid=b,dc=test', 'uid=c,dc=test'];
    for (const account of users) attempt(account, '64:ff9b::198.51.100.7', 'fail');
    for (let i = 0; i < 3; i++) attempt(BOB, `64:ff9b::198.51.100.${10 + i}`, 'fail');
    const until = now() + 120_000;
    assert.deepEqual(l.lockOf(BOB, '64:ff9b::c633:6407'), { kind: 'address', until }, 'the guesser');
    assert.equal(l.lockOf(BOB, '64:ff9b::cb00:7109'), undefined, 'another IPv4 client, familiar to bob');
    assert.equal(l.lockOf(BOB, '64:ff9b::192.0.2.1')?.kind, 'user', 'a stranger to bob');
    assert.deepEqual(events.slice(0, 1), [{ kind: 'address', subject: '198.51.100.7', until }]);
  });

  it('addressGroup: IPv4 as is, IPv4-mapped IPv6 as IPv4, IPv6 as its /64 whatever its spelling', () => {
    assert.equal(addressGroup('192.0.2.1'), '192.0.2.1');
    assert.equal(addressGroup('::ffff:192.0.2.1'), '192.0.2.1');
    assert.equal(addressGroup('::FFFF:c000:201'), '192.0.2.1');
    assert.equal(addressGroup('64:FF9B::c000:201'), '192.0.2.1');
    assert.equal(addressGroup('64:ff9b::1:c000:201'), '64:ff9b:0:0::/64', 'not the /96: no IPv4 address');
    assert.equal(addressGroup('::ffff:198.51.100.254'), '198.51.100.254');
    // Only those two /96 prefixes hold an IPv4 address: one group off, and it is an IPv6 /64 like any other.
    for (const [address, group] of [
      ['1::ffff:c000:201', '1:0:0:0::/64'],
      ['0:1::ffff:c000:201', '0:1:0:0::/64'],
      ['0:0:1::ffff:c000:201', '0:0:1:0::/64'],
      ['0:0:0:1::ffff:c000:201', '0:0:0:1::/64'],
      ['::1:ffff:c000:201', '0:0:0:0::/64'],
      ['::fffe:c000:201', '0:0:0:0::/64'],
      ['65:ff9b::c000:201', '65:ff9b:0:0::/64'],
      ['64:ff9a::c000:201', '64:ff9a:0:0::/64'],
      ['64:ff9b:1::c000:201', '64:ff9b:1:0::/64'],
      ['64:ff9b:0:1::c000:201', '64:ff9b:0:1::/64'],
      ['64:ff9b::1:0:c000:201', '64:ff9b:0:0::/64'],
    ] as const)
      assert.equal(addressGroup(address), group, address);
    for (const spelling of [
      '2001:db8:1:2:3:4:5:6',
      '2001:DB8:1:2::9',
      '2001:0db8:0001:0002::',
      '2001:db8:1:2::1.2.3.4',
    ])
      assert.equal(addressGroup(spelling), '2001:db8:1:2::/64', spelling);
    assert.equal(addressGroup('1::2:3:4:5:6:7'), '1:0:2:3::/64');
    assert.equal(addressGroup('fe80::1%eth0'), 'fe80:0:0:0::/64');
    assert.equal(addressGroup('::1'), '0:0:0:0::/64');
    assert.equal(addressGroup('not an address: really'), 'not an address: really');
  });

  it('with LOCKOUT_ADDRESS_MAX_FAILURES=0 addresses are not counted; accounts still are', () => {
    const { l, events, attempt } = lockout({ addressMaxFailures: 0 });
    for (let i = 0; i < 10; i++) l.recordAddressFailure('192.0.2.1');
    for (let i = 0; i < 3; i++) attempt(BOB, '192.0.2.1', 'fail');
    assert.equal(l.lockOf(Lockout.loginKey('carol'), '192.0.2.1'), undefined);
    assert.equal(l.lockOf(BOB, '192.0.2.1')?.kind, 'user');
    assert.deepEqual(
      events.map((e) => e.kind),
      ['user'],
    );
  });

  it('with LOCKOUT_MAX_FAILURES=0 only addresses are counted, unknown logins included', () => {
    const { l, events, attempt } = lockout({ maxFailures: 0, addressMaxFailures: 3 });
    assert.equal(attempt(BOB, '192.0.2.1', 'succeed'), undefined);
    for (let i = 0; i < 3; i++) {
      const a = l.begin('192.0.2.2');
      assert.ok(a instanceof Attempt);
      l.fail(a, Lockout.loginKey('nobody'), 'nobody');
    }
    assert.equal(l.lockOf(Lockout.loginKey('nobody'), '192.0.2.9'), undefined);
    assert.deepEqual(
      events.map((e) => [e.kind, e.subject]),
      [['address', '192.0.2.2']],
    );
  });

  it('a flood of made-up logins does not push a locked account out of memory', () => {
    const { l, attempt } = lockout({ maxKeys: 2, addressMaxFailures: 1000 });
    for (let i = 0; i < 3; i++) attempt(BOB, '192.0.2.1', 'fail');
    for (let i = 0; i < 10; i++) attempt(Lockout.loginKey(`made-up-${i}`), `198.51.100.${i}`, 'fail');
    assert.equal(l.lockOf(BOB, '192.0.2.1')?.kind, 'user');
  });

  it('tells a busy answer from a lock, an attempt and no answer', () => {
    const busy: Busy = { kind: 'user', freed: Promise.resolve() };
    const table: [unknown, boolean][] = [
      [busy, true],
      [{ kind: 'user', until: 1 }, false],
      [new Attempt('192.0.2.1', undefined), false],
      [undefined, false],
      [null, false],
    ];
    for (const [value, expected] of table) assert.equal(isBusy(value), expected, String(value));
  });
});
