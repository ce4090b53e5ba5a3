import { Badge } from '@mantine/core';

const COLORS: Record<string, string> = {
  online: 'green',
  offline: 'gray',
  succeeded: 'green',
  running: 'blue',
  dispatched: 'cyan',
  queued: 'yellow',
  pending: 'yellow',
  failed: 'red',
  timed_out: 'orange',
  lost: 'orange',
  expired: 'orange',
  canceled: 'gray',
  paused: 'gray',
  active: 'green',
};

export function StatusBadge({ status }: { status: string }) {
  return (
    <Badge color={COLORS[status] ?? 'gray'} variant="light" data-status={status}>
      {status.replace('_', ' ')}
    </Badge>
  );
}
