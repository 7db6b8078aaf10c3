import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InvalidCredentialsError, BusyError } from 'ldapts';
import { CredentialsRejectedError, DirectoryUnavailableError, classifyUserBindError } from './errors.ts';

const adBind = (data: string) =>
  new InvalidCredentialsError(
    `80090308: LdapErr: DSID-0C0904DC, comment: AcceptSecurityContext error, data ${data}, v1db1`,
  );

describe('classifyUserBindError', () => {
  const table: [string, string][] = [
    ['52e', 'invalid_password'],
    ['525', 'unknown_user'],
    ['533', 'account_disabled'],
    ['701', 'account_expired'],
    ['773', 'password_must_change'],
    ['532', 'password_expired'],
    ['775', 'account_locked'],
  ];
  for (const [data, reason] of table) {
    it(`AD data ${data} → ${reason}`, () => {
      const error = classifyUserBindError(adBind(data));
      assert.ok(error instanceof CredentialsRejectedError);
      assert.equal(error.reason, reason);
    });
  }

  it('an OpenLDAP invalid credentials (49) is a wrong password', () => {
    const error = classifyUserBindError(new InvalidCredentialsError('Invalid Credentials'));
    assert.ok(error instanceof CredentialsRejectedError && error.reason === 'invalid_password');
  });

  it('anything else is the directory being unavailable, never a rejection', () => {
    assert.ok(classifyUserBindError(new BusyError('busy')) instanceof DirectoryUnavailableError);
    assert.ok(
      classifyUserBindError(
        Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }),
      ) instanceof DirectoryUnavailableError,
    );
  });
});
