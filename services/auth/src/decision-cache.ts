// Verified credentials, keyed so that neither a username nor a password is ever kept in memory:
// key = HMAC-SHA256(per-process random secret, length-prefixed username ‖ password).
import { createHmac, createSecretKey, randomBytes } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import type { RejectionReason } from './directory/errors.ts';
import type { Group } from './policy.ts';

export interface Identity {
  readonly username: string;
  readonly dn: string;
  readonly groups: readonly Group[];
}

export type Verdict =
  | { readonly kind: 'verified'; readonly identity: Identity }
  | { readonly kind: 'rejected'; readonly reason: RejectionReason };

interface Entry {
  readonly verdict: Verdict;
  readonly freshUntil: number;
}

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
}

export class DecisionCache {
  // A KeyObject, not a Buffer: createHmac re-imports a Buffer key on every call (~7x slower).
  readonly #secret = createSecretKey(randomBytes(32));
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
  }

  key(username: string, password: string): string {
    const name = Buffer.from(username, 'utf8');
    const length = Buffer.alloc(4);
    length.writeUInt32BE(name.length);
    // The length prefix keeps ("ab", "c") and ("a", "bc") apart, since a username may not hold ':' but
    // a password may hold anything.
    return createHmac('sha256', this.#secret)
      .update(length)
      .update(name)
      .update(password, 'utf8')
      .digest('base64url');
  }

  lookup(key: string): CacheLookup | undefined {
    const entry = this.#lru.get(key);
    if (entry === undefined) return undefined;
    const now = this.#now();
    if (now < entry.freshUntil) return { verdict: entry.verdict, fresh: true };
    if (entry.verdict.kind === 'verified' && now < entry.freshUntil + this.#staleMs) {
      return { verdict: entry.verdict, fresh: false };
    }
    this.#lru.delete(key);
    return undefined;
  }

  /** Stores a directory's verdict under every key given (the login as typed, and its canonical form). */
  store(keys: readonly string[], verdict: Verdict): void {
    const ttl = verdict.kind === 'verified' ? this.#ttlMs : this.#negativeTtlMs;
    if (ttl <= 0) return;
    const entry: Entry = { verdict, freshUntil: this.#now() + ttl };
    for (const key of keys) this.#lru.set(key, entry);
  }

  get size(): number {
    return this.#lru.size;
  }
}
