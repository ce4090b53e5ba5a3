import { ApiError } from './api-error';

export interface TokenPair {
  accessToken: string;
  expiresIn: number;
}

type Listener = (token: string | null, reason?: string) => void;

/**
 * The access token lives in this module's memory only; the refresh token is the hub's httpOnly
 * cookie, so a reload restores the session with one refresh call and nothing readable by scripts
 * is ever stored.
 */
let accessToken: string | null = null;
let refreshing: Promise<string | null> | null = null;
const listeners = new Set<Listener>();

export function currentToken(): string | null {
  return accessToken;
}

export function onTokenChange(listener: Listener): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

export function setToken(token: string | null, reason?: string): void {
  accessToken = token;
  for (const listener of listeners) listener(token, reason);
}

/** Trades the refresh cookie for a new pair; concurrent callers share one request (the hub spends each refresh token once). */
export function refreshSession(): Promise<string | null> {
  refreshing ??= (async () => {
    try {
      const response = await fetch('/api/v1/auth/refresh', { method: 'POST', credentials: 'same-origin' });
      if (response.status === 401) return null;
      if (!response.ok) throw await ApiError.from(response);
      const pair = (await response.json()) as TokenPair;
      setToken(pair.accessToken);
      return pair.accessToken;
    } finally {
      refreshing = null;
    }
  })();
  return refreshing;
}
