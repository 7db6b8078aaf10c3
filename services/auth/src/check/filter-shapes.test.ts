import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { IN_CHAIN_MEMBER, PRESETS } from '../directory/presets.ts';
import { groupsFilter, usersFilter } from './filter-shapes.ts';

describe('filter shapes', () => {
  it('turns the user clause into a presence test', () => {
    assert.equal(usersFilter(PRESETS.openldap.userFilter), '(&(objectClass=inetOrgPerson)(uid=*))');
    assert.equal(
      usersFilter(PRESETS.activedirectory.userFilter),
      '(&(objectCategory=person)(objectClass=user)(|(sAMAccountName=*)(userPrincipalName=*)))',
    );
  });

  it('drops the member clause of a group filter, the in-chain rule included', () => {
    assert.equal(groupsFilter(PRESETS.openldap.groupFilter), '(&(objectClass=groupOfNames)(objectClass=*))');
    assert.equal(
      groupsFilter(`(&(objectClass=group)${IN_CHAIN_MEMBER})`),
      '(&(objectClass=group)(objectClass=*))',
    );
    assert.equal(groupsFilter('(memberUid={username})'), '(objectClass=*)');
  });

  it('turns a clause with text around the placeholder into a presence test too', () => {
    assert.equal(usersFilter('(|(cn=user-{username})(mail={username}@example.test))'), '(|(cn=*)(mail=*))');
  });

  it('keeps clauses without placeholders as they are', () => {
    assert.equal(
      usersFilter('(&(uid={username})(!(pwdAccountLockedTime=*)))'),
      '(&(uid=*)(!(pwdAccountLockedTime=*)))',
    );
  });
});
