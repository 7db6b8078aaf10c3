// @ts-nocheck
// 
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

/** One issuer as JSON (JSON is YAML): a valid one, with keys replaced, added or (undefined) removed. */
const valid = {
  name: 'gitlab',
  issuer: 'https://gitlab.example.com',
  audience: 'https://registry.example.com',
  rules: [{ claims: { namespace_path: 'platform' }, pull: 'platform/**' }],
};
const withIssuer = (changes: Record<string, unknown>, readCa: ReadCa = noCa) =>
  parseRulesFile(JSON.stringify({ issuers: [{ ...valid, ...changes }] }), readCa);
const withRule = (rule: unknown) => withIssuer({ rules: [rule] });

describe('parseRulesFile: an issuer', () => {
  it('takes every key of the documented table, each read into the issuer', () => {
    const { issuers, problems } = withIssuer(
      {
        audience: ['https://registry.example.com', 'registry'],
        ca_file: '/etc/gitlab-ca.pem',
        algorithms: ['ES256', 'EdDSA'],
        max_token_lifetime_seconds: 3600,
        clock_skew_seconds: 10,
        subject: '{project_path}',
      },
      () => ({ certs: ['PEM'] }),
    );
    assert.deepEqual(problems, []);
    assert.deepEqual(issuers[0]?.audiences, ['https://registry.example.com', 'registry']);
    assert.deepEqual(issuers[0].ca, ['PEM']);
    assert.deepEqual(issuers[0].algorithms, ['ES256', 'EdDSA']);
    assert.equal(issuers[0].maxTokenLifetimeSeconds, 3600);
    assert.equal(issuers[0].clockSkewSeconds, 10);
  });

  it('refuses a misspelt key, listing the keys it knows', () => {
    const { problems } = withIssuer({ audience: undefined, audiences: 'https://registry.example.com' });
    assert.deepEqual(problems, [
      'issuers[0]: unknown key "audiences" (known: name, issuer, audience, ca_file, algorithms, max_token_lifetime_seconds, clock_skew_seconds, subject, rules)',
      'issuers[0].audience: required, a non-empty string or list of strings',
    ]);
  });

  it('refuses an entry that is not a mapping, and still checks the others', () => {
    for (const entry of ['gitlab', null, ['gitlab'], 42]) {
      const text = JSON.stringify({ issuers: [entry, valid] });
      assert.deepEqual(
        parseRulesFile(text, noCa).problems,
        ['issuers[0]: must be a mapping (name, issuer, audience, rules, ...)'],
        JSON.stringify(entry),
      );
    }
  });

  it('names are short lower-case labels', () => {
    for (const name of ['a', 'gitlab', 'gitlab-2', '0ci', 'x'.repeat(32)]) {
      assert.deepEqual(withIssuer({ name }).problems, [], name);
      assert.equal(withIssuer({ name }).issuers[0]?.name, name);
    }
    for (const name of ['GitLab', '-gitlab', 'gitlab.com', 'git lab', 'gitlab_ci', 'x'.repeat(33), '', 42]) {
      assert.deepEqual(
        withIssuer({ name }).problems,
        [`issuers[0].name: required, lower-case letters, digits and '-' (at most 32), e.g. gitlab`],
        JSON.stringify(name),
      );
    }
    assert.match(withIssuer({ name: undefined }).problems.join('\n'), /^issuers\[0\]\.name: required/);
  });

  it('the issuer is an https URL without query, fragment or credentials', () => {
    for (const issuer of ['https://gitlab.example.com', 'https://git.example.com:8443/gitlab']) {
      assert.deepEqual(withIssuer({ issuer }).problems, [], issuer);
    }
    for (const issuer of [
      'gitlab.example.com',
      'http://gitlab.example.com',
      'https://gitlab.example.com/?x=1',
      'https://gitlab.example.com/#top',
      'https://user@gitlab.example.com',
      'https://user:secret@gitlab.example.com',
      'https://:secret@gitlab.example.com',
    ]) {
      assert.deepEqual(
        withIssuer({ issuer }).problems,
        [`issuers[0].issuer: "${issuer}" is not an https:// URL without query, fragment or credentials`],
        issuer,
      );
    }
    for (const issuer of [undefined, 42]) {
      assert.deepEqual(withIssuer({ issuer }).problems, [
        'issuers[0].issuer: required, the exact "iss" of the tokens (an https:// URL)',
      ]);
    }
  });

  it('the audience is a non-empty string or a list of them', () => {
    assert.deepEqual(withIssuer({ audience: 'r' }).issuers[0]?.audiences, ['r']);
    for (const audience of [undefined, '', 42, [], ['r', ''], ['r', 42]]) {
      assert.deepEqual(
        withIssuer({ audience }).problems,
        ['issuers[0].audience: required, a non-empty string or list of strings'],
        JSON.stringify(audience),
      );
    }
  });

  it('algorithms default to every asymmetric one; each can be chosen, HMAC and none never', () => {
    const documented = [
      ...['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512'],
      ...['ES256', 'ES384', 'ES512', 'EdDSA', 'Ed25519'],
    ];
    assert.deepEqual(withIssuer({}).issuers[0]?.algorithms, documented);
    for (const alg of documented) {
      const { issuers, problems } = withIssuer({ algorithms: alg });
      assert.deepEqual(problems, [], alg);
      assert.deepEqual(issuers[0]?.algorithms, [alg]);
    }
    for (const alg of ['HS256', 'none', 'rs256']) {
      const [problem = '', ...more] = withIssuer({ algorithms: ['RS256', alg] }).problems;
      assert.deepEqual(more, []);
      assert.ok(problem.startsWith(`issuers[0].algorithms: "${alg}" is not allowed`), problem);
      assert.ok(problem.endsWith(`(asymmetric only: ${documented.join(', ')})`), problem);
    }
    assert.deepEqual(withIssuer({ algorithms: [] }).problems, [
      'issuers[0].algorithms: required, a non-empty string or list of strings',
    ]);
  });

  it('token lifetime and clock skew are whole numbers in their documented ranges, with defaults', () => {
    const ranges = {
      max_token_lifetime_seconds: {
        field: 'maxTokenLifetimeSeconds',
        ok: [60, 3600, 86_400],
        range: 'from 60 to 86400',
      },
      clock_skew_seconds: { field: 'clockSkewSeconds', ok: [0, 10, 300], range: 'from 0 to 300' },
    } as const;
    for (const [key, { field, ok, range }] of Object.entries(ranges)) {
      for (const value of ok) {
        const { issuers, problems } = withIssuer({ [key]: value });
        assert.deepEqual(problems, [], `${key}: ${value}`);
        assert.equal(issuers[0]?.[field], value);
      }
      const [min, , max] = ok;
      for (const value of [min - 1, max + 1, 90.5, String(ok[1]), true, 2 ** 53]) {
        assert.deepEqual(
          withIssuer({ [key]: value }).problems,
          [`issuers[0].${key}: must be a whole number ${range}`],
          `${key}: ${JSON.stringify(value)}`,
        );
      }
    }
    assert.equal(withIssuer({}).issuers[0]?.maxTokenLifetimeSeconds, 7200);
    assert.equal(withIssuer({}).issuers[0]?.clockSkewSeconds, 60);
  });

  it('ca_file must be a path, and is only read then', () => {
    for (const caFile of ['', 42]) {
      assert.deepEqual(withIssuer({ ca_file: caFile }).problems, ['issuers[0].ca_file: must be a file path']);
    }
  });

  it('the subject is a template of claim placeholders', () => {
    assert.equal(withIssuer({ subject: '{repository}@{ref}' }).issuers[0]?.subject, '{repository}@{ref}');
    for (const subject of ['', 42]) {
      assert.deepEqual(withIssuer({ subject }).problems, ['issuers[0].subject: must be a template string']);
    }
    assert.deepEqual(withIssuer({ subject: '{project_path' }).problems, [
      'issuers[0].subject: unbalanced { or }',
    ]);
    assert.deepEqual(withIssuer({ subject: 'ci}' }).problems, ['issuers[0].subject: unbalanced { or }']);
  });

  it('rules are required: a missing or empty list is one problem', () => {
    for (const rules of [undefined, [], 'pull: x']) {
      assert.deepEqual(
        withIssuer({ rules }).problems,
        ['issuers[0].rules: required, a list of rules (first match wins; no match, no access)'],
        JSON.stringify(rules),
      );
    }
  });
});

describe('parseRulesFile: a rule', () => {
  it('reads push, pull and delete, each a pattern or a list of them', () => {
    const { issuers, problems } = withRule({
      claims: { project_path: 'team/app' },
      push: 'team/app',
      pull: ['team/**', 'base/*'],
      delete: ['team/app/cache'],
    });
    assert.deepEqual(problems, []);
    assert.deepEqual(issuers[0]?.rules, [
      {
        claims: { project_path: ['team/app'] },
        push: ['team/app'],
        pull: ['team/**', 'base/*'],
        delete: ['team/app/cache'],
      },
    ]);
  });

  it('a rule that only deletes is complete', () => {
    const { issuers, problems } = withRule({ claims: { project_path: 'team/app' }, delete: 'team/**' });
    assert.deepEqual(problems, []);
    assert.deepEqual(issuers[0]?.rules[0]?.delete, ['team/**']);
  });

  it('refuses a rule that grants nothing or is not a mapping', () => {
    assert.deepEqual(withRule({ claims: { ref: 'main' } }).problems, [
      'issuers[0].rules[0]: grants nothing (give push, pull or delete patterns)',
    ]);
    for (const rule of ['pull everything', null, [{ claims: { ref: 'main' } }]]) {
      assert.deepEqual(
        withRule(rule).problems,
        ['issuers[0].rules[0]: must be a mapping with claims and push / pull / delete'],
        JSON.stringify(rule),
      );
    }
  });

  it('refuses a misspelt claims key rather than matching every token', () => {
    assert.deepEqual(withRule({ claim: { namespace_path: 'platform' }, push: 'platform/**' }).problems, [
      'issuers[0].rules[0]: unknown key "claim" (known: claims, push, pull, delete)',
      'issuers[0].rules[0].claims: must map at least one claim to its value(s); a rule without claims would match any token',
    ]);
  });

  it('claim names are the characters claims use, at most 64', () => {
    for (const name of ['namespace_id', 'urn:example:ns.id-2', 'A9', 'x'.repeat(64)]) {
      assert.deepEqual(withRule({ claims: { [name]: 'v' }, pull: 'x' }).problems, [], name);
    }
    for (const name of ['project path', 'a/b', 'x'.repeat(65), '']) {
      assert.deepEqual(
        withRule({ claims: { [name]: 'v' }, pull: 'x' }).problems,
        [`issuers[0].rules[0].claims.${name}: "${name}" is not a claim name`],
        name,
      );
    }
  });

  it('claim values are strings, numbers or booleans, compared as text', () => {
    const claims = (value: unknown) => withRule({ claims: { c: value }, pull: 'x' });
    assert.deepEqual(claims(1234).issuers[0]?.rules[0]?.claims, { c: ['1234'] });
    assert.deepEqual(claims(false).issuers[0]?.rules[0]?.claims, { c: ['false'] });
    assert.deepEqual(claims(['push', 7, true]).issuers[0]?.rules[0]?.claims, { c: ['push', '7', 'true'] });
    for (const value of ['', [], ['main', ''], ['main', null], ['main', ['x']], null, { a: 'b' }]) {
      assert.deepEqual(
        claims(value).problems,
        ['issuers[0].rules[0].claims.c: must be a non-empty string, number or boolean, or a list of them'],
        JSON.stringify(value),
      );
    }
  });

  it('names each pattern that is not a string, with its list index', () => {
    for (const key of ['push', 'pull', 'delete']) {
      assert.deepEqual(
        withRule({ claims: { ref: 'main' }, [key]: ['ok/*', 42, '', null] }).problems,
        [1, 2, 3].map((i) => `issuers[0].rules[0].${key}[${i}]: must be a repository pattern (a string)`),
        key,
      );
      assert.deepEqual(withRule({ claims: { ref: 'main' }, [key]: '' }).problems, [
        `issuers[0].rules[0].${key}: must be a repository pattern (a string)`,
      ]);
      assert.deepEqual(withRule({ claims: { ref: 'main' }, [key]: 'Team/*' }).problems, [
        `issuers[0].rules[0].${key}: "Team/*" is not a repository pattern (lower-case name with * or **, {claim} placeholders)`,
      ]);
    }
  });

  it('placeholders name a claim and are balanced', () => {
    const pull = (pattern: string) => withRule({ claims: { ref: 'main' }, pull: pattern }).problems;
    for (const ok of ['{project_path}', '{_a}/{B9}', `{${'a'.repeat(64)}}`, 'team/{project_path}/**']) {
      assert.deepEqual(pull(ok), [], ok);
    }
    for (const [pattern, placeholder] of [
      ['{}', '{}'],
      ['{9a}', '{9a}'],
      ['team/{ns.id}', '{ns.id}'],
      [`{${'a'.repeat(65)}}`, `{${'a'.repeat(65)}}`],
    ] as const) {
      assert.deepEqual(
        pull(pattern),
        [`issuers[0].rules[0].pull: "${placeholder}" is not a claim placeholder ({claim_name})`],
        pattern,
      );
    }
    for (const pattern of ['team/{project_path', 'team/project_path}', '{{project_path}}']) {
      assert.ok(pull(pattern).includes('issuers[0].rules[0].pull: unbalanced { or }'), pattern);
    }
  });
});

describe('parseRulesFile: the file', () => {
  it('needs a non-empty list of issuers', () => {
    for (const text of ['issuers: []', 'issuers: { name: gitlab }', 'issuers:']) {
      const { issuers, problems } = parseRulesFile(text, noCa);
      assert.deepEqual(problems, ['issuers: required, a non-empty list of trusted issuers'], text);
      assert.deepEqual(issuers, []);
    }
    assert.deepEqual(parseRulesFile('issuer: []', noCa).problems, [
      '(top level): unknown key "issuer" (known: issuers)',
      'issuers: required, a non-empty list of trusted issuers',
    ]);
    for (const text of ['', '# nothing yet', '[]', 'issuers']) {
      const { issuers, problems } = parseRulesFile(text, noCa);
      assert.deepEqual(problems, ['must be a mapping with an "issuers" list'], text);
      assert.deepEqual(issuers, []);
    }
  });

  it('keeps the text of a YAML error, dropping only the trailing colon before the excerpt', () => {
    const { issuers, problems } = parseRulesFile('issuers:\n- name: gitlab\n  issuer: https://x: y\n', noCa);
    assert.deepEqual(issuers, []);
    assert.ok(problems.length > 0);
    for (const problem of problems) assert.match(problem, /\S at line 3, column \d+$/);
    const stream = parseRulesFile('- a\nb: c\n', noCa).problems;
    assert.ok(
      stream.includes('Unexpected map-value-ind token in YAML stream: ":" at line 2, column 2'),
      stream.join('\n'),
    );
  });

  it('reports an alias without its anchor, and an alias bomb, instead of failing to start', () => {
    const unresolved = parseRulesFile('issuers: *gitlab\n', noCa);
    assert.deepEqual(unresolved.issuers, []);
    assert.equal(unresolved.problems.length, 1);
    assert.match(unresolved.problems[0] ?? '', /alias.*gitlab/i);
    const laughs = [
      'a: &a [x, x, x, x, x, x, x, x, x, x]',
      'b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]',
      'c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]',
      'issuers: [*c, *c]',
    ].join('\n');
    const bomb = parseRulesFile(laughs, noCa);
    assert.equal(bomb.problems.length, 1);
    assert.match(bomb.problems[0] ?? '', /alias count/i);
    // A few aliases, as a file shares its rules between issuers, are fine.
    const shared = `
rules: &rules
  - claims: { namespace_path: platform }
    pull: platform/**
`;
    assert.match(parseRulesFile(shared, noCa).problems.join('\n'), /unknown key "rules"/);
  });

  it('an issuer without name or issuer is not reported as a duplicate of another such', () => {
    const text = JSON.stringify({
      issuers: [
        { ...valid, name: undefined, issuer: undefined },
        { ...valid, name: undefined, issuer: undefined },
      ],
    });
    const { problems } = parseRulesFile(text, noCa);
    assert.equal(problems.length, 4, problems.join('\n'));
    assert.ok(!problems.some((p) => p.includes('appears twice')), problems.join('\n'));
  });
});
