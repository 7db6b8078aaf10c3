// @ts-nocheck
// 
// 
import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { describe, it } from 'node:test';
import { createAddressResolver } from './client-address.ts';

/** Just what the resolver reads of a request: the peer's address and the headers. */
function request(peer: string, headers: Record<string, string> = {}): IncomingMessage {
  const lower = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
  return { socket: { remoteAddress: peer }, headers: lower } as unknown as IncomingMessage;
}

describe('createAddressResolver', () => {
  const resolve = createAddressResolver(['loopback', '10.0.0.0/8']);

  it('takes X-Real-IP from a trusted proxy', () => {
    assert.equal(resolve(request('127.0.0.1', { 'X-Real-IP': '203.0.113.7' })), '203.0.113.7');
    assert.equal(resolve(request('10.1.2.3', { 'X-Real-IP': '203.0.113.8' })), '203.0.113.8');
  });

  it('takes the nearest untrusted hop of X-Forwarded-For from a trusted proxy', () => {
    const req = request('127.0.0.1', { 'X-Forwarded-For': '198.51.100.1, 203.0.113.9, 10.0.0.5' });
    assert.equal(resolve(req), '203.0.113.9');
  });

  it('ignores X-Real-IP and X-Forwarded-For from a peer that is not a trusted proxy', () => {
    const spoofed = { 'X-Real-IP': '203.0.113.7', 'X-Forwarded-For': '198.51.100.1' };
    assert.equal(resolve(request('192.0.2.44', spoofed)), '192.0.2.44');
    assert.equal(resolve(request('192.0.2.44', { 'X-Forwarded-For': '198.51.100.1' })), '192.0.2.44');
    // The same peer asks again: the cached trust verdict must not change the answer.
    assert.equal(resolve(request('192.0.2.44', spoofed)), '192.0.2.44');
  });

  it('falls back to the peer when a trusted proxy sends no usable address', () => {
    assert.equal(resolve(request('127.0.0.1')), '127.0.0.1');
    assert.equal(resolve(request('127.0.0.1', { 'X-Real-IP': 'not-an-ip' })), '127.0.0.1');
  });

  it('trusts nobody with an empty list', () => {
    const none = createAddressResolver([]);
    assert.equal(none(request('127.0.0.1', { 'X-Real-IP': '203.0.113.7' })), '127.0.0.1');
  });
});
