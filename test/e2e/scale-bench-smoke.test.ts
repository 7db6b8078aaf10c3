// A tiny run of `npm run bench:scale` (its burst phase only, 40 users): the script still works, and what it
// measures still holds at this size: concurrent requests of one cold user cost one LDAP bind between them,
// and warm users cost the directory nothing.
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { execute } from '@registry-ldap-auth/stack/process';

const SCRIPT = fileURLToPath(new URL('../bench/scale-bench.ts', import.meta.url));
const USERS = 40;
const PER_USER = 3;

/** `user binds N` and `searches N` of the `cold:` or `warm:` block. */
function ldapCounts(
  output: string,
  phase: 'cold' | 'warm',
): { binds: number; searches: number; statuses: string } {
  const block = new RegExp(
    `${phase}: \\d+ users.*\\((.*)\\)\\n\\s+LDAP: user binds (\\d+) .*searches (\\d+) `,
  );
  const match = block.exec(output);
  assert.ok(match, `no ${phase} block in the benchmark's output:\n${output}`);
  return { statuses: match[1] ?? '', binds: Number(match[2]), searches: Number(match[3]) };
}

void test(
  `bench:scale smoke: ${USERS} cold users × ${PER_USER} concurrent requests cost one bind each, warm users none`,
  { timeout: 60_000 },
  async () => {
    const args = [SCRIPT, '--users', String(USERS), '--per-user', String(PER_USER), '--concurrency', '8'];
    const run = await execute(process.execPath, [...args, '--phases', 'burst'], { timeoutMs: 55_000 });
    assert.equal(run.code, 0, `exit ${String(run.code)}\n${run.stdout}\n${run.stderr}`);
    const cold = ldapCounts(run.stdout, 'cold');
    const warm = ldapCounts(run.stdout, 'warm');
    assert.equal(cold.statuses, `200 ×${USERS * PER_USER}`);
    assert.equal(cold.binds, USERS, 'one user bind per cold user, whatever arrives at once');
    assert.ok(cold.searches >= USERS, 'every cold user was looked up');
    assert.equal(warm.statuses, `200 ×${USERS * PER_USER}`);
    assert.deepEqual([warm.binds, warm.searches], [0, 0], 'warm users are answered from the cache');
  },
);
