// One HTTPS request with TLS verified against a given CA and no connection reuse: how the tests and the
// demo talk to nginx (the native stack's and the compose deployment's).
import { request as httpsRequest } from 'node:https';
import type { IncomingHttpHeaders } from 'node:http';

export interface StackReply {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

export interface StackRequestOptions {
  /** An array sends the header once per value, in order. */
  headers?: Record<string, string | string[]>;
  body?: string | Buffer;
  /** Default 30 s. */
  timeoutMs?: number;
}

/** One HTTPS request, TLS verified against `ca`, no connection reuse. */
export function sendRequest(
  url: URL,
  ca: Buffer,
  method: string,
  options: StackRequestOptions,
): Promise<StackReply> {
  const timeoutMs = options.timeoutMs ?? 30_000;
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      url,
      { method, headers: options.headers ?? {}, ca, agent: false, timeout: timeoutMs },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.once('error', reject);
        res.once('end', () => {
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) });
        });
      },
    );
    req.once('timeout', () => req.destroy(new Error(`${method} ${url.pathname} timed out`)));
    req.once('error', reject);
    req.end(options.body);
  });
}
