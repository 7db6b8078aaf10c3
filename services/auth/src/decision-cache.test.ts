import assert from 'node:assert/strict';
import { createHmac, randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { DecisionCache } from './decision-cache.ts';
import type { Verdict } from './decision-cache.ts';

const verified: Verdict = {
  kind: 'verified',
  identity: { username: 'alice', dn: 'uid=alice', groups: [] },
  account: 'dn:uid=alice',
};
const rejected: Verdict = { kind: 'rejected', reason: 'invalid_password', account: 'dn:uid=alice' };

function cache(overrides: Partial<ConstructorParameters<typeof DecisionCache>[0]> = {}) {
  let now = 1_000_000;
  const c = new DecisionCache({
    ttlSeconds: 300,
    negativeTtlSeconds: 30,
    staleIfErrorSeconds: 0,
    maxEntries: 100,
    now: () => now,
    ...overrides,
  });
  return { c, advance: (s: number) => (now += s * 1000) };
}

describe('DecisionCache', () => {
  it('keys by HMAC: stable within the process, never the password itself', () => {
    const { c } = cache();
    const key = c.key('alice', 'alice-password');
    assert.equal(c.key('alice', 'alice-password'), key);
    assert.notEqual(c.key('alice', 'other'), key);
    assert.match(key, /^[A-Za-z0-9_-]{43}$/);
    assert.ok(!key.includes('alice'));
  });

  it('is HMAC-SHA256 of the secret over the length-prefixed username and the password (UTF-8)', () => {
    const secret = randomBytes(32);
    const { c } = cache({ secret });
    const expected = (username: string, password: string) => {
      const name = Buffer.from(username, 'utf8');
      const length = Buffer.alloc(4);
      length.writeUInt32BE(name.length);
      return createHmac('sha256', secret)
        .update(length)
        .update(name)
        .update(password, 'utf8')
        .digest('base64url');
    };
    const long = 'p'.repeat(5000);
    for (const [u, p] of [
      ['alice', 'alice-password'],
      ['', ''],
      ['jürgen', 'pässwörd 🔑'],
      ['\u{1F600}'.repeat(200), long],
      ['alice', long],
      ['alice', 'short'],
    ] as const) {
      assert.equal(c.key(u, p), expected(u, p), `${u.length}/${p.length}`);
    }
  });

  it('length-prefixes the username so shifted splits do not collide', () => {
    const { c } = cache();
    assert.notEqual(c.key('ab', 'c'), c.key('a', 'bc'));
  });

  it('uses a different secret in every process (instance)', () => {
    assert.notEqual(cache().c.key('alice', 'pw'), cache().c.key('alice', 'pw'));
  });

  it('serves a verified entry for CACHE_TTL_SECONDS, then forgets it', () => {
    const { c, advance } = cache();
    c.store(['k'], verified);
    advance(299);
    assert.deepEqual(c.lookup('k'), { verdict: verified, fresh: true });
    advance(2);
    assert.equal(c.lookup('k'), undefined);
  });

  it('serves a rejection only for CACHE_NEGATIVE_TTL_SECONDS', () => {
    const { c, advance } = cache();
    c.store(['k'], rejected);
    advance(29);
    assert.equal(c.lookup('k')?.verdict, rejected);
    advance(2);
    assert.equal(c.lookup('k'), undefined);
  });

  it('keeps a verified entry as stale for CACHE_STALE_IF_ERROR_SECONDS past its TTL', () => {
    const { c, advance } = cache({ staleIfErrorSeconds: 600 });
    c.store(['k'], verified);
    advance(301);
    assert.deepEqual(c.lookup('k'), { verdict: verified, fresh: false });
    advance(600);
    assert.equal(c.lookup('k'), undefined);
  });

  it('never keeps a rejection as stale', () => {
    const { c, advance } = cache({ staleIfErrorSeconds: 600 });
    c.store(['k'], rejected);
    advance(31);
    assert.equal(c.lookup('k'), undefined);
  });

  it('stores nothing when the TTL is 0', () => {
    const { c } = cache({ ttlSeconds: 0, negativeTtlSeconds: 0 });
    c.store(['a'], verified);
    c.store(['b'], rejected);
    assert.equal(c.size, 0);
  });

  it('is bounded by CACHE_MAX_ENTRIES, evicting the least recently used', () => {
    const { c } = cache({ maxEntries: 2 });
    c.store(['a'], verified);
    c.store(['b'], verified);
    c.lookup('a');
    c.store(['c'], verified);
    assert.equal(c.size, 2);
    assert.equal(c.lookup('b'), undefined);
    assert.ok(c.lookup('a'));
  });
});
