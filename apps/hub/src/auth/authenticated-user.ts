import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import type { Role } from './user.entity';

/** Who is calling, as the access guard established it. */
export interface AuthenticatedUser {
  id: string;
  username: string;
  role: Role;
  /** Set when the request came with an API token rather than a login: the audit log names the token. */
  apiTokenId?: string;
}

export const CurrentUser = createParamDecorator(
  (_: unknown, ctx: ExecutionContext): AuthenticatedUser => ctx.switchToHttp().getRequest<{ user: AuthenticatedUser }>().user,
);
