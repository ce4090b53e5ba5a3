import { IoAdapter } from '@nestjs/platform-socket.io';
import type { ServerOptions } from 'socket.io';

/**
 * Socket.io server settings for agents: WebSocket only (no sticky sessions needed behind a
 * balancer), a bounded frame size, and no connection-state recovery (a recovered session
 * would skip the authentication middleware).
 */
export class HubSocketAdapter extends IoAdapter {
  override createIOServer(port: number, options?: ServerOptions) {
    return super.createIOServer(port, {
      ...options,
      transports: ['websocket'],
      maxHttpBufferSize: 1024 * 1024,
      pingInterval: 10_000,
      pingTimeout: 10_000,
      serveClient: false,
    } satisfies Partial<ServerOptions>);
  }
}
