import { Inject, Logger } from '@nestjs/common';
import { type OnGatewayConnection, type OnGatewayDisconnect, type OnGatewayInit, WebSocketGateway, WebSocketServer } from '@nestjs/websockets';
import type { Namespace, Socket } from 'socket.io';
import type { AuthenticatedUser } from '../auth/authenticated-user';
import { Authenticator } from '../auth/authenticator.service';
import { HubSignalsService } from '../cluster/hub-signals.service';
import { AppError } from '../common/errors/app-error';
import { HUB_CONFIG, type HubConfig } from '../config/hub-config';
import { LiveFeedService } from './live-feed.service';
import { originAllowed } from './live-origin';

export const LIVE_NAMESPACE = '/live';

/** Rooms by credential and by user, so a sign-out cuts exactly the sockets it must. */
const credentialRoom = (id: string): string => `credential:${id}`;
const userRoom = (id: string): string => `user:${id}`;

/**
 * The live namespace for dashboards and API clients: authenticated in the handshake with the
 * same bearer token as the REST API (`auth: {token}`), from the hub's own origin only. A logout,
 * a revoked API token, a disabled or deleted user, or a password change cuts these sockets at
 * once, on whichever hub holds them.
 */
@WebSocketGateway({ namespace: LIVE_NAMESPACE })
export class LiveGateway implements OnGatewayInit<Namespace>, OnGatewayConnection<Socket>, OnGatewayDisconnect<Socket> {
  private readonly logger = new Logger(LiveGateway.name);
  @WebSocketServer() private readonly namespace!: Namespace;

  constructor(
    private readonly authenticator: Authenticator,
    private readonly signals: HubSignalsService,
    private readonly feed: LiveFeedService,
    @Inject(HUB_CONFIG) private readonly config: HubConfig,
  ) {}

  afterInit(namespace: Namespace): void {
    namespace.use((socket, next) => {
      this.authenticate(socket).then(
        () => next(),
        (error: Error) => next(error),
      );
    });
    this.signals.onSignal((signal) => {
      if (signal.kind !== 'sign-out') return;
      const rooms = [...signal.credentialIds.map(credentialRoom), ...signal.userIds.map(userRoom)];
      if (rooms.length === 0) return;
      namespace.in(rooms).emit('signed-out', { reason: 'Your session has ended. Log in again.' });
      namespace.in(rooms).disconnectSockets(true);
    });
  }

  handleConnection(socket: Socket): void {
    const user = socket.data.user as AuthenticatedUser;
    void socket.join([credentialRoom(user.credential.id), userRoom(user.id)]);
    socket.emit('ready', { user: { id: user.id, username: user.username }, role: user.role });
    this.feed.watch(this.namespace);
  }

  handleDisconnect(): void {
    this.feed.watch(this.namespace);
  }

  private async authenticate(socket: Socket): Promise<void> {
    const { origin, host } = socket.handshake.headers;
    if (!originAllowed(origin, host, this.config.publicUrl)) {
      this.logger.warn({ origin, address: socket.handshake.address }, 'live socket refused: foreign origin');
      throw new Error('Origin not allowed');
    }
    const token = (socket.handshake.auth as { token?: unknown }).token;
    try {
      socket.data.user = await this.authenticator.authenticate(typeof token === 'string' ? token : undefined);
    } catch (error) {
      throw new Error(error instanceof AppError ? error.message : 'Authentication failed');
    }
  }
}
