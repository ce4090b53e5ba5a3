import { Anchor, Stack, Table } from '@mantine/core';
import { useQuery } from '@tanstack/react-query';
import { Link } from 'react-router';
import { api, query } from '../api/client';
import type { Page, Run } from '../api/types';
import { PageHeader } from '../components/PageHeader';
import { QueryState } from '../components/QueryState';
import { StatusBadge } from '../components/StatusBadge';
import { dateTime } from '../components/format';
import { targetText, whatText } from './RunPage';

export function RunsPage() {
  const runs = useQuery({ queryKey: ['runs'], queryFn: () => api<Page<Run>>('GET', `/runs${query({ limit: 50, sort: 'createdAt', order: 'desc' })}`) });
  return (
    <Stack>
      <PageHeader title="Runs" action={{ to: '/runs/new', label: 'Run command' }} />
      <QueryState query={runs} what="runs" empty="Nothing has run yet.">
        {(page) => (
            <Table.ScrollContainer minWidth={360}>
              <Table striped aria-label="Runs">
                <Table.Thead>
                  <Table.Tr>
                    <Table.Th>What</Table.Th>
                    <Table.Th>State</Table.Th>
                    <Table.Th visibleFrom="sm">Where</Table.Th>
                    <Table.Th visibleFrom="sm">Trigger</Table.Th>
                    <Table.Th visibleFrom="sm">Created</Table.Th>
                  </Table.Tr>
                </Table.Thead>
                <Table.Tbody>
                  {page.items.map((run) => (
                    <Table.Tr key={run.id}>
                      <Table.Td style={{ wordBreak: 'break-all' }}>
                        <Anchor component={Link} to={`/runs/${run.id}`} ff="monospace" size="sm">
                          {whatText(run).slice(0, 80) || run.id.slice(0, 8)}
                        </Anchor>
                      </Table.Td>
                      <Table.Td>
                        <StatusBadge status={run.status} />
                      </Table.Td>
                      <Table.Td visibleFrom="sm">{targetText(run.target)}</Table.Td>
                      <Table.Td visibleFrom="sm">{run.trigger}</Table.Td>
                      <Table.Td visibleFrom="sm">{dateTime(run.createdAt)}</Table.Td>
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
