// @ts-nocheck
// 
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { grantWarnings } from './grant-warnings.ts';

const policy = {
  pushGroups: ['registry-pushers@team/*', 'cn=registry-ci,ou=groups,dc=example,dc=test'],
  pullGroups: [],
  deleteGroups: ['CN=registry-admins,OU=Groups,DC=example,DC=test'],
  catalogGroups: ['auditors'],
};
const people = 'ou=people,dc=example,dc=test';

describe('grantWarnings', () => {
  it('warns when names are granted and the group base is the user base (the default)', () => {
    const [warning, ...rest] = grantWarnings(policy, { userBaseDn: people, groupBaseDn: people });
    assert.deepEqual(rest, []);
    assert.match(warning ?? '', /AUTH_PUSH_GROUPS: registry-pushers; AUTH_CATALOG_GROUPS: auditors\)/);
    assert.match(warning ?? '', /Grant by DN/);
    assert.doesNotMatch(warning ?? '', /registry-ci|registry-admins/);
  });

  it('warns when the group base holds the user base, however the DNs are spelt', () => {
    assert.equal(grantWarnings(policy, { userBaseDn: people, groupBaseDn: 'DC=Example, DC=Test' }).length, 1);
  });

  it('is silent when the groups have a subtree of their own, or every grant is a DN', () => {
    assert.deepEqual(
      grantWarnings(policy, { userBaseDn: people, groupBaseDn: 'ou=groups,dc=example,dc=test' }),
      [],
    );
    const byDn = { ...policy, pushGroups: ['cn=p,ou=groups,dc=example,dc=test'], catalogGroups: [] };
    assert.deepEqual(grantWarnings(byDn, { userBaseDn: people, groupBaseDn: people }), []);
  });
});
