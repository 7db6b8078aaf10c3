// npm run mutation: StrykerJS mutates services/auth/src and runs the tests that run in-process against
// each mutant (the unit tests, and the directory layer against a real slapd). See docs/testing.md.
import { globSync } from 'node:fs';
import process from 'node:process';

// Excluded: the docs checks (docs-*.test.ts) read the README and docs/, outside the sandbox Stryker copies
// the package into; they test documentation, not the code under mutation.
const testFiles = [
  ...globSync('src/**/*.test.ts').filter((file) => !/(^|\/)docs-[^/]*\.test\.ts$/.test(file)),
  // In-process against real servers: the directory layer against slapd (and the stall server, refused
  // ports, TLS listeners), CI job tokens against a local HTTPS issuer. (The other test/ files drive the
  // built sidecar as a child process: nothing to mutate.)
  'test/ldap-directory.test.ts',
  'test/directory-pool.test.ts',
  'test/directory-connection.test.ts',
  'test/directory-connector.test.ts',
  'test/ldap-directory-faults.test.ts',
  'test/oidc-issuer.test.ts',
  'test/oidc-check.test.ts',
  // The issuer's keys (fetch, cache ages, cooldown, stale limit, documents of the wrong shape) and the
  // tokens' claims and the authenticator, against a local HTTPS issuer on the test's clock.
  'test/oidc-keys.test.ts',
  'test/oidc-tokens.test.ts',
  // The configuration check (--check) in-process: its report against slapd, a refused port, a silent
  // listener, TLS listeners that do not verify, and root DSEs that say Active Directory or 389 DS.
  'test/check-inprocess.test.ts',
  'test/check-server-kind.test.ts',
];

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  testRunner: 'tap',
  tap: { testFiles },
  mutate: ['src/**/*.ts', '!src/**/*.test.ts', '!src/main.ts', '!src/check/cli.ts'],
  ignorePatterns: ['dist', 'reports'],
  coverageAnalysis: 'perTest',
  ignoreStatic: true,
  concurrency: 2,
  timeoutMS: 20_000,
  reporters: ['clear-text', 'progress', 'json'],
  // MUTATION_REPORT names the report, so runs over parts of src (--mutate) keep one report each.
  jsonReporter: { fileName: process.env.MUTATION_REPORT ?? 'reports/mutation/mutation.json' },
  tempDirName: '.stryker-tmp',
  cleanTempDir: 'always',
};
