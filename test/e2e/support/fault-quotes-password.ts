// Loaded into the real sidecar with NODE_OPTIONS=--import (attacks.test.ts): a defect that quotes the
// password it was handed, as V8 does for `table[password]` on an undefined table ("Cannot read properties
// of undefined (reading '<password>')"). Only dave's password check has it; everything else runs unchanged.
import type { LdapDirectory } from '../../../services/auth/src/directory/ldap-directory.ts';
import { sidecarDirectory } from './sidecar-module.ts';

const { prototype, original } = await sidecarDirectory('verifyPassword');

prototype.verifyPassword = async function (this: LdapDirectory, user, password) {
  if (user.username === 'dave') {
    const table = undefined as unknown as Record<string, string>;
    return table[password] as never;
  }
  return original.call(this, user, password);
};
