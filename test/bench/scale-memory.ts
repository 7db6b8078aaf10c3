// Resident memory of a sidecar holding many verified credentials: a fresh sidecar whose cache is filled by
// real decisions (each a search, a bind and the group searches against slapd: every entry is a verified
// one), asked directly on its decision port as nginx would (nginx adds nothing to what the cache holds),
// with RSS read from /proc at checkpoints.
import { setTimeout as sleep } from 'node:timers/promises';
import type { Sidecar } from '@registry-ldap-auth/stack/sidecar';
import { scaleUser } from './scale-directory.ts';
import { basicAuth, createClient, metricSum, pool, procStats } from './scale-load.ts';

export interface MemoryCheckpoint {
  entries: number;
  /** Decisions answered 200 so far. */
  verified: number;
  rssBytes: number;
  heapUsedBytes: number;
  /** V8's heap as committed (used or not), and memory outside it that V8 accounts for (Buffers). */
  heapTotalBytes: number;
  externalBytes: number;
  /** Seconds since the fill began. */
  at: number;
  /** Taken after the sidecar sat idle for IDLE_MS. */
  idle?: boolean;
}

const IDLE_MS = 20_000;

export interface MemoryResult {
  checkpoints: MemoryCheckpoint[];
  /** Decisions that did not answer 200 (should be none). */
  failed: number;
  decisionsPerSecond: number;
}

async function checkpoint(sidecar: Sidecar, verified: number, started: number): Promise<MemoryCheckpoint> {
  const text = await (await fetch(`${sidecar.metricsUrl}/metrics`)).text();
  const { rssBytes } = await procStats(sidecar.server.child.pid ?? 0);
  return {
    entries: metricSum(text, 'registry_auth_cache_entries'),
    verified,
    rssBytes,
    heapUsedBytes: metricSum(text, 'nodejs_heap_size_used_bytes'),
    heapTotalBytes: metricSum(text, 'nodejs_heap_size_total_bytes'),
    externalBytes: metricSum(text, 'nodejs_external_memory_bytes'),
    at: (performance.now() - started) / 1000,
  };
}

/** Verifies users 0..targets[-1]-1 once each; a checkpoint before the first and at each target. */
export async function fillCache(
  sidecar: Sidecar,
  targets: readonly number[],
  concurrency: number,
  deadline: number,
): Promise<MemoryResult> {
  const client = createClient(sidecar.url, concurrency);
  const started = performance.now();
  let verified = 0;
  let failed = 0;
  const checkpoints = [await checkpoint(sidecar, 0, started)];
  try {
    let from = 0;
    for (const target of targets) {
      await pool(target - from, concurrency, deadline, async (i) => {
        const { uid, password } = scaleUser(from + i);
        const reply = await client.send('/auth', {
          headers: {
            'X-Original-Method': 'GET',
            'X-Original-URI': '/v2/',
            Authorization: basicAuth(uid, password),
          },
        });
        if (reply.status === 200) verified++;
        else failed++;
      });
      from = target;
      checkpoints.push(await checkpoint(sidecar, verified, started));
      if (performance.now() >= deadline) break;
    }
    // Idle, V8 collects what the fill left behind and may give pages back: what a quiet hour looks like.
    await sleep(IDLE_MS);
    checkpoints.push({ ...(await checkpoint(sidecar, verified, started)), idle: true });
  } finally {
    client.close();
  }
  return {
    checkpoints,
    failed,
    decisionsPerSecond: (verified + failed) / ((performance.now() - started) / 1000),
  };
}
