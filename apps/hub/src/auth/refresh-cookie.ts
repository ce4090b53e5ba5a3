import { parse, serialize } from 'cookie';

/** DESIGN.md §3: httpOnly, SameSite=Strict, sent only to the auth routes. */
export const REFRESH_COOKIE = 'outpost_refresh';
const COOKIE_PATH = '/api/v1/auth';

export function refreshCookie(token: string, expiresAt: Date, secure: boolean): string {
  return serialize(REFRESH_COOKIE, token, { httpOnly: true, sameSite: 'strict', path: COOKIE_PATH, secure, expires: expiresAt });
}

export function clearedRefreshCookie(secure: boolean): string {
  return serialize(REFRESH_COOKIE, '', { httpOnly: true, sameSite: 'strict', path: COOKIE_PATH, secure, expires: new Date(0) });
}

export function refreshTokenFromCookie(cookieHeader: string | undefined): string | undefined {
  return cookieHeader ? parse(cookieHeader)[REFRESH_COOKIE] : undefined;
}
