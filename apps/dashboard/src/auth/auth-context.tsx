import { createContext, type ReactNode, useCallback, useContext, useEffect, useMemo, useState } from 'react';
import { ApiError } from '../api/api-error';
import { api } from '../api/client';
import { onTokenChange, refreshSession, setToken, type TokenPair } from '../api/session';
import type { Me } from '../api/types';

interface AuthState {
  /** `undefined` while the first refresh (session restore after a reload) is in flight. */
  me: Me | null | undefined;
  /** Why the last session ended when it was not a logout: shown on the login page. */
  endedReason: string | null;
  login(username: string, password: string): Promise<void>;
  logout(): Promise<void>;
  can(method: string, path: string): boolean;
}

const AuthContext = createContext<AuthState | null>(null);

export function AuthProvider({ children }: { children: ReactNode }) {
  const [me, setMe] = useState<Me | null | undefined>(undefined);
  const [endedReason, setEndedReason] = useState<string | null>(null);

  const loadMe = useCallback(async () => setMe(await api<Me>('GET', '/auth/me')), []);

  useEffect(() => {
    const off = onTokenChange((token, reason) => {
      if (token) return;
      setMe(null);
      if (reason) setEndedReason(reason);
    });
    refreshSession()
      .then((token) => (token ? loadMe() : setMe(null)))
      .catch(() => setMe(null));
    return () => {
      off();
    };
  }, [loadMe]);

  const login = useCallback(
    async (username: string, password: string) => {
      const response = await fetch('/api/v1/auth/login', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username, password }),
      });
      if (!response.ok) throw await ApiError.from(response);
      setToken(((await response.json()) as TokenPair).accessToken);
      setEndedReason(null);
      await loadMe();
    },
    [loadMe],
  );

  const logout = useCallback(async () => {
    await api('POST', '/auth/logout', {}).catch(() => undefined);
    setToken(null);
  }, []);

  const value = useMemo<AuthState>(
    () => ({
      me,
      endedReason,
      login,
      logout,
      can: (method, path) => me?.permissions.includes(`${method} ${path}`) ?? false,
    }),
    [me, endedReason, login, logout],
  );
  return <AuthContext.Provider value={value}>{children}</AuthContext.Provider>;
}

export function useAuth(): AuthState {
  const context = useContext(AuthContext);
  if (!context) throw new Error('useAuth outside AuthProvider');
  return context;
}
