// The one way tests build HTTP Basic credentials, and the one check that none of them reached a log.
// Every username/password pair built here (or handed to skopeo) is remembered for the life of the test
// process, so the check looks for every password a test sent (wrong ones included), not only the seeded
// ones, in every Authorization form: the password itself, its base64, and the header's token.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { seed } from './seed/openldap.ts';

/** password → the usernames it was sent with. */
const sent = new Map<string, Set<string>>();

/** Records a credential a test is about to send by other means (skopeo's --creds, a raw header). */
export function remember(username: string, password: string): void {
  let users = sent.get(password);
  if (users === undefined) sent.set(password, (users = new Set()));
  users.add(username);
}

/** `Authorization: Basic …` (RFC 7617, UTF-8); the pair is remembered for the log check. */
export function basic(username: string, password: string): string {
  remember(username, password);
  return `Basic ${basicToken(username, password)}`;
}

function basicToken(username: string, password: string): string {
  return Buffer.from(`${username}:${password}`, 'utf8').toString('base64');
}

// Shorter passwords ('x', 'wrong') occur in ordinary text; their Authorization tokens are still checked.
const MIN_PLAIN_LENGTH = 6;

// The seeded directory's passwords (users, the service account, the admin) are always looked for, sent or not.
const SEEDED = [
  ...Object.values(seed.users).map((u) => u.password),
  seed.service.password,
  seed.admin.password,
];

/** Every string whose presence in a log would leak a credential sent so far, a seeded one, or one of `extra`. */
export function secretNeedles(extra: readonly string[] = []): Set<string> {
  for (const password of [...SEEDED, ...extra]) remember('', password);
  const needles = new Set<string>();
  for (const [password, users] of sent) {
    if (password.length >= MIN_PLAIN_LENGTH) {
      needles.add(password);
      needles.add(Buffer.from(password, 'utf8').toString('base64'));
    }
    for (const user of users) if (user !== '') needles.add(basicToken(user, password));
  }
  return needles;
}

// Any Basic header value, whoever it belongs to.
const ANY_BASIC = /Basic\s+[A-Za-z0-9+/]{6,}={0,2}/;

interface WatchedLog {
  readonly file: string;
  /** May be empty or absent (an error log of a clean run); others must hold something. */
  readonly optional: boolean;
  /** Makes the log complete before it is read (the sidecar writes in batches). */
  readonly flush: (() => Promise<void>) | undefined;
}

const watched = new Map<string, WatchedLog>();

/**
 * Adds a log of a process this test file started to the ones assertNoSecretsInLogs reads. The launchers in
 * this workspace call it for every server they start; the returned function forgets the log again (for an
 * owner that deletes it).
 */
export function watchLog(
  file: string,
  options: { optional?: boolean; flush?: () => Promise<void> } = {},
): () => void {
  watched.set(file, { file, optional: options.optional ?? false, flush: options.flush });
  return () => watched.delete(file);
}

/**
 * Fails if any watched log (every sidecar, nginx, registry, slapd and Samba log this test file started)
 * holds a credential a test sent, one of `passwords`, or any Basic Authorization value. Names the file and
 * the kind of secret, never the secret. Call it before the servers are destroyed: a suite's first `after`.
 */
export async function assertNoSecretsInLogs(passwords: readonly string[] = []): Promise<void> {
  const needles = secretNeedles(passwords);
  const logs = [...watched.values()];
  assert.ok(
    logs.some((log) => !log.optional),
    'no log is watched: the check would prove nothing',
  );
  for (const log of logs) {
    await log.flush?.();
    let text = '';
    try {
      text = await readFile(log.file, 'utf8');
    } catch (error) {
      if (!log.optional) throw error; // a missing log is a failure, never a pass
    }
    if (!log.optional) assert.ok(text.length > 0, `${log.file} is empty: the check would prove nothing`);
    assert.doesNotMatch(text, ANY_BASIC, `${log.file} holds an Authorization value`);
    for (const needle of needles) {
      assert.ok(!text.includes(needle), `${log.file} holds a secret a test sent (${needle.length} chars)`);
    }
  }
}
