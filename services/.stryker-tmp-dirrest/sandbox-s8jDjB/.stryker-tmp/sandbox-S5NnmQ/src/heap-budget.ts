// @ts-nocheck
// 
// Start-up advice when the credential cache could outgrow V8's heap limit (NODE_OPTIONS
// --max-old-space-size): the cache evicts at CACHE_MAX_ENTRIES, but a heap limit reached first ends the
// process instead.

/**
 * Heap per cached credential, with room to spare: `npm run bench:scale` measures about 525 bytes for a
 * user whose group list other users share; an Active Directory account in dozens of groups of its own
 * holds a list of its own.
 */
export const HEAP_PER_CACHED_CREDENTIAL = 1024;
/** The service's own heap before any credential is cached, and lockout state under a guessing flood. */
export const HEAP_BASE = 96 * 1024 * 1024;

const mib = (bytes: number): string => (bytes / 1024 / 1024).toFixed(0);

/** The heap a full cache needs against `heapLimit` (v8.getHeapStatistics().heap_size_limit). */
export function heapWarnings(maxEntries: number, heapLimit: number): string[] {
  const needed = HEAP_BASE + maxEntries * HEAP_PER_CACHED_CREDENTIAL;
  if (needed <= heapLimit) return [];
  return [
    `CACHE_MAX_ENTRIES=${maxEntries} may need up to ${mib(needed)} MiB of heap, more than this process's ` +
      `limit of ${mib(heapLimit)} MiB: raise --max-old-space-size in NODE_OPTIONS to at least ${mib(needed)} ` +
      `(the container image sets 256), or lower CACHE_MAX_ENTRIES`,
  ];
}
