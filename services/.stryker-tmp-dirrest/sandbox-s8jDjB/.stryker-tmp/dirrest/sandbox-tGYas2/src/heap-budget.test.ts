// @ts-nocheck
// 
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { HEAP_BASE, HEAP_PER_CACHED_CREDENTIAL, heapWarnings } from './heap-budget.ts';

const MiB = 1024 * 1024;
// The container image's limit: --max-old-space-size=256 plus a young generation of 1 MiB semi-spaces.
const IMAGE_LIMIT = 259 * MiB;

describe('heapWarnings', () => {
  it('is quiet for the default cache and for 100 000 entries under the image heap limit', () => {
    assert.deepEqual(heapWarnings(10_000, IMAGE_LIMIT), []);
    assert.deepEqual(heapWarnings(100_000, IMAGE_LIMIT), []);
  });

  it('names the variable, the heap needed and both ways out when the cache could outgrow the heap', () => {
    const [warning, ...more] = heapWarnings(1_000_000, IMAGE_LIMIT);
    assert.equal(more.length, 0);
    const needed = Math.round((HEAP_BASE + 1_000_000 * HEAP_PER_CACHED_CREDENTIAL) / MiB);
    assert.equal(needed, 1073);
    assert.match(warning ?? '', /^CACHE_MAX_ENTRIES=1000000 may need up to 1073 MiB of heap/);
    assert.match(warning ?? '', /limit of 259 MiB/);
    assert.match(warning ?? '', /--max-old-space-size in NODE_OPTIONS to at least 1073/);
    assert.match(warning ?? '', /lower CACHE_MAX_ENTRIES/);
  });

  it('warns from the first entry past the limit, not before', () => {
    const fits = (IMAGE_LIMIT - HEAP_BASE) / HEAP_PER_CACHED_CREDENTIAL;
    assert.deepEqual(heapWarnings(Math.floor(fits), IMAGE_LIMIT), []);
    assert.equal(heapWarnings(Math.floor(fits) + 1, IMAGE_LIMIT).length, 1);
  });
});
