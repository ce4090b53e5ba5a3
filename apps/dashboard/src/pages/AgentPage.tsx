import { LineChart } from '@mantine/charts';
import { Button, Group, Modal, Paper, SegmentedControl, SimpleGrid, Stack, Text, TextInput, Title } from '@mantine/core';
import { useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { useNavigate, useParams } from 'react-router';
import { api, query } from '../api/client';
import type { AgentDetail, Execution, HealthPoint, Page } from '../api/types';
import { useAuth } from '../auth/auth-context';
import { ExecutionsTable } from '../components/ExecutionsTable';
import { Fact } from '../components/Fact';
import { QueryState } from '../components/QueryState';
import { StatusBadge } from '../components/StatusBadge';
import { ago, bytes, labelsText, parseLabels, uptime } from '../components/format';
import { useAction } from '../components/useAction';

const WINDOWS: Record<string, number> = { '1h': 3600_000, '6h': 6 * 3600_000, '24h': 24 * 3600_000, '7d': 7 * 24 * 3600_000 };

function HealthCharts({ agentId }: { agentId: string }) {
  const [window, setWindow] = useState('1h');
  const series = useQuery({
    queryKey: ['agent-health', agentId, window],
    queryFn: () => api<{ items: HealthPoint[] }>('GET', `/agents/${agentId}/health${query({ from: new Date(Date.now() - WINDOWS[window]!).toISOString() })}`),
    refetchInterval: 30_000,
  });
  return (
    <Paper withBorder p="md">
      <Group justify="space-between" mb="sm">
        <Title order={4}>Health</Title>
        <SegmentedControl size="xs" value={window} onChange={setWindow} data={Object.keys(WINDOWS)} aria-label="Chart window" />
      </Group>
      <QueryState query={series} what="health samples">
        {({ items }) =>
          items.length === 0 ? (
            <Text c="dimmed">No health samples in this window.</Text>
          ) : (
            <LineChart
              h={220}
              data={items.map((p) => ({
                time: new Date(p.sampledAt).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' }),
                CPU: p.cpuPercent,
                Memory: p.memUsedPercent,
                Disk: p.diskUsedPercent,
              }))}
              dataKey="time"
              yAxisProps={{ domain: [0, 100] }}
              unit="%"
              withDots={false}
              withLegend
              curveType="linear"
              series={[
                { name: 'CPU', color: 'blue.6' },
                { name: 'Memory', color: 'grape.6' },
                { name: 'Disk', color: 'orange.6' },
              ]}
            />
          )
        }
      </QueryState>
    </Paper>
  );
}

function Actions({ agent }: { agent: AgentDetail }) {
  const { can } = useAuth();
  const navigate = useNavigate();
  const [name, setName] = useState(agent.name);
  const [labels, setLabels] = useState(labelsText(agent.labels).join(', '));
  const [confirmRevoke, setConfirmRevoke] = useState(false);
  const invalidates = [['agent', agent.id], ['agents']];
  const patch = useAction((body: object) => api('PATCH', `/agents/${agent.id}`, body), { invalidates, failure: 'Could not save', success: () => 'Saved' });
  const ping = useAction(() => api<{ roundTripMs: number }>('POST', `/agents/${agent.id}/ping`), {
    failure: 'Ping failed',
    success: (r) => `Pong in ${Math.round(r.roundTripMs)} ms`,
  });
  const revoke = useAction(() => api('DELETE', `/agents/${agent.id}`), {
    invalidates: [['agents']],
    failure: 'Could not revoke',
    success: () => `${agent.name} was revoked`,
    onSuccess: () => navigate('/'),
  });
  const mayEdit = can('PATCH', '/api/v1/agents/:id');
  return (
    <Paper withBorder p="md">
      <Title order={4} mb="sm">
        Actions
      </Title>
      <Stack>
        <Group align="end" wrap="nowrap">
          <TextInput label="Name" value={name} onChange={(e) => setName(e.currentTarget.value)} disabled={!mayEdit} style={{ flex: 1 }} />
          <Button onClick={() => patch.mutate({ name })} disabled={!mayEdit || name === agent.name} loading={patch.isPending}>
            Rename
          </Button>
        </Group>
        <Group align="end" wrap="nowrap">
          <TextInput label="Labels" placeholder="env=prod, role=web" value={labels} onChange={(e) => setLabels(e.currentTarget.value)} disabled={!mayEdit} style={{ flex: 1 }} />
          <Button onClick={() => patch.mutate({ labels: parseLabels(labels) })} disabled={!mayEdit} loading={patch.isPending}>
            Save labels
          </Button>
        </Group>
        <Group>
          <Button variant="light" onClick={() => ping.mutate(undefined)} loading={ping.isPending} disabled={!can('POST', '/api/v1/agents/:id/ping')}>
            Ping
          </Button>
          {ping.data && <Text size="sm">Round trip: {Math.round(ping.data.roundTripMs)} ms</Text>}
          <Button color="red" variant="light" onClick={() => setConfirmRevoke(true)} disabled={!can('DELETE', '/api/v1/agents/:id')}>
            Revoke
          </Button>
        </Group>
      </Stack>
      <Modal opened={confirmRevoke} onClose={() => setConfirmRevoke(false)} title={`Revoke ${agent.name}?`}>
        <Text mb="md">Its credential stops working and its connection is cut at once. The host has to enroll again to come back.</Text>
        <Group justify="end">
          <Button variant="default" onClick={() => setConfirmRevoke(false)}>
            Keep it
          </Button>
          <Button color="red" onClick={() => revoke.mutate(undefined)} loading={revoke.isPending}>
            Revoke
          </Button>
        </Group>
      </Modal>
    </Paper>
  );
}

export function AgentPage() {
  const { id = '' } = useParams();
  const agent = useQuery({ queryKey: ['agent', id], queryFn: () => api<AgentDetail>('GET', `/agents/${id}`) });
  const executions = useQuery({
    queryKey: ['executions', { agentId: id }],
    queryFn: () => api<Page<Execution>>('GET', `/executions${query({ agentId: id, limit: 10, sort: 'createdAt', order: 'desc' })}`),
  });
  return (
    <QueryState query={agent} what="the agent">
      {(a) => (
        <Stack>
          <Group justify="space-between">
            <Title order={2} style={{ wordBreak: 'break-all' }}>
              {a.name}
            </Title>
            <Group gap="xs">
              <StatusBadge status={a.status} />
              <Text size="sm" c="dimmed">
                seen {ago(a.lastSeenAt)}
              </Text>
            </Group>
          </Group>
          <Paper withBorder p="md">
            <SimpleGrid cols={{ base: 2, sm: 3, lg: 4 }}>
              <Fact label="Hostname">{a.hostname}</Fact>
              <Fact label="OS">{a.facts ? `${a.facts.distro} ${a.facts.release}` : a.os}</Fact>
              <Fact label="Kernel">{a.facts?.kernel ?? ''}</Fact>
              <Fact label="Architecture">{a.arch}</Fact>
              <Fact label="IP addresses">{a.facts?.ipAddresses.join(', ') ?? ''}</Fact>
              <Fact label="Uptime">{uptime(a.health?.uptimeSeconds)}</Fact>
              <Fact label="CPU">{a.facts ? `${a.facts.cpuModel} (${a.facts.cpuCores} cores)` : ''}</Fact>
              <Fact label="Memory">{a.facts ? bytes(a.facts.memTotalBytes) : ''}</Fact>
              <Fact label="Agent version">{a.version}</Fact>
              <Fact label="Labels">{labelsText(a.labels).join(', ')}</Fact>
            </SimpleGrid>
          </Paper>
          <HealthCharts agentId={a.id} />
          <Paper withBorder p="md">
            <Title order={4} mb="sm">
              Recent executions
            </Title>
            <QueryState query={executions} what="executions">
              {(page) => <ExecutionsTable executions={page.items} hostOf={() => a.name} />}
            </QueryState>
          </Paper>
          <Actions key={`${a.name}|${labelsText(a.labels).join(',')}`} agent={a} />
        </Stack>
      )}
    </QueryState>
  );
}
