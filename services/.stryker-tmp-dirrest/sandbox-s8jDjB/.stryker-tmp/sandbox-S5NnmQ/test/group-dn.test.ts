// @ts-nocheck
// 
// Grants by DN and by name against a real slapd, through the real sidecar process. DNs compare per RFC 4514
// (values unescaped), so a group whose name differs by one escaped space is another group; a grant by
// name matches a group of that name anywhere under LDAP_GROUP_BASE_DN, which the start-up warning names.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { basic } from '@registry-ldap-auth/stack/credentials';
import { decide, startSidecar } from '@registry-ldap-auth/stack/sidecar';
import type { Sidecar } from '@registry-ldap-auth/stack/sidecar';
import { seed, startSlapd } from '@registry-ldap-auth/stack/slapd';
import type { Slapd } from '@registry-ldap-auth/stack/slapd';
import { openldapEnv } from './support/openldap-env.ts';

const { bob, carol } = seed.users;
const OPS = `cn=Ops\\, EMEA,${seed.groupsDn}`;
// Another group: its name has no space after the comma.
const LOOK_ALIKE = `cn=Ops\\,EMEA,${seed.groupsDn}`;
// A group of the seeded pushers' name, where the users are: what a self-service portal could create.
const IMPOSTOR = `cn=${seed.groups.pushers.cn},${seed.peopleDn}`;

const EXTRA = [
  `dn: ${OPS}\nobjectClass: groupOfNames\ncn: Ops, EMEA\nmember: ${carol.dn}\n`,
  `dn: ${LOOK_ALIKE}\nobjectClass: groupOfNames\ncn: Ops,EMEA\nmember: ${bob.dn}\n`,
  `dn: ${IMPOSTOR}\nobjectClass: groupOfNames\ncn: ${seed.groups.pushers.cn}\nmember: ${carol.dn}\n`,
].join('\n');

const PUSH = '/v2/team/app/manifests/v1';
const PULL = '/v2/team/app/tags/list';

let slapd: Slapd;
const sidecars: Sidecar[] = [];

before(async () => {
  slapd = await startSlapd({ extraLdif: EXTRA });
});
after(async () => {
  for (const s of sidecars) await s.stop();
  await slapd.destroy();
});

async function sidecarWith(env: Record<string, string>): Promise<Sidecar> {
  const sidecar = await startSidecar(openldapEnv(slapd, env));
  sidecars.push(sidecar);
  return sidecar;
}

const status = async (sidecar: Sidecar, user: { uid: string; password: string }, uri: string) =>
  (await decide(sidecar, uri === PUSH ? 'PUT' : 'GET', uri, basic(user.uid, user.password))).status;

describe('grants by DN', () => {
  let sidecar: Sidecar;
  before(async () => {
    sidecar = await sidecarWith({
      // The same DN written two ways: as the directory spells it, and upper case with a hex escape.
      AUTH_PUSH_GROUPS: OPS,
      AUTH_PULL_GROUPS: `CN=OPS\\2C  emea , OU=Groups,DC=example,DC=test`,
      AUTH_DELETE_GROUPS: '',
    });
  });

  it('admit the members of that group, however the DN is spelt', async () => {
    assert.equal(await status(sidecar, carol, PUSH), 200);
    assert.equal(await status(sidecar, carol, PULL), 200);
  });

  it('do not admit a group whose name differs by one escaped space (`\\,` vs `\\, `)', async () => {
    assert.equal(await status(sidecar, bob, PUSH), 403);
    assert.equal(await status(sidecar, bob, PULL), 403);
  });
});

describe('grants by name with the users inside LDAP_GROUP_BASE_DN', () => {
  it('are matched by a same-named group among the users, and the sidecar warned of it at start', async () => {
    const byName = await sidecarWith({
      LDAP_GROUP_BASE_DN: seed.baseDn,
      AUTH_PUSH_GROUPS: seed.groups.pushers.cn,
    });
    assert.equal(await status(byName, carol, PUSH), 200, 'the impostor group grants by name');
    const warnings = (await byName.logLines()).filter((l) => l['level'] === 40 || l['level'] === 'warn');
    assert.ok(
      warnings.some((l) => String(l['msg']).includes(`AUTH_PUSH_GROUPS: ${seed.groups.pushers.cn}`)),
      JSON.stringify(warnings),
    );
  });

  it('a grant by DN names one entry: the same-named group grants nothing', async () => {
    const byDn = await sidecarWith({
      LDAP_GROUP_BASE_DN: seed.baseDn,
      AUTH_PUSH_GROUPS: seed.groups.pushers.dn,
      AUTH_PULL_GROUPS: '',
      AUTH_DELETE_GROUPS: '',
    });
    assert.equal(await status(byDn, carol, PUSH), 403);
    const warnings = (await byDn.logLines()).filter((l) => /granted by name/.test(String(l['msg'])));
    assert.deepEqual(warnings, []);
  });
});
