// @ts-nocheck
// The method and raw URI of the registry request the proxy is asking about. Two header pairs carry them:
//   X-Original-Method + X-Original-URI (or X-Original-URL)  nginx auth_request, ingress-nginx auth-url
//   X-Forwarded-Method + X-Forwarded-Uri                    Traefik ForwardAuth, Caddy forward_auth
// Traefik and Caddy forward the client's own headers to the auth service and overwrite only the
// X-Forwarded-* pair, so that pair is believed only from TRUSTED_PROXIES, and a client-supplied
// X-Original-* beside it that names another request makes the answer "proxy misconfigured" (500):
// neither proxy's client can pick which request gets authorized.
import type { IncomingMessage } from 'node:http';
import type { PeerTrust } from './client-address.ts';

export interface OriginalRequest {
  readonly method: string | undefined;
  readonly uri: string | undefined;
}

const UNKNOWN: OriginalRequest = { method: undefined, uri: undefined };

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return typeof value === 'string' ? value : undefined;
}

/** The raw path and query: X-Original-URI as nginx sends it, or the path of ingress-nginx's X-Original-URL. */
export function originalUri(req: IncomingMessage): string | undefined {
  const uri = req.headers['x-original-uri'];
  if (typeof uri === 'string') return uri;
  const url = req.headers['x-original-url'];
  if (typeof url !== 'string') return undefined;
  if (url.startsWith('/')) return url;
  // Not `new URL()`: it would resolve dot segments and re-encode, and we authorize the raw path.
  const match = /^[a-z][a-z0-9+.-]*:\/\/[^/?#]*(.*)$/i.exec(url);
  return match === null ? undefined : match[1] || '/';
}

export function createOriginalRequestReader(
  fromTrustedPeer: PeerTrust,
): (req: IncomingMessage) => OriginalRequest {
  return (req) => {
    const original = { method: header(req, 'x-original-method'), uri: originalUri(req) };
    const method = header(req, 'x-forwarded-method');
    const uri = header(req, 'x-forwarded-uri');
    if (method === undefined || uri === undefined || !fromTrustedPeer(req)) return original;
    const conflicts =
      (original.method !== undefined && original.method !== method) ||
      (original.uri !== undefined && original.uri !== uri);
    return conflicts ? UNKNOWN : { method, uri };
  };
}
