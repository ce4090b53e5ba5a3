import { Alert, List, SegmentedControl, SimpleGrid, Stack, Text, TextInput } from '@mantine/core';
import { useDebouncedValue } from '@mantine/hooks';
import { useQuery } from '@tanstack/react-query';
import { previewSchedule } from '../api/jobs';
import type { Schedule } from '../api/types';
import { ErrorAlert } from './ErrorAlert';

export type ScheduleKind = 'none' | 'cron' | 'every' | 'at';

export interface ScheduleValue {
  kind: ScheduleKind;
  cron: string;
  timezone: string;
  every: string;
  at: string;
}

export function scheduleValue(schedule?: Schedule | null): ScheduleValue {
  const kind: ScheduleKind = schedule?.cron ? 'cron' : schedule?.every ? 'every' : schedule?.at ? 'at' : 'none';
  return { kind, cron: schedule?.cron ?? '', timezone: schedule?.timezone ?? 'UTC', every: schedule?.every ?? '', at: schedule?.at ?? '' };
}

export function toSchedule(value: ScheduleValue): Schedule | null {
  if (value.kind === 'cron') return { cron: value.cron.trim(), timezone: value.timezone.trim() || 'UTC' };
  if (value.kind === 'every') return { every: value.every.trim() };
  if (value.kind === 'at') return { at: value.at.trim() };
  return null;
}

function Preview({ schedule }: { schedule: Schedule }) {
  const preview = useQuery({ queryKey: ['schedule-preview', schedule], queryFn: () => previewSchedule(schedule), retry: false });
  if (preview.isPending) return <Text c="dimmed">Computing the next runs…</Text>;
  if (preview.isError) return <ErrorAlert error={preview.error} title="Invalid schedule" />;
  if ('unavailable' in preview.data) return <Alert color="yellow">This hub cannot preview schedules (its scheduler is not installed).</Alert>;
  return (
    <div aria-label="Next runs">
      <Text size="sm" fw={500}>
        Next runs
      </Text>
      <List size="sm" data-preview>
        {preview.data.items.map((iso) => (
          <List.Item key={iso}>
            {new Date(iso).toLocaleString()} <Text span c="dimmed" size="xs">({iso})</Text>
          </List.Item>
        ))}
      </List>
    </div>
  );
}

/** When a job runs by itself: a cron expression in a time zone, a fixed interval or once; with the next runs previewed. */
export function ScheduleInput({ value, onChange }: { value: ScheduleValue; onChange: (value: ScheduleValue) => void }) {
  const [debounced] = useDebouncedValue(value, 400);
  const schedule = toSchedule(debounced);
  const complete = schedule !== null && Object.values(schedule).every((part) => part !== '');
  return (
    <Stack gap="xs">
      <Text size="sm" fw={500}>
        When
      </Text>
      <SegmentedControl
        value={value.kind}
        onChange={(kind) => onChange({ ...value, kind: kind as ScheduleKind })}
        data={[
          { value: 'none', label: 'On demand' },
          { value: 'cron', label: 'Cron' },
          { value: 'every', label: 'Every' },
          { value: 'at', label: 'Once' },
        ]}
      />
      {value.kind === 'cron' && (
        <SimpleGrid cols={{ base: 1, xs: 2 }}>
          <TextInput label="Cron expression" placeholder="0 2 * * *" value={value.cron} onChange={(e) => onChange({ ...value, cron: e.currentTarget.value })} ff="monospace" />
          <TextInput label="Time zone" placeholder="Europe/Berlin" value={value.timezone} onChange={(e) => onChange({ ...value, timezone: e.currentTarget.value })} />
        </SimpleGrid>
      )}
      {value.kind === 'every' && (
        <TextInput label="Interval" description="s, m, h or d" placeholder="5m" value={value.every} onChange={(e) => onChange({ ...value, every: e.currentTarget.value })} />
      )}
      {value.kind === 'at' && (
        <TextInput label="At (ISO 8601)" placeholder="2026-12-01T09:00:00Z" value={value.at} onChange={(e) => onChange({ ...value, at: e.currentTarget.value })} />
      )}
      {complete && <Preview schedule={schedule} />}
    </Stack>
  );
}
