import { Anchor, Button, Group, Paper, SimpleGrid, Stack, Text, Title } from '@mantine/core';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useRef, useState } from 'react';
import { Link, useParams } from 'react-router';
import { describeError } from '../api/api-error';
import { api, authorizedFetch } from '../api/client';
import { chunkText, followOutput } from '../api/output-stream';
import { type Execution, FINAL_EXECUTION } from '../api/types';
import { ErrorAlert } from '../components/ErrorAlert';
import { Fact } from '../components/Fact';
import { QueryState } from '../components/QueryState';
import { RunActions } from '../components/RunActions';
import { StatusBadge } from '../components/StatusBadge';
import { Terminal, type TerminalHandle } from '../components/Terminal';
import { dateTime, duration } from '../components/format';
import { useAgentNames } from '../components/useAgentNames';

/** Saves the whole stored output as a file (the download needs the Authorization header, so no plain link). */
async function downloadOutput(executionId: string): Promise<void> {
  const response = await authorizedFetch(`/api/v1/executions/${executionId}/output?format=text`);
  if (!response.ok) throw new Error(`The hub answered ${response.status}`);
  const url = URL.createObjectURL(await response.blob());
  const link = document.createElement('a');
  link.href = url;
  link.download = `execution-${executionId}.log`;
  link.click();
  URL.revokeObjectURL(url);
}

/** One execution's output, followed live until it is complete. */
export function LiveOutput({ executionId, label = 'Output', height = 360 }: { executionId: string; label?: string; height?: number }) {
  const terminal = useRef<TerminalHandle>(null);
  const queryClient = useQueryClient();
  const [streamError, setStreamError] = useState<unknown>(null);
  const [complete, setComplete] = useState(false);

  useEffect(() => {
    const abort = new AbortController();
    terminal.current?.clear();
    void followOutput(
      executionId,
      {
        output: (chunk) => {
          setStreamError(null);
          terminal.current?.write(chunkText(chunk), chunk.stream);
        },
        status: (execution) => {
          queryClient.setQueryData(['execution', executionId], execution);
          if (FINAL_EXECUTION.includes(execution.status)) setComplete(true);
        },
        error: setStreamError,
      },
      abort.signal,
    ).then(() => setComplete(true));
    return () => abort.abort();
  }, [executionId, queryClient]);

  return (
    <Stack gap="xs">
      {streamError !== null && <ErrorAlert error={streamError} title="Output stream interrupted (reconnecting)" />}
      <Terminal ref={terminal} label={label} height={height} />
      <Text size="xs" c="dimmed">
        {complete ? 'End of output.' : 'Streaming live…'} stderr is shown in red.
      </Text>
    </Stack>
  );
}

export function ExecutionPage() {
  const { id = '' } = useParams();
  const hostOf = useAgentNames();
  const execution = useQuery({ queryKey: ['execution', id], queryFn: () => api<Execution>('GET', `/executions/${id}`) });
  const [downloadError, setDownloadError] = useState<unknown>(null);
  return (
    <QueryState query={execution} what="the execution">
      {(e) => (
        <Stack>
          <Group justify="space-between">
            <Title order={2}>Output on {hostOf(e.agentId)}</Title>
            <StatusBadge status={e.status} />
          </Group>
          <Paper withBorder p="md">
            <SimpleGrid cols={{ base: 2, sm: 4 }}>
              <Fact label="Run">
                <Anchor component={Link} to={`/runs/${e.runId}`} size="sm">
                  {e.runId.slice(0, 8)}
                </Anchor>
              </Fact>
              <Fact label="Exit code">
                {e.exitCode ?? '–'}
                {e.reason && !/^exit code/.test(e.reason) ? ` (${e.reason})` : ''}
              </Fact>
              <Fact label="Started">{dateTime(e.startedAt)}</Fact>
              <Fact label="Duration">{duration(e.durationMs)}</Fact>
            </SimpleGrid>
          </Paper>
          <Group justify="space-between">
            <RunActions runId={e.runId} executionId={e.id} final={FINAL_EXECUTION.includes(e.status)} />
            <Button variant="default" onClick={() => downloadOutput(e.id).then(() => setDownloadError(null), setDownloadError)}>
              Download output
            </Button>
          </Group>
          {downloadError !== null && <Text c="red">Download failed: {describeError(downloadError)}</Text>}
          {e.outputTruncated && <Text c="orange">The output was longer than the hub keeps: its middle part was dropped.</Text>}
          <LiveOutput executionId={e.id} />
        </Stack>
      )}
    </QueryState>
  );
}
