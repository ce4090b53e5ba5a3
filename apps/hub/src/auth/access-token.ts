/** The claims of a user's access token. `sid` names the session, checked on every request. */
export interface AccessTokenClaims {
  sub: string;
  sid: string;
}

/** HS256 only: pinned on verify, so `alg: none` or a switched algorithm is refused. */
export const ACCESS_TOKEN_ALGORITHM = 'HS256';

/** API tokens say what they are, so the hub never tries to read one as a JWT (and scanners find leaked ones). */
export const API_TOKEN_PREFIX = 'opt';
export const REFRESH_TOKEN_PREFIX = 'opr';
