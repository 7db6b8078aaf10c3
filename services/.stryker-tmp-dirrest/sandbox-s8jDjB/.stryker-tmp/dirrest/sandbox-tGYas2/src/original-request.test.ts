// @ts-nocheck
// 
import assert from 'node:assert/strict';
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import { describe, it } from 'node:test';
import { createPeerTrust } from './client-address.ts';
import { createOriginalRequestReader, originalUri } from './original-request.ts';

const request = (peer: string, headers: IncomingHttpHeaders): IncomingMessage =>
  ({ headers, socket: { remoteAddress: peer } }) as unknown as IncomingMessage;

// TRUSTED_PROXIES as a Kubernetes or compose deployment would set it: the proxies' network only.
const read = createOriginalRequestReader(createPeerTrust(['10.0.0.0/8']));
const PROXY = '10.1.2.3';
const CLIENT = '203.0.113.7';
const forwarded = { 'x-forwarded-method': 'PUT', 'x-forwarded-uri': '/v2/team/app/manifests/v1' };

describe('createOriginalRequestReader', () => {
  it('reads nginx X-Original-Method / X-Original-URI from any peer, as before', () => {
    const headers = { 'x-original-method': 'HEAD', 'x-original-uri': '/v2/a/blobs/sha256:00?x=1' };
    assert.deepEqual(read(request(CLIENT, headers)), { method: 'HEAD', uri: '/v2/a/blobs/sha256:00?x=1' });
  });

  it('reads Traefik / Caddy X-Forwarded-Method / X-Forwarded-Uri from a trusted proxy', () => {
    assert.deepEqual(read(request(PROXY, forwarded)), { method: 'PUT', uri: '/v2/team/app/manifests/v1' });
  });

  it('ignores X-Forwarded-Method / X-Forwarded-Uri from a peer outside TRUSTED_PROXIES', () => {
    assert.deepEqual(read(request(CLIENT, forwarded)), { method: undefined, uri: undefined });
    const both = { ...forwarded, 'x-original-method': 'GET', 'x-original-uri': '/v2/' };
    assert.deepEqual(read(request(CLIENT, both)), { method: 'GET', uri: '/v2/' });
  });

  it('needs both halves of the forwarded pair', () => {
    assert.deepEqual(read(request(PROXY, { 'x-forwarded-method': 'PUT' })), {
      method: undefined,
      uri: undefined,
    });
    assert.deepEqual(read(request(PROXY, { 'x-forwarded-uri': '/v2/' })), {
      method: undefined,
      uri: undefined,
    });
  });

  it('refuses to choose when a client-supplied X-Original-* names another request than the proxy', () => {
    // Caddy and Traefik pass the client's headers on: a pull-only user must not turn a push into a "GET".
    for (const spoof of [
      { 'x-original-method': 'GET' },
      { 'x-original-uri': '/v2/team/app/manifests/v0' },
      { 'x-original-url': 'https://r.example/v2/other/manifests/v1' },
    ]) {
      assert.deepEqual(read(request(PROXY, { ...forwarded, ...spoof })), {
        method: undefined,
        uri: undefined,
      });
    }
  });

  it('accepts both pairs when they agree (a proxy that sets both)', () => {
    const both = { ...forwarded, 'x-original-method': 'PUT', 'x-original-uri': '/v2/team/app/manifests/v1' };
    assert.deepEqual(read(request(PROXY, both)), { method: 'PUT', uri: '/v2/team/app/manifests/v1' });
  });

  it('takes X-Forwarded-Uri raw, without resolving dot segments or decoding', () => {
    const raw = { 'x-forwarded-method': 'GET', 'x-forwarded-uri': '/v2/a/../b/%2e%2e/manifests/x' };
    assert.equal(read(request(PROXY, raw)).uri, '/v2/a/../b/%2e%2e/manifests/x');
  });
});

describe('originalUri', () => {
  it('prefers X-Original-URI, else the path and query of X-Original-URL', () => {
    assert.equal(originalUri(request(CLIENT, { 'x-original-uri': '/v2/x' })), '/v2/x');
    assert.equal(originalUri(request(CLIENT, { 'x-original-url': 'https://h:5043/v2/y?n=1' })), '/v2/y?n=1');
    assert.equal(originalUri(request(CLIENT, { 'x-original-url': 'https://h' })), '/');
    assert.equal(originalUri(request(CLIENT, {})), undefined);
  });
});
