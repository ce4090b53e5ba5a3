import { useQuery } from '@tanstack/react-query';
import { api, query } from '../api/client';
import type { Agent, Page } from '../api/types';

/** Agent id → name, for tables that only carry ids; falls back to a short id. */
export function useAgentNames(): (agentId: string) => string {
  const agents = useQuery({
    queryKey: ['agents', 'names'],
    queryFn: () => api<Page<Agent>>('GET', `/agents${query({ limit: 500, sort: 'name' })}`),
    staleTime: 30_000,
  });
  const names = new Map(agents.data?.items.map((a) => [a.id, a.name]));
  return (agentId) => names.get(agentId) ?? agentId.slice(0, 8);
}
