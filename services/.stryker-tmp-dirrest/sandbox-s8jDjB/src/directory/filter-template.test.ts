// @ts-nocheck
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FilterTemplate } from './filter-template.ts';
import { IN_CHAIN_MEMBER, PRESETS } from './presets.ts';

const user = FilterTemplate.parse(PRESETS.openldap.userFilter, ['username']);
const fill = (username: string): string => user.fill({ username, dn: '' });

describe('FilterTemplate: request values are escaped per RFC 4515', () => {
  const cases: [string, string, string][] = [
    ['a wildcard', '*', '(&(objectClass=inetOrgPerson)(uid=\\2a))'],
    ['a filter injection', 'alice)(uid=*', '(&(objectClass=inetOrgPerson)(uid=alice\\29\\28uid=\\2a))'],
    [
      'a closing injection',
      '*)(|(objectClass=*',
      '(&(objectClass=inetOrgPerson)(uid=\\2a\\29\\28|\\28objectClass=\\2a))',
    ],
    ['a backslash', 'a\\b', '(&(objectClass=inetOrgPerson)(uid=a\\5cb))'],
    ['a NUL byte', 'alice\u0000', '(&(objectClass=inetOrgPerson)(uid=alice\\00))'],
    [
      'non-ASCII, kept as UTF-8 (valid in RFC 4515 values)',
      'jörg',
      '(&(objectClass=inetOrgPerson)(uid=jörg))',
    ],
    ['an ordinary name', 'alice', '(&(objectClass=inetOrgPerson)(uid=alice))'],
  ];
  for (const [name, input, expected] of cases) {
    it(`escapes ${name}`, () => {
      assert.equal(fill(input), expected);
    });
  }

  it('escapes a DN placed in a group filter (parentheses and backslashes from the directory)', () => {
    const groups = FilterTemplate.parse(PRESETS.openldap.groupFilter, ['dn', 'username']);
    assert.equal(
      groups.fill({ dn: "cn=O'Brien\\, Pat (QA),ou=people,dc=example,dc=test", username: 'pobrien' }),
      "(&(objectClass=groupOfNames)(member=cn=O'Brien\\5c, Pat \\28QA\\29,ou=people,dc=example,dc=test))",
    );
  });

  it('keeps the trusted text when it is rewritten for the AD in-chain rule', () => {
    const ad = FilterTemplate.parse(PRESETS.activedirectory.groupFilter, ['dn', 'username']).replaceTrusted(
      '(member={dn})',
      IN_CHAIN_MEMBER,
      ['dn', 'username'],
    );
    assert.equal(
      ad.fill({ dn: 'CN=Dave,CN=Users,DC=example,DC=test', username: 'dave' }),
      '(&(objectClass=group)(member:1.2.840.113556.1.4.1941:=CN=Dave,CN=Users,DC=example,DC=test))',
    );
  });
});

describe('FilterTemplate.parse: operator templates are checked at start-up', () => {
  const bad: [string, RegExp][] = [
    ['uid={username}', /parentheses/],
    ['(uid={user})', /unknown placeholder \{user\}/],
    ['(&(uid={username})', /not a valid LDAP filter/],
    ['(uid={username}))(', /parentheses/],
    ['(uid={username})(cn=x)', /unbalanced/],
  ];
  for (const [source, message] of bad) {
    it(`rejects ${source}`, () => {
      assert.throws(() => FilterTemplate.parse(source, ['username']), message);
    });
  }

  it('reports which placeholders a template uses', () => {
    const t = FilterTemplate.parse('(&(objectClass=posixGroup)(memberUid={username}))', ['dn', 'username']);
    assert.deepEqual([...t.placeholders], ['username']);
  });
});
