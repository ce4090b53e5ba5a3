import { type CanActivate, type ExecutionContext, Injectable, Logger } from '@nestjs/common';
import type { Request } from 'express';
import { AppError } from '../common/errors/app-error';
import { ACCESS_POLICY, roleSatisfies } from './access-policy';
import type { AuthenticatedUser } from './authenticated-user';
import { Authenticator, bearerToken } from './authenticator.service';

/** Global guard: looks the route up in the policy table, authenticates, checks the role. */
@Injectable()
export class AccessGuard implements CanActivate {
  private readonly logger = new Logger(AccessGuard.name);

  constructor(private readonly authenticator: Authenticator) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context.switchToHttp().getRequest<Request & { user?: AuthenticatedUser }>();
    const key = `${request.method} ${(request.route as { path?: string } | undefined)?.path ?? request.path}`;
    const access = ACCESS_POLICY[key];
    if (access === undefined) {
      this.logger.error(`route ${key} is missing from the access policy table; refusing it`);
      throw new AppError('FORBIDDEN', 'This route is not open to anyone');
    }
    if (access === 'public') return true;
    const user = await this.authenticator.authenticate(bearerToken(request.get('authorization')));
    request.user = user;
    if (!roleSatisfies(user.role, access)) {
      throw new AppError('FORBIDDEN', `This action needs the ${access} role; you are ${user.role}`);
    }
    return true;
  }
}
