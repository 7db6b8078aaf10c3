// Verified credentials, keyed so that neither a username nor a password is ever kept in memory:
// key = HMAC-SHA256(per-process random secret, length-prefixed username ‖ password), its first 128 bits.
import { randomBytes } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import type { RejectionReason } from './directory/errors.ts';
import type { Group, Identity } from './directory/directory.ts';
import { KeyedHash } from './keyed-hash.ts';

/**
 * A directory's answer about one login and password. `account` is the lockout key of the entry (its DN),
 * or of the folded login when no entry matched, so an answer from the cache is checked against the same
 * lock as one from the directory.
 */
export type Verdict =
  | { readonly kind: 'verified'; readonly identity: Identity; readonly account: string }
  | { readonly kind: 'rejected'; readonly reason: RejectionReason; readonly account: string };

/**
 * A verdict as kept: one object per entry (at 100 000 entries, each object saved is about 4 MiB), with
 * the end of its TTL in whole seconds: a small integer V8 keeps in the object itself (until 2038), where
 * milliseconds would be a boxed number of 16 bytes more.
 */
type Entry = Verdict & { readonly freshUntil: number };

export interface CacheLookup {
  readonly verdict: Verdict;
  /** False once past its TTL: usable only while the directory is unreachable (stale-if-error). */
  readonly fresh: boolean;
}

export interface DecisionCacheOptions {
  readonly ttlSeconds: number;
  readonly negativeTtlSeconds: number;
  readonly staleIfErrorSeconds: number;
  readonly maxEntries: number;
  /** Milliseconds; injectable for tests. */
  readonly now?: () => number;
  /** The HMAC secret; injectable for tests, otherwise 32 random bytes for this process. */
  readonly secret?: Buffer;
}

/** How much of the HMAC is the key: 128 bits leave a forged match to the secret's strength. */
const KEY_BYTES = 16;

/**
 * One copy of each group, and of each list of groups, shared by every entry that has it: the users of one
 * team hold one list between them instead of a copy each, which at 100 000 cached credentials is most of
 * what an entry weighs. Bounded: a list evicted here stays valid in the entries that hold it; the next
 * verification of one of its users makes a new shared copy. Only the keys are built per verification.
 */
class SharedGroups {
  readonly #groups = new LRUCache<string, Group>({ max: 10_000 });
  readonly #lists = new LRUCache<string, readonly Group[]>({ max: 10_000 });

  share(identity: Identity): Identity {
    // JSON: unambiguous whatever a DN or a name holds, so two different lists never share a key.
    const keys = identity.groups.map((g) => JSON.stringify([g.dn, g.name]));
    const listKey = `[${keys.join(',')}]`;
    let list = this.#lists.get(listKey);
    if (list === undefined) {
      list = identity.groups.map((group, i) => {
        const key = keys[i] ?? '';
        const shared = this.#groups.get(key);
        if (shared !== undefined) return shared;
        this.#groups.set(key, group);
        return group;
      });
      this.#lists.set(listKey, list);
    }
    return { username: identity.username, dn: identity.dn, groups: list };
  }
}

export class DecisionCache {
  readonly #hmac: KeyedHash;
  readonly #groups = new SharedGroups();
  readonly #lru: LRUCache<string, Entry>;
  readonly #ttlMs: number;
  readonly #negativeTtlMs: number;
  readonly #staleMs: number;
  readonly #now: () => number;

  constructor(options: DecisionCacheOptions) {
    this.#ttlMs = options.ttlSeconds * 1000;
    this.#negativeTtlMs = options.negativeTtlSeconds * 1000;
    this.#staleMs = options.staleIfErrorSeconds * 1000;
    this.#now = options.now ?? Date.now;
    this.#lru = new LRUCache({ max: options.maxEntries });
    this.#hmac = new KeyedHash(options.secret ?? randomBytes(32));
  }

  key(username: string, password: string): string {
    // The length prefix keeps ("ab", "c") and ("a", "bc") apart, since a username may not hold ':' but
    // a password may hold anything.
    return this.#hmac.digest(username, password, KEY_BYTES);
  }

  lookup(key: string): CacheLookup | undefined {
    const entry = this.#lru.get(key);
    if (entry === undefined) return undefined;
    const now = this.#now();
    const freshUntil = entry.freshUntil * 1000;
    if (now < freshUntil) return { verdict: entry, fresh: true };
    if (entry.kind === 'verified' && now < freshUntil + this.#staleMs) {
      return { verdict: entry, fresh: false };
    }
    this.#lru.delete(key);
    return undefined;
  }

  /** Stores a directory's verdict under every key given (the login as typed, and its canonical form). */
  store(keys: readonly string[], verdict: Verdict): void {
    const ttl = verdict.kind === 'verified' ? this.#ttlMs : this.#negativeTtlMs;
    if (ttl <= 0) return;
    // Rounded down: an entry may end up to a second before its TTL, never after.
    const freshUntil = Math.floor((this.#now() + ttl) / 1000);
    const entry: Entry =
      verdict.kind === 'verified'
        ? {
            kind: 'verified',
            identity: this.#groups.share(verdict.identity),
            account: verdict.account,
            freshUntil,
          }
        : { kind: 'rejected', reason: verdict.reason, account: verdict.account, freshUntil };
    for (const key of keys) this.#lru.set(key, entry);
  }

  get size(): number {
    return this.#lru.size;
  }
}
