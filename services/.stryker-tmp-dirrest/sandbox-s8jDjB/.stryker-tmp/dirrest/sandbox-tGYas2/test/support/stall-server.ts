// @ts-nocheck
// 
// A directory that misbehaves on loopback, switchable while a test runs: it accepts TCP and never answers
// (`silent`), or answers the StartTLS request with success and then says nothing (`starttls-silent`, the
// handshake never starts), or passes connections through to a real slapd (`forward`). Counts every
// connection it accepts, so a test can prove a failed server is no longer dialled.
import { once } from 'node:events';
import net from 'node:net';
import type { AddressInfo } from 'node:net';

export type StallMode = 'silent' | 'starttls-silent' | 'forward';

export interface StallServer {
  readonly url: string;
  readonly port: number;
  /** Connections accepted so far. */
  readonly accepted: number;
  /** Client connections still open. */
  readonly open: number;
  mode: StallMode;
  /** Drops every open connection (the sidecar sees them close). */
  dropConnections(): void;
  close(): Promise<void>;
}

// RFC 4511 4.12 / RFC 4513 3: an ExtendedResponse (APPLICATION 24) with resultCode success (0) and empty
// matchedDN and diagnosticMessage, inside an LDAPMessage with the request's messageID.
export function startTlsSuccess(messageId: number): Buffer {
  return Buffer.from([
    0x30,
    0x0c,
    0x02,
    0x01,
    messageId,
    0x78,
    0x07,
    0x0a,
    0x01,
    0x00,
    0x04,
    0x00,
    0x04,
    0x00,
  ]);
}

/** The messageID of a short LDAPMessage (`30 len 02 01 id …`), as ldapts sends the StartTLS request. */
export function messageIdOf(data: Buffer): number | undefined {
  return data[0] === 0x30 && data[2] === 0x02 && data[3] === 0x01 ? data[4] : undefined;
}

export async function startStallServer(
  mode: StallMode,
  forwardTo?: { host: string; port: number },
): Promise<StallServer> {
  const sockets = new Set<net.Socket>();
  const clients = new Set<net.Socket>();
  let accepted = 0;
  const state = { mode };
  const server = net.createServer((socket) => {
    accepted++;
    sockets.add(socket);
    clients.add(socket);
    socket.on('close', () => {
      sockets.delete(socket);
      clients.delete(socket);
    });
    socket.on('error', () => {
      // the sidecar hangs up after its timeout
    });
    if (state.mode === 'forward' && forwardTo !== undefined) {
      const upstream = net.connect(forwardTo.port, forwardTo.host);
      sockets.add(upstream);
      upstream.on('close', () => sockets.delete(upstream));
      upstream.on('error', () => socket.destroy());
      socket.on('close', () => upstream.destroy());
      upstream.on('close', () => socket.destroy());
      socket.pipe(upstream).pipe(socket);
      return;
    }
    if (state.mode === 'starttls-silent') {
      socket.once('data', (data: Buffer) => {
        const id = messageIdOf(data);
        if (id !== undefined) socket.write(startTlsSuccess(id));
        // then nothing: the client's TLS ClientHello is never answered
      });
    }
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    url: `ldap://127.0.0.1:${port}`,
    port,
    get accepted() {
      return accepted;
    },
    get open() {
      return clients.size;
    },
    get mode() {
      return state.mode;
    },
    set mode(m: StallMode) {
      state.mode = m;
    },
    dropConnections() {
      for (const s of sockets) s.destroy();
    },
    async close() {
      for (const s of sockets) s.destroy();
      server.close();
      await once(server, 'close');
    },
  };
}
