import assert from 'node:assert/strict';
import { createHmac, randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { DecisionCache } from './decision-cache.ts';
import type { CacheLookup, Verdict } from './decision-cache.ts';

const verified: Verdict = {
  kind: 'verified',
  identity: { username: 'alice', dn: 'uid=alice', groups: [] },
  account: 'uid=alice',
};
const rejected: Verdict = { kind: 'rejected', reason: 'invalid_password', account: 'uid=alice' };

/** A lookup as the decider reads it: the verdict (the entry also carries its expiry) and its freshness. */
function seen(lookup: CacheLookup | undefined): { verdict: Verdict; fresh: boolean } | undefined {
  if (lookup === undefined) return undefined;
  const verdict: Verdict & { freshUntil?: number } = { ...lookup.verdict };
  delete verdict.freshUntil;
  return { verdict, fresh: lookup.fresh };
}

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
  it('keeps one copy of a group list for every user who has it, and each user their own groups', () => {
    const { c } = cache();
    // As the directory hands them over: equal lists, but a fresh copy of every string and object per user.
    const groupsOf = (...names: string[]) => names.map((name) => ({ name, dn: `cn=${name},ou=groups` }));
    const verify = (user: string, groups: { name: string; dn: string }[]) => {
      const key = c.key(user, 'pw');
      c.store([key], {
        kind: 'verified',
        identity: { username: user, dn: `uid=${user}`, groups },
        account: `uid=${user}`,
      });
      const found = c.lookup(key)?.verdict;
      assert.equal(found?.kind, 'verified');
      return found.identity;
    };
    const ann = verify('ann', groupsOf('team-1', 'registry-users'));
    const ben = verify('ben', groupsOf('team-1', 'registry-users'));
    const cid = verify('cid', groupsOf('team-2', 'registry-users'));
    assert.equal(ann.groups, ben.groups, 'one list for ann and ben');
    assert.equal(ann.groups[1], cid.groups[1], 'one registry-users for all three');
    assert.notEqual(ann.groups, cid.groups);
    assert.deepEqual(
      [ann, ben, cid].map((i) => [i.username, i.dn, i.groups.map((g) => g.name)]),
      [
        ['ann', 'uid=ann', ['team-1', 'registry-users']],
        ['ben', 'uid=ben', ['team-1', 'registry-users']],
        ['cid', 'uid=cid', ['team-2', 'registry-users']],
      ],
    );
    // Same names, other DNs: another list (the DN is part of what a group is).
    const dee = verify('dee', [{ name: 'team-1', dn: 'cn=team-1,ou=other' }, ...groupsOf('registry-users')]);
    assert.notEqual(dee.groups, ann.groups);
    assert.equal(dee.groups[0]?.dn, 'cn=team-1,ou=other');
  });

  it('keys by HMAC: stable within the process, never the password itself', () => {
    const { c } = cache();
    const key = c.key('alice', 'alice-password');
    assert.equal(c.key('alice', 'alice-password'), key);
    assert.notEqual(c.key('alice', 'other'), key);
    assert.equal(key.length, 16, 'the first 128 bits of the HMAC, one byte a character');
    assert.ok(!key.includes('alice'));
  });

  it('is HMAC-SHA256 of the secret over the length-prefixed username and the password (UTF-8), cut to 128 bits', () => {
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
        .digest()
        .toString('latin1', 0, 16);
    };
    const long = 'p'.repeat(5000);
    for (const [u, p] of [
      ['alice', 'alice-password'],
      ['', ''],
      ['jürgen', 'pässwörd 🔑'],
      ['\u{1F600}'.repeat(200), long],
      ['alice', long],
      ['alice', 'short'],
      ['jürgen', '€'.repeat(3000)], // 3 UTF-8 bytes a character: the scratch buffer must grow to hold it
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
    assert.deepEqual(seen(c.lookup('k')), { verdict: verified, fresh: true });
    advance(2);
    assert.equal(c.lookup('k'), undefined);
  });

  it('ends an entry at the second its TTL ends, not a millisecond later, and forgets it then', () => {
    const { c, advance } = cache({ staleIfErrorSeconds: 600 });
    c.store(['k'], verified); // at 1 000 000 ms: fresh until 1 300 000, stale until 1 900 000
    advance(300);
    assert.equal(c.lookup('k')?.fresh, false, 'at 1 300 000 ms it is past its TTL');
    advance(600);
    assert.equal(c.lookup('k'), undefined, 'at 1 900 000 ms it is past its stale window');
    assert.equal(c.size, 0, 'a lookup past both drops the entry');
  });

  it('serves a rejection only for CACHE_NEGATIVE_TTL_SECONDS', () => {
    const { c, advance } = cache();
    c.store(['k'], rejected);
    advance(29);
    assert.deepEqual(seen(c.lookup('k')), { verdict: rejected, fresh: true });
    advance(2);
    assert.equal(c.lookup('k'), undefined);
  });

  it('keeps a verified entry as stale for CACHE_STALE_IF_ERROR_SECONDS past its TTL', () => {
    const { c, advance } = cache({ staleIfErrorSeconds: 600 });
    c.store(['k'], verified);
    advance(301);
    assert.deepEqual(seen(c.lookup('k')), { verdict: verified, fresh: false });
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
