import { useQueryClient } from '@tanstack/react-query';
import { createContext, type ReactNode, useContext, useEffect, useState } from 'react';
import { io } from 'socket.io-client';
import { currentToken, setToken } from '../api/session';

/** Batched change events of the hub's `/live` namespace (apps/hub/src/live/live-feed.service.ts). */
interface ChangeBatch {
  items: { id: string; runId?: string }[];
}

const LiveContext = createContext<boolean>(false);

/**
 * Keeps one socket to `/live` while signed in and turns its change events into cache
 * invalidations, so every page showing that data refetches it: the REST API stays the one
 * source of each fact, the socket only says what changed.
 */
export function LiveUpdates({ children }: { children: ReactNode }) {
  const queryClient = useQueryClient();
  const [connected, setConnected] = useState(false);

  useEffect(() => {
    const socket = io(`${window.location.origin}/live`, {
      transports: ['websocket'],
      // A function, so a reconnect after the access token was refreshed presents the new one.
      auth: (send) => send({ token: currentToken() }),
    });
    socket.on('connect', () => setConnected(true));
    socket.on('disconnect', () => setConnected(false));
    socket.on('signed-out', (payload: { reason?: string }) => setToken(null, payload.reason ?? 'Your session has ended. Log in again.'));
    socket.on('agents.changed', ({ items }: ChangeBatch) => {
      void queryClient.invalidateQueries({ queryKey: ['agents'] });
      for (const { id } of items) void queryClient.invalidateQueries({ queryKey: ['agent', id] });
    });
    socket.on('runs.changed', ({ items }: ChangeBatch) => {
      void queryClient.invalidateQueries({ queryKey: ['runs'] });
      for (const { id } of items) void queryClient.invalidateQueries({ queryKey: ['run', id] });
    });
    socket.on('executions.changed', ({ items }: ChangeBatch) => {
      void queryClient.invalidateQueries({ queryKey: ['executions'] });
      for (const { id, runId } of items) {
        void queryClient.invalidateQueries({ queryKey: ['execution', id] });
        if (runId) void queryClient.invalidateQueries({ queryKey: ['run', runId] });
      }
    });
    // More changed at once than the hub lists in one tick: whatever is on screen may be stale.
    socket.on('changes.truncated', () => void queryClient.invalidateQueries());
    return () => {
      socket.disconnect();
    };
  }, [queryClient]);

  return <LiveContext.Provider value={connected}>{children}</LiveContext.Provider>;
}

export function useLiveConnected(): boolean {
  return useContext(LiveContext);
}
