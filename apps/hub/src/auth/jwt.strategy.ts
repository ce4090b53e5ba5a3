import { createSecretKey } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import { ExtractJwt, Strategy } from 'passport-jwt';
import { HUB_SECRETS, type HubSecrets } from '../config/hub-secrets';
import { UsersService } from './users.service';
import type { AuthenticatedUser } from './authenticated-user';

interface AccessTokenClaims {
  sub: string;
}

@Injectable()
export class JwtStrategy extends PassportStrategy(Strategy, 'jwt') {
  constructor(
    @Inject(HUB_SECRETS) secrets: HubSecrets,
    private readonly users: UsersService,
  ) {
    super({
      jwtFromRequest: ExtractJwt.fromAuthHeaderAsBearerToken(),
      // A KeyObject made once: given a string, jsonwebtoken first tries (and fails) to parse it as a
      // public key on every request. The typings predate KeyObject support, hence the cast.
      secretOrKey: createSecretKey(Buffer.from(secrets.jwtSecret)) as unknown as Buffer,
      // Pinned: a token signed with `none` or another algorithm is refused.
      algorithms: ['HS256'],
      ignoreExpiration: false,
    });
  }

  /** The role comes from the database, not the token, so a demotion or disable takes effect at once. */
  async validate(claims: AccessTokenClaims): Promise<AuthenticatedUser | false> {
    const user = await this.users.findActive(claims.sub);
    return user ? { id: user.id, username: user.username, role: user.role } : false;
  }
}
