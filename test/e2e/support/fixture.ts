// One stack, one skopeo and one scratch dir per e2e file, torn down in `after` even if `before` failed
// half-way; plus the seeded users as skopeo credentials.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { assertNoSecretsInLogs, basic } from '@registry-ldap-auth/stack/credentials';
import { stopAll } from '@registry-ldap-auth/stack/process';
import { createSkopeo } from '@registry-ldap-auth/stack/skopeo';
import type { Credentials, Skopeo } from '@registry-ldap-auth/stack/skopeo';
import { seed } from '@registry-ldap-auth/stack/slapd';
import { startStack } from '@registry-ldap-auth/stack/stack';
import type { Stack, StackOptions } from '@registry-ldap-auth/stack/stack';

// The one Basic-header helper (stack/credentials.ts), re-exported for the e2e files.
export { basic };

export interface E2e {
  readonly stack: Stack;
  readonly skopeo: Skopeo;
  /** Scratch space for OCI layouts and pulled images. */
  readonly work: string;
}

type UserName = keyof typeof seed.users;

export const creds = (name: UserName): Credentials => ({
  username: seed.users[name].uid,
  password: seed.users[name].password,
});

export const authAs = (name: UserName): Record<string, string> => ({
  Authorization: basic(seed.users[name].uid, seed.users[name].password),
});

/** Returns the fixture and its teardown; use as `before(async () => ({ e2e, teardown } = await startE2e()))`. */
export async function startE2e(
  options: StackOptions = {},
): Promise<{ e2e: E2e; teardown: () => Promise<void> }> {
  const undo: (() => Promise<void>)[] = [];
  let started = false;
  // Every e2e file ends with the log check, before the logs are removed with the stack.
  const teardown = async (): Promise<void> => {
    try {
      if (started) await assertNoSecretsInLogs();
    } finally {
      for (const step of undo.splice(0).reverse()) await step();
      await stopAll(); // whatever a failed start left running
    }
  };
  try {
    const work = await mkdtemp(join(tmpdir(), 'e2e-'));
    undo.push(() => rm(work, { recursive: true, force: true }));
    const stack = await startStack({ registryDelete: true, ...options });
    undo.push(() => stack.stop());
    const skopeo = await createSkopeo(stack.caCert);
    undo.push(() => skopeo.destroy());
    started = true;
    return { e2e: { stack, skopeo, work }, teardown };
  } catch (error) {
    await teardown();
    throw error;
  }
}
