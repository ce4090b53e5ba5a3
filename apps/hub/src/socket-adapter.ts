import { IoAdapter } from '@nestjs/platform-socket.io';
import type { ServerOptions } from 'socket.io';

/**
 * The largest legitimate frame is an inventory: two lists of up to MAX_INVENTORY_IDS UUIDs
 * (about 780 KB of JSON); an output chunk is at most MAX_OUTPUT_CHUNK_BYTES (64 KiB) plus its
 * envelope. Anything bigger is refused by the WebSocket layer before it is parsed, and the
 * connection is closed.
 */
export const MAX_AGENT_FRAME_BYTES = 1024 * 1024;

/**
 * Socket.io server settings for agents: WebSocket only (no sticky sessions needed behind a
 * balancer), a bounded frame size, and connection-state recovery off whatever a caller passes:
 * a recovered session is restored without running the namespace middleware, which is where
 * agents authenticate.
 */
export class HubSocketAdapter extends IoAdapter {
  override createIOServer(port: number, options?: ServerOptions) {
    const { connectionStateRecovery: _neverRecover, ...rest } = options ?? {};
    return super.createIOServer(port, {
      ...rest,
      transports: ['websocket'],
      maxHttpBufferSize: MAX_AGENT_FRAME_BYTES,
      pingInterval: 10_000,
      pingTimeout: 10_000,
      serveClient: false,
    } satisfies Partial<ServerOptions>);
  }
}
