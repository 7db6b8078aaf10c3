// @ts-nocheck
// 
// Network faults between the sidecar and the directory, made real: slapd runs inside a network namespace
// (stack/netns.ts) and iptables inside that namespace drops its traffic, as a dead route or a firewall
// would (nothing answers, not even a refusal). Bounded in time; the namespace is removed afterwards.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { TestContext } from 'node:test';
import { assertNoSecretsInLogs, basic } from '@registry-ldap-auth/stack/credentials';
import { createNetns } from '@registry-ldap-auth/stack/netns';
import type { Netns } from '@registry-ldap-auth/stack/netns';
import { decide, startSidecar } from '@registry-ldap-auth/stack/sidecar';
import type { Sidecar } from '@registry-ldap-auth/stack/sidecar';
import { seed, startSlapd } from '@registry-ldap-auth/stack/slapd';
import type { Slapd } from '@registry-ldap-auth/stack/slapd';
import { openldapEnv } from './support/openldap-env.ts';
import { waitFor, waitForLog } from './support/wait.ts';

const { alice, bob, carol, dave, erin } = seed.users;
const CONNECT_TIMEOUT_MS = 1000;
const FAST = {
  LDAP_TIMEOUT_MS: '1000',
  LDAP_CONNECT_TIMEOUT_MS: String(CONNECT_TIMEOUT_MS),
  DECISION_TIMEOUT_MS: '4000',
};

let ns: Netns;
let remote: Slapd; // inside the namespace: its traffic can be dropped
let local: Slapd; // on loopback: the failover target

before(async () => {
  ns = await createNetns('rla-faults');
  [remote, local] = await Promise.all([startSlapd({ netns: ns }), startSlapd()]);
});
after(async () => {
  try {
    await assertNoSecretsInLogs();
  } finally {
    // Any of them may be missing if `before` failed half-way.
    for (const slapd of [remote, local] as (Slapd | undefined)[]) await slapd?.destroy();
    await (ns as Netns | undefined)?.destroy();
  }
});

const port = (slapd: Slapd) => new URL(slapd.url).port;

/** Drops every TCP packet to slapd's port inside the namespace (no RST, no ICMP: a black hole). */
async function blackHole(slapd: Slapd, on: boolean): Promise<void> {
  await ns.exec('iptables', [on ? '-A' : '-D', 'INPUT', '-p', 'tcp', '--dport', port(slapd), '-j', 'DROP']);
}

/** Packets the DROP rule has swallowed: each new connection attempt is one SYN (plus retransmissions). */
async function droppedPackets(slapd: Slapd): Promise<number> {
  const { stdout } = await ns.exec('iptables', ['-L', 'INPUT', '-v', '-x', '-n']);
  const line = stdout.split('\n').find((l) => l.includes('DROP') && l.includes(`dpt:${port(slapd)}`));
  return Number(line?.trim().split(/\s+/)[0] ?? NaN);
}

async function metric(sidecar: Sidecar, pattern: RegExp): Promise<number | undefined> {
  const text = await (await fetch(`${sidecar.metricsUrl}/metrics`)).text();
  const match = pattern.exec(text);
  return match?.[1] === undefined ? undefined : Number(match[1]);
}

const serverUp = (sidecar: Sidecar, slapd: Slapd) =>
  metric(
    sidecar,
    new RegExp(`registry_auth_ldap_server_up\\{server="${slapd.url.replace(/\./g, '\\.')}"\\} (\\d)`),
  );

/** duration_ms of the audit line of `user`'s last decision. */
async function lastDuration(sidecar: Sidecar, user: string): Promise<number> {
  const lines = (await sidecar.logLines()).filter((l) => l['msg'] === 'decision' && l['user'] === user);
  return Number(lines.at(-1)?.['duration_ms']);
}

const cold = (i: number) => basic(`nobody-${i}`, `password-${i}`);

describe('a directory whose packets are dropped', () => {
  it('fails fast once known down, cached users keep pulling, and decisions recover without a restart', async (t: TestContext) => {
    const sidecar = await startSidecar(openldapEnv(remote, FAST));
    let dropped = false;
    try {
      assert.equal(
        (await decide(sidecar, 'GET', '/v2/app/manifests/v1', basic(alice.uid, alice.password))).status,
        200,
      );
      await blackHole(remote, true);
      dropped = true;

      // The pooled connection's next search times out, and the server is marked down.
      assert.equal((await decide(sidecar, 'GET', '/v2/', basic(bob.uid, bob.password))).status, 503);
      await waitFor('the server marked down', async () => (await serverUp(sidecar, remote)) === 0, 10_000);
      const packetsBefore = await droppedPackets(remote);
      const burst = await Promise.all(
        Array.from({ length: 50 }, (_, i) => decide(sidecar, 'GET', '/v2/', cold(i))),
      );
      assert.deepEqual(new Set(burst.map((r) => r.status)), new Set([503]));
      const packets = (await droppedPackets(remote)) - packetsBefore;
      // Without the breaker each cold decision opens a connection (a SYN each); with it only the
      // background probe (every 2 s) knocks.
      assert.ok(packets <= 8, `${packets} packets sent to the dead server during 50 cold decisions`);
      assert.equal(
        (await decide(sidecar, 'GET', '/v2/app/manifests/v1', basic(alice.uid, alice.password))).status,
        200,
        'a cached user keeps pulling',
      );

      await blackHole(remote, false);
      dropped = false;
      const healed = Date.now();
      await waitForLog(sidecar, (l) => l['msg'] === 'LDAP server is answering again', 15_000);
      assert.equal((await decide(sidecar, 'GET', '/v2/', basic(bob.uid, bob.password))).status, 200);
      t.diagnostic(`decisions recovered ${Date.now() - healed} ms after the path came back`);
    } finally {
      if (dropped) await blackHole(remote, false);
      await sidecar.stop();
    }
  });
});

describe('LDAP_URL failover', () => {
  it('first server refused, then black-holed: the second serves, the dead one is skipped, then probed back', async (t: TestContext) => {
    await remote.stop(); // refused: nothing listens at that address
    const sidecar = await startSidecar(
      openldapEnv(remote, { ...FAST, LDAP_URL: `${remote.url},${local.url}` }),
    );
    let dropped = false;
    try {
      assert.equal((await decide(sidecar, 'GET', '/v2/', basic(alice.uid, alice.password))).status, 200);
      const failover = await waitForLog(
        sidecar,
        (l) =>
          l['server'] === remote.url &&
          typeof l['msg'] === 'string' &&
          l['msg'].startsWith('LDAP server failed'),
        5000,
      );
      assert.equal(failover['failover'], local.url, 'the log names the server that takes over');
      assert.equal(await serverUp(sidecar, remote), 0);
      assert.equal(await serverUp(sidecar, local), 1);

      // Back: probed again in the background and used first once more.
      await remote.start();
      await waitForLog(
        sidecar,
        (l) => l['msg'] === 'LDAP server is answering again' && l['server'] === remote.url,
        10_000,
      );
      assert.equal(await serverUp(sidecar, remote), 1);

      // Black-holed: the first request that needs a new connection to it waits out the connect timeout
      // once; the server is then skipped, and later requests do not pay it again.
      await blackHole(remote, true);
      dropped = true;
      assert.equal((await decide(sidecar, 'GET', '/v2/', basic(bob.uid, bob.password))).status, 200);
      const first = await lastDuration(sidecar, bob.uid);
      await waitFor('the server marked down', async () => (await serverUp(sidecar, remote)) === 0, 5000);
      const later: number[] = [];
      for (const user of [carol, dave, erin]) {
        assert.equal((await decide(sidecar, 'GET', '/v2/', basic(user.uid, user.password))).status, 200);
        later.push(await lastDuration(sidecar, user.uid));
      }
      t.diagnostic(
        `first cold decision after the black hole: ${first} ms; later ones: ${later.join(', ')} ms`,
      );
      for (const ms of later)
        assert.ok(
          ms < CONNECT_TIMEOUT_MS,
          `a later decision waited ${ms} ms: the dead server was dialled again`,
        );
    } finally {
      if (dropped) await blackHole(remote, false);
      await sidecar.stop();
      await remote.start();
    }
  });
});
