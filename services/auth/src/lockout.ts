// Failed logins counted per username and per client address; past LOCKOUT_MAX_FAILURES within
// LOCKOUT_WINDOW_SECONDS the key is refused for LOCKOUT_DURATION_SECONDS without asking the directory.
// Only failures the directory itself reported count: a repeated wrong password answered from the
// negative cache is not a new guess.
import { LRUCache } from 'lru-cache';

interface Counter {
  failures: number;
  windowStart: number;
  lockedUntil: number;
}

export interface LockoutOptions {
  readonly maxFailures: number;
  /** Per client address; defaults to maxFailures. Raise it where many users share one address (NAT, CI). */
  readonly addressMaxFailures?: number;
  readonly windowSeconds: number;
  readonly durationSeconds: number;
  readonly maxKeys?: number;
  readonly now?: () => number;
}

const ADDRESS = 'addr:';

export class Lockout {
  readonly #counters: LRUCache<string, Counter>;
  readonly #max: number;
  readonly #addressMax: number;
  readonly #windowMs: number;
  readonly #durationMs: number;
  readonly #now: () => number;

  constructor(options: LockoutOptions) {
    this.#max = options.maxFailures;
    this.#addressMax = options.addressMaxFailures ?? options.maxFailures;
    this.#windowMs = options.windowSeconds * 1000;
    this.#durationMs = options.durationSeconds * 1000;
    this.#now = options.now ?? Date.now;
    // Bounded, so a flood of distinct usernames cannot grow memory; the oldest counters go first.
    this.#counters = new LRUCache({ max: options.maxKeys ?? 100_000 });
  }

  static userKey(username: string): string {
    return `user:${username.toLowerCase()}`;
  }

  static addressKey(address: string): string {
    return `${ADDRESS}${address}`;
  }

  isLocked(keys: readonly string[]): boolean {
    if (this.#max === 0 && this.#addressMax === 0) return false;
    const now = this.#now();
    return keys.some((key) => (this.#counters.get(key)?.lockedUntil ?? 0) > now);
  }

  /** Returns how many of `keys` this failure locked. */
  recordFailure(keys: readonly string[]): number {
    const now = this.#now();
    let locked = 0;
    for (const key of keys) {
      const max = key.startsWith(ADDRESS) ? this.#addressMax : this.#max;
      if (max === 0) continue;
      let counter = this.#counters.get(key);
      if (counter === undefined || now - counter.windowStart > this.#windowMs) {
        counter = { failures: 0, windowStart: now, lockedUntil: counter?.lockedUntil ?? 0 };
        this.#counters.set(key, counter);
      }
      counter.failures++;
      if (counter.failures >= max && counter.lockedUntil <= now) {
        counter.lockedUntil = now + this.#durationMs;
        counter.failures = 0;
        counter.windowStart = now;
        locked++;
      }
    }
    return locked;
  }

  /** A successful login clears the username's count (not the address's: one good login must not hide guessing). */
  recordSuccess(userKey: string): void {
    const counter = this.#counters.get(userKey);
    if (counter !== undefined && counter.lockedUntil <= this.#now()) this.#counters.delete(userKey);
  }
}
