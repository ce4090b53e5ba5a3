import { Button, Group } from '@mantine/core';
import { useNavigate } from 'react-router';
import { api } from '../api/client';
import type { Run } from '../api/types';
import { useAuth } from '../auth/auth-context';
import { useAction } from './useAction';

/** Cancel (what is still going) and rerun buttons for a run, or for one execution of it. */
export function RunActions({ runId, executionId, final }: { runId: string; executionId?: string; final: boolean }) {
  const { can } = useAuth();
  const navigate = useNavigate();
  const cancel = useAction(() => api('POST', executionId ? `/executions/${executionId}/cancel` : `/runs/${runId}/cancel`, {}), {
    invalidates: [['run', runId], ['execution', executionId]],
    failure: 'Could not cancel',
    success: () => 'Cancel requested',
  });
  const rerun = useAction(() => api<Run>('POST', `/runs/${runId}/rerun`, {}), {
    failure: 'Could not rerun',
    onSuccess: (run) => navigate(`/runs/${run.id}`),
  });
  return (
    <Group gap="xs">
      {!final && (
        <Button color="red" variant="light" onClick={() => cancel.mutate(undefined)} loading={cancel.isPending} disabled={!can('POST', '/api/v1/runs/:id/cancel')}>
          Cancel
        </Button>
      )}
      <Button variant="light" onClick={() => rerun.mutate(undefined)} loading={rerun.isPending} disabled={!can('POST', '/api/v1/runs/:id/rerun')}>
        Rerun
      </Button>
    </Group>
  );
}
