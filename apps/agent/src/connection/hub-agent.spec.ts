import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { createServer as createTlsServer } from 'node:tls';
import { io } from 'socket.io-client';
import { Server as SocketServer } from 'socket.io';
import { afterEach, describe, expect, it } from 'vitest';
import { startConnectProxy, type ConnectProxy } from '../testing/connect-proxy';
import { hubRoute } from './hub-agent';
import { describeConnectionError, hubRequest } from './hub-http';
import { transportCause } from './hub-connection';
import { PIN_MISMATCH, type TlsPolicy } from './tls-policy';

const fixture = (name: string): string => readFileSync(join(__dirname, '../testing/fixtures', name), 'utf8');
const CA = fixture('ca.crt');
/** Signed by CA; names localhost, 127.0.0.1 and outpost-hub.test. */
const HUB = { cert: fixture('hub.crt'), key: fixture('hub.key') };
const SELF_SIGNED = { cert: fixture('self-signed.crt'), key: fixture('self-signed.key') };
const pinOf = (pem: string): string => new X509Certificate(pem).fingerprint256.replace(/:/g, '').toLowerCase();

const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  await Promise.all(closers.splice(0).map((close) => close()));
});

async function httpsHub(identity: { cert: string; key: string }): Promise<{ port: number; requests: string[] }> {
  const requests: string[] = [];
  const server: HttpsServer = createHttpsServer(identity, (req, res) => {
    requests.push(`${req.method} ${req.url}`);
    res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  closers.push(() => new Promise((resolve) => server.close(() => resolve())));
  return { port: (server.address() as AddressInfo).port, requests };
}

async function proxy(hosts: Record<string, string>): Promise<ConnectProxy> {
  const started = await startConnectProxy(hosts);
  closers.push(() => started.close());
  return started;
}

function get(url: string, policy: TlsPolicy, viaProxy?: string) {
  const { agent } = hubRoute(url, policy, () => viaProxy);
  return hubRequest(url, { method: 'GET', agent, timeoutMs: 5_000 }).finally(() => agent.destroy());
}

describe('the route to the hub: trust', () => {
  it('refuses a self-signed hub with the default CAs, and says what to do', async () => {
    const hub = await httpsHub(SELF_SIGNED);
    const error = await get(`https://127.0.0.1:${hub.port}/health/live`, {}).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'DEPTH_ZERO_SELF_SIGNED_CERT' });
    expect(describeConnectionError(error)).toMatch(/self-signed certificate .*give --ca-file or --pin/);
    expect(hub.requests).toEqual([]);
  });

  it("drops Node 24's advice to use --use-system-ca: the agent reads the host's store itself", () => {
    const error = Object.assign(
      new Error('self-signed certificate; if the root CA is installed locally, try running Node.js with --use-system-ca'),
      { code: 'DEPTH_ZERO_SELF_SIGNED_CERT' },
    );
    expect(describeConnectionError(error)).toMatch(
      /^self-signed certificate \(DEPTH_ZERO_SELF_SIGNED_CERT\): the hub's certificate is not trusted; give --ca-file or --pin/,
    );
  });

  it('trusts a hub signed by the CA file', async () => {
    const hub = await httpsHub(HUB);
    const response = await get(`https://localhost:${hub.port}/health/live`, { ca: CA });
    expect(response).toMatchObject({ status: 200, body: '{"status":"ok"}' });
  });

  it('accepts a self-signed hub whose certificate matches the pin', async () => {
    const hub = await httpsHub(SELF_SIGNED);
    const response = await get(`https://127.0.0.1:${hub.port}/health/live`, { pin: pinOf(SELF_SIGNED.cert) });
    expect(response.status).toBe(200);
  });

  it('refuses a certificate that does not match the pin even when the CA trusts it, before sending a byte', async () => {
    // A raw TLS server: it counts every decrypted byte the client sends, HTTP or not.
    let received = 0;
    let closed!: Promise<void>;
    const server = createTlsServer(HUB, (socket) => {
      closed = new Promise((resolve) => socket.on('close', () => resolve()));
      socket.on('data', (data: Buffer) => (received += data.length));
      socket.on('error', () => undefined);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    closers.push(() => new Promise((resolve) => server.close(() => resolve())));
    const { port } = server.address() as AddressInfo;

    const error = await get(`https://localhost:${port}/api/v1/agents/enroll`, { ca: CA, pin: pinOf(SELF_SIGNED.cert) }).catch(
      (e: unknown) => e,
    );
    expect(error).toMatchObject({ code: PIN_MISMATCH });
    expect(describeConnectionError(error)).toBe(
      `the hub's certificate (sha256:${pinOf(HUB.cert)}) does not match the pinned sha256:${pinOf(SELF_SIGNED.cert)}`,
    );
    await closed;
    expect(received).toBe(0);
  });
});

describe('the route to the hub: proxy', () => {
  it('reaches a hub only the proxy can resolve, through a CONNECT tunnel, with the CA file', async () => {
    const hub = await httpsHub(HUB);
    const connect = await proxy({ 'outpost-hub.test': '127.0.0.1' });
    const url = `https://outpost-hub.test:${hub.port}/health/live`;
    expect((await get(url, { ca: CA }, connect.url)).status).toBe(200);
    expect(connect.tunnels).toEqual([`outpost-hub.test:${hub.port}`]);
  });

  it('applies the pin inside the tunnel too', async () => {
    const hub = await httpsHub(HUB);
    const connect = await proxy({ 'outpost-hub.test': '127.0.0.1' });
    const url = `https://outpost-hub.test:${hub.port}/health/live`;
    expect((await get(url, { pin: pinOf(HUB.cert) }, connect.url)).status).toBe(200);
    await expect(get(url, { pin: pinOf(SELF_SIGNED.cert) }, connect.url)).rejects.toMatchObject({ code: PIN_MISMATCH });
    expect(hub.requests).toHaveLength(1);
  });

  it('tunnels a plain http hub as well', async () => {
    const server = createHttpServer((_req, res) => res.end('plain'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    closers.push(() => new Promise((resolve) => server.close(() => resolve())));
    const connect = await proxy({ 'outpost-hub.test': '127.0.0.1' });
    const port = (server.address() as AddressInfo).port;
    expect((await get(`http://outpost-hub.test:${port}/`, {}, connect.url)).body).toBe('plain');
    expect(connect.tunnels).toEqual([`outpost-hub.test:${port}`]);
  });
});

describe('the WebSocket takes the same route', () => {
  async function socketHub(): Promise<number> {
    const https = createHttpsServer(HUB);
    const server = new SocketServer(https, { transports: ['websocket'] });
    await new Promise<void>((resolve) => https.listen(0, '127.0.0.1', resolve));
    closers.push(() => new Promise((resolve) => server.close(() => resolve())));
    return (https.address() as AddressInfo).port;
  }

  function dial(url: string, policy: TlsPolicy, viaProxy?: string): Promise<string> {
    const { agent } = hubRoute(url, policy, () => viaProxy);
    const socket = io(url, { transports: ['websocket'], reconnection: false, agent: agent as unknown as string });
    return new Promise<string>((resolve) => {
      socket.on('connect', () => resolve('connected'));
      socket.on('connect_error', (error) => resolve(`refused: ${transportCause(error) ?? error.message}`));
    }).finally(() => {
      socket.disconnect();
      agent.destroy();
    });
  }

  it('connects over wss:// through the proxy with the CA file, and not without it', async () => {
    const port = await socketHub();
    const connect = await proxy({ 'outpost-hub.test': '127.0.0.1' });
    const url = `https://outpost-hub.test:${port}`;
    expect(await dial(url, { ca: CA }, connect.url)).toBe('connected');
    expect(connect.tunnels).toEqual([`outpost-hub.test:${port}`]);
    expect(await dial(url, {}, connect.url)).toMatch(/^refused: unable to verify the first certificate|^refused: .*certificate/);
  });

  it('refuses a wss:// hub whose certificate does not match the pin', async () => {
    const port = await socketHub();
    expect(await dial(`https://127.0.0.1:${port}`, { pin: pinOf(HUB.cert) })).toBe('connected');
    expect(await dial(`https://127.0.0.1:${port}`, { pin: pinOf(SELF_SIGNED.cert) })).toMatch(
      /^refused: the hub's certificate \(sha256:[0-9a-f]{64}\) does not match the pinned/,
    );
  });
});
