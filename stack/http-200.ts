// A node:http server on this Node.js that answers every request 200 with an empty body and does nothing
// else: the baseline of the sidecar-alone bench, and the `floor` auth service of the stack bench. The body
// is framed as the sidecar frames its answers (Content-Length: 0), so nginx reuses its connections.
import { freePort, startServer, waitForPort } from './process.ts';

export async function startHttp200(
  name: string,
  logFile: string,
): Promise<{ port: number; pid: number; stop: () => Promise<void> }> {
  const port = await freePort();
  const source =
    "require('node:http').createServer((q, s) => { s.writeHead(200, ['Content-Length', '0']); s.end(); })" +
    `.listen(${port}, '127.0.0.1')`;
  const server = startServer(name, process.execPath, ['-e', source], logFile);
  await waitForPort('127.0.0.1', port, 10_000, server);
  return { port, pid: server.child.pid ?? 0, stop: () => server.stop() };
}
