// @ts-nocheck
// 
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ServerSet, serverLabel } from './servers.ts';
import type { ServerEvent } from './servers.ts';

const A = 'ldap://a.example.test';
const B = 'ldaps://b.example.test:1636';

function servers(urls = [A, B]) {
  let now = 1_000_000;
  const events: ServerEvent[] = [];
  const set = new ServerSet(
    urls,
    { retryAfterMs: 5000, now: () => now },
    { serverState: (e) => events.push(e) },
  );
  return { set, events, advance: (ms: number) => (now += ms) };
}

describe('serverLabel', () => {
  it('names scheme, host and effective port, never user information', () => {
    assert.equal(serverLabel('ldap://dc1.corp'), 'ldap://dc1.corp:389');
    assert.equal(serverLabel('LDAPS://dc1.corp'), 'ldaps://dc1.corp:636');
    assert.equal(serverLabel('ldaps://admin:s3cret@dc1.corp:3269/'), 'ldaps://dc1.corp:3269');
    assert.equal(serverLabel('ldap://[::1]:10389'), 'ldap://[::1]:10389');
  });
});

describe('ServerSet', () => {
  it('reports every server up at start and tries them in configured order', () => {
    const { set, events } = servers();
    assert.deepEqual(events, [
      { server: 'ldap://a.example.test:389', up: true },
      { server: 'ldaps://b.example.test:1636', up: true },
    ]);
    assert.deepEqual(set.candidates(1000), [A, B]);
  });

  it('skips a failed server until its retry time, naming the server that takes over', () => {
    const { set, events, advance } = servers();
    set.failed(A, 'connect ETIMEDOUT');
    assert.deepEqual(events.at(-1), {
      server: 'ldap://a.example.test:389',
      up: false,
      error: 'connect ETIMEDOUT',
      failover: 'ldaps://b.example.test:1636',
    });
    assert.deepEqual(set.candidates(1000), [B], 'new connections skip the dead server');
    advance(4999);
    assert.deepEqual(set.claimDue(1000), [], 'not yet due for a probe');
    advance(1);
    assert.deepEqual(set.claimDue(1000), [A], 'due: probed again');
    assert.deepEqual(set.claimDue(1000), [], 'one probe at a time');
    assert.deepEqual(set.candidates(1000), [B], 'requests keep using the live server while A is probed');
    set.succeeded(A);
    assert.deepEqual(events.at(-1), { server: 'ldap://a.example.test:389', up: true });
    assert.deepEqual(set.candidates(1000), [A, B], 'back first in line');
  });

  it('fails fast when every server is down, then lets one caller through per due server (half-open)', () => {
    const { set, events, advance } = servers();
    set.failed(A, 'refused');
    set.failed(B, 'refused');
    assert.equal(events.at(-1)?.failover, undefined, 'nothing takes over');
    assert.equal(set.allDown, true);
    assert.deepEqual(set.candidates(1000), [], 'fail at once, no connect timeout paid');
    assert.equal(set.nextRetryInMs(), 5000);
    advance(5000);
    assert.deepEqual(set.candidates(1000), [A], 'the first caller probes');
    assert.deepEqual(set.candidates(1000), [B], 'the next one probes the other due server');
    assert.deepEqual(set.candidates(1000), [], 'everyone else still fails fast');
    advance(1000);
    assert.deepEqual(set.candidates(1000), [A], 'a probe that never reported expires');
    set.failed(A, 'still refused');
    assert.deepEqual(set.candidates(1000), [B], "B's expired probe is claimed in turn");
    set.failed(B, 'still refused');
    assert.deepEqual(set.candidates(1000), [], 'a failed probe starts a new wait');
    assert.equal(events.filter((e) => !e.up).length, 2, 'a server already down is not reported down again');
  });
});
