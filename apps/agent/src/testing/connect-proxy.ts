import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { connect } from 'node:net';

export interface ConnectProxy {
  url: string;
  /** `host:port` of every tunnel opened, in order. */
  tunnels: string[];
  /** Requests it refused (a host it does not know, or not a CONNECT). */
  refused: string[];
  close(): Promise<void>;
}

/**
 * A tiny HTTP CONNECT proxy on loopback for tests. It opens tunnels only to the hosts in `hosts`
 * (name → address it resolves to), so a test can give the hub a name that only the proxy knows:
 * the agent then has no way to it but the proxy.
 */
export async function startConnectProxy(hosts: Record<string, string>): Promise<ConnectProxy> {
  const tunnels: string[] = [];
  const refused: string[] = [];
  const open = new Set<Socket>();
  const server: Server = createServer((req, res) => {
    refused.push(`${req.method} ${req.url}`);
    res.writeHead(405).end('only CONNECT');
  });
  server.on('connect', (req, client: Socket, head: Buffer) => {
    const target = req.url ?? '';
    const match = /^(.+):(\d+)$/.exec(target);
    const address = match ? hosts[match[1]!] : undefined;
    if (!match || address === undefined) {
      refused.push(`CONNECT ${target}`);
      client.end('HTTP/1.1 403 Forbidden\r\n\r\n');
      return;
    }
    tunnels.push(target);
    open.add(client);
    const upstream = connect(Number(match[2]), address, () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (head.length > 0) upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    open.add(upstream);
    const done = (): void => {
      client.destroy();
      upstream.destroy();
      open.delete(client);
      open.delete(upstream);
    };
    upstream.on('error', done).on('close', done);
    client.on('error', done).on('close', done);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    tunnels,
    refused,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of open) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
