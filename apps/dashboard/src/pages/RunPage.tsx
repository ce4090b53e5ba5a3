import { Anchor, Code, Group, Paper, Stack, Text, Title } from '@mantine/core';
import { useQuery } from '@tanstack/react-query';
import { Link, useParams } from 'react-router';
import { api } from '../api/client';
import { FINAL_RUN, type Run, type Target } from '../api/types';
import { ExecutionsTable } from '../components/ExecutionsTable';
import { QueryState } from '../components/QueryState';
import { RunActions } from '../components/RunActions';
import { StatusBadge } from '../components/StatusBadge';
import { dateTime } from '../components/format';
import { useAgentNames } from '../components/useAgentNames';
import { LiveOutput } from './ExecutionPage';

/** Terminals shown inline on a run's page; a bigger run links to each execution instead. */
const INLINE_OUTPUTS = 6;

export function targetText(target: Target): string {
  if ('all' in target) return 'all agents';
  if ('labels' in target) return `agents with ${target.labels}`;
  return `${target.agentIds.length} agent${target.agentIds.length === 1 ? '' : 's'}`;
}

export function whatText(run: Pick<Run, 'command' | 'argv' | 'script'>): string {
  return run.command ?? run.argv?.join(' ') ?? run.script ?? '';
}

export function RunPage() {
  const { id = '' } = useParams();
  const hostOf = useAgentNames();
  const run = useQuery({
    queryKey: ['run', id],
    queryFn: () => api<Run>('GET', `/runs/${id}`),
    // Live events refetch it at once; this only covers a socket that is down.
    refetchInterval: (q) => (q.state.data && FINAL_RUN.includes(q.state.data.status) ? false : 5000),
  });
  return (
    <QueryState query={run} what="the run">
      {(r) => {
        const executions = r.executions ?? [];
        return (
          <Stack>
            <Group justify="space-between">
              <Title order={2}>Run {r.id.slice(0, 8)}</Title>
              <StatusBadge status={r.status} />
            </Group>
            <Paper withBorder p="md">
              <Code block style={{ whiteSpace: 'pre-wrap', wordBreak: 'break-all' }}>
                {whatText(r)}
              </Code>
              <Text size="sm" mt="xs" c="dimmed">
                {r.trigger} run on {targetText(r.target)}, created {dateTime(r.createdAt)}
                {r.jobId && (
                  <>
                    {' '}
                    from <Anchor component={Link} to={`/jobs/${r.jobId}`}>its job</Anchor>
                  </>
                )}
              </Text>
            </Paper>
            <RunActions runId={r.id} final={FINAL_RUN.includes(r.status)} />
            <Paper withBorder p="md">
              <Title order={4} mb="sm">
                Hosts
              </Title>
              <ExecutionsTable executions={executions} hostOf={(e) => hostOf(e.agentId)} />
            </Paper>
            {executions.length <= INLINE_OUTPUTS &&
              executions.map((e) => (
                <Paper withBorder p="md" key={e.id}>
                  <Group justify="space-between" mb="xs">
                    <Text fw={600}>{hostOf(e.agentId)}</Text>
                    <StatusBadge status={e.status} />
                  </Group>
                  <LiveOutput executionId={e.id} label={`Output of ${hostOf(e.agentId)}`} height={180} />
                </Paper>
              ))}
          </Stack>
        );
      }}
    </QueryState>
  );
}
