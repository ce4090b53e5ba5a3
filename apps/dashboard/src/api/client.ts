import { ApiError } from './api-error';
import { currentToken, refreshSession, setToken } from './session';

export const SESSION_EXPIRED = 'Your session has expired. Log in again.';

/** Fetch with the bearer token; a 401 refreshes once through the cookie, then ends the session. */
export async function authorizedFetch(path: string, init: RequestInit = {}): Promise<Response> {
  const attempt = (token: string | null) =>
    fetch(path, { ...init, headers: { ...(init.headers as Record<string, string>), ...(token ? { authorization: `Bearer ${token}` } : {}) } });
  let response = await attempt(currentToken());
  if (response.status !== 401) return response;
  const token = await refreshSession().catch(() => null);
  if (token) response = await attempt(token);
  if (response.status === 401) setToken(null, SESSION_EXPIRED);
  return response;
}

export async function api<T>(method: string, path: string, body?: unknown): Promise<T> {
  const response = await authorizedFetch(`/api/v1${path}`, {
    method,
    ...(body === undefined ? {} : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }),
  });
  if (!response.ok) throw await ApiError.from(response);
  if (response.status === 204) return undefined as T;
  const text = await response.text();
  return (text ? JSON.parse(text) : undefined) as T;
}

/** `{a: 1, b: undefined}` → `?a=1`, for list filters. */
export function query(params: Record<string, string | number | undefined | null>): string {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) if (value !== undefined && value !== null && value !== '') search.set(key, String(value));
  const text = search.toString();
  return text ? `?${text}` : '';
}
