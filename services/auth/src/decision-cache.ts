// Verified credentials, keyed so that neither a username nor a password is ever kept in memory:
// key = HMAC-SHA256(per-process random secret, length-prefixed username ‖ password).
import { hash, randomBytes } from 'node:crypto';
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
  /** The HMAC secret; injectable for tests, otherwise 32 random bytes for this process. */
  readonly secret?: Buffer;
}

// SHA-256's block size: an HMAC key up to this long is zero-padded to it (RFC 2104).
const BLOCK = 64;

/**
 * HMAC-SHA256 exactly as RFC 2104 defines it, H((K ⊕ opad) ‖ H((K ⊕ ipad) ‖ m)), from two one-shot
 * hashes over buffers prepared once. It is on every decision; createHmac() builds a stream object per
 * call and costs 20 % more. The scratch bytes that held the credentials are zeroed after each use.
 */
class KeyedHash {
  #inner: Buffer;
  readonly #outer = Buffer.alloc(BLOCK + 32);
  readonly #innerPad = Buffer.alloc(BLOCK, 0x36);

  constructor(secret: Buffer) {
    if (secret.length > BLOCK) throw new RangeError(`an HMAC secret longer than ${BLOCK} bytes`);
    this.#outer.fill(0x5c, 0, BLOCK);
    for (let i = 0; i < secret.length; i++) {
      this.#innerPad[i] = (this.#innerPad[i] ?? 0) ^ (secret[i] ?? 0);
      this.#outer[i] = (this.#outer[i] ?? 0) ^ (secret[i] ?? 0);
    }
    this.#inner = this.#scratch(256);
  }

  /** Keyed digest of: 4-byte big-endian byte length of `name` ‖ `name` ‖ `rest`, all UTF-8. */
  digest(name: string, rest: string): string {
    // A UTF-16 code unit is at most 3 bytes of UTF-8, so this much room can never truncate a write.
    const room = BLOCK + 4 + 3 * (name.length + rest.length);
    if (room > this.#inner.length) this.#inner = this.#scratch(room * 2);
    const inner = this.#inner;
    const nameBytes = inner.write(name, BLOCK + 4, 'utf8');
    inner.writeUInt32BE(nameBytes, BLOCK);
    const end = BLOCK + 4 + nameBytes + inner.write(rest, BLOCK + 4 + nameBytes, 'utf8');
    const innerDigest = hash('sha256', inner.subarray(0, end), 'buffer');
    inner.fill(0, BLOCK, end);
    innerDigest.copy(this.#outer, BLOCK);
    return hash('sha256', this.#outer, 'base64url');
  }

  #scratch(size: number): Buffer {
    const buffer = Buffer.alloc(size);
    this.#innerPad.copy(buffer, 0);
    return buffer;
  }
}

export class DecisionCache {
  readonly #hmac: KeyedHash;
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
    return this.#hmac.digest(username, password);
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
