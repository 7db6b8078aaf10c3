// LDAP operations slapd performed in a window of its `-d stats` log: every simple bind (any DN) and every
// search. slapd.ts counts binds for one DN and searches since seeding; a benchmark needs all of them between
// two points in time, so it reads the log from a byte offset it took itself.
import { readFile, stat } from 'node:fs/promises';

export interface LdapSearch {
  base: string;
  /** 0 base, 1 one level, 2 subtree (RFC 4511 4.5.1.2). */
  scope: number;
  filter: string;
}

export interface LdapOps {
  /** DN of each simple bind, in log order. */
  binds: string[];
  searches: LdapSearch[];
}

/** The current end of the log: pass it to `ldapOpsSince` later. */
export async function logOffset(logFile: string): Promise<number> {
  return (await stat(logFile)).size;
}

export async function ldapOpsSince(logFile: string, offset: number): Promise<LdapOps> {
  const text = (await readFile(logFile)).subarray(offset).toString('utf8');
  // slapd 2.5 logs a simple bind twice (`method=128`, then `mech=SIMPLE` on success): count the first.
  const binds = [...text.matchAll(/ BIND dn="(.*)" method=128$/gm)].map((m) => m[1] ?? '');
  const searches = [...text.matchAll(/ SRCH base="(.*)" scope=(\d) deref=\d filter="(.*)"$/gm)].map((m) => ({
    base: m[1] ?? '',
    scope: Number(m[2]),
    filter: m[3] ?? '',
  }));
  return { binds, searches };
}

/** `dn ×n` per distinct DN, in order of first appearance. */
export function countByDn(binds: readonly string[]): string[] {
  const counts = new Map<string, number>();
  for (const dn of binds) counts.set(dn, (counts.get(dn) ?? 0) + 1);
  return [...counts].map(([dn, n]) => `${dn} ×${n}`);
}
