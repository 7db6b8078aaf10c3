// Loaded into the real sidecar with NODE_OPTIONS=--import (attacks.test.ts): a defect that quotes the
// password it was handed, as V8 does for `table[password]` on an undefined table ("Cannot read properties
// of undefined (reading '<password>')"). Only dave's password check has it; everything else runs unchanged.
import type { LdapDirectory as Directory } from '../../../services/auth/src/directory/ldap-directory.ts';

// The module the sidecar itself loads (dist/, found by package name), so the patch reaches its instance.
const main = import.meta.resolve('@registry-ldap-auth/auth');
const loaded = (await import(new URL('./directory/ldap-directory.js', main).href)) as {
  LdapDirectory: typeof Directory;
};
const { prototype } = loaded.LdapDirectory;
const { verifyPassword } = Object.getOwnPropertyDescriptors(prototype);
const original = verifyPassword.value as Directory['verifyPassword'];

prototype.verifyPassword = async function (this: Directory, user, password) {
  if (user.username === 'dave') {
    const table = undefined as unknown as Record<string, string>;
    return table[password] as never;
  }
  return original.call(this, user, password);
};
