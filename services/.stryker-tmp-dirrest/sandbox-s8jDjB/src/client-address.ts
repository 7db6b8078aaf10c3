// @ts-nocheck
// The client's address for lockout and audit: X-Real-IP / X-Forwarded-For count only when the connection
// comes from a trusted proxy (TRUSTED_PROXIES), otherwise anyone could pick their own lockout bucket.
import { isIP } from 'node:net';
import type { IncomingMessage } from 'node:http';
import proxyaddr from 'proxy-addr';

export type AddressResolver = (req: IncomingMessage) => string;

/** Whether the connection's peer is one of TRUSTED_PROXIES (so its proxy headers may be believed). */
export type PeerTrust = (req: IncomingMessage) => boolean;

export function createPeerTrust(trustedProxies: readonly string[]): PeerTrust {
  const trust = proxyaddr.compile([...trustedProxies]);
  // Parsing the peer address on every request is measurable; the peers are a handful of proxies.
  const trusted = new Map<string, boolean>();
  return (req) => {
    const peer = req.socket.remoteAddress ?? '';
    let isTrusted = trusted.get(peer);
    if (isTrusted === undefined) {
      isTrusted = trust(peer, 0);
      if (trusted.size > 1024) trusted.clear(); // direct clients can be many; stay bounded
      trusted.set(peer, isTrusted);
    }
    return isTrusted;
  };
}

export function createAddressResolver(trustedProxies: readonly string[]): AddressResolver {
  const trust = proxyaddr.compile([...trustedProxies]);
  const fromTrustedPeer = createPeerTrust(trustedProxies);
  return (req) => {
    const peer = req.socket.remoteAddress ?? '';
    if (!fromTrustedPeer(req)) return peer;
    const realIp = req.headers['x-real-ip'];
    if (typeof realIp === 'string' && isIP(realIp.trim()) !== 0) return realIp.trim();
    if (req.headers['x-forwarded-for'] === undefined) return peer;
    return proxyaddr(req, trust); // the nearest untrusted hop of X-Forwarded-For
  };
}
