import { Injectable } from '@nestjs/common';
import { EntityManager } from '@mikro-orm/postgresql';
import { HubSignalsService } from '../cluster/hub-signals.service';
import { AppError } from '../common/errors/app-error';
import { newSecret, sha256Hex } from '../common/crypto/secrets';
import { API_TOKEN_PREFIX } from './access-token';
import { roleSatisfies } from './access-policy';
import { ApiToken } from './api-token.entity';
import type { AuthenticatedUser } from './authenticated-user';
import type { Role } from './roles';

export interface ApiTokenView {
  id: string;
  name: string;
  role: Role;
  userId: string;
  createdAt: Date;
  expiresAt: Date | null;
  lastUsedAt: Date | null;
  revokedAt: Date | null;
}

interface TokenUserRow {
  token_id: string;
  token_role: Role;
  last_used_at: Date | null;
  id: string;
  username: string;
  role: Role;
}

/** `lastUsedAt` is written at most this often per token, so automation does not cost a write per call. */
const LAST_USED_RESOLUTION_MS = 60_000;

function toView(token: ApiToken): ApiTokenView {
  const { id, name, role, userId, createdAt, expiresAt, lastUsedAt, revokedAt } = token;
  return { id, name, role, userId, createdAt, expiresAt, lastUsedAt, revokedAt };
}

/** The lower of two roles: a token never acts above its owner's current role. */
function lowerRole(a: Role, b: Role): Role {
  return roleSatisfies(a, b) ? b : a;
}

@Injectable()
export class ApiTokensService {
  constructor(
    private readonly em: EntityManager,
    private readonly signals: HubSignalsService,
  ) {}

  async create(
    creator: AuthenticatedUser,
    request: { name: string; role?: Role; expiresAt?: Date },
  ): Promise<ApiTokenView & { token: string }> {
    const role = request.role ?? creator.role;
    if (!roleSatisfies(creator.role, role)) {
      throw new AppError('FORBIDDEN', `A token's role may not be above your own: you are ${creator.role}, the token asks for ${role}`);
    }
    if (request.expiresAt && request.expiresAt.getTime() <= Date.now()) {
      throw AppError.validation([{ field: 'expiresAt', message: 'must be in the future' }]);
    }
    const token = newSecret(API_TOKEN_PREFIX);
    const em = this.em.fork();
    const row = em.create(ApiToken, {
      name: request.name,
      userId: creator.id,
      role,
      tokenHash: sha256Hex(token),
      expiresAt: request.expiresAt ?? null,
    });
    await em.persistAndFlush(row);
    return { ...toView(row), token };
  }

  /** Admins see every token; everyone else their own. */
  async list(caller: AuthenticatedUser): Promise<{ items: ApiTokenView[] }> {
    const where = caller.role === 'admin' ? {} : { userId: caller.id };
    const rows = await this.em.fork().find(ApiToken, where, { orderBy: { createdAt: 'desc', id: 'desc' } });
    return { items: rows.map(toView) };
  }

  /** Revokes a token at once, live sockets included. Someone else's token is "not found" to a non-admin. */
  async revoke(caller: AuthenticatedUser, id: string): Promise<void> {
    const em = this.em.fork();
    const token = await em.findOne(ApiToken, caller.role === 'admin' ? { id } : { id, userId: caller.id });
    if (!token) throw AppError.notFound('API token', id);
    await em.nativeUpdate(ApiToken, { id, revokedAt: null }, { revokedAt: new Date() });
    await this.signals.signOut({ credentialIds: [id] });
  }

  async authenticate(token: string): Promise<AuthenticatedUser | null> {
    const em = this.em.fork();
    const [row] = await em.execute<TokenUserRow[]>(
      `select t.id as token_id, t.role as token_role, t.last_used_at, u.id, u.username, u.role
         from api_tokens t join users u on u.id = t.user_id
        where t.token_hash = ? and t.revoked_at is null and (t.expires_at is null or t.expires_at > now()) and not u.disabled`,
      [sha256Hex(token)],
    );
    if (!row) return null;
    if (!row.last_used_at || Date.now() - new Date(row.last_used_at).getTime() > LAST_USED_RESOLUTION_MS) {
      await em.execute(`update api_tokens set last_used_at = now() where id = ?`, [row.token_id]);
    }
    return {
      id: row.id,
      username: row.username,
      role: lowerRole(row.token_role, row.role),
      credential: { kind: 'api-token', id: row.token_id },
    };
  }
}
