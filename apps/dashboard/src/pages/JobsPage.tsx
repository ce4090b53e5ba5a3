import { Anchor, Button, Group, Menu, Stack, Table } from '@mantine/core';
import { useQuery } from '@tanstack/react-query';
import { Link, useNavigate } from 'react-router';
import { api, query } from '../api/client';
import { isPaused, runJob, scheduleText, setJobPaused } from '../api/jobs';
import type { Job, Page } from '../api/types';
import { useAuth } from '../auth/auth-context';
import { PageHeader } from '../components/PageHeader';
import { QueryState } from '../components/QueryState';
import { StatusBadge } from '../components/StatusBadge';
import { useAction } from '../components/useAction';
import { targetText, whatText } from './RunPage';

function JobActions({ job }: { job: Job }) {
  const { can } = useAuth();
  const navigate = useNavigate();
  const invalidates = [['jobs']];
  const run = useAction(() => runJob(job.id), { failure: `Could not run ${job.name}`, onSuccess: (r) => navigate(`/runs/${r.id}`) });
  const pause = useAction((paused: boolean) => setJobPaused(job, paused), { invalidates, failure: 'Could not change the schedule' });
  const remove = useAction(() => api('DELETE', `/jobs/${job.id}`), { invalidates, failure: `Could not delete ${job.name}`, success: () => `${job.name} deleted` });
  const mayChange = can('PATCH', '/api/v1/jobs/:id');
  return (
    <Group gap="xs" wrap="nowrap">
      <Button size="xs" onClick={() => run.mutate(undefined)} loading={run.isPending} disabled={!can('POST', '/api/v1/jobs/:id/run')}>
        Run now
      </Button>
      <Menu position="bottom-end">
        <Menu.Target>
          <Button size="xs" variant="default" aria-label={`More actions for ${job.name}`}>
            …
          </Button>
        </Menu.Target>
        <Menu.Dropdown>
          <Menu.Item component={Link} to={`/jobs/${job.id}`}>
            Edit
          </Menu.Item>
          <Menu.Item onClick={() => pause.mutate(!isPaused(job))} disabled={!mayChange}>
            {isPaused(job) ? 'Resume' : 'Pause'}
          </Menu.Item>
          <Menu.Item color="red" onClick={() => window.confirm(`Delete the job ${job.name}?`) && remove.mutate(undefined)} disabled={!mayChange}>
            Delete
          </Menu.Item>
        </Menu.Dropdown>
      </Menu>
    </Group>
  );
}

export function JobsPage() {
  const jobs = useQuery({ queryKey: ['jobs'], queryFn: () => api<Page<Job>>('GET', `/jobs${query({ limit: 200, sort: 'name', order: 'asc' })}`) });
  return (
    <Stack>
      <PageHeader title="Jobs" action={{ to: '/jobs/new', label: 'New job' }} />
      <QueryState
        query={jobs}
        what="jobs"
        empty={
          <>
            No saved jobs yet. <Anchor component={Link} to="/jobs/new">Create one</Anchor> to run a command again or on a schedule.
          </>
        }
      >
        {(page) => (
            <Table.ScrollContainer minWidth={360}>
              <Table striped aria-label="Jobs">
                <Table.Thead>
                  <Table.Tr>
                    <Table.Th>Name</Table.Th>
                    <Table.Th visibleFrom="sm">What</Table.Th>
                    <Table.Th visibleFrom="sm">Where</Table.Th>
                    <Table.Th>When</Table.Th>
                    <Table.Th>State</Table.Th>
                    <Table.Th />
                  </Table.Tr>
                </Table.Thead>
                <Table.Tbody>
                  {page.items.map((job) => (
                    <Table.Tr key={job.id} data-job={job.name}>
                      <Table.Td>
                        <Anchor component={Link} to={`/jobs/${job.id}`}>
                          {job.name}
                        </Anchor>
                      </Table.Td>
                      <Table.Td visibleFrom="sm" ff="monospace" style={{ wordBreak: 'break-all' }}>
                        {whatText(job).slice(0, 60)}
                      </Table.Td>
                      <Table.Td visibleFrom="sm">{targetText(job.target)}</Table.Td>
                      <Table.Td>{scheduleText(job.schedule)}</Table.Td>
                      <Table.Td>
                        <StatusBadge status={isPaused(job) ? 'paused' : 'active'} />
                      </Table.Td>
                      <Table.Td>
                        <JobActions job={job} />
                      </Table.Td>
                    </Table.Tr>
                  ))}
                </Table.Tbody>
              </Table>
            </Table.ScrollContainer>
        )}
      </QueryState>
    </Stack>
  );
}
