// @ts-nocheck
// 
// HTTP Basic credentials (RFC 7617). Pure: returns undefined for anything malformed.

export interface BasicCredentials {
  readonly username: string;
  readonly password: string;
}

// Room for a CI job token as the password (a GitHub Actions token is ~2 KB, ~2.7 KB in Basic); longer
// headers are nothing a client sends, and nginx's default large_client_header_buffers (8k) cuts them anyway.
const MAX_HEADER_LENGTH = 8192;
// RFC 7617 §2: token68 in base64 (RFC 4648 §4), padding optional in practice but never in the middle.
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;
// RFC 7617 §2: the user-id and password MUST NOT contain control characters.
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROL = /[\u0000-\u001f\u007f]/;

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

export function parseBasicAuth(header: string | undefined): BasicCredentials | undefined {
  if (header === undefined || header.length > MAX_HEADER_LENGTH) return undefined;
  const match = /^Basic +(\S+) *$/i.exec(header);
  const token = match?.[1];
  if (token === undefined || !BASE64.test(token)) return undefined;
  // Padded tokens must be whole quanta; unpadded ones (some clients strip '=') must not end mid-byte.
  if (token.endsWith('=') ? token.length % 4 !== 0 : token.length % 4 === 1) return undefined;

  let decoded: string;
  try {
    decoded = utf8.decode(Buffer.from(token, 'base64'));
  } catch {
    return undefined; // not UTF-8 (RFC 7617 §2.1 charset="UTF-8" is what we announce)
  }
  const colon = decoded.indexOf(':');
  if (colon <= 0) return undefined; // no separator, or an empty user-id
  const username = decoded.slice(0, colon);
  const password = decoded.slice(colon + 1);
  if (CONTROL.test(username) || CONTROL.test(password)) return undefined;
  // NFC only when needed: normalize() allocates even for ASCII.
  return { username: /^[\x20-\x7e]*$/.test(username) ? username : username.normalize('NFC'), password };
}
