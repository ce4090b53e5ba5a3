import { Inject, Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import { EntityManager } from '@mikro-orm/postgresql';
import { HubSignalsService } from '../cluster/hub-signals.service';
import { PreparedStatement } from '../common/database/prepared-statement';
import { AppError } from '../common/errors/app-error';
import { newSecret, sha256Hex } from '../common/crypto/secrets';
import { HUB_CONFIG, type HubConfig } from '../config/hub-config';
import { REFRESH_TOKEN_PREFIX } from './access-token';
import type { AuthenticatedUser } from './authenticated-user';
import type { Role } from './roles';

export interface ClientInfo {
  address: string | undefined;
  userAgent: string | undefined;
}

export interface OpenedSession {
  sessionId: string;
  refreshToken: string;
  expiresAt: Date;
}

interface SessionUserRow {
  id: string;
  username: string;
  role: Role;
}

const PRUNE_INTERVAL_MS = 60 * 60 * 1000;

/** Checked on every authenticated request, so prepared once per connection. */
const SESSION_USER = new PreparedStatement(
  'session-user',
  `select u.id, u.username, u.role from user_sessions s join users u on u.id = s.user_id
    where s.id = ?::uuid and s.user_id = ?::uuid and s.revoked_at is null and s.expires_at > now() and not u.disabled`,
);

/**
 * Login sessions and their rotating refresh tokens. A refresh token is good once: using it marks
 * it used and issues the next one of the same session (its "family"). A used token presented
 * again means two parties hold it, so the whole session is ended.
 */
@Injectable()
export class SessionsService implements OnApplicationBootstrap {
  private readonly logger = new Logger(SessionsService.name);

  constructor(
    private readonly em: EntityManager,
    private readonly signals: HubSignalsService,
    private readonly scheduler: SchedulerRegistry,
    @Inject(HUB_CONFIG) private readonly config: HubConfig,
  ) {}

  onApplicationBootstrap(): void {
    this.scheduler.addInterval('session-prune', setInterval(() => void this.pruneEnded(), PRUNE_INTERVAL_MS));
  }

  async open(userId: string, client: ClientInfo): Promise<OpenedSession> {
    const em = this.em.fork();
    const expiresAt = new Date(Date.now() + this.config.refreshTokenTtlSeconds * 1000);
    const [{ id }] = await em.execute<{ id: string }[]>(
      `insert into user_sessions (id, user_id, created_at, expires_at, client_address, user_agent)
       values (gen_random_uuid(), ?, now(), ?, ?, ?) returning id`,
      [userId, expiresAt, client.address?.slice(0, 200) ?? null, client.userAgent?.slice(0, 500) ?? null],
    );
    const refreshToken = await this.issueRefreshToken(em, id);
    return { sessionId: id, refreshToken, expiresAt };
  }

  /** The user of an open session, or null when it ended, expired, or its user was disabled. */
  async findSessionUser(sessionId: string, userId: string): Promise<AuthenticatedUser | null> {
    const rows = await SESSION_USER.run<SessionUserRow>(this.em.fork(), [sessionId, userId]);
    const row = rows[0];
    return row ? { ...row, credential: { kind: 'session', id: sessionId } } : null;
  }

  /** Trades a refresh token for the next one of its session; reuse ends the session. */
  async rotate(refreshToken: string): Promise<{ user: AuthenticatedUser; refreshToken: string; expiresAt: Date }> {
    const em = this.em.fork();
    const tokenHash = sha256Hex(refreshToken);
    const claimed = await em.execute<{ session_id: string }[]>(
      `update refresh_tokens set used_at = now() where token_hash = ? and used_at is null returning session_id`,
      [tokenHash],
    );
    if (claimed.length === 0) {
      const [used] = await em.execute<{ session_id: string }[]>(`select session_id from refresh_tokens where token_hash = ?`, [tokenHash]);
      if (used) {
        this.logger.warn({ sessionId: used.session_id }, 'a used refresh token was presented again; ending its session');
        await this.end([used.session_id], 'refresh token reused');
        throw new AppError('UNAUTHORIZED', 'This refresh token was already used; the session has been ended. Log in again.');
      }
      throw new AppError('UNAUTHORIZED', 'The refresh token is not valid. Log in again.');
    }
    const sessionId = claimed[0].session_id;
    const rows = await em.execute<(SessionUserRow & { expires_at: Date })[]>(
      `select u.id, u.username, u.role, s.expires_at from user_sessions s join users u on u.id = s.user_id
       where s.id = ? and s.revoked_at is null and s.expires_at > now() and not u.disabled`,
      [sessionId],
    );
    const row = rows[0];
    if (!row) throw new AppError('UNAUTHORIZED', 'The session has ended. Log in again.');
    const next = await this.issueRefreshToken(em, sessionId);
    const { expires_at: expiresAt, ...user } = row;
    return { user: { ...user, credential: { kind: 'session', id: sessionId } }, refreshToken: next, expiresAt: new Date(expiresAt) };
  }

  /** The session a refresh token belongs to, whether or not the token was used. */
  async sessionOfRefreshToken(refreshToken: string): Promise<string | undefined> {
    const [row] = await this.em
      .fork()
      .execute<{ session_id: string }[]>(`select session_id from refresh_tokens where token_hash = ?`, [sha256Hex(refreshToken)]);
    return row?.session_id;
  }

  /** Ends these sessions now; their live sockets are cut on whichever hub holds them. */
  async end(sessionIds: string[], reason: string): Promise<void> {
    if (sessionIds.length === 0) return;
    await this.em
      .fork()
      .execute(`update user_sessions set revoked_at = now(), revoked_reason = ? where id in (?) and revoked_at is null`, [reason, sessionIds]);
    await this.signals.signOut({ credentialIds: sessionIds });
  }

  /** Ends every session of a user (but `keep`, the caller's own, when given). */
  async endAllOf(userId: string, reason: string, keep?: string): Promise<void> {
    const ended = await this.em.fork().execute<{ id: string }[]>(
      `update user_sessions set revoked_at = now(), revoked_reason = ?
       where user_id = ? and revoked_at is null and id <> coalesce(?::uuid, '00000000-0000-0000-0000-000000000000') returning id`,
      [reason, userId, keep ?? null],
    );
    await this.signals.signOut({ credentialIds: ended.map((r) => r.id) });
  }

  private async issueRefreshToken(em: EntityManager, sessionId: string): Promise<string> {
    const token = newSecret(REFRESH_TOKEN_PREFIX);
    await em.execute(`insert into refresh_tokens (token_hash, session_id, created_at) values (?, ?, now())`, [sha256Hex(token), sessionId]);
    return token;
  }

  /** Sessions ended or expired a day ago take their refresh tokens with them. */
  private async pruneEnded(): Promise<void> {
    try {
      await this.em
        .fork()
        .execute(`delete from user_sessions where revoked_at < now() - interval '1 day' or expires_at < now() - interval '1 day'`);
    } catch (error) {
      this.logger.warn(`pruning ended sessions failed: ${(error as Error).message}`);
    }
  }
}
