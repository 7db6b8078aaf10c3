import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Lockout } from './lockout.ts';

function lockout(max = 3) {
  let now = 0;
  const l = new Lockout({ maxFailures: max, windowSeconds: 60, durationSeconds: 120, now: () => now });
  return { l, advance: (s: number) => (now += s * 1000) };
}
const alice = [Lockout.userKey('Alice'), Lockout.addressKey('192.0.2.1')];

describe('Lockout', () => {
  it('locks a username and an address after LOCKOUT_MAX_FAILURES failures, for LOCKOUT_DURATION_SECONDS', () => {
    const { l, advance } = lockout();
    assert.equal(l.recordFailure(alice), 0);
    l.recordFailure(alice);
    assert.equal(l.isLocked(alice), false);
    assert.equal(l.recordFailure(alice), 2);
    assert.equal(l.isLocked([Lockout.userKey('alice')]), true, 'usernames are case-insensitive');
    assert.equal(l.isLocked([Lockout.addressKey('192.0.2.1')]), true);
    advance(119);
    assert.equal(l.isLocked(alice), true);
    advance(2);
    assert.equal(l.isLocked(alice), false);
  });

  it('forgets failures older than LOCKOUT_WINDOW_SECONDS', () => {
    const { l, advance } = lockout();
    l.recordFailure(alice);
    l.recordFailure(alice);
    advance(61);
    l.recordFailure(alice);
    assert.equal(l.isLocked(alice), false);
  });

  it('one address guessing many usernames is locked by address', () => {
    const { l } = lockout();
    for (const u of ['a', 'b', 'c'])
      l.recordFailure([Lockout.userKey(u), Lockout.addressKey('198.51.100.7')]);
    assert.equal(l.isLocked([Lockout.userKey('d'), Lockout.addressKey('198.51.100.7')]), true);
    assert.equal(l.isLocked([Lockout.userKey('d'), Lockout.addressKey('198.51.100.8')]), false);
  });

  it('a success clears the username count but not the address count', () => {
    const { l } = lockout();
    l.recordFailure(alice);
    l.recordFailure(alice);
    l.recordSuccess(Lockout.userKey('alice'));
    l.recordFailure([Lockout.userKey('alice'), Lockout.addressKey('192.0.2.9')]);
    assert.equal(l.isLocked([Lockout.userKey('alice')]), false);
    l.recordFailure([Lockout.userKey('x'), Lockout.addressKey('192.0.2.1')]);
    assert.equal(l.isLocked([Lockout.addressKey('192.0.2.1')]), true);
  });

  it('LOCKOUT_ADDRESS_MAX_FAILURES sets the address threshold apart (many users behind one NAT)', () => {
    let now = 0;
    const l = new Lockout({
      maxFailures: 2,
      addressMaxFailures: 5,
      windowSeconds: 60,
      durationSeconds: 120,
      now: () => now,
    });
    const nat = Lockout.addressKey('198.51.100.1');
    for (const u of ['a', 'b', 'c', 'd']) l.recordFailure([Lockout.userKey(u), nat]);
    assert.equal(l.isLocked([nat]), false, 'four failures from the address: under its own threshold');
    l.recordFailure([Lockout.userKey('a'), nat]);
    assert.equal(l.isLocked([Lockout.userKey('a')]), true, 'a failed twice: the user threshold applies');
    assert.equal(l.isLocked([nat]), true, 'the fifth failure from the address locks it');
    now += 121_000;
    assert.equal(l.isLocked([nat]), false);
  });

  it('is off with LOCKOUT_MAX_FAILURES=0', () => {
    const { l } = lockout(0);
    for (let i = 0; i < 50; i++) l.recordFailure(alice);
    assert.equal(l.isLocked(alice), false);
  });
});
