import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Policy, globToRegExp, isRepositoryPattern, parseGrant, rulesFromConfig } from './policy.ts';
import type { Subject } from './policy.ts';
import type { Access } from './registry-scope.ts';

const group = (name: string): { name: string; dn: string } => ({
  name,
  dn: `cn=${name},ou=groups,dc=example,dc=test`,
});
const subject = (...groups: string[]): Subject => ({ username: 'u', groups: groups.map(group) });
const pull: Access = { action: 'pull', repository: 'app' };
const push: Access = { action: 'push', repository: 'app' };
const del: Access = { action: 'delete', repository: 'app' };
const catalog: Access = { action: 'catalog' };
const login: Access = { action: 'login' };

describe('Policy from AUTH_*_GROUPS', () => {
  const policy = new Policy(
    rulesFromConfig({
      pushGroups: ['registry-pushers'],
      pullGroups: ['registry-users'],
      deleteGroups: ['registry-admins'],
      catalogGroups: [],
    }),
  );

  const matrix: [string, Subject, Access[], boolean][] = [
    ['a pusher pushes', subject('registry-pushers'), [push], true],
    ['a pusher pulls', subject('registry-pushers'), [pull], true],
    ['a reader pulls', subject('registry-users'), [pull], true],
    ['a reader may not push', subject('registry-users'), [push], false],
    ['a user in no group may log in', subject(), [login], true],
    ['a user in no group may not pull', subject(), [pull], false],
    ['delete needs the delete group', subject('registry-pushers'), [del], false],
    ['the delete group deletes', subject('registry-admins'), [del], true],
    ['the catalog follows the pull rule', subject('registry-users'), [catalog], true],
    ['no catalog without pull', subject(), [catalog], false],
    ['group names match case-insensitively', subject('Registry-Pushers'), [push], true],
    [
      'a mount needs push and pull: pusher',
      subject('registry-pushers'),
      [push, { action: 'pull', repository: 'other' }],
      true,
    ],
    ['a mount needs both: reader', subject('registry-users'), [push, pull], false],
  ];
  for (const [name, s, access, expected] of matrix) {
    it(name, () => {
      assert.equal(policy.allows(s, access), expected);
    });
  }

  it('matches a group named by its full DN, ignoring case and spaces after commas', () => {
    const byDn = new Policy(
      rulesFromConfig({
        pushGroups: ['CN=registry-pushers, OU=Groups, DC=example, DC=test'],
        pullGroups: [],
        deleteGroups: [],
        catalogGroups: [],
      }),
    );
    assert.equal(byDn.allows(subject('registry-pushers'), [push]), true);
    assert.equal(byDn.allows(subject('registry-users'), [push]), false);
  });

  it('lets every authenticated user pull when AUTH_PULL_GROUPS is empty, and nobody delete', () => {
    const open = new Policy(
      rulesFromConfig({ pushGroups: ['p'], pullGroups: [], deleteGroups: [], catalogGroups: [] }),
    );
    assert.equal(open.allows(subject(), [pull]), true);
    assert.equal(open.allows(subject('p'), [del]), false);
  });

  it('scopes a grant to repositories with group@pattern (* within a component, ** across)', () => {
    const scoped = new Policy(
      rulesFromConfig({
        pushGroups: ['team-a@team-a/*', 'platform@**'],
        pullGroups: ['readers@shared/**'],
        deleteGroups: [],
        catalogGroups: [],
      }),
    );
    const teamA = subject('team-a');
    assert.equal(scoped.allows(teamA, [{ action: 'push', repository: 'team-a/app' }]), true);
    assert.equal(scoped.allows(teamA, [{ action: 'pull', repository: 'team-a/app' }]), true);
    assert.equal(
      scoped.allows(teamA, [{ action: 'push', repository: 'team-a/tools/app' }]),
      false,
      '* stays in one component',
    );
    assert.equal(scoped.allows(teamA, [{ action: 'push', repository: 'team-b/app' }]), false);
    assert.equal(scoped.allows(teamA, [{ action: 'push', repository: 'team-a' }]), false);
    assert.equal(
      scoped.allows(subject('readers'), [{ action: 'pull', repository: 'shared/base/alpine' }]),
      true,
    );
    assert.equal(scoped.allows(subject('readers'), [{ action: 'pull', repository: 'team-a/app' }]), false);
    assert.equal(
      scoped.allows(subject('platform'), [{ action: 'push', repository: 'any/thing/at/all' }]),
      true,
    );
  });

  it('a cross-repository mount needs pull on the source repository', () => {
    const scoped = new Policy(
      rulesFromConfig({
        pushGroups: ['team-a@team-a/*'],
        pullGroups: ['readers@shared/*'],
        deleteGroups: [],
        catalogGroups: [],
      }),
    );
    const mount = (from: string): Access[] => [
      { action: 'push', repository: 'team-a/app' },
      { action: 'pull', repository: from },
    ];
    assert.equal(scoped.allows(subject('team-a'), mount('team-a/base')), true);
    assert.equal(
      scoped.allows(subject('team-a'), mount('shared/base')),
      false,
      'team-a may not read shared/',
    );
    assert.equal(scoped.allows(subject('team-a', 'readers'), mount('shared/base')), true);
  });

  it('lets only unscoped readers list the catalog by default', () => {
    const scoped = new Policy(
      rulesFromConfig({
        pushGroups: ['p'],
        pullGroups: ['readers@shared/*', 'auditors'],
        deleteGroups: [],
        catalogGroups: [],
      }),
    );
    assert.equal(scoped.allows(subject('readers'), [catalog]), false);
    assert.equal(scoped.allows(subject('auditors'), [catalog]), true);
  });

  const byDn = (dn: string) =>
    new Policy(rulesFromConfig({ pushGroups: [dn], pullGroups: [], deleteGroups: [], catalogGroups: [] }));
  const member = (dn: string): Subject => ({ username: 'u', groups: [{ name: 'x', dn }] });

  it('compares group DNs after unescaping (RFC 4514): `\\, ` and `\\,` are different groups', () => {
    const policy = byDn('cn=Ops\\, EMEA,ou=groups,dc=example,dc=test');
    assert.equal(policy.allows(member('CN=ops\\2C emea, OU=Groups,DC=example,DC=test'), [push]), true);
    assert.equal(policy.allows(member('cn=Ops\\,EMEA,ou=groups,dc=example,dc=test'), [push]), false);
    assert.equal(policy.allows(member('cn=Ops\\, EMEA,ou=people,dc=example,dc=test'), [push]), false);
  });

  it('a group whose DN does not parse matches no DN grant', () => {
    assert.equal(byDn('cn=a,dc=test').allows(member('cn=a\\q,dc=test'), [push]), false);
  });

  it('refuses a grant that looks like a DN but is not one, naming it', () => {
    assert.throws(
      () => parseGrant('cn=a\\q,dc=test@team/*'),
      /"cn=a\\q,dc=test" is not a distinguished name/,
    );
    assert.throws(() => parseGrant('cn=<admins>,dc=test'), /not a distinguished name/);
    assert.deepEqual(parseGrant('cn=a,dc=test@team/*'), { group: 'cn=a,dc=test', pattern: 'team/*' });
  });

  it('AUTH_CATALOG_GROUPS, when set, alone decides who lists the catalog, and grants nothing else', () => {
    const listed = new Policy(
      rulesFromConfig({
        pushGroups: ['p'],
        pullGroups: ['readers'],
        deleteGroups: [],
        catalogGroups: ['Auditors'],
      }),
    );
    assert.equal(listed.allows(subject('auditors'), [catalog]), true);
    assert.equal(listed.allows(subject('readers'), [catalog]), false, 'pull no longer lists');
    assert.equal(listed.allows(subject('auditors'), [pull]), false);
  });

  it('with AUTH_PULL_GROUPS empty every authenticated user lists the catalog too', () => {
    const open = new Policy(
      rulesFromConfig({ pushGroups: ['p'], pullGroups: [], deleteGroups: [], catalogGroups: [] }),
    );
    assert.equal(open.allows(subject(), [catalog]), true);
    assert.equal(open.allows(subject(), [push]), false);
  });

  it('grant names match case-insensitively, and each grant keeps its own actions and repositories', () => {
    const scoped = new Policy(
      rulesFromConfig({
        pushGroups: ['Registry-Pushers'],
        pullGroups: ['readers'],
        deleteGroups: ['cleaners@team-a/*'],
        catalogGroups: [],
      }),
    );
    assert.equal(scoped.allows(subject('registry-pushers'), [push]), true);
    const cleaners = subject('cleaners');
    assert.equal(scoped.allows(cleaners, [{ action: 'delete', repository: 'team-a/app' }]), true);
    assert.equal(scoped.allows(cleaners, [{ action: 'delete', repository: 'team-b/app' }]), false);
    assert.equal(scoped.allows(cleaners, [{ action: 'pull', repository: 'team-a/app' }]), false);
  });

  it('a rule limited to repositories never grants an access that names none (login, catalog)', () => {
    const everywhere = new Policy([
      { actions: ['catalog', 'login'], members: { kind: 'authenticated' }, repositories: /^.*$/u },
    ]);
    assert.equal(everywhere.allows(subject(), [catalog]), false);
    assert.equal(everywhere.allows(subject(), [login]), false);
  });

  it('reads group@pattern with spaces around either part; a bare group is taken as written', () => {
    assert.deepEqual(parseGrant(' team-a @ team-a/** '), { group: 'team-a', pattern: 'team-a/**' });
    assert.deepEqual(parseGrant('registry-users'), { group: 'registry-users' });
  });

  it('accepts as a repository pattern a lower-case name with * and **, and nothing else', () => {
    for (const pattern of ['team-a/*', 'team_b.x/**', 'app', '**'])
      assert.equal(isRepositoryPattern(pattern), true, pattern);
    for (const pattern of ['', 'Team/*', 'team a', 'team/?', 'team@x', 'team/(a|b)'])
      assert.equal(isRepositoryPattern(pattern), false, pattern);
  });

  // An empty group (once trimmed), an empty pattern, or characters no repository name holds.
  for (const entry of ['@team/*', ' @team/*', 'team@', 'team@Team/*', 'team@team/a b', 'team@team/?']) {
    it(`refuses ${JSON.stringify(entry)}, naming the entry`, () => {
      assert.throws(() => parseGrant(entry), {
        message: `"${entry}" is not group@repository-pattern (pattern: lower-case name with * or **)`,
      });
    });
  }
});

describe('globToRegExp: * within a component, ** across, every other character literal', () => {
  const table: [string, string, boolean][] = [
    ['team-a/*', 'team-a/app', true],
    ['team-a/*', 'team-a/', true],
    ['team-a/*', 'team-a/tools/app', false],
    ['team-a/**', 'team-a/tools/app', true],
    ['*/app', 'team/app', true],
    ['*/app', 'team/app/x', false],
    ['*/app', 'x/team/app', false],
    ['app', 'app', true],
    ['app', 'xapp', false],
    ['app', 'appx', false],
    ['team.a/*', 'team.a/app', true],
    ['team.a/*', 'teamxa/app', false],
    ['refs/heads/(main)+', 'refs/heads/(main)+', true],
    ['refs/heads/(main)+', 'refs/heads/mainmain', false],
    ['a|b', 'b', false],
    ['v[0-9]', 'v1', false],
    ['^x$', '^x$', true],
    ['a\\b', 'a\\b', true],
    ['{1}?', '{1}?', true],
    ['a**b', 'a/x/b', true],
    ['a*b', 'a/b', false],
  ];
  for (const [pattern, value, expected] of table) {
    it(`${pattern} ${expected ? 'matches' : 'does not match'} ${value}`, () => {
      assert.equal(globToRegExp(pattern).test(value), expected);
    });
  }
});
