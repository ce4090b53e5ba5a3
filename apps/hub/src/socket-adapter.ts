import { IoAdapter } from '@nestjs/platform-socket.io';
import type { Namespace, Server, ServerOptions } from 'socket.io';

/**
 * The largest legitimate frame is an inventory: two lists of up to MAX_INVENTORY_IDS UUIDs
 * (about 780 KB of JSON); an output chunk is at most MAX_OUTPUT_CHUNK_BYTES (64 KiB) plus its
 * envelope. Anything bigger is refused by the WebSocket layer before it is parsed, and the
 * connection is closed.
 */
export const MAX_AGENT_FRAME_BYTES = 1024 * 1024;

/** How long a ping waits for its pong before the transport is closed. */
const PING_TIMEOUT_MS = 10_000;

/**
 * Socket.io server settings for agents: WebSocket only (no sticky sessions needed behind a
 * balancer), a bounded frame size, and connection-state recovery off whatever a caller passes:
 * a recovered session is restored without running the namespace middleware, which is where
 * agents authenticate.
 *
 * The transport pings every heartbeat interval, and an agent's pong is its heartbeat (protocol
 * 1.3, `transportHeartbeat`): one frame each way instead of a ping pair plus an application
 * message, which at 10,000 agents is most of an idle hub's work.
 */
export class HubSocketAdapter extends IoAdapter {
  constructor(
    app: ConstructorParameters<typeof IoAdapter>[0],
    private readonly heartbeatIntervalSeconds: number,
  ) {
    super(app);
  }

  override createIOServer(port: number, options?: ServerOptions) {
    const { connectionStateRecovery: _neverRecover, ...rest } = options ?? {};
    return super.createIOServer(port, {
      ...rest,
      transports: ['websocket'],
      maxHttpBufferSize: MAX_AGENT_FRAME_BYTES,
      pingInterval: this.heartbeatIntervalSeconds * 1000,
      pingTimeout: PING_TIMEOUT_MS,
      serveClient: false,
    } satisfies Partial<ServerOptions>);
  }

  /**
   * Nest builds a disconnect observable for every socket (fromEvent, share, first: four
   * observables and a dozen closures) before looking at the handlers, even when the gateway has
   * none. Ours bind their events on the socket themselves, so that was ~1.6 KB of heap per agent
   * kept for nothing.
   */
  override bindMessageHandlers(...args: Parameters<IoAdapter['bindMessageHandlers']>): void {
    const [, handlers] = args;
    if (handlers.length > 0) super.bindMessageHandlers(...args);
  }

  /**
   * A stopping hub cuts every WebSocket at once instead of a close handshake with each peer and
   * a wait for every reply: at 10,000 agents that wait was ~2 s of a restart. Agents reconnect
   * either way, and resend whatever the hub had not acked.
   */
  override async close(server: Server | Namespace): Promise<void> {
    // Nest passes each gateway's namespace. engine.io documents `clients` (its typings mark it
    // protected); a WebSocket transport's `socket` is the ws connection.
    const io = 'engine' in server ? server : server.server;
    const clients = (io.engine as unknown as { clients: Record<string, { transport: { socket?: { terminate?: () => void } } }> }).clients;
    for (const client of Object.values(clients)) client.transport.socket?.terminate?.();
    await super.close(server as Server);
  }
}
