import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ASYMMETRIC_ALGORITHMS, parseRulesFile } from './rules-file.ts';
import type { ReadCa } from './rules-file.ts';

const noCa: ReadCa = (file) => ({ problem: `unexpected read of ${file}` });

const gitlab = `
issuers:
  - name: gitlab
    issuer: https://gitlab.example.com
    audience: https://registry.example.com
    subject: "{project_path}@{ref_path}"
    rules:
      - claims: { namespace_path: platform, ref_protected: true }
        push: ["{project_path}"]
      - claims:
          namespace_path: platform
          pipeline_source: [push, merge_request_event]
        pull: platform/**
`;

describe('parseRulesFile', () => {
  it('reads a GitLab rules file in YAML, with the defaults filled in', () => {
    const { issuers, problems } = parseRulesFile(gitlab, noCa);
    assert.deepEqual(problems, []);
    assert.deepEqual(issuers, [
      {
        name: 'gitlab',
        issuer: 'https://gitlab.example.com',
        audiences: ['https://registry.example.com'],
        ca: undefined,
        algorithms: [...ASYMMETRIC_ALGORITHMS],
        maxTokenLifetimeSeconds: 7200,
        clockSkewSeconds: 60,
        subject: '{project_path}@{ref_path}',
        rules: [
          {
            claims: { namespace_path: ['platform'], ref_protected: ['true'] },
            push: ['{project_path}'],
            pull: [],
            delete: [],
          },
          {
            claims: { namespace_path: ['platform'], pipeline_source: ['push', 'merge_request_event'] },
            push: [],
            pull: ['platform/**'],
            delete: [],
          },
        ],
      },
    ]);
  });

  it('reads the same file written as JSON', () => {
    const json = JSON.stringify({
      issuers: [
        {
          name: 'github',
          issuer: 'https://token.actions.githubusercontent.com',
          audience: ['https://registry.example.com'],
          algorithms: ['RS256'],
          rules: [{ claims: { repository: 'org/app', ref: 'refs/heads/main' }, push: ['org/app'] }],
        },
      ],
    });
    const { issuers, problems } = parseRulesFile(json, noCa);
    assert.deepEqual(problems, []);
    assert.equal(issuers[0]?.subject, '{sub}');
    assert.deepEqual(issuers[0].algorithms, ['RS256']);
  });

  it('reads the CA file of a self-hosted issuer', () => {
    const text = gitlab.replace('    subject:', '    ca_file: /etc/gitlab-ca.pem\n    subject:');
    const { issuers, problems } = parseRulesFile(text, (file) =>
      file === '/etc/gitlab-ca.pem' ? { certs: ['PEM'] } : { problem: 'wrong file' },
    );
    assert.deepEqual(problems, []);
    assert.deepEqual(issuers[0]?.ca, ['PEM']);
  });

  it('names every problem at once, each with its place in the file', () => {
    const text = `
issuers:
  - name: GitLab
    issuer: http://gitlab.example.com
    algorithms: [RS256, HS256, none]
    max_token_lifetime_seconds: 10
    ca_file: /missing.pem
    subject: "{project path}"
    rules:
      - claims: {}
        push: ["Platform/*", "{project_path}/**", "a/{bad-name}"]
      - claims: { ref: refs/heads/main }
      - claims: { ref: [] }
        pull: x
        grant: y
  - name: gitlab
    issuer: https://gitlab.example.com
    audience: r
    rules: []
extra: 1
`;
    const { problems } = parseRulesFile(text, () => ({ problem: 'cannot read /missing.pem (ENOENT)' }));
    const expected = [
      'issuers[0].name: required',
      'issuers[0].ca_file: cannot read /missing.pem (ENOENT)',
      'issuers[0].subject: "{project path}" is not a claim placeholder',
      'issuers[0].rules[0].claims: must map at least one claim',
      'issuers[0].rules[0].push[0]: "Platform/*" is not a repository pattern',
      'issuers[0].rules[0].push[2]: "{bad-name}" is not a claim placeholder',
      'issuers[0].rules[1]: grants nothing',
      'issuers[0].rules[2]: unknown key "grant"',
      'issuers[0].rules[2].claims.ref: must be a non-empty string',
      'issuers[0].issuer: "http://gitlab.example.com" is not an https:// URL',
      'issuers[0].audience: required',
      'issuers[0].algorithms: "HS256" is not allowed',
      'issuers[0].algorithms: "none" is not allowed',
      'issuers[0].max_token_lifetime_seconds: must be a whole number from 60 to 86400',
      'issuers[1].rules: required',
      '(top level): unknown key "extra"',
    ];
    for (const start of expected) {
      assert.ok(
        problems.some((p) => p.startsWith(start)),
        `missing "${start}" in:\n${problems.join('\n')}`,
      );
    }
    assert.ok(
      !problems.some((p) => p.includes('{project_path}/**')),
      'a valid placeholder pattern was refused',
    );
  });

  it('refuses two issuers with the same iss or name', () => {
    const twice = gitlab + gitlab.replace('issuers:\n', '');
    const { problems } = parseRulesFile(twice, noCa);
    assert.deepEqual(problems, [
      'issuers[1].name: "gitlab" appears twice',
      'issuers[1].issuer: "https://gitlab.example.com" appears twice',
    ]);
  });

  it('reports YAML syntax errors and duplicate keys instead of guessing', () => {
    assert.match(
      parseRulesFile('issuers: [', noCa).problems[0] ?? '',
      /flow sequence.* at line 1, column \d+$/i,
    );
    const dup = parseRulesFile('issuers: []\nissuers: []\n', noCa).problems;
    assert.deepEqual(dup, ['Map keys must be unique at line 2, column 1']);
    assert.deepEqual(parseRulesFile('- a\n- b\n', noCa).problems, [
      'must be a mapping with an "issuers" list',
    ]);
  });
});
