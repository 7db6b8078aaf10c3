// @ts-nocheck
// 
// Helpers for the tests against a real Active Directory (stack/samba-ad.ts): the sidecar's environment
// for the seeded domain, and ways to see what the DC itself saw, so that "no further bind" and "the account
// is not locked" are facts read from AD rather than from the sidecar under test.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { waitFor } from '@registry-ldap-auth/stack/process';
import { Client } from 'ldapts';
import type { SambaAd } from '@registry-ldap-auth/stack/samba-ad';
import { decide } from '@registry-ldap-auth/stack/sidecar';
import type { Sidecar } from '@registry-ldap-auth/stack/sidecar';

import { bindError } from '@registry-ldap-auth/stack/samba-ad';

export { bindError, sidecarEnvForAd as adEnv } from '@registry-ldap-auth/stack/samba-ad';

const SYSTEM_ENV = { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', LC_ALL: 'C.UTF-8' };

/**
 * Turns on Samba's authentication audit (`auth_audit:3`: one "Auth: [LDAP,simple bind/TLS] …" line per
 * bind, successful or not) in every process of the running DC. smbcontrol reaches only the processes that
 * listen for messages; the others refuse, which is expected, so a refusal is not an error here. Call it
 * again after `ad.start()`.
 */
export async function enableBindAudit(ad: SambaAd): Promise<void> {
  const conf = join(ad.dir, 'smb.conf'); // where samba-ad.ts writes it
  const answers = await Promise.all(
    (await ad.netns.pids()).map((pid) =>
      ad.netns
        .exec('smbcontrol', ['-s', conf, String(pid), 'debug', '1 auth_audit:3'], { env: SYSTEM_ENV })
        .then(
          () => true,
          () => false, // not a messaging process (e.g. a prefork supervisor): nothing to set
        ),
    ),
  );
  if (!answers.includes(true)) throw new Error('no Samba process accepted the debug level');
}

export interface AdBinds {
  /** NT status of each bind the DC saw for the account, oldest first (NT_STATUS_OK, NT_STATUS_WRONG_PASSWORD, …). */
  readonly statuses: readonly string[];
  readonly ok: number;
  readonly failed: number;
}

let markers = 0;

/**
 * Simple binds the DC logged for the account `sam` (sAMAccountName) since enableBindAudit. Every bind
 * already answered is in the log: the DC logs a bind before it answers, so a marker bind (an unknown name,
 * refused) is logged after all of them, and once the marker's line is there the count is complete.
 */
export async function adBinds(ad: SambaAd, sam: string): Promise<AdBinds> {
  const marker = `flush-marker-${++markers}`;
  await bindError(ad, `${marker}@${ad.realm.toLowerCase()}`, 'not-a-password');
  await waitFor(
    async () => (await readFile(ad.logFile, 'utf8')).includes(marker),
    10_000,
    `the DC's audit line for ${marker}`,
  );
  const log = await readFile(ad.logFile, 'utf8');
  const statuses: string[] = [];
  // "… status [NT_STATUS_OK] … became [EXAMPLE]\[alice] …" or "… mapped to [EXAMPLE]\[alice]." on failure.
  const line =
    /^Auth: \[LDAP,simple bind[^\]]*\] .* status \[(\w+)\] .* (?:became|mapped to) \[([^\]]*)\]\\\[([^\]]*)\]/;
  for (const text of log.split('\n')) {
    const m = line.exec(text);
    if (m?.[1] !== undefined && m[2] === ad.domain && m[3]?.toLowerCase() === sam.toLowerCase())
      statuses.push(m[1]);
  }
  const ok = statuses.filter((s) => s === 'NT_STATUS_OK').length;
  return { statuses, ok, failed: statuses.length - ok };
}

async function client(ad: SambaAd): Promise<Client> {
  return new Client({
    url: ad.ldapsUrl,
    tlsOptions: { ca: [await readFile(ad.caCert, 'utf8')] },
    connectTimeout: 3000,
    timeout: 5000,
  });
}

/** The account's lockout state as the domain administrator reads it. */
export async function lockoutState(
  ad: SambaAd,
  sam: string,
): Promise<{ badPwdCount: number; lockoutTime: number }> {
  const c = await client(ad);
  try {
    await c.bind(ad.adminUpn, ad.adminPassword);
    const { searchEntries } = await c.search(ad.usersDn, {
      filter: `(sAMAccountName=${sam})`,
      attributes: ['badPwdCount', 'lockoutTime'],
    });
    const [entry] = searchEntries;
    if (entry === undefined) throw new Error(`no account ${sam}`);
    // lockoutTime is absent until the account is first locked, and 0 once unlocked.
    const number = (v: unknown) => Number(Array.isArray(v) ? (v[0] ?? 0) : (v ?? 0));
    return { badPwdCount: number(entry['badPwdCount']), lockoutTime: number(entry['lockoutTime']) };
  } finally {
    await c.unbind();
  }
}

/** A subtree search as the service account: entries' DNs and the continuation references (never chased). */
export async function serviceSearch(
  ad: SambaAd,
  base: string,
  filter: string,
): Promise<{ dns: string[]; references: string[] }> {
  const c = await client(ad);
  try {
    await c.bind(ad.serviceDn, ad.servicePassword);
    const { searchEntries, searchReferences } = await c.search(base, { filter, attributes: ['1.1'] });
    return { dns: searchEntries.map((e) => e.dn), references: searchReferences };
  } finally {
    await c.unbind();
  }
}

/** Creates an ordinary domain user (no groups) for tests that spend its bad-password count. */
export async function createUser(ad: SambaAd, sam: string, password: string): Promise<string> {
  await ad.samba(['user', 'create', sam, password, '--use-username-as-cn']);
  return `CN=${sam},${ad.usersDn}`;
}

/** The audit lines (msg "decision") the sidecar has written so far. */
export async function decisions(sidecar: Sidecar): Promise<Record<string, unknown>[]> {
  return (await sidecar.logLines()).filter((l) => l['msg'] === 'decision');
}

/**
 * Asks the sidecar (as nginx does) and returns the answer with its audit line. The line is written just
 * after the answer, through an asynchronous stdout, so it is awaited (bounded); requests must not overlap.
 */
export async function decideAudited(
  sidecar: Sidecar,
  method: string,
  uri: string,
  authorization: string,
): Promise<{ res: Response; line: Record<string, unknown> }> {
  const seen = (await decisions(sidecar)).length;
  const res = await decide(sidecar, method, uri, authorization);
  for (let i = 0; i < 100; i++) {
    const line = (await decisions(sidecar))[seen];
    if (line !== undefined) return { res, line };
    await sleep(20);
  }
  throw new Error(`no audit line for ${method} ${uri} within 2 s`);
}

/** The value of one sample of a Prometheus counter or gauge, 0 when the series does not exist yet. */
export async function metric(sidecar: Sidecar, series: string): Promise<number> {
  const text = await (await fetch(`${sidecar.metricsUrl}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? 0 : Number(line.slice(series.length + 1));
}
