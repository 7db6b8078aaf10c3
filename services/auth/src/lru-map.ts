// A least-recently-used map whose memory follows what it holds. lru-cache allocates its whole capacity up
// front (two arrays of `max` slots on the heap and three typed arrays beside it): right for the decision
// cache, which fills, but the lockout's five tables of 100 000 would hold about 8 MiB of heap in a process
// that has seen no failed login, and in normal operation they stay nearly empty. A Map keeps insertion
// order, so re-inserting a key on use makes its first key the least recently used.

/** Values may not be undefined: get() answers undefined for a key it does not hold. */
export class LruMap<K, V extends object | string | number | boolean | bigint | symbol> {
  readonly #map = new Map<K, V>();
  readonly #max: number;
  /**
   * The keys oldest first, kept from one eviction to the next. A deleted key leaves a hole in the Map's
   * table until the table is rebuilt, and a new iterator walks every hole from the start: under a flood of
   * new keys, each eviction walked the holes of all the evictions before it (tens of µs of CPU a key at
   * 100 000). Kept, it starts where the last eviction stopped: every key before it has been evicted, and a
   * key set or read since went to the end. A kept iterator also keeps alive every table the Map has
   * rebuilt since it was made (about 40 bytes a key while the Map grows), so it is made only when a key
   * must be evicted, and dropped after as many changes as the map holds keys: a map that never fills
   * holds none.
   */
  #oldest: MapIterator<K> | undefined;
  #changes = 0;

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
      this.#changed();
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
    this.#changed();
    if (this.#map.size > this.#max) {
      this.#oldest ??= this.#map.keys();
      const oldest = this.#oldest.next();
      if (oldest.done !== true) this.#map.delete(oldest.value);
    }
  }

  delete(key: K): boolean {
    return this.#map.delete(key);
  }

  #changed(): void {
    if (++this.#changes <= this.#map.size) return;
    this.#changes = 0;
    this.#oldest = undefined;
  }

  get size(): number {
    return this.#map.size;
  }
}
