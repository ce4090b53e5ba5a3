import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import type { Role } from './roles';

/** What a request authenticated with: a login session (JWT access token) or an API token. */
export interface Credential {
  kind: 'session' | 'api-token';
  id: string;
}

/** Who is calling, as the access guard established it. `role` is the effective one. */
export interface AuthenticatedUser {
  id: string;
  username: string;
  role: Role;
  credential: Credential;
}

export const CurrentUser = createParamDecorator(
  (_: unknown, ctx: ExecutionContext): AuthenticatedUser => ctx.switchToHttp().getRequest<{ user: AuthenticatedUser }>().user,
);
