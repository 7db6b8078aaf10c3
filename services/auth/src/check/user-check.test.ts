import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadConfig } from '../config.ts';
import { FakeDirectory } from '../../test/support/fake-directory.ts';
import { capturedReport } from '../../test/support/log-capture.ts';
import { EXIT } from './report.ts';
import { checkUser } from './user-check.ts';

/** A directory with a defect: group resolution throws something no directory error class describes. */
class DefectiveDirectory extends FakeDirectory {
  closed = 0;
  override resolveGroups(): Promise<never> {
    return Promise.reject(new TypeError('entry.memberOf is not iterable'));
  }
  override async close(): Promise<void> {
    this.closed++;
    await super.close();
  }
}

describe('checkUser', () => {
  it('ends the check with a defect instead of calling it a refused login, and closes the directory', async () => {
    const config = loadConfig({
      LDAP_URL: 'ldap://127.0.0.1',
      LDAP_USER_BASE_DN: 'ou=people,dc=example,dc=test',
      LDAP_GROUP_BASE_DN: 'ou=groups,dc=example,dc=test',
      AUTH_PUSH_GROUPS: 'pushers',
    });
    const directory = new DefectiveDirectory({ alice: { password: 'alice-password', groups: ['pushers'] } });
    const { report, text } = capturedReport();
    const user = { login: 'alice', password: 'alice-password', repository: 'sample/app' };
    await assert.rejects(checkUser(config, user, report, directory), TypeError);
    assert.equal(directory.closed, 1);
    assert.equal(report.exitCode, EXIT.ok, text());
    assert.doesNotMatch(text(), /FAIL/);
  });
});
