import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { LruMap } from './lru-map.ts';

describe('LruMap', () => {
  it('holds at most max keys, dropping the least recently set or read', () => {
    const map = new LruMap<string, number>(3);
    map.set('a', 1);
    map.set('b', 2);
    map.set('c', 3);
    assert.equal(map.get('a'), 1); // a is now the most recent: b is the oldest
    map.set('d', 4);
    assert.equal(map.size, 3);
    assert.equal(map.has('b'), false);
    assert.deepEqual(
      ['a', 'c', 'd'].map((k) => map.get(k)),
      [1, 3, 4],
    );
    map.set('c', 30); // setting a held key refreshes it and replaces its value, without growing
    map.set('e', 5);
    assert.equal(map.size, 3);
    assert.equal(map.has('a'), false, 'a was read before c was set: a is the oldest');
    assert.equal(map.get('c'), 30);
  });

  it('setting a held key makes it the most recent', () => {
    const map = new LruMap<string, number>(2);
    map.set('a', 1);
    map.set('b', 2);
    map.set('a', 10); // a was the oldest; now b is
    map.set('c', 3);
    assert.equal(map.has('b'), false);
    assert.equal(map.get('a'), 10);
  });

  it('has() does not refresh a key', () => {
    const map = new LruMap<string, number>(2);
    map.set('a', 1);
    map.set('b', 2);
    assert.equal(map.has('a'), true);
    map.set('c', 3);
    assert.equal(map.has('a'), false);
    assert.equal(map.has('b'), true);
  });

  it('deletes, and a miss neither adds nor refreshes', () => {
    const map = new LruMap<string, number>(2);
    map.set('a', 1);
    assert.equal(map.get('x'), undefined);
    assert.equal(map.size, 1);
    assert.equal(map.delete('a'), true);
    assert.equal(map.delete('a'), false);
    assert.equal(map.get('a'), undefined);
    assert.equal(map.size, 0);
  });

  it('refuses a capacity that is not a positive integer', () => {
    for (const max of [0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY])
      assert.throws(() => new LruMap(max), {
        name: 'RangeError',
        message: `LruMap: max must be a positive integer, got ${max}`,
      });
    assert.equal(new LruMap(1).size, 0);
  });

  it('answers as a plain least-recently-used list would, over any run of reads, writes and deletes', () => {
    // The reference: an array, oldest first. The map keeps one iterator from eviction to eviction and
    // renews it after as many changes as it holds keys: runs long enough to cross renewals with small tables.
    const op = fc.oneof(
      fc.record({ kind: fc.constant('get' as const), key: fc.nat(12) }),
      fc.record({ kind: fc.constant('set' as const), key: fc.nat(12), value: fc.nat() }),
      fc.record({ kind: fc.constant('delete' as const), key: fc.nat(12) }),
      fc.record({ kind: fc.constant('has' as const), key: fc.nat(12) }),
    );
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 6 }), fc.array(op, { maxLength: 300 }), (max, ops) => {
        const map = new LruMap<number, number>(max);
        const model: [number, number][] = [];
        const at = (key: number) => model.findIndex(([k]) => k === key);
        for (const o of ops) {
          const i = at(o.key);
          if (o.kind === 'get') {
            const entry = i >= 0 ? model.splice(i, 1)[0] : undefined;
            if (entry !== undefined) model.push(entry);
            assert.equal(map.get(o.key), entry?.[1]);
          } else if (o.kind === 'set') {
            if (i >= 0) model.splice(i, 1);
            model.push([o.key, o.value]);
            if (model.length > max) model.shift();
            map.set(o.key, o.value);
          } else if (o.kind === 'delete') {
            if (i >= 0) model.splice(i, 1);
            assert.equal(map.delete(o.key), i >= 0);
          } else {
            assert.equal(map.has(o.key), i >= 0);
          }
          assert.equal(map.size, model.length);
        }
        for (const [key] of model) assert.equal(map.has(key), true);
      }),
      { numRuns: 500 },
    );
  });

  it('reading and refreshing held keys of a full map, without evictions, does not grow the heap', () => {
    // Each refresh leaves a hole the Map reclaims by rebuilding its table; an iterator kept for evictions
    // would keep every outgrown table alive (7 MiB each at 100 000 keys) until the next eviction.
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const heap = (): number => {
      gc();
      return process.memoryUsage().heapUsed;
    };
    const map = new LruMap<string, number>(100_000);
    for (let i = 0; i <= 100_000; i++) map.set(`key-${i}`, i); // one eviction: the iterator is in use
    // Reads alone, then sets of held keys alone: each refreshes a key, and either may be all a table sees.
    const refreshes = [
      (i: number) => map.get(`key-${1000 + (i % 100)}`),
      (i: number) => {
        map.set(`key-${2000 + (i % 100)}`, i);
      },
    ];
    for (const refresh of refreshes) {
      const before = heap();
      for (let i = 0; i < 1_000_000; i++) refresh(i);
      const grown = heap() - before;
      assert.ok(grown < 24 * 1024 * 1024, `the heap grew by ${(grown / 1024 / 1024).toFixed(1)} MiB`);
    }
    assert.equal(map.size, 100_000);
  });
});
