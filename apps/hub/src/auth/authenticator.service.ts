import { Injectable } from '@nestjs/common';
import { JwtService } from '@nestjs/jwt';
import { AppError } from '../common/errors/app-error';
import { ACCESS_TOKEN_ALGORITHM, API_TOKEN_PREFIX, type AccessTokenClaims } from './access-token';
import { ApiTokensService } from './api-tokens.service';
import type { AuthenticatedUser } from './authenticated-user';
import { SessionsService } from './sessions.service';

/**
 * Turns a bearer token into a user, for HTTP requests and live sockets alike: an API token is
 * looked up by its hash; an access token must verify (HS256 only) and name a session that is
 * still open, of a user who is still enabled. The role comes from the database, not the token.
 */
@Injectable()
export class Authenticator {
  constructor(
    private readonly jwt: JwtService,
    private readonly sessions: SessionsService,
    private readonly apiTokens: ApiTokensService,
  ) {}

  async authenticate(bearer: string | undefined): Promise<AuthenticatedUser> {
    if (!bearer) throw new AppError('UNAUTHORIZED', 'Authentication required: no access token');
    if (bearer.startsWith(`${API_TOKEN_PREFIX}_`)) {
      const user = await this.apiTokens.authenticate(bearer);
      if (!user) throw new AppError('UNAUTHORIZED', 'Authentication required: the API token is unknown, expired or revoked');
      return user;
    }
    let claims: AccessTokenClaims;
    try {
      claims = await this.jwt.verifyAsync<AccessTokenClaims>(bearer, { algorithms: [ACCESS_TOKEN_ALGORITHM] });
    } catch (error) {
      throw new AppError('UNAUTHORIZED', `Authentication required: ${(error as Error).message}`);
    }
    if (typeof claims.sub !== 'string' || typeof claims.sid !== 'string') {
      throw new AppError('UNAUTHORIZED', 'Authentication required: the access token names no session');
    }
    const user = await this.sessions.findSessionUser(claims.sid, claims.sub);
    if (!user) throw new AppError('UNAUTHORIZED', 'Authentication required: the session has ended');
    return user;
  }
}

/** `Authorization: Bearer <token>` → the token. */
export function bearerToken(header: string | undefined): string | undefined {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
  return match?.[1];
}
