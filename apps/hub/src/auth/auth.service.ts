import { Inject, Injectable } from '@nestjs/common';
import { JwtService } from '@nestjs/jwt';
import { AppError } from '../common/errors/app-error';
import { HUB_CONFIG, type HubConfig } from '../config/hub-config';
import { ACCESS_POLICY, roleSatisfies } from './access-policy';
import { ACCESS_TOKEN_ALGORITHM, type AccessTokenClaims } from './access-token';
import type { AuthenticatedUser } from './authenticated-user';
import { LoginThrottle } from './login-throttle.service';
import { PasswordHasher } from './password-hasher';
import { type ClientInfo, SessionsService } from './sessions.service';
import { UsersService, type UserView } from './users.service';

export interface TokenPair {
  accessToken: string;
  refreshToken: string;
  tokenType: 'Bearer';
  /** Seconds the access token lives. */
  expiresIn: number;
  /** When the session (and so its refresh token) ends; for the cookie. */
  refreshExpiresAt: Date;
}

export interface Me {
  user: UserView;
  role: AuthenticatedUser['role'];
  authenticatedWith: AuthenticatedUser['credential']['kind'];
  /** The routes (`METHOD path`, as in the policy table) this caller may use. */
  permissions: string[];
}

@Injectable()
export class AuthService {
  constructor(
    private readonly users: UsersService,
    private readonly hasher: PasswordHasher,
    private readonly jwt: JwtService,
    private readonly sessions: SessionsService,
    private readonly throttle: LoginThrottle,
    @Inject(HUB_CONFIG) private readonly config: HubConfig,
  ) {}

  async login(username: string, password: string, client: ClientInfo): Promise<TokenPair> {
    const address = client.address ?? 'unknown';
    await this.throttle.check(username, address);
    const user = await this.users.findByUsername(username);
    const valid = await this.hasher.verify(user?.passwordHash ?? (await this.hasher.unknownUserHash), password);
    if (!user || !valid || user.disabled) {
      await this.throttle.recordFailure(username, address);
      throw new AppError('UNAUTHORIZED', 'Invalid username or password');
    }
    await this.throttle.recordSuccess(username);
    const session = await this.sessions.open(user.id, client);
    return this.tokenPair(user.id, session.sessionId, session.refreshToken, session.expiresAt);
  }

  async refresh(refreshToken: string | undefined): Promise<TokenPair> {
    if (!refreshToken) throw new AppError('UNAUTHORIZED', 'No refresh token: give {"refreshToken"} or the refresh cookie');
    const rotated = await this.sessions.rotate(refreshToken);
    return this.tokenPair(rotated.user.id, rotated.user.credential.id, rotated.refreshToken, rotated.expiresAt);
  }

  /** Ends the caller's session, and the one the refresh token names if it is the caller's too. */
  async logout(caller: AuthenticatedUser, refreshToken: string | undefined): Promise<void> {
    if (caller.credential.kind !== 'session') {
      throw new AppError('VALIDATION_ERROR', 'API tokens do not log out: revoke one with DELETE /api/v1/tokens/:id');
    }
    const ended = [caller.credential.id];
    const other = refreshToken ? await this.sessions.sessionOfRefreshToken(refreshToken) : undefined;
    if (other && other !== caller.credential.id && (await this.sessions.findSessionUser(other, caller.id))) ended.push(other);
    await this.sessions.end(ended, 'logout');
  }

  async me(caller: AuthenticatedUser): Promise<Me> {
    const user = await this.users.get(caller.id);
    const permissions = Object.entries(ACCESS_POLICY)
      .filter(([, access]) => access !== 'public' && roleSatisfies(caller.role, access))
      .map(([route]) => route)
      .sort();
    return { user, role: caller.role, authenticatedWith: caller.credential.kind, permissions };
  }

  /** A user changes their own password; every other session of theirs ends. */
  async changePassword(caller: AuthenticatedUser, currentPassword: string, newPassword: string): Promise<void> {
    const user = await this.users.findByUsername(caller.username);
    if (!user || !(await this.hasher.verify(user.passwordHash, currentPassword))) {
      throw AppError.validation([{ field: 'currentPassword', message: 'is not your current password' }]);
    }
    await this.users.setPassword(caller.id, newPassword, caller.credential.kind === 'session' ? caller.credential.id : undefined);
  }

  private async tokenPair(userId: string, sessionId: string, refreshToken: string, refreshExpiresAt: Date): Promise<TokenPair> {
    const claims: AccessTokenClaims = { sub: userId, sid: sessionId };
    const accessToken = await this.jwt.signAsync(claims, {
      expiresIn: this.config.accessTokenTtlSeconds,
      algorithm: ACCESS_TOKEN_ALGORITHM,
    });
    return { accessToken, refreshToken, tokenType: 'Bearer', expiresIn: this.config.accessTokenTtlSeconds, refreshExpiresAt };
  }
}
