// @ts-nocheck
// 
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ConfigError, loadConfig } from '../config.ts';

const minimal = {
  LDAP_URL: 'ldap://127.0.0.1:389',
  LDAP_USER_BASE_DN: 'ou=people,dc=example,dc=test',
  AUTH_PUSH_GROUPS: 'registry-pushers',
};
const dir = mkdtempSync(join(tmpdir(), 'oidc-config-'));
const file = (name: string, text: string): string => {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
};

function problems(env: Record<string, string>): readonly string[] {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  assert.fail('expected a ConfigError');
}

describe('OIDC_CONFIG_FILE and OIDC_USERNAME', () => {
  it('leaves job tokens off unless OIDC_CONFIG_FILE is set', () => {
    assert.equal(loadConfig(minimal).oidc, undefined);
  });

  it('reads the rules file, with the username oidc by default', () => {
    const rules = file(
      'ok.json',
      JSON.stringify({
        issuers: [
          {
            name: 'gitlab',
            issuer: 'https://gitlab.example.com',
            audience: 'https://registry.example.com',
            rules: [{ claims: { project_path: 'a/b' }, push: ['a/b'] }],
          },
        ],
      }),
    );
    const config = loadConfig({ ...minimal, OIDC_CONFIG_FILE: rules });
    assert.equal(config.oidc?.username, 'oidc');
    assert.equal(config.oidc.issuers[0]?.issuer, 'https://gitlab.example.com');
    assert.ok(Object.isFrozen(config.oidc.issuers[0].rules[0]?.push), 'frozen with the rest');
    assert.equal(
      loadConfig({ ...minimal, OIDC_CONFIG_FILE: rules, OIDC_USERNAME: 'ci-token' }).oidc?.username,
      'ci-token',
    );
  });

  it("reports the rules file's problems with the other variables, in one start", () => {
    const bad = file('bad.yml', 'issuers:\n  - name: gitlab\n    issuer: https://gitlab.example.com\n');
    const found = problems({ ...minimal, PORT: 'x', OIDC_CONFIG_FILE: bad, OIDC_USERNAME: 'a:b' });
    assert.ok(found.some((p) => p.startsWith('PORT')));
    assert.ok(found.some((p) => p.startsWith('OIDC_USERNAME')));
    assert.ok(
      found.includes(
        `OIDC_CONFIG_FILE ${bad}: issuers[0].audience: required, a non-empty string or list of strings`,
      ),
      found.join('\n'),
    );
    assert.ok(found.some((p) => p.startsWith(`OIDC_CONFIG_FILE ${bad}: issuers[0].rules: required`)));
  });

  it('names a rules file or CA file that cannot be read', () => {
    assert.deepEqual(problems({ ...minimal, OIDC_CONFIG_FILE: join(dir, 'missing.yml') }), [
      `OIDC_CONFIG_FILE: cannot read ${join(dir, 'missing.yml')} (ENOENT)`,
    ]);
    const notPem = file('not-pem.txt', 'hello');
    const rules = file(
      'ca.yml',
      `issuers:\n  - name: gitlab\n    issuer: https://gitlab.example.com\n    audience: r\n    ca_file: ${notPem}\n    rules: [{ claims: { a: b }, pull: x }]\n`,
    );
    assert.deepEqual(problems({ ...minimal, OIDC_CONFIG_FILE: rules }), [
      `OIDC_CONFIG_FILE ${rules}: issuers[0].ca_file: ${notPem} holds no PEM certificate`,
    ]);
  });
});

describe('OIDC_CONFIG_FILE: YAML aliases', () => {
  it('an alias without its anchor is a configuration problem naming the file, not a crash', () => {
    const rules = file('alias.yml', 'issuers: *gitlab\n');
    const [problem = '', ...more] = problems({ ...minimal, OIDC_CONFIG_FILE: rules });
    assert.deepEqual(more, []);
    assert.ok(problem.startsWith(`OIDC_CONFIG_FILE ${rules}: `), problem);
    assert.match(problem, /alias.*gitlab$/i);
  });
});

describe('OIDC_CONFIG_FILE: ca_file', () => {
  const rulesWithCa = (name: string, caFile: string): string =>
    file(
      name,
      `issuers:\n  - name: gitlab\n    issuer: https://gitlab.example.com\n    audience: r\n    ca_file: ${caFile}\n    rules: [{ claims: { a: b }, pull: x }]\n`,
    );
  // PEM as openssl writes a bundle: base64 lines, and text between the certificates that is not trusted.
  const pem = (body: string): string =>
    `-----BEGIN CERTIFICATE-----\n${body}\n${body.toLowerCase()}==\n-----END CERTIFICATE-----`;
  const root = pem('MIIBszCCAVmgAwIBAgIUY2FfcmVnaXN0cnlfdGVzdF9yb290X2NhMAoGCCqGSM49BAMC');
  const intermediate = pem('MIIBtDCCAVqgAwIBAgIUaW50ZXJtZWRpYXRlX2NhX2Zvcl9naXRsYWIwCgYIKoZIzj0E');

  it('trusts every certificate of a PEM bundle, and nothing around them', () => {
    const bundle = file(
      'bundle.pem',
      `subject=CN = Example Root CA\n${root}\n\nsubject=CN = Example Intermediate\n${intermediate}\n`,
    );
    const config = loadConfig({ ...minimal, OIDC_CONFIG_FILE: rulesWithCa('bundle.yml', bundle) });
    assert.deepEqual(config.oidc?.issuers[0]?.ca, [root, intermediate]);
  });

  it('names a CA file that cannot be read, with the reason', () => {
    const missing = join(dir, 'missing-ca.pem');
    const rules = rulesWithCa('missing-ca.yml', missing);
    assert.deepEqual(problems({ ...minimal, OIDC_CONFIG_FILE: rules }), [
      `OIDC_CONFIG_FILE ${rules}: issuers[0].ca_file: cannot read ${missing} (ENOENT)`,
    ]);
  });
});

describe('OIDC_USERNAME', () => {
  it('is a Basic user-id: at most 64 characters, no colon, no control characters', () => {
    const username = (name: string): readonly string[] =>
      problems({ ...minimal, OIDC_USERNAME: name, PORT: 'x' }).filter((p) => p.startsWith('OIDC_USERNAME'));
    assert.deepEqual(username('c'.repeat(64)), []);
    for (const name of ['c'.repeat(65), 'ci:token', 'ci\ttoken', 'ci\u007f']) {
      assert.deepEqual(
        username(name),
        ['OIDC_USERNAME must be at most 64 characters, without ":" or control characters'],
        JSON.stringify(name),
      );
    }
  });
});
