import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import type { Role } from './user.entity';

/** Who is calling, as the access guard established it. */
export interface AuthenticatedUser {
  id: string;
  username: string;
  role: Role;
}

export const CurrentUser = createParamDecorator(
  (_: unknown, ctx: ExecutionContext): AuthenticatedUser => ctx.switchToHttp().getRequest<{ user: AuthenticatedUser }>().user,
);
