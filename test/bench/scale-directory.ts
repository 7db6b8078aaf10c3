// Many users for the scale benchmark: an LDIF generated here (people under ou=people, in teams of 100,
// every team nested in one group the sidecar grants pull to, as directories of real organisations look),
// loaded into a running slapd either over the wire (ldapadd: the memberof overlay writes memberOf on
// every member) or offline (slapadd -q with slapd stopped: no overlays run, nothing is checked).
import { createWriteStream } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { once } from 'node:events';
import { NO_STDIN } from '@registry-ldap-auth/stack/certs';
import { run } from '@registry-ldap-auth/stack/process';
import type { Slapd } from '@registry-ldap-auth/stack/slapd';
import { seed } from '@registry-ldap-auth/stack/slapd';

export type Loader = 'slapadd' | 'ldapadd';

/** The group every generated team is a member of; the sidecar under test grants it pull. */
export const SCALE_GROUP = 'scale-pullers';
const TEAM_SIZE = 100;
const TOOL_OPTIONS = { ...NO_STDIN, env: { ...process.env, LDAPNOINIT: '1' } };

export interface ScaleUser {
  readonly uid: string;
  readonly password: string;
}

/**
 * The i-th generated user. The password is stored in clear (a plain `userPassword`): slapd then compares
 * bytes on a bind instead of hashing, so verifying 100 000 users costs the sidecar's path, not SSHA. These
 * passwords are benchmark data and are never written to a log by the sidecar (the audit line has no password).
 */
export function scaleUser(i: number): ScaleUser {
  const uid = `s${String(i).padStart(6, '0')}`;
  return { uid, password: `scale-${uid}-pw` };
}

const teamCn = (team: number): string => `scale-team-${String(team).padStart(4, '0')}`;
const userDn = (uid: string): string => `uid=${uid},${seed.peopleDn}`;

/** Writes `count` users, their teams and the parent group as LDIF to `file` (streamed: 100 000 users is ~40 MB). */
export async function writeScaleLdif(file: string, count: number): Promise<void> {
  const out = createWriteStream(file);
  const write = async (text: string): Promise<void> => {
    if (!out.write(text)) await once(out, 'drain');
  };
  for (let i = 0; i < count; i++) {
    const { uid, password } = scaleUser(i);
    await write(
      `dn: ${userDn(uid)}\nobjectClass: inetOrgPerson\nuid: ${uid}\ncn: Scale ${uid}\nsn: ${uid}\n` +
        `mail: ${uid}@example.org\nuserPassword: ${password}\n\n`,
    );
  }
  const teams = Math.ceil(count / TEAM_SIZE);
  for (let team = 0; team < teams; team++) {
    const members: string[] = [];
    for (let i = team * TEAM_SIZE; i < Math.min(count, (team + 1) * TEAM_SIZE); i++) {
      members.push(`member: ${userDn(scaleUser(i).uid)}`);
    }
    await write(
      `dn: cn=${teamCn(team)},${seed.groupsDn}\nobjectClass: groupOfNames\ncn: ${teamCn(team)}\n${members.join('\n')}\n\n`,
    );
  }
  const teamMembers = Array.from({ length: teams }, (_, t) => `member: cn=${teamCn(t)},${seed.groupsDn}`);
  await write(
    `dn: cn=${SCALE_GROUP},${seed.groupsDn}\nobjectClass: groupOfNames\ncn: ${SCALE_GROUP}\n${teamMembers.join('\n')}\n`,
  );
  out.end();
  await once(out, 'finish');
}

// back-mdb's map is 10 MiB unless configured: about 4 000 users with this schema's indexes. The map is
// a sparse file, so a large one costs only what is written.
const MAP_SIZE = 4 * 1024 ** 3;

/** Loads `count` generated users into `slapd` with `loader`; resolves with the time the load took, in ms. */
export async function loadScaleUsers(slapd: Slapd, count: number, loader: Loader): Promise<number> {
  const file = join(slapd.dir, 'scale.ldif');
  await writeScaleLdif(file, count);
  const configDir = join(slapd.dir, 'slapd.d');
  const mapSize = join(slapd.dir, 'map-size.ldif');
  await writeFile(
    mapSize,
    `dn: olcDatabase={1}mdb,cn=config\nchangetype: modify\nreplace: olcDbMaxSize\nolcDbMaxSize: ${MAP_SIZE}\n`,
  );
  // cn=config and (for slapadd) the database are written offline: slapd must not have them open.
  await slapd.stop();
  let started = performance.now();
  try {
    await run('slapmodify', ['-n0', '-F', configDir, '-l', mapSize], TOOL_OPTIONS);
    if (loader === 'slapadd') {
      // -q skips consistency checks (the LDIF is generated and its parents exist): that makes it fast.
      started = performance.now();
      await run('slapadd', ['-q', '-F', configDir, '-b', slapd.baseDn, '-l', file], TOOL_OPTIONS);
      return performance.now() - started;
    }
  } finally {
    await slapd.start();
  }
  started = performance.now();
  const bind = ['-x', '-H', slapd.url, '-D', slapd.adminDn, '-w', slapd.adminPassword];
  await run('ldapadd', [...bind, '-f', file], TOOL_OPTIONS);
  return performance.now() - started;
}
