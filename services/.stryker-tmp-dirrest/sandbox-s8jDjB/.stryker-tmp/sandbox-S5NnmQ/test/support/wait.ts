// @ts-nocheck
// 
// Waiting for an event with a deadline: a condition polled until it holds, never a fixed sleep.
import { setTimeout as sleep } from 'node:timers/promises';
import type { Sidecar } from '@registry-ldap-auth/stack/sidecar';

/** Resolves with the first truthy value of `check`; rejects naming `what` after `timeoutMs`. */
export async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined | false> | T | undefined | false,
  timeoutMs: number,
  intervalMs = 100,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(intervalMs);
  }
}

/** Waits for a log line of the sidecar matching `predicate` (after the first `skip` lines). */
export function waitForLog(
  sidecar: Pick<Sidecar, 'logLines'>,
  predicate: (line: Record<string, unknown>) => boolean,
  timeoutMs: number,
  skip = 0,
): Promise<Record<string, unknown>> {
  return waitFor(
    `a log line matching ${predicate.toString()}`,
    async () => (await sidecar.logLines()).slice(skip).find(predicate),
    timeoutMs,
  );
}
