import { Anchor, Badge, Group, Paper, Select, SimpleGrid, Stack, Table, Text, TextInput } from '@mantine/core';
import { useDebouncedCallback } from '@mantine/hooks';
import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { Link, useSearchParams } from 'react-router';
import { api, query } from '../api/client';
import type { Agent, Page } from '../api/types';
import { PageHeader } from '../components/PageHeader';
import { QueryState } from '../components/QueryState';
import { StatusBadge } from '../components/StatusBadge';
import { ago, labelsText, percent } from '../components/format';

const FILTERS = ['status', 'labels', 'os', 'search'] as const;

function Labels({ labels }: { labels: Record<string, string> }) {
  return (
    <Group gap={4}>
      {labelsText(labels).map((label) => (
        <Badge key={label} variant="outline" size="sm" tt="none">
          {label}
        </Badge>
      ))}
    </Group>
  );
}

function Status({ agent }: { agent: Agent }) {
  return (
    <Stack gap={0}>
      <StatusBadge status={agent.status} />
      <Text size="xs" c="dimmed">
        seen {ago(agent.lastSeenAt)}
      </Text>
    </Stack>
  );
}

function AgentCard({ agent }: { agent: Agent }) {
  return (
    <Paper withBorder p="sm" data-agent={agent.name}>
      <Group justify="space-between" wrap="nowrap">
        <Anchor component={Link} to={`/agents/${agent.id}`} fw={600} style={{ wordBreak: 'break-all' }}>
          {agent.name}
        </Anchor>
        <Status agent={agent} />
      </Group>
      <Text size="sm" c="dimmed">
        {agent.os}/{agent.arch} · v{agent.version}
      </Text>
      <Text size="sm">
        CPU {percent(agent.health?.cpuPercent)} · Mem {percent(agent.health?.memUsedPercent)} · Disk {percent(agent.health?.diskUsedPercent)}
      </Text>
      <Labels labels={agent.labels} />
    </Paper>
  );
}

export function FleetPage() {
  const [params, setParams] = useSearchParams();
  const filters = Object.fromEntries(FILTERS.map((key) => [key, params.get(key) ?? undefined]));
  const agents = useQuery({
    queryKey: ['agents', filters],
    queryFn: () => api<Page<Agent>>('GET', `/agents${query({ ...filters, sort: 'name', order: 'asc', limit: 200 })}`),
    placeholderData: keepPreviousData,
    // Status changes arrive over the live socket; health numbers are not sent there (every agent, every few seconds).
    refetchInterval: 15_000,
  });

  const setFilter = (key: (typeof FILTERS)[number], value: string | null) => {
    const next = new URLSearchParams(params);
    if (value) next.set(key, value);
    else next.delete(key);
    setParams(next, { replace: true });
  };
  const setTextFilter = useDebouncedCallback(setFilter, 300);
  const filtered = FILTERS.some((key) => params.get(key));

  return (
    <Stack>
      <PageHeader title="Fleet" action={{ to: '/agents/new', label: 'Add agent' }} />
      <SimpleGrid cols={{ base: 1, xs: 2, md: 4 }}>
        <Select
          label="Status"
          placeholder="Any"
          data={['online', 'offline']}
          value={params.get('status')}
          onChange={(value) => setFilter('status', value)}
          clearable
        />
        <Select
          label="OS"
          placeholder="Any"
          data={['linux', 'windows', 'darwin']}
          value={params.get('os')}
          onChange={(value) => setFilter('os', value)}
          clearable
        />
        <TextInput label="Labels" placeholder="env=prod,role=web" defaultValue={params.get('labels') ?? ''} onChange={(e) => setTextFilter('labels', e.currentTarget.value)} />
        <TextInput label="Search" placeholder="name or hostname" defaultValue={params.get('search') ?? ''} onChange={(e) => setTextFilter('search', e.currentTarget.value)} />
      </SimpleGrid>
      <QueryState query={agents} what="agents">
        {(page) =>
          page.items.length === 0 ? (
            <Paper withBorder p="lg">
              <Text>
                {filtered ? 'No agents match these filters.' : 'No agents yet. '}
                {!filtered && (
                  <Anchor component={Link} to="/agents/new">
                    Add your first agent
                  </Anchor>
                )}
              </Text>
            </Paper>
          ) : (
            <>
              <Text size="sm" c="dimmed">
                {page.total} agent{page.total === 1 ? '' : 's'}
              </Text>
              <Stack hiddenFrom="md" gap="xs">
                {page.items.map((agent) => (
                  <AgentCard key={agent.id} agent={agent} />
                ))}
              </Stack>
              <Table visibleFrom="md" striped highlightOnHover aria-label="Agents">
                <Table.Thead>
                  <Table.Tr>
                    <Table.Th>Name</Table.Th>
                    <Table.Th>Status</Table.Th>
                    <Table.Th>OS</Table.Th>
                    <Table.Th>Labels</Table.Th>
                    <Table.Th>CPU</Table.Th>
                    <Table.Th>Memory</Table.Th>
                    <Table.Th>Disk</Table.Th>
                    <Table.Th>Version</Table.Th>
                  </Table.Tr>
                </Table.Thead>
                <Table.Tbody>
                  {page.items.map((agent) => (
                    <Table.Tr key={agent.id} data-agent={agent.name}>
                      <Table.Td>
                        <Anchor component={Link} to={`/agents/${agent.id}`}>
                          {agent.name}
                        </Anchor>
                      </Table.Td>
                      <Table.Td>
                        <Status agent={agent} />
                      </Table.Td>
                      <Table.Td>
                        {agent.os}/{agent.arch}
                      </Table.Td>
                      <Table.Td>
                        <Labels labels={agent.labels} />
                      </Table.Td>
                      <Table.Td data-metric="cpu">{percent(agent.health?.cpuPercent)}</Table.Td>
                      <Table.Td data-metric="memory">{percent(agent.health?.memUsedPercent)}</Table.Td>
                      <Table.Td data-metric="disk">{percent(agent.health?.diskUsedPercent)}</Table.Td>
                      <Table.Td>{agent.version}</Table.Td>
                    </Table.Tr>
                  ))}
                </Table.Tbody>
              </Table>
            </>
          )
        }
      </QueryState>
    </Stack>
  );
}
