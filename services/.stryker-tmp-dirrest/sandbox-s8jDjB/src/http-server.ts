// @ts-nocheck
// The HTTP servers of both ports, with every wait bounded: a client that sends its headers slowly, or
// connects and sends nothing, is answered 408 and closed, and past a connection cap new connections are
// closed at once, so slow clients cannot hold the port. nginx sends a subrequest's headers in one write,
// so these bounds never touch it.
import { createServer } from 'node:http';
import type { RequestListener, Server } from 'node:http';

export interface HttpLimits {
  /** From a request's first byte (or the connection's start) to the end of its headers. */
  readonly headersTimeoutMs: number;
  /** The whole request, headers and body; a decision that takes longer is still answered. */
  readonly requestTimeoutMs: number;
  /**
   * How long an idle keep-alive connection is kept. Longer than nginx's upstream `keepalive_timeout`
   * (60 s by default), so nginx always closes first and never sends a request on a connection we close.
   */
  readonly keepAliveTimeoutMs: number;
  /** Connections at once; more are closed as soon as they are accepted (nginx answers its client 500). */
  readonly maxConnections: number;
  /** How often the timeouts above are checked (Node's default, 30 s, would let them run long). */
  readonly checkIntervalMs: number;
}

export const DEFAULT_LIMITS: Omit<HttpLimits, 'maxConnections'> = {
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 15_000,
  keepAliveTimeoutMs: 75_000,
  checkIntervalMs: 1_000,
};

export function createLimitedServer(listener: RequestListener, limits: HttpLimits): Server {
  const server = createServer(
    {
      headersTimeout: limits.headersTimeoutMs,
      requestTimeout: limits.requestTimeoutMs,
      keepAliveTimeout: limits.keepAliveTimeoutMs,
      connectionsCheckingInterval: limits.checkIntervalMs,
    },
    listener,
  );
  server.maxConnections = limits.maxConnections;
  return server;
}
