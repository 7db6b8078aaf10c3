import assert from 'node:assert/strict';
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
