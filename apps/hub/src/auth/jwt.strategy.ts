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
      secretOrKey: secrets.jwtSecret,
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
