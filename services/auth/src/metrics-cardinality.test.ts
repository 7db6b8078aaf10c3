// No metric label carries a username, a repository or a client address: the number of series is fixed by
// the code (actions × results × reasons × sources), however many people use the registry.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { FakeDirectory, basic } from '../test/support/fake-directory.ts';
import type { FakeUser } from '../test/support/fake-directory.ts';
import { fakeConfig, serveFake } from '../test/support/serve-fake.ts';
import type { FakeService } from '../test/support/serve-fake.ts';

const USERS = 1000;
const users: Record<string, FakeUser> = {};
for (let i = 0; i < USERS; i++) {
  // Every third user may push, every third may only pull, the rest are in a group that grants nothing.
  const group = ['registry-pushers', 'registry-users', `team-${i}`][i % 3] ?? '';
  users[`user-${i}`] = { password: `password-${i}`, groups: [group] };
}
const directory = new FakeDirectory(users);
let served: FakeService;
let base = '';

before(async () => {
  served = await serveFake(directory, { config: fakeConfig({ LOCKOUT_MAX_FAILURES: '3' }) });
  base = served.authBase;
});
after(() => {
  served.close();
});

/** Every kind of decision for user i: allow, deny, wrong password, unknown user, challenge, lockout. */
async function decisionsFor(i: number): Promise<void> {
  const ask = (method: string, uri: string, authorization?: string, ip = `10.${i >> 8}.${i & 255}.1`) =>
    fetch(`${base}/auth`, {
      headers: {
        'X-Original-Method': method,
        'X-Original-URI': uri,
        'X-Real-IP': ip,
        ...(authorization === undefined ? {} : { Authorization: authorization }),
      },
    }).then((res) => res.status);
  const user = `user-${i}`;
  const repo = `team-${i}/app-${i}`;
  const statuses = [
    await ask('PUT', `/v2/${repo}/manifests/v${i}`, basic(user, `password-${i}`)),
    await ask('GET', `/v2/${repo}/tags/list`, basic(user, `password-${i}`)),
    await ask('GET', '/v2/', basic(user, `wrong-${i}`)),
    await ask('GET', `/v2/${repo}/tags/list`, basic(`ghost-${i}`, 'x')),
    await ask('GET', '/v2/'),
  ];
  // Three more wrong passwords lock this user (and this address) out.
  for (let n = 0; n < 3; n++) statuses.push(await ask('GET', '/v2/', basic(user, `wrong-${i}-${n}`)));
  assert.equal(statuses.at(-1), 401);
  assert.ok(statuses.includes(401) && statuses.some((s) => s === 200 || s === 403), statuses.join());
}

async function series(): Promise<string[]> {
  const text = await (await fetch(`${served.metricsBase}/metrics`)).text();
  return text.split('\n').filter((line) => line.startsWith('registry_auth_'));
}

describe('bounded metric cardinality', () => {
  it(`keeps the same registry_auth_* series after ${USERS} distinct users, repositories and addresses`, async () => {
    for (let i = 0; i < 6; i++) await decisionsFor(i);
    const warm = (await series()).map((line) => line.replace(/ [^ ]+$/, ''));
    assert.ok(
      warm.some((l) => l.includes('result="locked"')),
      'the warm-up reached a lockout',
    );
    assert.ok(
      warm.some((l) => l.includes('result="challenge"')),
      'the warm-up reached a challenge',
    );

    for (let i = 6; i < USERS; i++) await decisionsFor(i);
    const after = await series();
    assert.deepEqual(
      after.map((line) => line.replace(/ [^ ]+$/, '')),
      warm,
    );
    // The decisions were counted (so the series did not stand still for lack of traffic)…
    const allows = /^registry_auth_decisions_total\{action="push",result="allow"\} (\d+)$/m.exec(
      after.join('\n'),
    );
    assert.ok(Number(allows?.[1]) >= USERS / 3 - 1, `push allows: ${allows?.[1]}`);
    // …and no label names anyone.
    const text = after.join('\n');
    for (const needle of ['user-', 'ghost-', 'team-', 'app-', '10.0.'])
      assert.ok(!text.includes(needle), needle);
  });
});
