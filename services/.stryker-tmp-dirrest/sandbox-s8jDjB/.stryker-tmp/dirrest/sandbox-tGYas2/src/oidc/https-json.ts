// @ts-nocheck
// 
// GET a small JSON document over HTTPS (an issuer's discovery document or JWKS), with its own CA bundle,
// one deadline for the whole exchange and a size bound. node:https rather than fetch(): fetch cannot be
// given a CA bundle per request.
import { request } from 'node:https';

export interface HttpsJsonOptions {
  /** PEM certificates to trust instead of Node's default CAs (a self-hosted GitLab's private CA). */
  readonly ca?: readonly string[] | undefined;
  /** Deadline for connect, TLS, request and the whole body. */
  readonly timeoutMs: number;
  readonly maxBytes: number;
}

/** The issuer could not be asked (network, TLS, timeout, status, not JSON): never a verdict on a token. */
export class IssuerFetchError extends Error {
  constructor(url: string, why: string) {
    super(`${url}: ${why}`);
    this.name = 'IssuerFetchError';
  }
}

export function getJson(url: string, options: HttpsJsonOptions): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const fail = (why: string): void => {
      reject(new IssuerFetchError(url, why));
    };
    if (!url.startsWith('https://')) {
      fail('not an https:// URL');
      return;
    }
    const req = request(
      url,
      {
        method: 'GET',
        headers: { Accept: 'application/json' },
        ...(options.ca === undefined ? {} : { ca: [...options.ca] }),
        agent: false,
        signal: AbortSignal.timeout(options.timeoutMs),
      },
      (res) => {
        // No redirects: discovery and JWKS are fetched exactly where the issuer says they are.
        if (res.statusCode !== 200) {
          res.resume();
          fail(`HTTP ${res.statusCode ?? 'no status'}`);
          return;
        }
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > options.maxBytes) {
            req.destroy();
            fail(`larger than ${options.maxBytes} bytes`);
            return;
          }
          chunks.push(chunk);
        });
        res.once('error', (error) => {
          fail(error.message);
        });
        res.once('end', () => {
          try {
            resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown);
          } catch {
            fail('not JSON');
          }
        });
      },
    );
    req.once('error', (error: NodeJS.ErrnoException) => {
      fail(error.name === 'AbortError' ? `no answer within ${options.timeoutMs} ms` : error.message);
    });
    req.end();
  });
}
