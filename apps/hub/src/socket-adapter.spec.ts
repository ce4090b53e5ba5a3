import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { MAX_INVENTORY_IDS, MAX_OUTPUT_CHUNK_BYTES } from '@outpost/protocol';
import type { AddressInfo } from 'node:net';
import { from, of } from 'rxjs';
import type { Server, Socket } from 'socket.io';
import { io as connect } from 'socket.io-client';
import { afterEach, describe, expect, it } from 'vitest';
import { HubSocketAdapter, MAX_AGENT_FRAME_BYTES } from './socket-adapter';

const ROOT = path.resolve(__dirname, '../../..');

/**
 * The first releases that fixed the known crash and denial-of-service bugs reachable from an
 * agent connection; package.json's overrides keep every installed copy at or above them.
 */
const FLOORS: Record<string, { floor: string; why: string }> = {
  'socket.io': { floor: '4.6.2', why: 'CVE-2024-38355: a crafted packet throws an unhandled error event' },
  'socket.io-parser': { floor: '4.2.7', why: 'CVE-2023-32695 (crash on a crafted packet), CVE-2026-69185 (memory exhaustion)' },
  'engine.io': { floor: '6.6.7', why: 'CVE-2022-41940 and CVE-2023-31125 (uncaught exceptions), CVE-2026-59725 (invalid binary POSTs)' },
  ws: { floor: '8.21.1', why: 'CVE-2024-37890 (many headers), CVE-2026-48779 and CVE-2026-62389 (fragment memory exhaustion)' },
};

function atLeast(version: string, floor: string): boolean {
  const [a, b] = [version, floor].map((v) => v.split(/[.+-]/).slice(0, 3).map(Number));
  for (let i = 0; i < 3; i += 1) if (a![i] !== b![i]) return a![i]! > b![i]!;
  return true;
}

describe('socket.io, socket.io-parser, engine.io and ws versions', () => {
  it('every copy in the lock file is at or above the floor', () => {
    const lock = JSON.parse(readFileSync(path.join(ROOT, 'package-lock.json'), 'utf8')) as { packages: Record<string, { version?: string }> };
    const below: string[] = [];
    let copies = 0;
    for (const [where, entry] of Object.entries(lock.packages)) {
      const name = where.split('node_modules/').at(-1)!;
      const floor = FLOORS[name];
      if (!floor || !entry.version) continue;
      copies += 1;
      if (!atLeast(entry.version, floor.floor)) below.push(`${where}@${entry.version} < ${floor.floor} (${floor.why})`);
    }
    expect(below).toEqual([]);
    expect(copies).toBeGreaterThanOrEqual(Object.keys(FLOORS).length);
  });

  it('the copies the hub and the agent load at run time are at or above the floor', () => {
    const loaded: Record<string, string> = {};
    const versionFrom = (from: string, name: string) => {
      // Node's own lookup order from `from`; package.json itself is not exported by every one of them.
      const dirs = createRequire(from).resolve.paths(name) ?? [];
      const file = dirs.map((dir) => path.join(dir, name, 'package.json')).find((candidate) => existsSync(candidate));
      if (!file) throw new Error(`${name} is not installed where ${from} would load it`);
      const { version } = JSON.parse(readFileSync(file, 'utf8')) as { version: string };
      const floor = FLOORS[name]?.floor;
      if (floor) loaded[path.relative(ROOT, file)] = `${version}${atLeast(version, floor) ? '' : ` < ${floor}`}`;
      return file;
    };
    const nestAdapter = versionFrom(path.join(ROOT, 'package.json'), '@nestjs/platform-socket.io');
    const socketIo = versionFrom(nestAdapter, 'socket.io');
    versionFrom(socketIo, 'socket.io-parser');
    const engineIo = versionFrom(socketIo, 'engine.io');
    versionFrom(engineIo, 'ws');
    const client = versionFrom(path.join(ROOT, 'package.json'), 'socket.io-client');
    versionFrom(client, 'socket.io-parser');
    versionFrom(versionFrom(client, 'engine.io-client'), 'ws');
    const below = Object.entries(loaded).filter(([, version]) => version.includes('<'));
    expect(below).toEqual([]);
    expect(Object.keys(loaded).length).toBeGreaterThanOrEqual(Object.keys(FLOORS).length);
  });
});

describe('HubSocketAdapter', () => {
  let server: Server | undefined;
  afterEach(async () => {
    await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
    server = undefined;
  });

  it('keeps connection-state recovery off even when asked for it, and bounds the frame size', () => {
    server = new HubSocketAdapter(undefined, 15).createIOServer(0, { connectionStateRecovery: { maxDisconnectionDuration: 60_000 } } as never) as Server;
    const options = (server as unknown as { opts: Record<string, unknown> }).opts;
    expect(options.connectionStateRecovery).toBeUndefined();
    expect(options.maxHttpBufferSize).toBe(MAX_AGENT_FRAME_BYTES);
    expect(options.transports).toEqual(['websocket']);
  });

  it('pings at the agents\' heartbeat interval: the pong is the heartbeat', () => {
    server = new HubSocketAdapter(undefined, 7).createIOServer(0) as Server;
    expect((server as unknown as { opts: Record<string, unknown> }).opts.pingInterval).toBe(7_000);
  });

  it('cuts every WebSocket at once when it closes, without a close handshake to wait for', async () => {
    const adapter = new HubSocketAdapter(undefined, 15);
    server = adapter.createIOServer(0) as Server;
    const { port } = server.httpServer.address() as AddressInfo;
    const namespace = server.of('/agent/v1');
    const client = connect(`http://127.0.0.1:${port}/agent/v1`, { transports: ['websocket'], reconnection: false });
    await new Promise((resolve) => client.once('connect', () => resolve(undefined)));
    const closed = new Promise<unknown>((resolve) => client.once('disconnect', (_reason, details) => resolve(details)));
    // As Nest does: once per gateway, with the gateway's namespace.
    await adapter.close(namespace);
    // 1006: the connection ended without a close frame; a graceful close would say 1000 or 1005.
    expect(await closed).toMatchObject({ context: { code: 1006 } });
  });

  it('builds no per-socket message plumbing for a gateway without message handlers, and still binds those that exist', async () => {
    const adapter = new HubSocketAdapter(undefined, 15);
    server = adapter.createIOServer(0) as Server;
    const { port } = server.httpServer.address() as AddressInfo;
    const sockets: Socket[] = [];
    server.of('/agent/v1').on('connection', (socket) => sockets.push(socket));
    const client = connect(`http://127.0.0.1:${port}/agent/v1`, { transports: ['websocket'], reconnection: false });
    await new Promise((resolve) => client.once('connect', () => resolve(undefined)));
    const [socket] = sockets;
    const disconnectObservables = (adapter as unknown as { disconnectMap: WeakMap<object, unknown> }).disconnectMap;

    const listenedTo = socket!.eventNames();
    adapter.bindMessageHandlers(socket!, [], (data) => of(data));
    expect(disconnectObservables.has(socket!)).toBe(false);
    expect(socket!.eventNames()).toEqual(listenedTo);

    const answered = new Promise((resolve) => client.emit('ping-me', 'hello', resolve));
    const handler = { message: 'ping-me', methodName: 'pingMe', isAckHandledManually: false, callback: async (data: unknown) => `pong ${data}` };
    adapter.bindMessageHandlers(socket!, [handler], (result: Promise<unknown>) => from(result));
    expect(disconnectObservables.has(socket!)).toBe(true);
    expect(await answered).toBe('pong hello');
    client.close();
  });

  it('takes the largest legitimate agent frames: a full inventory and a full output chunk', () => {
    const ids = Array.from({ length: MAX_INVENTORY_IDS }, () => randomUUID());
    const inventory = JSON.stringify(['agent.inventory', { running: ids, results: ids }]);
    expect(Buffer.byteLength(inventory)).toBeLessThan(MAX_AGENT_FRAME_BYTES);
    expect(MAX_OUTPUT_CHUNK_BYTES + 4096).toBeLessThan(MAX_AGENT_FRAME_BYTES);
  });
});
