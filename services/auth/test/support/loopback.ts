// A test's own TCP server on a loopback port, ended with the test: its connections destroyed, then closed.
import { once } from 'node:events';
import type { AddressInfo, Server, Socket } from 'node:net';

/** Listens on 127.0.0.1; pushes onto `cleanup` the step that ends it. Returns the port. */
export async function listenOnLoopback(server: Server, cleanup: (() => Promise<void>)[]): Promise<number> {
  const sockets = new Set<Socket>();
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  cleanup.push(async () => {
    for (const s of sockets) s.destroy();
    server.close();
    await once(server, 'close');
  });
  return (server.address() as AddressInfo).port;
}
