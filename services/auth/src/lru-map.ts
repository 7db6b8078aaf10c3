// A least-recently-used map whose memory follows what it holds. lru-cache allocates its whole capacity up
// front (two arrays of `max` slots on the heap and three typed arrays beside it): right for the decision
// cache, which fills, but the lockout's five tables of 100 000 would hold about 8 MiB of heap in a process
// that has seen no failed login, and in normal operation they stay nearly empty. A Map keeps insertion
// order, so re-inserting a key on use makes its first key the least recently used.

/** Values may not be undefined: get() answers undefined for a key it does not hold. */
export class LruMap<K, V extends object | string | number | boolean | bigint | symbol> {
  readonly #map = new Map<K, V>();
  readonly #max: number;

  constructor(max: number) {
    if (!Number.isSafeInteger(max) || max < 1)
      throw new RangeError(`LruMap: max must be a positive integer, got ${max}`);
    this.#max = max;
  }

  /** The value of `key`, which becomes the most recently used. */
  get(key: K): V | undefined {
    const value = this.#map.get(key);
    if (value !== undefined) {
      this.#map.delete(key);
      this.#map.set(key, value);
    }
    return value;
  }

  /** Whether `key` is held, without making it recently used. */
  has(key: K): boolean {
    return this.#map.has(key);
  }

  /** Sets `key` as the most recently used; past `max` keys, the least recently used goes. */
  set(key: K, value: V): void {
    this.#map.delete(key);
    this.#map.set(key, value);
    if (this.#map.size > this.#max) {
      for (const oldest of this.#map.keys()) {
        this.#map.delete(oldest);
        break;
      }
    }
  }

  delete(key: K): boolean {
    return this.#map.delete(key);
  }

  get size(): number {
    return this.#map.size;
  }
}
