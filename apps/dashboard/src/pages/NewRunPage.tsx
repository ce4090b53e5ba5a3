import { Button, NumberInput, Paper, Stack, Textarea, Title } from '@mantine/core';
import { useState } from 'react';
import { useNavigate, useSearchParams } from 'react-router';
import { api } from '../api/client';
import type { Run } from '../api/types';
import { useAuth } from '../auth/auth-context';
import { TargetInput, type TargetValue, toTarget } from '../components/TargetInput';
import { useAction } from '../components/useAction';

export function NewRunPage() {
  const { can } = useAuth();
  const navigate = useNavigate();
  const [params] = useSearchParams();
  const [command, setCommand] = useState('');
  const [timeout, setTimeout] = useState<number | string>(600);
  const [target, setTarget] = useState<TargetValue>({ kind: 'agents', agentIds: params.getAll('agentId'), labels: '' });
  const start = useAction(
    () => api<Run>('POST', '/runs', { command, target: toTarget(target), ...(timeout === '' ? {} : { timeoutSeconds: Number(timeout) }) }),
    { failure: 'Could not start the run', onSuccess: (run) => navigate(`/runs/${run.id}`) },
  );
  return (
    <Stack maw={900}>
      <Title order={2}>Run a command</Title>
      <Paper withBorder p="md">
        <Stack>
          <Textarea
            label="Command"
            description="Run by /bin/sh -c on Linux, PowerShell on Windows"
            placeholder="uptime"
            autosize
            minRows={2}
            ff="monospace"
            value={command}
            onChange={(e) => setCommand(e.currentTarget.value)}
          />
          <TargetInput value={target} onChange={setTarget} />
          <NumberInput label="Timeout (seconds)" min={1} value={timeout} onChange={setTimeout} />
          <Button onClick={() => start.mutate(undefined)} loading={start.isPending} disabled={!can('POST', '/api/v1/runs')}>
            Run
          </Button>
        </Stack>
      </Paper>
    </Stack>
  );
}
