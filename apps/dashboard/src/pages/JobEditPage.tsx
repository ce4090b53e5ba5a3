import { Button, Group, NumberInput, Paper, Stack, Textarea, TextInput, Title } from '@mantine/core';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { useNavigate, useParams } from 'react-router';
import { api } from '../api/client';
import type { Job } from '../api/types';
import { useAuth } from '../auth/auth-context';
import { ErrorAlert } from '../components/ErrorAlert';
import { QueryState } from '../components/QueryState';
import { ScheduleInput, scheduleValue, toSchedule } from '../components/ScheduleInput';
import { TargetInput, targetValue, toTarget } from '../components/TargetInput';

function JobForm({ job }: { job?: Job }) {
  const { can } = useAuth();
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const [name, setName] = useState(job?.name ?? '');
  const [description, setDescription] = useState(job?.description ?? '');
  const [command, setCommand] = useState(job?.command ?? '');
  const [timeout, setTimeout] = useState<number | string>(job?.timeoutSeconds ?? '');
  const [target, setTarget] = useState(targetValue(job?.target));
  const [schedule, setSchedule] = useState(scheduleValue(job?.schedule));

  const save = useMutation({
    mutationFn: () => {
      const wanted = toSchedule(schedule);
      const body = {
        name,
        description: description || null,
        command,
        target: toTarget(target),
        timeoutSeconds: timeout === '' ? null : Number(timeout),
        // Sent only when there is one to set or clear, so a hub without the scheduler accepts the rest.
        ...(wanted || job?.schedule ? { schedule: wanted } : {}),
      };
      return job ? api<Job>('PATCH', `/jobs/${job.id}`, body) : api<Job>('POST', '/jobs', body);
    },
    onSuccess: (saved) => {
      void queryClient.invalidateQueries({ queryKey: ['jobs'] });
      queryClient.setQueryData(['job', saved.id], saved);
      navigate('/jobs');
    },
  });

  return (
    <Paper withBorder p="md">
      <Stack>
        <ErrorAlert error={save.error} title="The job was not saved" />
        <TextInput label="Name" required value={name} onChange={(e) => setName(e.currentTarget.value)} />
        <TextInput label="Description" value={description} onChange={(e) => setDescription(e.currentTarget.value)} />
        <Textarea label="Command" required autosize minRows={2} ff="monospace" value={command} onChange={(e) => setCommand(e.currentTarget.value)} />
        <TargetInput value={target} onChange={setTarget} />
        <NumberInput label="Timeout (seconds)" min={1} value={timeout} onChange={setTimeout} />
        <ScheduleInput value={schedule} onChange={setSchedule} />
        <Group>
          <Button onClick={() => save.mutate()} loading={save.isPending} disabled={!can('POST', '/api/v1/jobs')}>
            {job ? 'Save job' : 'Create job'}
          </Button>
          <Button variant="default" onClick={() => navigate('/jobs')}>
            Cancel
          </Button>
        </Group>
      </Stack>
    </Paper>
  );
}

export function JobEditPage() {
  const { id } = useParams();
  const job = useQuery({ queryKey: ['job', id], queryFn: () => api<Job>('GET', `/jobs/${id}`), enabled: id !== undefined });
  return (
    <Stack maw={900}>
      <Title order={2}>{id ? 'Edit job' : 'New job'}</Title>
      {id ? <QueryState query={job} what="the job">{(j) => <JobForm key={j.id} job={j} />}</QueryState> : <JobForm />}
    </Stack>
  );
}
