// The client's address for lockout and audit: X-Real-IP / X-Forwarded-For count only when the connection
// comes from a trusted proxy (TRUSTED_PROXIES), otherwise anyone could pick their own lockout bucket.
import { isIP } from 'node:net';
import type { IncomingMessage } from 'node:http';
import proxyaddr from 'proxy-addr';

export type AddressResolver = (req: IncomingMessage) => string;

export function createAddressResolver(trustedProxies: readonly string[]): AddressResolver {
  const trust = proxyaddr.compile([...trustedProxies]);
  return (req) => {
    const peer = req.socket.remoteAddress ?? '';
    if (!trust(peer, 0)) return peer;
    const realIp = req.headers['x-real-ip'];
    if (typeof realIp === 'string' && isIP(realIp.trim()) !== 0) return realIp.trim();
    return proxyaddr(req, trust); // the nearest untrusted hop of X-Forwarded-For
  };
}
