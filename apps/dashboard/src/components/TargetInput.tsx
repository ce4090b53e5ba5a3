import { MultiSelect, SegmentedControl, Stack, Text, TextInput } from '@mantine/core';
import { useQuery } from '@tanstack/react-query';
import { describeError } from '../api/api-error';
import { api, query } from '../api/client';
import type { Agent, Page, Target } from '../api/types';

export type TargetKind = 'agents' | 'labels' | 'all';

export interface TargetValue {
  kind: TargetKind;
  agentIds: string[];
  labels: string;
}

export function targetValue(target?: Target): TargetValue {
  if (!target) return { kind: 'agents', agentIds: [], labels: '' };
  if ('all' in target) return { kind: 'all', agentIds: [], labels: '' };
  if ('labels' in target) return { kind: 'labels', agentIds: [], labels: target.labels };
  return { kind: 'agents', agentIds: target.agentIds, labels: '' };
}

export function toTarget(value: TargetValue): Target {
  if (value.kind === 'all') return { all: true };
  if (value.kind === 'labels') return { labels: value.labels };
  return { agentIds: value.agentIds };
}

/** Where a command runs: chosen agents, a label selector, or every agent. */
export function TargetInput({ value, onChange }: { value: TargetValue; onChange: (value: TargetValue) => void }) {
  const agents = useQuery({
    queryKey: ['agents', 'names'],
    queryFn: () => api<Page<Agent>>('GET', `/agents${query({ limit: 500, sort: 'name' })}`),
  });
  return (
    <Stack gap="xs">
      <Text size="sm" fw={500}>
        Where
      </Text>
      <SegmentedControl
        value={value.kind}
        onChange={(kind) => onChange({ ...value, kind: kind as TargetKind })}
        data={[
          { value: 'agents', label: 'Agents' },
          { value: 'labels', label: 'Labels' },
          { value: 'all', label: 'All agents' },
        ]}
      />
      {value.kind === 'agents' && (
        <MultiSelect
          label="Agents"
          placeholder="Pick agents"
          searchable
          data={(agents.data?.items ?? []).map((a) => ({ value: a.id, label: `${a.name} (${a.status})` }))}
          value={value.agentIds}
          onChange={(agentIds) => onChange({ ...value, agentIds })}
          nothingFoundMessage={agents.isError ? `Could not load agents: ${describeError(agents.error)}` : 'No agents'}
        />
      )}
      {value.kind === 'labels' && (
        <TextInput label="Label selector" placeholder="env=prod,role=web" value={value.labels} onChange={(e) => onChange({ ...value, labels: e.currentTarget.value })} />
      )}
    </Stack>
  );
}
