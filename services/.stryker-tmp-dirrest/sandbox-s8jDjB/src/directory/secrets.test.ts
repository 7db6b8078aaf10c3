// @ts-nocheck
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { RotatingSecrets } from './secrets.ts';

const PEM = (n: number) => `-----BEGIN CERTIFICATE-----\nMII${n}\n-----END CERTIFICATE-----`;

function secrets(files: Record<string, string | undefined>) {
  const read = (path: string): string => {
    const content = files[path];
    if (content === undefined) throw Object.assign(new Error('gone'), { code: 'ENOENT' });
    return content;
  };
  return new RotatingSecrets(
    { bindPassword: 'old', bindPasswordFile: '/run/pw', ca: [PEM(1)], caFile: '/run/ca.pem' },
    read,
  );
}

describe('RotatingSecrets', () => {
  it('takes a changed password file (one trailing newline dropped) and says so', () => {
    const files: Record<string, string | undefined> = { '/run/pw': 'old\n', '/run/ca.pem': PEM(1) };
    const s = secrets(files);
    assert.deepEqual(s.reloadBindPassword(), { changed: [], problems: [] }, 'unchanged: nothing to do');
    files['/run/pw'] = 'new secret \n';
    assert.deepEqual(s.reloadBindPassword(), { changed: ['LDAP_BIND_PASSWORD_FILE'], problems: [] });
    assert.equal(s.bindPassword, 'new secret ');
  });

  it('keeps the working value when the file is missing, empty or holds no certificate', () => {
    const files: Record<string, string | undefined> = { '/run/pw': '\n', '/run/ca.pem': 'half-written' };
    const s = secrets(files);
    const all = s.reloadAll();
    assert.deepEqual(all.changed, []);
    assert.deepEqual(all.problems, [
      'LDAP_BIND_PASSWORD_FILE: /run/pw is empty',
      'LDAP_CA_FILE: /run/ca.pem holds no PEM certificate',
    ]);
    files['/run/pw'] = undefined;
    assert.match(s.reloadBindPassword().problems[0] ?? '', /cannot read \/run\/pw \(ENOENT\)/);
    assert.equal(s.bindPassword, 'old');
    assert.deepEqual(s.ca, [PEM(1)]);
  });

  it('takes a renewed CA bundle, and never puts file contents in a problem', () => {
    const files: Record<string, string | undefined> = {
      '/run/pw': 'old',
      '/run/ca.pem': `${PEM(1)}\n${PEM(2)}`,
    };
    const s = secrets(files);
    assert.deepEqual(s.reloadCa(), { changed: ['LDAP_CA_FILE'], problems: [] });
    assert.deepEqual(s.ca, [PEM(1), PEM(2)]);
    files['/run/pw'] = '';
    assert.ok(!JSON.stringify(s.reloadAll()).includes('old'));
  });
});

describe('RotatingSecrets, the details an operator relies on', () => {
  it('an unchanged CA bundle is no change, and keeps the same value (the connector compares it)', () => {
    const files: Record<string, string | undefined> = { '/run/pw': 'old', '/run/ca.pem': `${PEM(1)}\n` };
    const s = secrets(files);
    const before = s.ca;
    assert.deepEqual(s.reloadCa(), { changed: [], problems: [] });
    assert.equal(s.ca, before);
    files['/run/ca.pem'] = PEM(2); // same count, other certificate
    assert.deepEqual(s.reloadCa(), { changed: ['LDAP_CA_FILE'], problems: [] });
    assert.deepEqual(s.ca, [PEM(2)]);
    files['/run/ca.pem'] = `${PEM(2)}\n${PEM(2)}`; // the first the same, one more
    assert.deepEqual(s.reloadCa(), { changed: ['LDAP_CA_FILE'], problems: [] });
    files['/run/ca.pem'] = `${PEM(3)}\n${PEM(2)}`; // the second the same, the first not
    assert.deepEqual(s.reloadCa(), { changed: ['LDAP_CA_FILE'], problems: [] });
    assert.deepEqual(s.ca, [PEM(3), PEM(2)]);
    files['/run/ca.pem'] = PEM(3); // a certificate dropped from the bundle
    assert.deepEqual(s.reloadCa(), { changed: ['LDAP_CA_FILE'], problems: [] });
    assert.deepEqual(s.ca, [PEM(3)]);
  });

  it('a CA file read where the system store was used so far is a change', () => {
    const s = new RotatingSecrets(
      { bindPassword: undefined, bindPasswordFile: undefined, ca: undefined, caFile: '/run/ca.pem' },
      () => PEM(1),
    );
    assert.deepEqual(s.reloadCa(), { changed: ['LDAP_CA_FILE'], problems: [] });
    assert.deepEqual(s.ca, [PEM(1)]);
  });

  it('without the files there is nothing to re-read, and messages name LDAP_BIND_PASSWORD', () => {
    const s = new RotatingSecrets(
      { bindPassword: 'env', bindPasswordFile: undefined, ca: [PEM(1)], caFile: undefined },
      () => {
        throw new Error('no file should be read');
      },
    );
    assert.deepEqual(s.reloadAll(), { changed: [], problems: [] });
    assert.equal(s.bindPassword, 'env');
    assert.deepEqual(s.ca, [PEM(1)]);
    assert.equal(s.bindPasswordVariable, 'LDAP_BIND_PASSWORD');
    assert.equal(secrets({}).bindPasswordVariable, 'LDAP_BIND_PASSWORD_FILE');
  });

  it('only one trailing newline (LF or CRLF) is dropped from the password', () => {
    const files: Record<string, string | undefined> = { '/run/pw': 'two\r\n', '/run/ca.pem': PEM(1) };
    const s = secrets(files);
    s.reloadBindPassword();
    assert.equal(s.bindPassword, 'two');
    files['/run/pw'] = 'line\nbreak\n';
    s.reloadBindPassword();
    assert.equal(s.bindPassword, 'line\nbreak');
  });

  it('a read failure without an errno code is reported as "error"; the CA file too', () => {
    const s = new RotatingSecrets(
      { bindPassword: 'old', bindPasswordFile: '/run/pw', ca: [PEM(1)], caFile: '/run/ca.pem' },
      () => {
        throw new Error('odd failure');
      },
    );
    assert.deepEqual(s.reloadAll(), {
      changed: [],
      problems: [
        'LDAP_BIND_PASSWORD_FILE: cannot read /run/pw (error)',
        'LDAP_CA_FILE: cannot read /run/ca.pem (error)',
      ],
    });
  });

  it('reads the files from disk by default', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'secrets-test-'));
    try {
      const file = join(dir, 'pw');
      await writeFile(file, 'from disk\n');
      const s = new RotatingSecrets({
        bindPassword: 'old',
        bindPasswordFile: file,
        ca: undefined,
        caFile: undefined,
      });
      assert.deepEqual(s.reloadBindPassword(), { changed: ['LDAP_BIND_PASSWORD_FILE'], problems: [] });
      assert.equal(s.bindPassword, 'from disk');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
