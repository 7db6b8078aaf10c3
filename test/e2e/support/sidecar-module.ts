// For fault modules loaded into the real sidecar (NODE_OPTIONS=--import): one of the sidecar's own modules,
// by its path under dist/, found by package name, so a patch reaches the instance the sidecar runs.
import type { LdapDirectory } from '../../../services/auth/src/directory/ldap-directory.ts';

const main = import.meta.resolve('@registry-ldap-auth/auth');

/** The directory class the sidecar runs, and its prototype's own method `name` as it was. */
export async function sidecarDirectory<K extends 'verifyPassword' | 'resolveGroups'>(
  name: K,
): Promise<{ prototype: LdapDirectory; original: LdapDirectory[K] }> {
  const loaded = (await import(new URL('./directory/ldap-directory.js', main).href)) as {
    LdapDirectory: typeof LdapDirectory;
  };
  const { prototype } = loaded.LdapDirectory;
  const descriptor = Object.getOwnPropertyDescriptor(prototype, name);
  if (descriptor === undefined) throw new Error(`LdapDirectory has no method ${name}`);
  return { prototype, original: descriptor.value as LdapDirectory[K] };
}
