import { io, type Socket } from 'socket.io-client';
import type { ApiResponse, TestHub } from './test-hub';
import { waitFor } from './wait';

export interface Login {
  accessToken: string;
  refreshToken: string;
  /** The raw Set-Cookie header of the login response. */
  cookie: string;
}

export async function login(hub: TestHub, username: string, password: string): Promise<Login> {
  const response = await hub.request('POST', '/api/v1/auth/login', { username, password }, null);
  if (response.status !== 200) throw new Error(`login of ${username} failed: ${response.status} ${response.text}`);
  return { accessToken: response.body.accessToken, refreshToken: response.body.refreshToken, cookie: response.headers.get('set-cookie') ?? '' };
}

/** Creates a user through the API as admin and logs them in. */
export async function createUser(hub: TestHub, username: string, role: string, password = `${username}-password-1`): Promise<Login & { id: string; password: string }> {
  const created: ApiResponse = await hub.api('POST', '/api/v1/users', { username, password, role });
  if (created.status !== 201) throw new Error(`creating ${username} failed: ${created.status} ${created.text}`);
  return { id: created.body.id, password, ...(await login(hub, username, password)) };
}

/** A client of the hub's live namespace, recording when (and whether) the hub cut it. */
export class LiveClient {
  disconnectedAt: number | undefined;
  private constructor(readonly socket: Socket) {
    socket.on('disconnect', () => {
      this.disconnectedAt ??= Date.now();
    });
  }

  static async connect(hub: TestHub, token: string, headers: Record<string, string> = {}): Promise<LiveClient> {
    const socket = io(`${hub.url}/live`, { transports: ['websocket'], reconnection: false, auth: { token }, extraHeaders: headers });
    const client = new LiveClient(socket);
    await new Promise<void>((resolve, reject) => {
      socket.once('ready', () => resolve());
      socket.once('connect_error', (error) => reject(error));
    });
    return client;
  }

  /** Resolves with the ms it took the hub to cut this socket, counted from `since`. */
  async waitCut(since: number, timeoutMs: number): Promise<number> {
    await waitFor(() => this.disconnectedAt !== undefined, { timeoutMs, intervalMs: 20, what: 'the hub to cut the live socket' });
    return this.disconnectedAt! - since;
  }

  close(): void {
    this.socket.disconnect();
  }
}

/** The handshake error a live connection gets, or 'connected'. */
export function liveHandshake(hub: TestHub, token: unknown, headers: Record<string, string> = {}): Promise<string> {
  return new Promise((resolve) => {
    const socket = io(`${hub.url}/live`, { transports: ['websocket'], reconnection: false, auth: { token }, extraHeaders: headers });
    socket.on('ready', () => {
      socket.disconnect();
      resolve('connected');
    });
    socket.on('connect_error', (error) => {
      socket.disconnect();
      resolve(error.message);
    });
  });
}
