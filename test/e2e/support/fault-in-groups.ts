// Loaded into the real sidecar with NODE_OPTIONS=--import (internal-error.test.ts): a bug on the decision
// path, for one user. The directory's group lookup fails with a TypeError for dave (no directory error, so
// not an outage), as a defect in the service would; everything else runs unchanged.
import type { LdapDirectory } from '../../../services/auth/src/directory/ldap-directory.ts';
import { sidecarDirectory } from './sidecar-module.ts';

const { prototype, original } = await sidecarDirectory('resolveGroups');

prototype.resolveGroups = async function (this: LdapDirectory, user) {
  if (user.username === 'dave') throw new TypeError(`injected fault: groups of ${user.username}`);
  return original.call(this, user);
};
