// Loaded into the real sidecar with NODE_OPTIONS=--import (internal-error.test.ts): a bug on the decision
// path, for one user. The directory's group lookup fails with a TypeError for dave (no directory error, so
// not an outage), as a defect in the service would; everything else runs unchanged.
import type { LdapDirectory as Directory } from '../../../services/auth/src/directory/ldap-directory.ts';

// The module the sidecar itself loads (dist/, found by package name), so the patch reaches its instance.
const main = import.meta.resolve('@registry-ldap-auth/auth');
const loaded = (await import(new URL('./directory/ldap-directory.js', main).href)) as {
  LdapDirectory: typeof Directory;
};
const { prototype } = loaded.LdapDirectory;
const { resolveGroups } = Object.getOwnPropertyDescriptors(prototype);
const original = resolveGroups.value as Directory['resolveGroups'];

prototype.resolveGroups = async function (this: Directory, user) {
  if (user.username === 'dave') throw new TypeError(`injected fault: groups of ${user.username}`);
  return original.call(this, user);
};
