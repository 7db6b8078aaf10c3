// The end of an in-process directory suite: the log check first, then whatever the tests started, the
// slapd and the scratch directory, however the check went.
import { rm } from 'node:fs/promises';
import { assertNoSecretsInLogs } from '@registry-ldap-auth/stack/credentials';
import type { Slapd } from '@registry-ldap-auth/stack/slapd';

export async function checkLogsThenStop(
  cleanup: readonly (() => Promise<void>)[],
  slapd: Slapd,
  dir: string,
): Promise<void> {
  try {
    await assertNoSecretsInLogs();
  } finally {
    await Promise.all(cleanup.map((f) => f()));
    await slapd.destroy();
    await rm(dir, { recursive: true, force: true });
  }
}
