import { type ExecutionContext, Injectable, Logger } from '@nestjs/common';
import { AuthGuard } from '@nestjs/passport';
import type { Request } from 'express';
import { AppError } from '../common/errors/app-error';
import { ACCESS_POLICY, roleSatisfies } from './access-policy';
import type { AuthenticatedUser } from './authenticated-user';

/** Global guard: looks the route up in the policy table, authenticates, checks the role. */
@Injectable()
export class AccessGuard extends AuthGuard('jwt') {
  private readonly logger = new Logger(AccessGuard.name);

  override async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context.switchToHttp().getRequest<Request & { user?: AuthenticatedUser }>();
    const key = `${request.method} ${(request.route as { path?: string } | undefined)?.path ?? request.path}`;
    const access = ACCESS_POLICY[key];
    if (access === undefined) {
      this.logger.error(`route ${key} is missing from the access policy table; refusing it`);
      throw new AppError('FORBIDDEN', 'This route is not open to anyone');
    }
    if (access === 'public') return true;
    await super.canActivate(context);
    const user = request.user!;
    if (!roleSatisfies(user.role, access)) {
      throw new AppError('FORBIDDEN', `This action needs the ${access} role; you are ${user.role}`);
    }
    return true;
  }

  override handleRequest<TUser>(error: unknown, user: TUser | false, info: unknown): TUser {
    if (error || !user) {
      const reason = info instanceof Error ? info.message : 'missing or invalid access token';
      throw new AppError('UNAUTHORIZED', `Authentication required: ${reason}`);
    }
    return user;
  }
}
