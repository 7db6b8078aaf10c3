// The decider's bounds on waiting for the directory: the decision deadline, the bounded queue of
// verifications, stale-if-error without queueing while the directory is known down, and misconfiguration
// told apart from an outage.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { FakeDirectory, basic } from '../test/support/fake-directory.ts';
import { DecisionCache } from './decision-cache.ts';
import { Decider } from './decider.ts';
import type { Decision, DecisionRequest } from './decider.ts';
import { DirectoryUnavailableError } from './directory/errors.ts';
import { Lockout } from './lockout.ts';
import { Policy, rulesFromConfig } from './policy.ts';

/** The fake, plus what the LDAP directory says about itself when every server is down. */
class DownAwareDirectory extends FakeDirectory {
  down = false;
  misconfigured = false;
  knownDown(): boolean {
    return this.down;
  }
  override async findUser(login: string) {
    if (this.misconfigured) {
      this.calls.findUser++;
      throw new DirectoryUnavailableError('the directory rejected the service account', {
        kind: 'bind_rejected',
      });
    }
    return super.findUser(login);
  }
}

function setup(
  options: {
    maxConcurrent?: number;
    maxQueued?: number;
    timeoutMs?: number;
    stale?: number;
    addressMax?: number;
  } = {},
) {
  let now = 0;
  const clock = () => now;
  const directory = new DownAwareDirectory({
    alice: { password: 'alice-password', groups: ['registry-pushers'] },
  });
  const decider = new Decider({
    directory,
    cache: new DecisionCache({
      ttlSeconds: 300,
      negativeTtlSeconds: 30,
      staleIfErrorSeconds: options.stale ?? 0,
      maxEntries: 100,
      now: clock,
    }),
    lockout: new Lockout({
      maxFailures: 1000,
      addressMaxFailures: options.addressMax ?? 1000,
      windowSeconds: 300,
      durationSeconds: 300,
      now: clock,
    }),
    policy: new Policy(
      rulesFromConfig({
        pushGroups: ['registry-pushers'],
        pullGroups: [],
        deleteGroups: [],
        catalogGroups: [],
      }),
    ),
    ...(options.maxConcurrent === undefined ? {} : { maxConcurrentVerifications: options.maxConcurrent }),
    ...(options.maxQueued === undefined ? {} : { maxQueuedVerifications: options.maxQueued }),
    ...(options.timeoutMs === undefined ? {} : { decisionTimeoutMs: options.timeoutMs }),
  });
  return { decider, directory, advance: (s: number) => (now += s * 1000) };
}

const request = (authorization: string): DecisionRequest => ({
  authorization,
  method: 'GET',
  uri: '/v2/app/manifests/latest',
  clientIp: '192.0.2.1',
});

async function until(check: () => boolean, timeoutMs = 2000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not reached');
    await sleep(5);
  }
}

describe('Decider: bounded waits', () => {
  it('answers directory_unavailable when the directory does not answer within decisionTimeoutMs', async () => {
    const { decider, directory } = setup({ timeoutMs: 30 });
    directory.latencyMs = 300;
    const d = await decider.decide(request(basic('alice', 'alice-password')));
    assert.equal(d.reason, 'directory_unavailable');
    assert.match(d.error ?? '', /did not answer within 30 ms/);
  });

  it('lets at most maxQueuedVerifications wait; the rest fail at once without reaching the directory', async () => {
    const { decider, directory } = setup({ maxConcurrent: 1, maxQueued: 2 });
    directory.latencyMs = 20;
    const decisions = await Promise.all(
      [1, 2, 3, 4, 5].map((i) => Promise.resolve(decider.decide(request(basic('alice', `wrong-${i}`))))),
    );
    assert.deepEqual(
      decisions.map((d: Decision) => d.reason),
      [
        'invalid_password',
        'invalid_password',
        'invalid_password',
        'directory_unavailable',
        'directory_unavailable',
      ],
    );
    assert.equal(directory.calls.findUser, 3, 'the two beyond the queue never asked the directory');
    assert.equal(decisions[3]?.error, '2 directory verifications already waiting');
  });

  it('drops a waiter whose deadline passed: its verification never runs', async () => {
    const { decider, directory } = setup({ maxConcurrent: 1, timeoutMs: 40 });
    directory.latencyMs = 150;
    const [first, second] = await Promise.all([
      Promise.resolve(decider.decide(request(basic('alice', 'alice-password')))),
      Promise.resolve(decider.decide(request(basic('alice', 'another-password')))),
    ]);
    assert.deepEqual(
      [first.reason, first.error],
      ['directory_unavailable', 'the directory did not answer within 40 ms'],
    );
    assert.deepEqual(
      [second.reason, second.error],
      ['directory_unavailable', 'no directory slot came free within 40 ms'],
    );
    await until(() => directory.calls.resolveGroups === 1); // the first one's round trip ends
    await sleep(20);
    assert.equal(directory.calls.findUser, 1, 'nobody waited for the second: it never reached the directory');
    // Once the first round trip has ended its slot is free for the next check, not handed to the waiter
    // that gave up (asked until answered, with a deadline: the first may still be resolving groups).
    directory.latencyMs = 0;
    const ask = () => Promise.resolve(decider.decide(request(basic('alice', 'wrong-later'))));
    const deadline = Date.now() + 2000;
    let later = await ask();
    while (later.reason === 'directory_unavailable' && Date.now() < deadline) {
      await sleep(5);
      later = await ask();
    }
    assert.equal(later.reason, 'invalid_password');
  });

  it('serves a stale entry at once while the directory is known down, without asking it', async () => {
    const { decider, directory, advance } = setup({ stale: 600 });
    {
      assert.equal((await decider.decide(request(basic('alice', 'alice-password')))).reason, 'granted');
      advance(301);
      directory.available = false;
      directory.down = true;
      const calls = directory.calls.findUser;
      const d = decider.decide(request(basic('alice', 'alice-password')));
      assert.ok(!(d instanceof Promise), 'answered synchronously: no queueing behind the directory');
      assert.equal(d.reason, 'granted');
      assert.equal(d.source, 'stale');
      assert.equal(directory.calls.findUser, calls);
    }
  });

  it('while the directory is known down, an expired refusal is not served: the outage is', async () => {
    const { decider, directory, advance } = setup({ stale: 600 });
    await decider.decide(request(basic('alice', 'wrong')));
    advance(31);
    directory.available = false;
    directory.down = true;
    const d = await decider.decide(request(basic('alice', 'wrong')));
    assert.deepEqual([d.reason, d.source], ['directory_unavailable', 'directory']);
  });

  it('tells a misconfigured directory apart from an unreachable one (both fail closed)', async () => {
    const { decider, directory } = setup();
    directory.misconfigured = true;
    const d = await decider.decide(request(basic('alice', 'alice-password')));
    assert.equal(d.reason, 'directory_misconfigured');
    directory.misconfigured = false;
    directory.available = false;
    assert.equal(
      (await decider.decide(request(basic('alice', 'alice-password')))).reason,
      'directory_unavailable',
    );
  });

  it('answers directory_unavailable, never locked_out, when the checks in flight for an address do not settle in time', async () => {
    const { decider, directory } = setup({ timeoutMs: 40, addressMax: 1 });
    const release = directory.hold();
    const first = Promise.resolve(decider.decide(request(basic('alice', 'wrong-1'))));
    const second = await decider.decide(request(basic('alice', 'wrong-2')));
    // Which deadline answers (the decision's or the wait for a place) is a race; both are an outage.
    assert.equal(second.reason, 'directory_unavailable');
    release();
    await first; // whichever came first for it, its deadline or the directory's answer
    assert.equal(directory.calls.findUser, 1, 'the second never reached the directory');
  });
});
