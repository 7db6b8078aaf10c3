// The log check: no password and no Authorization value may reach any log of the stack.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Stack } from '@registry-ldap-auth/stack/stack';
import { seed } from '@registry-ldap-auth/stack/slapd';
import { basic } from './fixture.ts';

// The sidecar writes its log in batches at least every 100 ms: wait for the last one.
const LOG_SETTLE_MS = 150;

/** Every seeded password (users and service account); add the wrong ones a test sent. */
export function seededPasswords(): string[] {
  return [...Object.values(seed.users).map((u) => u.password), seed.service.password, seed.admin.password];
}

/**
 * Fails if a log holds one of `passwords`, or the base64 credentials a client would send with it for any
 * seeded user (the Authorization value), in plain or base64 form.
 */
export async function assertNoSecretsInLogs(
  stack: Stack,
  passwords: readonly string[],
  extraLogs: readonly string[] = [],
): Promise<void> {
  const logs = [
    stack.logs.sidecar,
    stack.logs.nginxAccess,
    stack.logs.nginxError,
    stack.logs.registry,
    ...extraLogs,
  ];
  await sleep(LOG_SETTLE_MS);
  const needles = new Set<string>();
  for (const password of passwords) {
    needles.add(password);
    needles.add(Buffer.from(password, 'utf8').toString('base64'));
    for (const user of Object.values(seed.users)) {
      needles.add(basic(user.uid, password).slice('Basic '.length));
    }
  }
  for (const file of logs) {
    const text = await readFile(file, 'utf8');
    assert.ok(text.length > 0, `${file} is empty: the check would prove nothing`);
    for (const needle of needles) {
      assert.ok(!text.includes(needle), `${file} contains a secret (${needle.slice(0, 4)}…)`);
    }
  }
}
