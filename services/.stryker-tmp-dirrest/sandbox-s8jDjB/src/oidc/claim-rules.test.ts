// @ts-nocheck
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Access } from '../registry-scope.ts';
import { IssuerRules, fillPattern } from './claim-rules.ts';
import type { Claims } from './claim-rules.ts';
import type { TokenRule, TrustedIssuer } from './rules-file.ts';

function issuer(rules: TokenRule[], subject = '{project_path}@{ref_path}'): TrustedIssuer {
  return {
    name: 'gitlab',
    issuer: 'https://gitlab.example.com',
    audiences: ['r'],
    ca: undefined,
    algorithms: ['RS256'],
    maxTokenLifetimeSeconds: 7200,
    clockSkewSeconds: 60,
    subject,
    rules,
  };
}
const rule = (claims: Record<string, string[]>, grants: Partial<Omit<TokenRule, 'claims'>>): TokenRule => ({
  claims,
  push: [],
  pull: [],
  delete: [],
  ...grants,
});

const platformRules = new IssuerRules(
  issuer([
    rule({ namespace_path: ['platform'], ref_protected: ['true'] }, { push: ['{project_path}'] }),
    rule({ namespace_path: ['platform'] }, { pull: ['platform/**'] }),
    rule(
      { project_path: ['tools/*'], ref: ['release-*', 'main'] },
      { push: ['tools/shared'], delete: ['tools/**'] },
    ),
  ]),
);
const job = (claims: Claims): Claims => ({
  namespace_path: 'platform',
  project_path: 'platform/app',
  ...claims,
});
const may = (claims: Claims, action: Access['action'], repository?: string): boolean | undefined => {
  const match = platformRules.match(claims);
  const subject = { username: 's', groups: [] };
  return match?.policy.allows(subject, [repository === undefined ? { action } : { action, repository }]);
};

describe('IssuerRules: the first rule whose claims all match decides', () => {
  it('a protected-branch job pushes (and pulls) its own project and nothing else', () => {
    const main = job({ ref_protected: 'true' });
    assert.equal(platformRules.match(main)?.index, 0);
    assert.equal(may(main, 'push', 'platform/app'), true);
    assert.equal(may(main, 'pull', 'platform/app'), true);
    assert.equal(may(main, 'login'), true);
    assert.equal(may(main, 'push', 'platform/other'), false);
    assert.equal(may(main, 'push', 'platform/app/sub'), false);
    assert.equal(may(main, 'pull', 'platform/other'), false, 'the first match wins: rule 2 is not added');
    assert.equal(may(main, 'catalog'), false);
  });

  it('an unprotected job falls to the pull-only rule', () => {
    const mr = job({ ref_protected: 'false' });
    assert.equal(platformRules.match(mr)?.index, 1);
    assert.equal(may(mr, 'push', 'platform/app'), false);
    assert.equal(may(mr, 'pull', 'platform/deep/lib'), true);
  });

  it('matches globs in the pattern language of AUTH_*_GROUPS and lists of alternatives', () => {
    const tools = (ref: string): Claims => ({ project_path: 'tools/cli', ref });
    assert.equal(platformRules.match(tools('release-1.2'))?.index, 2);
    assert.equal(platformRules.match(tools('main'))?.index, 2);
    assert.equal(platformRules.match(tools('feature/x')), undefined);
    assert.equal(
      platformRules.match({ project_path: 'tools/a/b', ref: 'main' }),
      undefined,
      '* stays in one component',
    );
    assert.equal(may(tools('main'), 'delete', 'tools/x/y'), true);
  });

  it('no rule, no access: another namespace, a missing claim or a claim of the wrong shape', () => {
    assert.equal(platformRules.match({ namespace_path: 'other', ref_protected: 'true' }), undefined);
    assert.equal(platformRules.match({ project_path: 'platform/app' }), undefined);
    assert.equal(platformRules.match({ namespace_path: { nested: 'platform' } }), undefined);
  });

  it('compares claims as text: a boolean true matches "true", arrays match by any element', () => {
    assert.equal(platformRules.match(job({ ref_protected: true }))?.index, 0);
    assert.equal(platformRules.match({ namespace_path: ['x', 'platform'] })?.index, 1);
  });

  it('glob characters in a rule are literal apart from * and **', () => {
    const literal = new IssuerRules(issuer([rule({ ref: ['refs/heads/v1.0+(x)'] }, { pull: ['x'] })]));
    assert.ok(literal.match({ ref: 'refs/heads/v1.0+(x)' }));
    const glob = new IssuerRules(issuer([rule({ ref: ['refs/heads/v1.*'] }, { pull: ['x'] })]));
    assert.ok(glob.match({ ref: 'refs/heads/v1.5' }));
    assert.equal(glob.match({ ref: 'refs/heads/v125' }), undefined, 'the dot is literal');
  });
});

describe('fillPattern: claim placeholders stay single, valid names', () => {
  it('fills a placeholder with the lower-cased claim', () => {
    assert.equal(fillPattern('{project_path}', { project_path: 'Platform/App' }), 'platform/app');
    assert.equal(fillPattern('{project_path}/**', { project_path: 'a/b' }), 'a/b/**');
  });

  it('refuses values that would widen the pattern or are not repository names', () => {
    for (const value of ['platform/*', '**', 'a b', '../x', '', 'a//b', 42, undefined, ['a']]) {
      assert.equal(fillPattern('{project_path}', { project_path: value }), undefined, JSON.stringify(value));
    }
  });
});

describe('IssuerRules.subject', () => {
  it('names the job by the template, prefixed with the issuer name', () => {
    assert.equal(
      platformRules.subject({ project_path: 'platform/app', ref_path: 'refs/heads/main' }),
      'gitlab:platform/app@refs/heads/main',
    );
    assert.equal(platformRules.subject({ project_path: 'platform/app' }), 'gitlab:platform/app@-');
    assert.ok(platformRules.subject({ project_path: 'x'.repeat(1000), ref_path: 'y' }).length <= 256);
  });
});

describe('IssuerRules: claim values of every JSON type', () => {
  it('a numeric claim (GitLab project_id, GitHub repository_owner_id as a number) matches its digits', () => {
    const byId = new IssuerRules(issuer([rule({ project_id: ['1234'] }, { push: ['team/app'] })]));
    assert.equal(byId.match({ project_id: 1234 })?.index, 0);
    assert.equal(byId.match({ project_id: '1234' })?.index, 0);
    assert.equal(byId.match({ project_id: 12345 }), undefined);
    assert.equal(byId.match({ project_id: { id: 1234 } }), undefined);
  });

  it('a list nested in a list matches nothing, not even a *', () => {
    const anyGroup = new IssuerRules(issuer([rule({ groups: ['*'] }, { pull: ['x'] })]));
    assert.equal(anyGroup.match({ groups: ['dev'] })?.index, 0);
    assert.equal(anyGroup.match({ groups: [['dev']] }), undefined);
    assert.equal(anyGroup.match({ groups: [] }), undefined);
  });

  it('a placeholder the claims cannot fill drops that pattern only; the others still grant', () => {
    const main = job({ ref_protected: 'true', project_path: 'Not A Name' });
    assert.equal(platformRules.match(main)?.index, 0);
    assert.equal(may(main, 'login'), true);
    assert.equal(may(main, 'push', 'not a name'), false);
    const twoPatterns = new IssuerRules(
      issuer([
        rule({ ref: ['main'] }, { push: ['{project_path}', 'shared/{environment}'], pull: ['base/*'] }),
      ]),
    );
    const match = twoPatterns.match({ ref: 'main', environment: 'staging' });
    const allows = (action: Access['action'], repository: string): boolean | undefined =>
      match?.policy.allows({ username: 's', groups: [] }, [{ action, repository }]);
    assert.equal(allows('push', 'shared/staging'), true);
    assert.equal(allows('pull', 'base/alpine'), true);
    assert.equal(allows('push', 'base/alpine'), false);
  });
});

describe('IssuerRules.subject: bounded, whatever the claims', () => {
  it('cuts each claim at 128 characters, keeping the rest of the template readable', () => {
    assert.equal(
      platformRules.subject({ project_path: 'p'.repeat(200), ref_path: 'refs/heads/main' }),
      `gitlab:${'p'.repeat(128)}@refs/heads/main`,
    );
  });

  it('cuts the whole subject at 256 characters', () => {
    const three = new IssuerRules(issuer([], '{a}/{b}/{c}'));
    const subject = three.subject({ a: 'a'.repeat(128), b: 'b'.repeat(128), c: 'c'.repeat(128) });
    assert.equal(subject, `gitlab:${'a'.repeat(128)}/${'b'.repeat(120)}`);
  });

  it('prints a numeric or boolean claim, the first element of a list, and - for anything else', () => {
    const shapes = new IssuerRules(issuer([], '{id}:{protected}:{groups}:{nested}'));
    assert.equal(
      shapes.subject({ id: 42, protected: false, groups: ['dev', 'ops'], nested: { a: 'b' } }),
      'gitlab:42:false:dev:-',
    );
  });
});
